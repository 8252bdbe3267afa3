"""Failure rules: the knowledge base that names a CI failure from its log.

Decides which known failure a log excerpt shows. A :class:`Rule` is a regular
expression with a category, a suggested fix, a severity and a priority (the
more specific rule wins when several match). :data:`SEED_RULES` is the shipped
knowledge base; the Odoo model ``ops.failure.pattern`` is seeded from it and
managers add their own rules there.

Categories (what a rule or the classifier may answer):

* ``dependency_missing`` — a package, module, tool, image or Odoo addon is not
  installed or cannot be resolved (including lock files out of sync);
* ``environment_variable`` — a variable, secret or action input the job needs
  is unset or empty;
* ``api_contract_mismatch`` — two sides disagree on an interface: a function
  signature or attribute that changed, an HTTP/JSON/GraphQL schema, an Odoo
  field or parent view that moved, a database column a migration did not add;
* ``network_timeout`` — timeouts, DNS, connection resets, 5xx/429 answers, a
  database service not yet up: worth a retry;
* ``permission_denied`` — file modes, tokens without scope, 401/403,
  registry and cloud authorisation;
* ``configuration_error`` — the workflow, build or tool configuration is wrong
  (invalid workflow file, unknown action version, missing Dockerfile path,
  unsupported runtime version, CLI usage errors);
* ``test_failure`` — tests ran and some failed (assertions, Odoo ``FAIL:``,
  coverage below the threshold);
* ``syntax_error`` — code or data that does not parse, and lint/format checks
  (pre-commit, pylint-odoo, flake8, eslint, prettier);
* ``resource_exhaustion`` — memory, disk, file handles, a runner that was lost
  or shut down: worth a retry;
* ``unknown`` — nothing recognisable (a cancelled run, a crash such as a
  segmentation fault whose cause the log does not show).

When several rules match, the most specific cause wins (``priority``). The
principle for failures seen through another symptom: the underlying cause
beats the symptom. A test that fails because a module is missing, a
variable is unset, a service refuses connections, an API changed or the
runner ran out of memory is diagnosed as that cause (``dependency_missing``,
``environment_variable``, ``network_timeout``, ``api_contract_mismatch``,
``resource_exhaustion``), because that is what decides the fix and whether a
retry helps; ``test_failure`` is kept for assertions that genuinely failed,
so test-runner rules have low priorities (36-46). Likewise a dependency
resolution that failed on a connection reset is ``network_timeout``
(retryable), not ``dependency_missing``.

Manager-written patterns may backtrack catastrophically, so matching uses the
``regex`` module with a per-pattern timeout and a total budget: a slow pattern
is skipped and reported, never hangs the caller.
"""

import time
from dataclasses import dataclass, field
from functools import lru_cache

import regex

CATEGORIES = (
    "dependency_missing",
    "environment_variable",
    "api_contract_mismatch",
    "network_timeout",
    "permission_denied",
    "configuration_error",
    "test_failure",
    "syntax_error",
    "resource_exhaustion",
    "unknown",
)
RETRYABLE_CATEGORIES = frozenset({"network_timeout", "resource_exhaustion"})
SEVERITIES = ("low", "medium", "high", "critical")

FLAGS = regex.IGNORECASE | regex.MULTILINE | regex.VERSION0
MAX_PATTERN_LENGTH = 2000
DEFAULT_TIMEOUT_MS = 25.0
DEFAULT_TOTAL_MS = 400.0


@dataclass(frozen=True)
class Rule:
    """One known failure.

    ``pattern`` is a regular expression (``regex`` syntax, matched
    case-insensitively and per line with ``^``/``$``); ``priority`` orders
    rules when several match (specific beats generic); ``example`` is a
    realistic log snippet the rule must match (tests check it, the UI shows it).
    """

    name: str
    pattern: str
    category: str
    suggested_fix: str
    retryable: bool = False
    severity: str = "medium"
    priority: int = 50
    example: str = ""

    def __post_init__(self):
        if self.category not in CATEGORIES:
            raise ValueError(f"rule {self.name!r}: unknown category {self.category!r}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"rule {self.name!r}: severity must be one of {', '.join(SEVERITIES)}")


@dataclass(frozen=True)
class RuleMatch:
    """Where a rule matched: ``start``/``end`` are offsets in the text, ``line`` its 0-based line."""

    rule: Rule
    start: int
    end: int
    line: int
    text: str


@dataclass(frozen=True)
class SkippedRule:
    """A rule that could not be applied: ``reason`` is ``invalid`` or ``timeout`` (``detail`` says more)."""

    rule: Rule
    reason: str
    detail: str


@dataclass
class MatchReport:
    """Result of :func:`match_rules`: matches (best first) and the rules skipped."""

    matches: list = field(default_factory=list)
    skipped: list = field(default_factory=list)

    def __iter__(self):
        return iter(self.matches)

    def __len__(self):
        return len(self.matches)

    def __bool__(self):
        return bool(self.matches)

    def __getitem__(self, index):
        return self.matches[index]

    @property
    def best(self):
        return self.matches[0] if self.matches else None


def _rule(name, category, pattern, fix, example, severity="medium", priority=50, retryable=None):
    if retryable is None:
        retryable = category in RETRYABLE_CATEGORIES
    return Rule(name, pattern, category, fix, retryable, severity, priority, example)


# fmt: off
SEED_RULES = [
    # ------------------------------------------------------------------ dependency_missing
    _rule("python-module-not-found", "dependency_missing",
          r"\bModuleNotFoundError: No module named '?(?!odoo\.addons\.)[\w.]+",
          "Add the package that provides this module to requirements (or pyproject dependencies) and install it "
          "before the step; check that the import name matches the installed distribution.",
          "E   ModuleNotFoundError: No module named 'httpx'", "high", 70),
    _rule("python-import-error-no-module", "dependency_missing",
          r"\bImportError: No module named '?(?!odoo\.addons\.)[\w.]+",
          "Install the missing package in the job (requirements file or pip install) before importing it.",
          "ImportError: No module named yaml", "high", 68),
    _rule("shared-library-missing", "dependency_missing",
          r"(?:error while loading shared libraries|ImportError|OSError): (?:\S+: )?lib[\w+.-]*\.so[\d.]*: "
          r"cannot open shared object file|cannot load library '?lib[\w+.-]*",
          "Install the system package that ships this library (apt-get install the matching lib*-dev or runtime "
          "package) in the job or image.",
          "ImportError: libGL.so.1: cannot open shared object file: No such file or directory", "high", 75),
    _rule("pip-no-matching-distribution", "dependency_missing",
          r"No matching distribution found for \S+|Could not find a version that satisfies the requirement \S+",
          "Check the package name and version pin; the version may not exist for this Python version or platform, "
          "or the package index is not configured.",
          "ERROR: No matching distribution found for pandas==3.9.1", "high", 72),
    _rule("pip-resolution-impossible", "dependency_missing",
          r"ResolutionImpossible|because these package versions have conflicting dependencies"
          r"|pip's dependency resolver does not currently take into account",
          "Relax or align the conflicting version pins (pip shows which requirements conflict); regenerate the "
          "constraints or lock file.",
          "ERROR: Cannot install -r requirements.txt (line 4) and urllib3==2.2.1 because these package versions "
          "have conflicting dependencies.", "medium", 66),
    _rule("pip-wheel-build-failed", "dependency_missing",
          r"Failed building wheel for \S+|Failed to build installable wheels|error: subprocess-exited-with-error"
          r"|legacy-install-failure|Could not build wheels for \S+",
          "A package had to be compiled from source and its build failed: install its system build dependencies "
          "(compiler, *-dev headers) or pin a version that ships a wheel for this Python.",
          "  ERROR: Failed building wheel for lxml", "medium", 45),
    _rule("python-header-missing", "dependency_missing",
          r"fatal error: [\w/.+-]+\.h: No such file or directory|pg_config executable not found"
          r"|mysql_config not found|Python\.h: No such file|fatal error C1083: Cannot open include file"
          r"|Could not find a package configuration file provided by|(?-i:Could NOT find) \w+"
          r"|By not providing \"Find\w+"
          r"|No package '[\w.+-]+' found|error: linker [`'\"]?[\w.+-]+[`'\"]? not found|cannot find -l[\w.+-]+"
          r"|library not found for -l[\w.+-]+|Could not find any Python installation to use|gyp ERR! find Python"
          r"|Can't find the '[\w.-]+\.h",
          "Install the system package that provides the headers, library or compiler the build needs (e.g. "
          "libpq-dev, python3-dev, libpng-dev, build-essential, Qt via a setup action) or use a binary wheel.",
          "    Error: pg_config executable not found.", "medium", 74),
    _rule("poetry-solver-failed", "dependency_missing",
          r"SolverProblemError|version solving failed|Because (?:\S+ )+depends on .* (?:is forbidden|requires)",
          "Poetry could not resolve the constraints: loosen the conflicting ranges in pyproject.toml and run "
          "`poetry lock`.",
          "  SolverProblemError\n  Because myapp depends on both flask (^3.0) and flask (<2.0), version solving "
          "failed.", "medium", 70),
    _rule("lockfile-out-of-sync", "dependency_missing",
          r"can only install packages when your package\.json and package-lock\.json (?:or \S+ )?are in sync"
          r"|Missing: \S+ from lock file|lockfile needs to be updated, but yarn was run with `--frozen-lockfile`"
          r"|ERR_PNPM_OUTDATED_LOCKFILE|pyproject\.toml changed significantly since poetry\.lock"
          r"|poetry\.lock (?:was last generated|is not consistent)|The lockfile at `uv\.lock` needs to be updated"
          r"|lock file (?:is )?(?:out of date|not up to date)|go: updates to go\.(?:mod|sum) needed",
          "Regenerate the lock file with the package manager (npm install / yarn / pnpm install / poetry lock / "
          "uv lock / go mod tidy) and commit it together with the manifest change.",
          "npm ERR! `npm ci` can only install packages when your package.json and package-lock.json or "
          "npm-shrinkwrap.json are in sync. Please update your lock file with `npm install` before continuing.\n"
          "npm ERR! Missing: zod@3.22.4 from lock file", "medium", 78),
    _rule("npm-package-not-found", "dependency_missing",
          r"npm (?:ERR!|error) (?:code E404|404 Not Found|404 +'[^']+' is not in this registry)"
          r"|ERR_PNPM_FETCH_404|error An unexpected error occurred: \"\S+: Request failed \"404 Not Found\""
          r"|YN0082|No candidates found|ERR_PNPM_NO_MATCHING_VERSION|No matching version found for \S+"
          r"|error NU1101|Unable to find package \S+\. No packages exist|helm dependency build"
          r"|missing in charts/ directory",
          "The package or version does not exist in the registry (typo, unpublished or private package): fix the "
          "name/version or configure the registry and its token.",
          "npm ERR! code E404\nnpm ERR! 404 Not Found - GET https://registry.npmjs.org/@acme%2fui-kit - Not found",
          "high", 76),
    _rule("npm-eresolve", "dependency_missing",
          r"ERESOLVE (?:unable to resolve dependency tree|could not resolve)|Conflicting peer dependency"
          r"|ERR_PNPM_PEER_DEP_ISSUES|Could not resolve dependency:",
          "Align the peer dependency versions (upgrade the package that pins the old peer) or, as a stopgap, "
          "install with --legacy-peer-deps.",
          "npm ERR! code ERESOLVE\nnpm ERR! ERESOLVE unable to resolve dependency tree", "medium", 74),
    _rule("node-cannot-find-module", "dependency_missing",
          r"Error: Cannot find module '?@?[\w./-]+'?|Cannot find module '[^']+' from '[^']+'"
          r"|Module not found: (?:Error: )?Can't resolve '[^']+'|ERR_MODULE_NOT_FOUND"
          r"|Rollup failed to resolve import|Could not resolve \"[^\"]+\"",
          "Add the module to package.json dependencies and reinstall (npm ci); check the import path and its case, "
          "Linux runners are case-sensitive.",
          "Error: Cannot find module 'dotenv'\nRequire stack:\n- /home/runner/work/api/api/src/server.js",
          "high", 70),
    _rule("ts-cannot-find-module", "dependency_missing",
          r"error TS2307: Cannot find module '[^']+'|error TS7016: Could not find a declaration file for module",
          "Install the package (and its @types/* package) or fix the import path in the TypeScript source.",
          "src/index.ts(3,22): error TS2307: Cannot find module 'lodash-es' or its corresponding type "
          "declarations.", "medium", 72),
    _rule("command-not-found", "dependency_missing",
          r"^(?:\S+: )?(?:line \d+: )?[\w.+-]+: (?:command )?not found\s*$|^\S+: \d+: [\w.+-]+: not found"
          r"|is not recognized as (?:an internal or external command|the name of a cmdlet)"
          r"|Unable to locate executable file: \S+",
          "The tool is not installed on the runner or not on PATH: add a setup step (setup-node, pip install, "
          "apt-get install) before using it.",
          "/home/runner/work/_temp/7c1e.sh: line 2: poetry: command not found", "high", 65),
    _rule("apt-package-not-found", "dependency_missing",
          r"E: Unable to locate package \S+|E: Package '[^']+' has no installation candidate"
          r"|E: Version '[^']+' for '[^']+' was not found",
          "The package name does not exist for this Ubuntu release: run apt-get update first and check the name "
          "for the runner image (e.g. ubuntu-24.04 renamed some packages).",
          "E: Unable to locate package libgdal-dev", "medium", 72),
    _rule("go-module-missing", "dependency_missing",
          r"no required module provides package \S+|cannot find module providing package|missing go\.sum entry"
          r"|module \S+: (?:reading|git ls-remote) .* (?:404|not found|unknown revision)|unknown revision v[\w.-]+",
          "Run `go get` for the module or `go mod tidy`, and commit go.mod and go.sum.",
          "main.go:9:2: no required module provides package github.com/spf13/viper; to add it:\n\tgo get "
          "github.com/spf13/viper", "high", 74),
    _rule("maven-dependency-resolution", "dependency_missing",
          r"Could not resolve dependencies for project|Could not find artifact \S+|Failed to collect dependencies"
          r"|Non-resolvable (?:parent POM|import POM)|was not found in https?://\S+ during a previous attempt"
          r"|Cannot resolve project dependencies:|Missing requirement: [^\n]{0,300}? but it could not be found",
          "The artifact or version is not in the configured repositories: fix the coordinates/version or add the "
          "repository (and its credentials) to settings.xml.",
          "[ERROR] Failed to execute goal on project billing: Could not resolve dependencies for project "
          "com.acme:billing:jar:1.4.0-SNAPSHOT", "high", 74),
    _rule("gradle-dependency-resolution", "dependency_missing",
          r"Could not resolve all (?:files|dependencies|artifacts|task dependencies) for configuration"
          r"|Could not find [\w.-]+:[\w.-]+:[\w.+-]+\.|Could not resolve [\w.-]+:[\w.-]+:[\w.+-]+\.",
          "Check the dependency coordinates and repositories in build.gradle(.kts); the version may not be "
          "published or the repository is missing.",
          "> Could not resolve all files for configuration ':app:debugRuntimeClasspath'.\n   > Could not find "
          "com.squareup.okhttp3:okhttp:5.9.0.", "high", 74),
    _rule("java-package-does-not-exist", "dependency_missing",
          r"(?:error: |\] )package [\w.]+ does not exist|error: cannot access [\w.]+\s*$"
          r"|class file for [\w.]+ not found",
          "Add the library that provides the package to the build dependencies (pom.xml / build.gradle).",
          "src/main/java/com/acme/App.java:[5,27] error: package org.apache.commons.lang3 does not exist",
          "medium", 66),
    _rule("jvm-class-not-found", "dependency_missing",
          r"java\.lang\.NoClassDefFoundError|java\.lang\.ClassNotFoundException",
          "A class is missing from the runtime classpath: add the library (runtime scope) or package it in the "
          "jar (shade/fat jar).",
          "Exception in thread \"main\" java.lang.NoClassDefFoundError: org/slf4j/LoggerFactory", "medium", 66),
    _rule("docker-image-not-found", "dependency_missing",
          r"manifest (?:for \S+ )?(?:unknown|not found)|failed to resolve source metadata for \S+: .*not found"
          r"|Error response from daemon: manifest for \S+ not found|image \S+ not found|no matching manifest for",
          "The image or tag does not exist (or not for this platform): fix the image name/tag in the Dockerfile, "
          "compose file or workflow.",
          "ERROR: failed to solve: python:3.13.9-slim-bookwormx: failed to resolve source metadata for "
          "docker.io/library/python:3.13.9-slim-bookwormx: docker.io/library/python:3.13.9-slim-bookwormx: not "
          "found", "high", 77),
    _rule("composer-bundler-cargo-resolution", "dependency_missing",
          r"Your requirements could not be resolved to an installable set of packages"
          r"|Could not find gem '[^']+'|Bundler could not find compatible versions"
          r"|error: no matching package named `[^`]+` found|failed to select a version for the requirement"
          r"|GemNotFound|Could not find [\w.-]+-\d[\w.]* in (?:any of the sources|locally installed gems)"
          r"|Your lock file does not contain a compatible set of packages"
          r"|use of undeclared crate or module|error\[E0432\]: unresolved import|can't find crate for"
          r"|Class [\"'][\w\\]+[\"'] not found",
          "Fix the dependency name/version constraint in the manifest and refresh the lock file.",
          "Your requirements could not be resolved to an installable set of packages.", "medium", 70),
    _rule("odoo-unmet-dependencies", "dependency_missing",
          r"module \w+: Unmet dependencies: [\w, ]+",
          "Add the repository that provides the missing Odoo modules to the addons path (test-requirements.txt / "
          "oca_dependencies.txt) or fix the `depends` list in __manifest__.py.",
          "2024-05-02 10:11:12,345 231 ERROR odoo odoo.modules.graph: module sale_commission_oca: Unmet "
          "dependencies: commission_oca", "high", 88),
    _rule("odoo-modules-not-loaded", "dependency_missing",
          r"Some modules (?:are not loaded|have inconsistent states), some dependencies (?:or manifest )?may be "
          r"missing|module \w+: not installable, skipped|invalid module names, ignored: \w+"
          r"|You try to install module \W?\w+\W? that depends on module|the latter module is not available",
          "A module or one of its dependencies is missing from the addons path or not installable for this Odoo "
          "version: add the dependency repository and check `installable` and `version` in the manifest.",
          "2024-05-02 10:11:15,001 231 ERROR odoo odoo.modules.loading: Some modules are not loaded, some "
          "dependencies or manifest may be missing: ['account_payment_mode']", "high", 86),
    _rule("odoo-addon-import-missing", "dependency_missing",
          r"No module named '?odoo\.addons\.\w+",
          "The imported Odoo addon is not on the addons path: add its repository to the CI dependencies and to "
          "`depends` in the manifest.",
          "ModuleNotFoundError: No module named 'odoo.addons.queue_job'", "high", 90),
    _rule("odoo-external-dependency", "dependency_missing",
          r"External dependency [\w.-]+ not installed|Unable to install module \"?\w+\"? because an external "
          r"dependency is not met|Python library not installed: \S+|external dependency is not met",
          "Add the Python package to requirements.txt (and external_dependencies of the manifest) so CI installs "
          "it before Odoo loads the module.",
          "odoo.exceptions.UserError: Unable to install module \"l10n_es_aeat\" because an external dependency is "
          "not met: Python library not installed: zeep", "high", 88),
    _rule("odoo-model-not-in-registry", "dependency_missing",
          r"KeyError: '[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+'|Model not found: [a-z][\w.]+|does not exist in registry|"
          r"External ID not found in the system: [\w.]+",
          "The model or XML id belongs to a module that is not a dependency: add that module to `depends` in "
          "__manifest__.py (or fix the model name / XML id).",
          "ValueError: External ID not found in the system: stock.warehouse0", "medium", 62),

    # ------------------------------------------------------------------ environment_variable
    _rule("env-var-not-set", "environment_variable",
          r"(?:environment variable|env var(?:iable)?|secret)s? [`'\"]?(?-i:[A-Z_][A-Z0-9_]{2,})[`'\"]? "
          r"(?:is )?(?:not set|not defined|missing|required|must be (?:set|defined|provided)|is empty|unset|"
          r"was not found|not provided)"
          r"|\b(?-i:[A-Z][A-Z0-9]*_[A-Z0-9_]+) (?:is not set|must be set|is required(?: but (?:was )?not set)?"
          r"|is missing|is empty"
          r"|(?:build[ -]arg|variable|secret) is (?:empty|not set|missing)"
          r"|environment variable is (?:required|missing|not set|empty)"
          r"|not found in (?:the )?environment)"
          r"|Missing (?:required )?(?:environment variables?|env(?:ironment)? var(?:iable)?s?|secrets?|env)\b"
          r"|The \"?\w+\"? variable is not set|You must specify (?-i:[A-Z][A-Z0-9_]+) to a non-empty value"
          r"|by setting the (?-i:[A-Z][A-Z0-9_]+) environment variable|SDK location not found|(?-i:JAVA_HOME"
          r"|ANDROID_HOME|ANDROID_SDK_ROOT|GOPATH) (?:is not set|environment)",
          "Define the variable for the job (env: in the workflow, or a repository/environment secret) and make "
          "sure forks and Dependabot runs, which get no secrets, skip or supply it.",
          "Error: Environment variable DATABASE_URL is not set", "high", 80),
    _rule("python-environ-keyerror", "environment_variable",
          r"(?-i:KeyError: '[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+')|os\.environ\[['\"](?-i:[A-Z_]+)['\"]\]\s*$"
          r"|(?-i:KeyError: '(?:SECRET_KEY|TOKEN|API_KEY|PASSWORD|HOME|PATH|USER)')",
          "The code reads a variable with os.environ[...] that the job does not define: add it to the workflow "
          "`env:` (from a secret) or read it with a default.",
          "    api_key = os.environ['OPENAI_API_KEY']\nKeyError: 'OPENAI_API_KEY'", "high", 78),
    _rule("actions-input-required", "environment_variable",
          r"Input required and not supplied: \w+",
          "An action input is empty, usually a secret that is not available (forks, Dependabot, missing "
          "repository secret): set the secret or pass the input.",
          "##[error]Input required and not supplied: token", "high", 84),
    _rule("token-required-empty", "environment_variable",
          r"Parameter token or opts\.auth is required|(?:GITHUB_TOKEN|GH_TOKEN|NPM_TOKEN|NODE_AUTH_TOKEN|"
          r"CODECOV_TOKEN|PYPI_TOKEN|SONAR_TOKEN)\S* (?:is )?(?:required|not set|missing|empty)"
          r"|Codecov token not found|token not found\. Please provide|code ENEEDAUTH|Username and password required"
          r"|need auth This command requires you to be logged in",
          "The token secret is empty in this run: define it in the repository or environment secrets and pass it "
          "with `env:`/`with:`.",
          "Error: Parameter token or opts.auth is required", "high", 82),
    _rule("bash-unbound-variable", "environment_variable",
          r"\b\w+: unbound variable",
          "The script runs with `set -u` and reads a variable the job does not define: set it in `env:` or give "
          "it a default (${VAR:-default}).",
          "/home/runner/work/_temp/3f1.sh: line 4: DEPLOY_HOST: unbound variable", "high", 82),
    _rule("settings-validation-missing-field", "environment_variable",
          r"validation errors? for \w*Settings\s*\n\s*\w+\s*\n\s*Field required"
          r"|ImproperlyConfigured: (?:Set the \w+ environment variable|The \w+ setting must not be empty)"
          r"|No value for required variable",
          "A settings object reads this field from the environment: provide the variable in the workflow (from a "
          "secret) or a test default.",
          "pydantic_core._pydantic_core.ValidationError: 1 validation error for Settings\nstripe_api_key\n  Field "
          "required [type=missing, input_value={}, input_type=dict]", "high", 84),
    _rule("cloud-credentials-missing", "environment_variable",
          r"Unable to locate credentials|Could not load credentials from any providers|Region is missing"
          r"|Credentials could not be loaded|The request signature .* missing|NoCredentialsError"
          r"|You do not currently have an active account selected|must specify exactly one of \"workload_identity"
          r"|secrets are not passed to workflows triggered from forks|ensure the secret is being injected",
          "The cloud credentials are not configured for the job: set the access key/role secrets (or OIDC "
          "permissions) and the region.",
          "botocore.exceptions.NoCredentialsError: Unable to locate credentials", "high", 78),

    _rule("env-var-required-phrasing", "environment_variable",
          r"(?:necessary|required|needs?) to (?:set|provide|define)\s+(?:(?:an?|the)\s+)?"
          r"(?-i:[A-Z][A-Z0-9]*_[A-Z0-9_]+)"
          r"\s+(?:environment )?variable|input must be set to a non-empty string"
          r"|\b\w*token\w* (?:was|is) not provided",
          "The job needs a variable or secret that is empty in this run: define it (repository, environment or "
          "Dependabot secret) and pass it with `env:`/`with:`; runs from forks and Dependabot get no secrets.",
          "✘ [ERROR] In a non-interactive environment, it's necessary to set a\nCLOUDFLARE_API_TOKEN environment "
          "variable for wrangler to work.", "high", 82),

    # ------------------------------------------------------------------ api_contract_mismatch
    _rule("python-unexpected-keyword", "api_contract_mismatch",
          r"TypeError: \S+\(\) got an unexpected keyword argument '\w+'"
          r"|TypeError: Unexpected keyword arguments? passed to [\w.]+",
          "A called function's signature changed (often after a dependency upgrade): update the call or pin the "
          "dependency to the version the code was written for.",
          "TypeError: Client.__init__() got an unexpected keyword argument 'proxies'", "high", 72),
    _rule("python-positional-arguments", "api_contract_mismatch",
          r"TypeError: \S+\(\) (?:takes (?:from )?\d+ (?:to \d+ )?positional arguments? but \d+ (?:were|was) given"
          r"|missing \d+ required (?:positional|keyword-only) arguments?)",
          "The function's signature and its callers disagree: update the call sites (or the override) to the new "
          "signature.",
          "TypeError: _compute_amount() missing 1 required positional argument: 'currency'", "high", 70),
    _rule("python-module-attribute-missing", "api_contract_mismatch",
          r"AttributeError: (?:partially initialized )?module '[\w.]+' has no attribute '\w+'",
          "The library no longer provides this name (removed or renamed in a newer release): use the new API or "
          "pin the previous version.",
          "AttributeError: module 'numpy' has no attribute 'float'.", "high", 68),
    _rule("python-object-attribute-missing", "api_contract_mismatch",
          r"AttributeError: '(?!NoneType')[\w.]+' object has no attribute '\w+'",
          "The object no longer has this attribute or method (API change or wrong type): update the caller or pin "
          "the dependency.",
          "AttributeError: 'Response' object has no attribute 'json_body'", "medium", 60),
    _rule("removed-api", "api_contract_mismatch",
          r"no longer supported in [\w.-]+ ?>=? ?v?\d|APIRemoved\w*|(?:has been|was) removed in (?:version )?v?\d"
          r"|is deprecated and (?:has been|was) removed|removed in [\w.-]+ \d+\.\d+|\bis removed,? use\b",
          "The code uses an API the installed major version removed: migrate to the new API (see the library's "
          "migration guide) or pin the last version that had it.",
          "You tried to access openai.ChatCompletion, but this is no longer supported in openai>=1.0.0",
          "high", 74),
    _rule("jvm-linkage-error", "api_contract_mismatch",
          r"java\.lang\.(?:NoSuchMethodError|NoSuchFieldError|IncompatibleClassChangeError|AbstractMethodError)",
          "Compiled code expects a method or field the runtime library does not have: align the dependency "
          "versions (mvn dependency:tree / gradle dependencies) so compile and runtime use the same one.",
          "java.lang.NoSuchMethodError: 'void org.slf4j.Logger.atInfo()'", "high", 74),
    _rule("python-cannot-import-name", "api_contract_mismatch",
          r"ImportError: cannot import name '\w+' from '[\w.]+'",
          "The name moved or was removed in the installed version of the package: import it from its new location "
          "or pin the version.",
          "ImportError: cannot import name 'url_quote' from 'werkzeug.urls'", "high", 72),
    _rule("http-client-error-4xx", "api_contract_mismatch",
          r"\b(?:400 Bad Request|422 Unprocessable (?:Entity|Content)|405 Method Not Allowed|410 Gone"
          r"|415 Unsupported Media Type)\b|\b(?:status(?: code)?|HTTP(?:Error)?|response code)[ :=]+(?:400|405|409|410"
          r"|415|422)\b|(?:400|422) Client Error|returned error: (?:400|405|409|410|415|422)\b",
          "The service rejected the request shape: compare the payload and endpoint with the API's current "
          "contract (version, required fields) and update the client.",
          "requests.exceptions.HTTPError: 422 Client Error: Unprocessable Entity for url: "
          "https://api.example.com/v2/orders", "medium", 58),
    _rule("unknown-request-parameter", "api_contract_mismatch",
          r"Received unknown parameter: \S+|unknown (?:field|parameter|property) [`'\"][\w.\[\]]+[`'\"]"
          r"|Unrecognized field \"\w+\"|additionalProperties '[\w]+' not allowed",
          "The API rejects a field or parameter the client sends: check the API version the client targets and "
          "rename/remove the field (or upgrade the client library).",
          "stripe.error.InvalidRequestError: Received unknown parameter: payment_method_types[0]", "high", 70),
    _rule("schema-validation-failed", "api_contract_mismatch",
          r"jsonschema\.exceptions\.ValidationError|does not match (?:the )?schema|Schema validation failed"
          r"|Additional properties are not allowed|is not valid under any of the given schemas"
          r"|\b\d+ validation errors? for (?!\w*Settings)\w+|response (?:body )?does not (?:match|conform)",
          "The data no longer matches the schema the other side expects: update the model/schema or the producer "
          "so both agree.",
          "jsonschema.exceptions.ValidationError: 'currency' is a required property", "medium", 60),
    _rule("graphql-contract", "api_contract_mismatch",
          r"Cannot query field \"\w+\" on type \"\w+\"|Unknown argument \"\w+\" on field|"
          r"Field \"\w+\" is not defined by type",
          "The GraphQL query uses a field the schema no longer has: regenerate the schema/types and update the "
          "query.",
          "GraphQLError: Cannot query field \"avatarUrl\" on type \"User\".", "medium", 72),
    _rule("contract-test-failed", "api_contract_mismatch",
          r"(?:Pact|contract) verification failed|Verifying a pact between|does not conform to (?:the )?"
          r"(?:OpenAPI|schema|spec|contract)|OpenAPI (?:spec )?validation (?:error|failed)|breaking changes? detected"
          r"|API check failed|apiCheck FAILED|binary compatibility|japicmp|incompatible API change"
          r"|Detected \d+ breaking changes?",
          "Provider and consumer disagree on the API contract: update the provider or publish a new contract "
          "version and adapt the consumer.",
          "Pact verification failed!  Verifying a pact between web-app and orders-api", "high", 75),
    _rule("protobuf-incompatible", "api_contract_mismatch",
          r"TypeError: Descriptors cannot be created directly|protobuf.*(?:incompatible|gencode)"
          r"|Detected incompatible Protobuf Gencode/Runtime versions",
          "Generated protobuf code and the protobuf runtime disagree: regenerate the stubs or pin protobuf to the "
          "matching major version.",
          "TypeError: Descriptors cannot be created directly.\nIf this call came from a _pb2.py file, your "
          "generated code is out of date and must be regenerated with protoc >= 3.19.0.", "high", 76),
    _rule("typescript-member-mismatch", "api_contract_mismatch",
          r"error TS2339: Property '\w+' does not exist on type|error TS2345: Argument of type"
          r"|error TS2554: Expected \d+(?:-\d+)? arguments?, but got \d+|error TS2305: Module '[^']+' has no "
          r"exported member|error TS2724: '[^']+' has no exported member",
          "The code uses a member or signature the typed API no longer has: update the call to the current types "
          "(or pin the library version).",
          "src/api/client.ts(42,18): error TS2339: Property 'data' does not exist on type 'AxiosResponse<User>'.",
          "medium", 66),
    _rule("compiled-symbol-mismatch", "api_contract_mismatch",
          r"(?:error: |\] )cannot find symbol"
          r"|(?:error: |\] )method \w+ in (?:class|interface) \S+ cannot be applied to given types"
          r"|\bundefined: \w+(?:\.\w+)?\s*$|has no field or method \w+|too many arguments in call to"
          r"|not enough arguments in call to|cannot use \S+ \(.*\) as .* value in"
          r"|error\[E0599\]: no method named|error\[E0609\]: no field|error\[E0061\]: this (?:function|method) takes",
          "The code calls a type, method or function whose signature changed: update the calls or pin the "
          "dependency version that matches.",
          "./handler.go:37:14: resp.Body.ReadAll undefined (type io.ReadCloser has no field or method ReadAll)",
          "medium", 58),
    _rule("odoo-view-xpath-not-found", "api_contract_mismatch",
          r"Element '<[^\n]*>' cannot be located in parent view",
          "The parent view changed (or the inherited view is wrong): update the xpath/field locator to the parent "
          "view of this Odoo version, and check inherit_id.",
          "ValueError: Element '<xpath expr=\"//field[@name='partner_id']\">' cannot be located in parent view",
          "high", 88),
    _rule("odoo-invalid-field", "api_contract_mismatch",
          r"Invalid field [`'\"]?[\w.]+[`'\"]? (?:on|in) (?:model|leaf)|Field [`'\"]\w+[`'\"] does not exist"
          r"|unknown comodel_name|Field \w+ with unknown|Invalid field [\w.'\"]+ in (?:depends|related)"
          r"|Since 17\.0, the \"attrs\" and \"states\" attributes are no longer used",
          "A field was renamed or removed in the model (or its module is not a dependency): update views, domains "
          "and code to the current field names.",
          "ValueError: Invalid field 'mobile' on model 'res.partner'", "high", 84),
    _rule("odoo-missing-column-migration", "api_contract_mismatch",
          r"column \"?[\w.]+\"? (?:of relation \"?\w+\"? )?does not exist|UndefinedColumn"
          r"|relation \"\w+\" does not exist|UndefinedTable",
          "The database schema is behind the code: add or fix the migration script (and bump the module version) "
          "so the column/table is created before it is used.",
          "psycopg2.errors.UndefinedColumn: column res_partner.loyalty_tier does not exist", "high", 82),

    # ------------------------------------------------------------------ network_timeout
    _rule("socket-errors", "network_timeout",
          r"\b(?:ETIMEDOUT|ESOCKETTIMEDOUT|ECONNRESET|EAI_AGAIN|ECONNREFUSED|EPIPE|ENETUNREACH|EHOSTUNREACH)\b"
          r"|socket hang up|Connection reset(?: by peer)?\b|Connection refused|Error 111 connecting|\bECONNABORTED\b"
          r"|EOF occurred in violation of protocol|SSL_ERROR_SYSCALL|Remote end closed connection without response"
          r"|IncompleteRead\(|Connection broken: |Connection (?:failed|aborted)\b",
          "A network connection failed or reset: retry the job; if it persists check the service/registry status "
          "and add retries to the download step.",
          "npm ERR! code ECONNRESET\nnpm ERR! network aborted", "medium", 75),
    _rule("read-connect-timeout", "network_timeout",
          r"Read timed out|ReadTimeout(?:Error)?|ConnectTimeout(?:Error)?|Connect(?:ion)? timed out|operation timed out"
          r"|timed out after \d+|i/o timeout|TLS handshake timeout|context deadline exceeded|deadline exceeded"
          r"|\bTimeoutError\b|request timed out|Timeout (?:was )?reached|timeout of \d+ms exceeded",
          "A remote call timed out: retry; for repeated timeouts raise the client timeout or add retries/backoff.",
          "pip._vendor.urllib3.exceptions.ReadTimeoutError: HTTPSConnectionPool(host='files.pythonhosted.org', "
          "port=443): Read timed out.", "medium", 75),
    _rule("dns-resolution", "network_timeout",
          r"Could not resolve host|Temporary failure (?:in name resolution|resolving)|Name or service not known"
          r"|getaddrinfo (?:ENOTFOUND|EAI_AGAIN)|no such host|Failed to establish a new connection"
          r"|Max retries exceeded with url|Network is unreachable|Could not connect to \S+ port \d+"
          r"|failed to resolve address for|Name does not resolve|Could not resolve hostname|server misbehaving"
          r"|spurious network error|network failure seems to have happened",
          "The host could not be reached (DNS or routing): retry the job; check the host name and any service "
          "container it depends on.",
          "curl: (6) Could not resolve host: downloads.example.org", "medium", 75),
    _rule("http-server-error-or-rate-limit", "network_timeout",
          r"\b(?:502:? Bad Gateway|503:? Service Unavailable|504:? Gateway Time-?out|429:? Too Many Requests)\b"
          r"|status code 50[0234]\b|\bHTTP 50[0234]\b|returned error: 50[0234]\b|\bstatus: 50[0234]\b"
          r"|500 Internal Server Error|\bService Unavailable\b|responded with 50\d|toomanyrequests"
          r"|The SSL connection could not be established|Unable to load the service index for source"
          r"|(?:API |secondary )?rate limit exceeded|You have exceeded a secondary rate limit"
          r"|toomanyrequests: You have reached your pull rate limit|\b50[234] Server Error",
          "The remote service was unavailable or throttled the job: retry later with backoff; authenticate "
          "registry pulls to get higher rate limits.",
          "toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating "
          "and upgrading", "medium", 76),
    _rule("git-network", "network_timeout",
          r"RPC failed; (?:curl|HTTP) \d+|early EOF|The remote end hung up unexpectedly"
          r"|gnutls_handshake\(\) failed|Failed to connect to [\w.-]+ port \d+|unexpected disconnect while reading",
          "Git lost the connection to the server: retry; use a shallow clone (fetch-depth: 1) for large "
          "repositories.",
          "error: RPC failed; curl 92 HTTP/2 stream 5 was not closed cleanly: CANCEL (err 8)\nfatal: early EOF",
          "medium", 72),
    _rule("docker-registry-network", "network_timeout",
          r"net/http: request canceled(?: while waiting for connection)?|error pulling image configuration"
          r"|(?:failed to (?:do request|copy)|unexpected status from \w+ request).*(?:EOF|timeout|reset)"
          r"|received unexpected HTTP status: 50\d",
          "The container registry connection failed: retry the job; mirror or cache base images if it recurs.",
          "Error response from daemon: Get \"https://registry-1.docker.io/v2/\": net/http: request canceled while "
          "waiting for connection (Client.Timeout exceeded while awaiting headers)", "medium", 74),
    _rule("database-service-unreachable", "network_timeout",
          r"psycopg2\.OperationalError: (?:could not connect to server|connection to server (?:at|on) .* failed)"
          r"|Is the server running on (?:host|that host)|the database system is (?:starting up|shutting down)"
          r"|could not connect to server: Connection refused|Can't connect to (?:MySQL|PostgreSQL) server"
          r"|Connection refused \(os error 111\)",
          "The database service was not ready or not reachable: add a health check (options: --health-cmd "
          "pg_isready) to the service container, wait for it, and check the host/port (localhost vs service name).",
          "psycopg2.OperationalError: connection to server at \"localhost\" (127.0.0.1), port 5432 failed: "
          "Connection refused\n\tIs the server running on that host and accepting TCP/IP connections?",
          "high", 84),
    _rule("job-or-step-timeout", "network_timeout",
          r"has exceeded the maximum execution time of \d+ minutes|The action '[^']+' has timed out after \d+ "
          r"minutes|exceeded the timeout of \d+ minutes|Exceeded timeout of \d+ ?ms for a (?:test|hook)"
          r"|Failed: Timeout >[\d.]+s|Test timed out in \d+ms|panic: test timed out",
          "The job or a test exceeded its time limit: rerun once; if it repeats, look for a hang (network call "
          "without timeout, deadlock) or raise timeout-minutes.",
          "##[error]The job running on runner GitHub Actions 12 has exceeded the maximum execution time of 360 "
          "minutes.", "high", 80),

    _rule("artifact-transfer-network", "network_timeout",
          r"Could not transfer artifact [^\n]{0,400}?(?:Connection reset|timed out|Connection refused|No route to host"
          r"|Network is unreachable|Remote host terminated the handshake|connect timed out)"
          r"|Could not (?:GET|HEAD) '[^'\n]+'\. Received status code 5\d\d"
          r"|Connect to [\w.-]+:\d+ (?:\[[^\]\n]*\] )?failed: "
          r"(?:Connection timed out|Read timed out|Connection refused)",
          "The build tool lost the connection to the artifact repository: retry; cache ~/.m2 or ~/.gradle and add "
          "retries (-Dmaven.wagon.http.retryHandler.count=3) if it recurs.",
          "[ERROR] Failed to execute goal on project api: Could not resolve dependencies for project "
          "com.acme:api:jar:1.0: Could not transfer artifact org.slf4j:slf4j-api:pom:2.0.9 from/to central "
          "(https://repo.maven.apache.org/maven2): transfer failed for https://repo.maven.apache.org/maven2/org/"
          "slf4j/slf4j-api/2.0.9/slf4j-api-2.0.9.pom: Connection reset", "medium", 80),

    # ------------------------------------------------------------------ permission_denied
    _rule("filesystem-permission-denied", "permission_denied",
          r"Permission denied(?! \(publickey)|\bEACCES\b|\bEPERM\b|Operation not permitted"
          r"|PermissionError: \[Errno 1?3\]|Access to the path '.*' is denied|Read-only file system",
          "The job lacks permission on the file or directory: fix the file mode (chmod +x for scripts), the owner "
          "of mounted volumes, or avoid writing to system paths (use --user / a virtualenv).",
          "/home/runner/work/_temp/0a1.sh: line 1: ./scripts/deploy.sh: Permission denied", "high", 62),
    _rule("ssh-publickey-denied", "permission_denied",
          r"Permission denied \(publickey[^)]*\)|Host key verification failed|Load key \S+: invalid format",
          "The SSH key is missing or not authorised: add the deploy key/secret, load it with an ssh-agent step and "
          "add the host to known_hosts.",
          "git@github.com: Permission denied (publickey).\nfatal: Could not read from remote repository.",
          "high", 80),
    _rule("github-token-scope", "permission_denied",
          r"Resource not accessible by (?:integration|personal access token)|refusing to allow a GitHub App to "
          r"create or update workflow|Write access to repository not granted|remote: Permission to \S+ denied to"
          r"|HttpError: (?:Not Found|Forbidden|Must have admin rights)|GH006: Protected branch update failed"
          r"|protected branch hook declined",
          "The GITHUB_TOKEN lacks a permission: add the scope under `permissions:` in the workflow (e.g. "
          "contents: write, pull-requests: write), or use a token that has it; fork PRs get a read-only token.",
          "##[error]Resource not accessible by integration", "high", 86),
    _rule("http-unauthorized-forbidden", "permission_denied",
          r"\b(?:401 Unauthorized|403 Forbidden)\b|Bad credentials|\b(?:40[13]) Client Error"
          r"|The requested URL returned error: 40[13]|Authentication failed for|HTTP (?:Error )?40[13]"
          r"|status code:? 40[13]\b|Unauthorized \(401\)|Forbidden \(403\)"
          r"|invalid username or password|could not read Username for|password authentication failed for user",
          "The credentials were missing, wrong or expired, or lack the right scope: rotate the secret and check "
          "its permissions.",
          "remote: Invalid username or password.\nfatal: Authentication failed for "
          "'https://github.com/acme/infra.git/'", "high", 72),
    _rule("registry-access-denied", "permission_denied",
          r"denied: (?:permission_denied|requested access to the resource is denied|installation not allowed)"
          r"|pull access denied for \S+|unauthorized: (?:authentication required|incorrect username or password)"
          r"|denied: denied|unauthorized to access repository|insufficient_scope",
          "Log in to the registry before pulling/pushing (docker/login-action) with a token that has "
          "read/write:packages, and check the image name and owner.",
          "ERROR: failed to push ghcr.io/acme/api:sha-1f2e3d4: denied: permission_denied: write_package",
          "high", 82),
    _rule("npm-auth", "permission_denied",
          r"npm (?:ERR!|error) code (?:E401|E403)|You do not have permission to publish|npm (?:ERR!|error) 40[13] "
          r"|Unable to authenticate, your authentication token seems to be invalid",
          "npm could not authenticate: set NODE_AUTH_TOKEN from a secret with registry-url in setup-node, and "
          "check the token can publish/read this scope.",
          "npm ERR! code E403\nnpm ERR! 403 403 Forbidden - PUT https://registry.npmjs.org/@acme%2fcore - You do "
          "not have permission to publish \"@acme/core\".", "high", 84),
    _rule("cloud-access-denied", "permission_denied",
          r"AccessDenied(?:Exception)?|is not authorized to perform|Not authorized to perform "
          r"sts:AssumeRoleWithWebIdentity|does not have (?:storage\.\w+\.\w+|permission)|PERMISSION_DENIED"
          r"|Error from server \(Forbidden\)|is forbidden: User|AuthorizationFailed|Could not assume role"
          r"|Trusted publishing exchange failure|invalid-publisher",
          "The cloud role or key lacks this permission (or the OIDC trust policy does not allow this "
          "repository/branch): grant it or fix the trust policy.",
          "Error: Could not assume role with OIDC: Not authorized to perform sts:AssumeRoleWithWebIdentity",
          "high", 80),
    _rule("git-dubious-ownership", "permission_denied",
          r"detected dubious ownership in repository",
          "The checkout is owned by another user (container job): add `git config --global --add safe.directory "
          "\"$GITHUB_WORKSPACE\"`.",
          "fatal: detected dubious ownership in repository at '/__w/api/api'", "medium", 84),
    _rule("odoo-access-error", "permission_denied",
          r"odoo\.exceptions\.AccessError|AccessError: (?:You are not allowed|Sorry, you are not allowed)"
          r"|due to security restrictions",
          "The user in the test lacks an access right or record rule: add the ir.model.access / group in "
          "security, or run the test with the intended user.",
          "odoo.exceptions.AccessError: You are not allowed to access 'Helpdesk Ticket' (helpdesk.ticket) "
          "records.", "medium", 72),

    # ------------------------------------------------------------------ configuration_error
    _rule("invalid-workflow-file", "configuration_error",
          r"Invalid workflow file|The workflow is not valid|Unrecognized named-value: '\w+'"
          r"|Unexpected value '[^']+'|Required property is missing: \w+|You have an error in your yaml syntax"
          r"|The template is not valid|Error reading JToken|Error when evaluating '[\w-]+' for job",
          "Fix the workflow YAML at the reported line (keys, expressions, indentation); actionlint catches these "
          "before pushing.",
          "Invalid workflow file: .github/workflows/ci.yml#L23\nThe workflow is not valid. "
          ".github/workflows/ci.yml (Line: 23, Col: 9): Unexpected value 'step'", "high", 88),
    _rule("action-not-resolved", "configuration_error",
          r"Unable to resolve action [`'\"]?[\w./-]+@?[\w.-]*[`'\"]?, (?:unable to find version|repository not found)"
          r"|Can't find 'action\.ya?ml', 'action\.ya?ml' or 'Dockerfile'|An action could not be found at the URI"
          r"|Unable to resolve action `[^`]+`",
          "The action reference is wrong: fix the owner/name and pin an existing tag or commit SHA.",
          "##[error]Unable to resolve action `actions/setup-node@v9`, unable to find version `v9`", "high", 88),
    _rule("runtime-version-not-found", "configuration_error",
          r"The version '[^']+' with architecture '\w+' was not found|Unable to find Node version '[^']+'"
          r"|Could not find a version that satisfied version spec|version [\d.x]+ was not found in the local cache"
          r"|Version [\d.x]+ was not found in the manifest|Could not find satisfied version for SemVer"
          r"|go\.mod requires go >= ?[\d.]+ \(running go|InterpreterNotFound|could not find python interpreter"
          r"|not stabilized in this version of Cargo|failed to parse manifest at"
          r"|The specified node version file at: \S+ does not exist|version file .* does not exist"
          r"|externally-managed-environment|ERR_OSSL_EVP_UNSUPPORTED|digital envelope routines::unsupported"
          r"|ERR_PNPM_BAD_PM_VERSION|This project is configured to use v?[\d.]+ of \w+",
          "The requested runtime version is not available for this runner image: use a supported version or a "
          "runner image that has it (e.g. Python 3.7 is not on ubuntu-24.04).",
          "##[error]The version '3.7' with architecture 'x64' was not found for Ubuntu 24.04.", "high", 86),
    _rule("setup-cache-config", "configuration_error",
          r"Dependencies lock file is not found in \S+|No file in \S+ matched to \[[^\]]*\]"
          r"|Some specified paths were not resolved, unable to cache dependencies"
          r"|can only install with an existing package-lock\.json"
          r"|an artifact with this name already exists|Artifact not found for name|Unable to download artifact"
          r"|Unable to process file command '\w+' successfully",
          "setup-node/setup-python `cache:` needs the lock/requirements file: commit it, set "
          "cache-dependency-path, or check out the repository before the setup step.",
          "##[error]Dependencies lock file is not found in /home/runner/work/web/web. Supported file patterns: "
          "package-lock.json,npm-shrinkwrap.json,yarn.lock", "medium", 86),
    _rule("dockerfile-context", "configuration_error",
          r"failed to (?:solve|read dockerfile): .*(?:no such file or directory|not found)"
          r"|failed to compute cache key: .*not found|COPY failed: (?:file not found|stat|forbidden path)"
          r"|unable to prepare context: (?:path|unable to evaluate)|\"/[\w./-]+\": not found"
          r"|invalid reference format|failed to read dockerfile|no configuration file provided: not found"
          r"|no such service: \S+|repository name must be lowercase|invalid tag \"[^\"]+\"",
          "A path in the Dockerfile or the build context is wrong: check the context directory, the file: input "
          "and .dockerignore (excluded files cannot be COPYed).",
          "ERROR: failed to solve: failed to compute cache key: failed to calculate checksum of ref "
          "moby::q1w2e3: \"/dist\": not found", "high", 76),
    _rule("module-type-config", "configuration_error",
          r"Cannot use import statement outside a module|require\(\) of ES Module \S+ not supported"
          r"|ERR_REQUIRE_ESM|Jest encountered an unexpected token",
          "The module system configuration is wrong (ESM vs CommonJS): set \"type\": \"module\" or transform the "
          "package (Jest transformIgnorePatterns), or import it the supported way.",
          "SyntaxError: Cannot use import statement outside a module", "medium", 80),
    _rule("unexpected-action-input", "configuration_error",
          r"Unexpected input\(s\) '[^']+', valid inputs are",
          "The workflow passes an input the action does not have (often a renamed input after a major version "
          "bump): rename or remove it according to the action's README.",
          "Warning: Unexpected input(s) 'node_version', valid inputs are ['node-version', 'cache']", "low", 25),
    _rule("cli-usage-error", "configuration_error",
          r"error: unrecognized arguments?:|ERROR: usage: |error: no such option:? |Unknown (?:option|argument):? "
          r"['\"-]|unknown (?:flag|shorthand flag): |error: unexpected argument '[^']+' found|Error: Unknown option"
          r"|invalid choice: '[^']+' \(choose from|not found in `markers` configuration option",
          "A command in the workflow is called with an option the installed tool version does not support: fix "
          "the command line or pin the tool version.",
          "ERROR: usage: pytest [options] [file_or_dir] [file_or_dir] [...]\npytest: error: unrecognized "
          "arguments: --cov=app", "medium", 74),
    _rule("no-tests-collected", "configuration_error",
          r"ERROR: (?:file or directory not found|not found): \S+|no tests ran in|collected 0 items\s*$"
          r"|No tests found, exiting with code 1|No test files found|testMatch: .* - 0 matches",
          "The test command points to nothing: fix the test path/pattern (testpaths, testMatch) or the working "
          "directory.",
          "ERROR: file or directory not found: tests/unit", "medium", 76),
    _rule("npm-missing-script", "configuration_error",
          r"Missing script: \"?[\w:.-]+\"?|error Command \"[\w:.-]+\" not found|ERR_PNPM_NO_SCRIPT",
          "package.json has no such script: add it or fix the script name called by the workflow.",
          "npm ERR! Missing script: \"test:ci\"", "medium", 80),
    _rule("linter-config", "configuration_error",
          r"ESLint couldn't find (?:a|an|the) (?:configuration file|plugin|config|eslint\.config)"
          r"|Failed to load (?:config|plugin) "
          r"\"[^\"]+\"|Cannot read config file|Invalid configuration object|error TS5\d{3}:|Unknown compiler option"
          r"|error TS18003|No inputs were found in config file|Did not detect any code for the requested language"
          r"|InvalidConfigError|InvalidManifestError|is not present in repository",
          "The tool's configuration file is missing or invalid: fix the config (and install the plugins/presets "
          "it references).",
          "ESLint couldn't find a configuration file. To set up a configuration file for this project, please run:",
          "medium", 78),
    _rule("java-version-config", "configuration_error",
          r"invalid (?:target|source) release: \d+|release version \d+ not supported|Unsupported class file major "
          r"version \d+|Unsupported Java\.|has been compiled by a more recent version of the Java Runtime"
          r"|Could not find or load main class|there is no POM in this directory|Non-parseable POM"
          r"|Could not get unknown property|Could not find method \w+\(\) for arguments",
          "The build configuration does not match the toolchain: align the JDK version in setup-java with the "
          "project's target, and fix the build script.",
          "[ERROR] Failed to execute goal org.apache.maven.plugins:maven-compiler-plugin:3.11.0:compile "
          "(default-compile) on project api: Fatal error compiling: error: invalid target release: 21",
          "medium", 74),
    _rule("python-version-unsupported", "configuration_error",
          r"requires a different Python: [\d.]+ not in|Package '[^']+' requires a different Python"
          r"|requires-python|The currently activated Python version [\d.]+ is not supported"
          r"|(?:Unsupported engine|EBADENGINE|The engine \"node\" is incompatible with this module)",
          "The matrix runs a runtime version the project or a dependency does not support: adjust the matrix or "
          "the supported versions in the project metadata.",
          "ERROR: Package 'acme-sdk' requires a different Python: 3.8.18 not in '>=3.9'", "medium", 76),
    _rule("git-ref-not-found", "configuration_error",
          r"fatal: couldn't find remote ref|error: pathspec '[^']+' did not match any file|fatal: ambiguous argument"
          r"|A branch or tag with the name '[^']+' could not be found|fatal: invalid reference",
          "The branch, tag or path named in the workflow does not exist: fix the ref (or fetch the history with "
          "fetch-depth: 0).",
          "##[error]A branch or tag with the name 'release/2.x' could not be found", "medium", 78),
    _rule("make-no-rule", "configuration_error",
          r"make(?:\[\d+\])?: \*\*\* No rule to make target '[^']+'",
          "The Makefile has no such target or a prerequisite file is missing: fix the target name or the path.",
          "make: *** No rule to make target 'test-ci'.  Stop.", "medium", 76),
    _rule("file-not-found-config", "configuration_error",
          r"can't open file '[^']+': \[Errno 2\] No such file or directory|Could not open requirements file"
          r"|ENOENT: no such file or directory, (?:open|stat|scandir|lstat) '[^']+'|No such file or directory"
          r"|No files were found with the provided path",
          "A file the job expects is not there: check the path, the working-directory and that the file is "
          "committed or produced by an earlier step.",
          "ERROR: Could not open requirements file: [Errno 2] No such file or directory: "
          "'requirements/ci.txt'", "medium", 35),
    _rule("database-config", "configuration_error",
          r"database \"\w+\" does not exist|role \"\w+\" does not exist|Unknown database '\w+'",
          "The database or role the tests use is not created: set POSTGRES_DB/POSTGRES_USER on the service or "
          "create it before the tests.",
          "psycopg2.OperationalError: connection to server at \"localhost\" (127.0.0.1), port 5432 failed: FATAL: "
          " database \"odoo_test\" does not exist", "medium", 86),
    _rule("package-publish-conflict", "configuration_error",
          r"File already exists|cannot publish over (?:the )?previously published versions?"
          r"|You cannot publish over the previously published versions|version already exists",
          "This version is already published: bump the version before releasing.",
          "HTTPError: 400 Bad Request from https://upload.pypi.org/legacy/\nFile already exists. See "
          "https://pypi.org/help/#file-name-reuse for more information.", "low", 84),
    _rule("odoo-manifest-version", "configuration_error",
          r"manifest version [\w.]+ does not match Odoo version|Invalid version '[^']+' in manifest",
          "The addon's manifest targets another Odoo series: fix `version` (e.g. 17.0.x.y.z) and `installable` in "
          "__manifest__.py, or run the job on the matching Odoo image.",
          "WARNING odoo odoo.modules.module: module sale_x: manifest version 16.0.1.0.0 does not match Odoo version "
          "17.0", "medium", 88),
    _rule("odoo-data-file-missing", "configuration_error",
          r"FileNotFoundError: File not found: [\w/.-]+\.(?:xml|csv)|File not found: [\w/.-]+\.(?:xml|csv)",
          "A file listed in the manifest's data/demo keys does not exist: fix the path in __manifest__.py or add "
          "the file.",
          "FileNotFoundError: File not found: sale_x/views/sale_order_views.xml", "medium", 78),
    _rule("odoo-data-parse-error", "configuration_error",
          r"odoo\.tools\.convert\.ParseError|while parsing \S+\.(?:xml|csv):\d+",
          "An Odoo data file failed to load: read the error under 'while parsing' (record id, field) and fix that "
          "record in the XML/CSV.",
          "odoo.tools.convert.ParseError: while parsing /__w/sale/sale/sale_extra/data/mail_template.xml:4, "
          "somewhere inside", "medium", 30),

    # ------------------------------------------------------------------ test_failure
    _rule("pytest-failed", "test_failure",
          r"^FAILED [\w./\\-]+::\S+|^=+ (?:\d+ passed, )?\d+ failed|^E\s+(?:assert |AssertionError)",
          "A test failed: read the assertion above, reproduce locally with the same test id, and fix the code or "
          "update the test if the expected behaviour changed.",
          "FAILED tests/test_invoice.py::test_total_with_discount - assert 90.0 == 95.0", "high", 40),
    _rule("python-assertion-error", "test_failure",
          r"^\s*AssertionError\b|^E\s+Failed: |^FAIL: test\w* \(|^FAILED \((?:failures|errors)=\d+",
          "An assertion failed in the tests: compare expected and actual values in the message and fix the code "
          "or the test.",
          "FAIL: test_parse_header (tests.test_parser.ParserTest.test_parse_header)", "high", 38),
    _rule("jest-vitest-failed", "test_failure",
          r"^Tests?:\s+\d+ failed|^\s*Test Files\s+\d+ failed|^FAIL\s+\S+\.(?:test|spec)\.[cm]?[jt]sx?"
          r"|^\s*● .+ \u203a .+|^\s*\d+ failing\s*$|AssertionError \[ERR_ASSERTION\]"
          r"|expect\(received\)\.\w+\(expected\)",
          "A JavaScript test failed: run the reported test file locally (npx jest path / vitest run path) and fix "
          "the assertion or the code.",
          "FAIL src/cart/cart.test.ts\n  ● Cart \u203a applies coupon\n\nTests:       1 failed, 41 passed, 42 total",
          "high", 40),
    _rule("go-test-failed", "test_failure",
          r"^\s*--- FAIL: \w+|^FAIL\s+[\w./-]+\s+[\d.]+s\s*$|^FAIL\s*$",
          "A Go test failed: run `go test -run <Name> ./<pkg>` locally and fix the failing case.",
          "--- FAIL: TestParseConfig (0.00s)\n    config_test.go:41: got \"\", want \"prod\"\nFAIL\tgithub.com/acme/"
          "svc/config\t0.012s", "high", 40),
    _rule("jvm-tests-failed", "test_failure",
          r"Tests run: \d+, Failures: [1-9]|Tests run: \d+, Failures: \d+, Errors: [1-9]|There are test failures"
          r"|There were failing tests|\b\d+ tests completed, \d+ failed|Execution failed for task '[:\w]*:test'",
          "JUnit tests failed: open the surefire/gradle test report for the failing class and fix it.",
          "[ERROR] Tests run: 48, Failures: 2, Errors: 0, Skipped: 1, Time elapsed: 3.2 s <<< FAILURE! - in "
          "com.acme.OrderServiceTest", "high", 40),
    _rule("odoo-test-failed", "test_failure",
          r"(?:FAIL|ERROR): Test\w*\.test_\w+|odoo\.addons\.[\w.]+: (?:FAIL|ERROR): "
          r"|\b(?:[1-9]\d* failed, \d+|\d+ failed, [1-9]\d*) error\(s\) of \d+ tests"
          r"|Module \w+: [1-9]\d* failures?, \d+ errors?|Module \w+: \d+ failures?, [1-9]\d* errors?"
          r"|Tour \w+ failed at step",
          "An Odoo test failed: run it locally with --test-tags /module:Class.test_method and fix the code or the "
          "test data.",
          "2024-05-02 10:20:31,002 231 ERROR odoo odoo.addons.sale_discount.tests.test_discount: FAIL: "
          "TestDiscount.test_global_discount", "high", 44),
    _rule("odoo-validation-error-in-test", "test_failure",
          r"odoo\.exceptions\.(?:ValidationError|UserError): |^(?:ValidationError|UserError): ",
          "A business constraint rejected the test data: check the constraint message and make the test create "
          "valid records (or update the constraint if it changed on purpose).",
          "odoo.exceptions.ValidationError: The end date cannot be earlier than the start date.", "medium", 46),
    _rule("coverage-threshold", "test_failure",
          r"Coverage failure: total of [\d.]+ is less than fail-under|Required test coverage of [\d.]+% not reached"
          r"|coverage threshold for \w+ \([\d.]+%\) not met|FAIL Required test coverage",
          "Coverage fell below the configured threshold: add tests for the new code (or adjust the threshold on "
          "purpose).",
          "Coverage failure: total of 78.41 is less than fail-under=80.00", "medium", 78),
    _rule("snapshot-mismatch", "test_failure",
          r"\b\d+ snapshots? failed|Snapshot [`'\"].+[`'\"] mismatched|obsolete snapshots? (?:file|written)",
          "Snapshots no longer match: review the diff and update them (jest -u) if the change is intended.",
          "Snapshot Summary\n \u203a 2 snapshots failed from 1 test suite.", "medium", 66),
    _rule("other-test-runners-failed", "test_failure",
          r"\b\d+ examples?, [1-9]\d* failures?|test result: FAILED|^FAILURES!$|Tests: \d+, Assertions: \d+, "
          r"(?:Failures|Errors): \d+|✖\s+\d+ of \d+ failed|^\s*\d+ failed\s*$|\b\d+ (?:tests? )?failed, \d+ passed"
          r"|^not ok \d+ |AssertionError: Timed out retrying after|The following tests FAILED:"
          r"|Failing Scenarios:|\d+ scenarios? \(\d+ failed|Scenario \S+: FAILED"
          r"|tests passed, \d+ tests? failed out of|Failed!\s+-\s+Failed:\s+[1-9]"
          r"|Executed \d+ tests?, with [1-9]\d* "
          r"failures?|^# fail\s+[1-9]|Test Suites: \d+ failed",
          "Tests failed: reproduce the failing case locally and fix the code or the test.",
          "test result: FAILED. 12 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out", "high", 36),

    _rule("rust-test-panicked", "test_failure",
          r"^thread '[^'\n]+'(?: \(\d+\))? panicked at|assertion `left == right` failed|assertion failed: `\(left == "
          r"right\)`|^---- \S+ stdout ----$",
          "A Rust test failed: run `cargo test <name>` locally and fix the assertion or the code.",
          "---- parser::tests::parses_empty stdout ----\nthread 'parser::tests::parses_empty' panicked at "
          "src/parser.rs:88:9:\nassertion `left == right` failed\n  left: 0\n right: 1", "high", 42),
    _rule("go-test-panicked", "test_failure",
          r"^panic: [^\n]{0,200}\bTest\w+|\btesting\.tRunner\b|\btesting\.\(\*common\)",
          "A Go test panicked (a nil dereference, or a test helper used after the test ended): run it locally with "
          "`go test -run <Name> -v` and fix the panic.",
          "panic: runtime error: invalid memory address or nil pointer dereference [recovered]\n\tpanic: runtime "
          "error: invalid memory address or nil pointer dereference\ngoroutine 7 [running]:\ntesting.tRunner.func1.2"
          "({0x6e1c20, 0x9d7a50})", "high", 40),

    # ------------------------------------------------------------------ syntax_error
    _rule("python-syntax-error", "syntax_error",
          r"\b(?:SyntaxError|IndentationError|TabError): (?!Cannot use import statement)",
          "Fix the syntax at the reported file and line (also check that the code does not use syntax newer "
          "than the Python version in the matrix).",
          "  File \"/home/runner/work/app/app/app/models.py\", line 42\n    return {**base, **extra\n            "
          "^\nSyntaxError: '{' was never closed", "high", 76),
    _rule("js-syntax-error", "syntax_error",
          r"SyntaxError: (?:Unexpected (?:token|identifier|end of input|string)|Invalid or unexpected token"
          r"|missing \) after|Unterminated|Identifier '\w+' has already been declared)"
          r"|Parsing error: |Transform failed with \d+ errors?|error TS1\d{3}:",
          "Fix the syntax error at the reported position; check that the parser/TypeScript target supports the "
          "syntax used.",
          "src/routes/index.js:14\n  }, {\n  ^\nSyntaxError: Unexpected token '}'", "high", 72),
    _rule("lint-errors", "syntax_error",
          r"✖ \d+ problems? \(\d+ errors?|^\s*\d+:\d+\s+error\s+.+\s+[\w/@-]+$|^\S+\.py:\d+:\d+: [EFWC]\d{3,4}\b"
          r"|^Found \d+ errors?\.|^\S+:\d+:\d+: [A-Z]+\d+ |Oh no! 💥 💔 💥|\b\d+ files? would be reformatted"
          r"|^would reformat |Code style issues found|Forgot to run Prettier\?|^\S+\.go:\d+:\d+: .*\((?:\w+)\)$"
          r"|rubocop.*offenses? detected|\b\d+ offenses? detected|You have \d+ Checkstyle violations?"
          r"|The following files had format violations|Treating warnings as errors because process\.env\.CI = true"
          r"|ktlint|detekt|\bPMD Failure|\bSC\d{4} \((?:error|warning|info|style)\)|terraform fmt"
          r"|Terraform exited with code 3|gofmt -l|files? (?:are|is) not (?:properly )?formatted"
          r"|Found \d+ of \d+ files? that can be fixed|php-cs-fixer|PHP_CodeSniffer|phpcs"
          r"|format %\w+ has arg \w+ of wrong type|possible (?:Printf )?formatting directive|possible misuse of"
          r"|Your code has been rated at|^\S+:\d+ (?:DL|SC)\d{4} "
          r"|\((?:line-length|trailing-spaces|indentation|truthy|document-start)\)$|^\s*\d+:\d+\s+✖\s+\S",
          "Run the linter/formatter locally (pre-commit run --all-files) and commit the fixes.",
          "app/views.py:17:80: E501 line too long (96 > 79 characters)\nFound 3 errors.", "medium", 56),
    _rule("pre-commit-hook-failed", "syntax_error",
          r"^\S[^\n]*?\.{4,}(?-i:Failed)\s*$|^- hook id: \S+|files were modified by this hook",
          "A pre-commit hook failed or rewrote files: run `pre-commit run --all-files` locally and commit the "
          "result.",
          "ruff.....................................................................Failed\n- hook id: ruff\n- "
          "exit code: 1", "medium", 54),
    _rule("pylint-odoo", "syntax_error",
          r"\[[CWERF]\d{4}\([\w-]+\), ?[^\]]*\]|^\S+:\d+:\d+: [CWERF]\d{4}: |pylint_odoo|manifest-required-author"
          r"|^\*{13} Module \S+",
          "pylint-odoo reports a check violation: fix the message at the reported line (or disable it with a "
          "justified `# pylint: disable=` when it is a false positive).",
          "my_module/models/sale.py:31:8: [W8161(prefer-env-translation), ] Better using self.env._ instead of _",
          "medium", 62),
    _rule("compile-syntax-error", "syntax_error",
          r"syntax error(?:,|:)? (?:unexpected|non-declaration|near unexpected token)|expected '[;)]', found"
          r"|error: (?:';' expected|class, interface, (?:or )?enum(?:, or record)? expected|illegal start of "
          r"(?:expression|type)|reached end of file while parsing|<identifier> expected|unclosed string literal)"
          r"|unexpected EOF while looking for matching|Parse error: syntax error|error: expected one of "
          r"|error CS1\d{3}:"
          r"|error: unexpected closing delimiter",
          "Fix the syntax at the reported file and line.",
          "src/main/java/com/acme/Util.java:[27,9] error: ';' expected", "high", 72),
    _rule("markup-data-parse-error", "syntax_error",
          r"XMLSyntaxError|Opening and ending tag mismatch|not well-formed \(invalid token\)"
          r"|JSONDecodeError|EJSONPARSE|Unexpected token .* in JSON at position|Failed to parse json"
          r"|yaml\.(?:scanner|parser|constructor)\.\w+Error|YAMLException|found character that cannot start any "
          r"token|found character .{0,12}that cannot start any token|mapping values are not allowed here"
          r"|did not find expected key|TOMLDecodeError|Invalid TOML",
          "A data or markup file does not parse (XML, JSON, YAML, TOML): fix it at the reported line and column.",
          "lxml.etree.XMLSyntaxError: Opening and ending tag mismatch: group line 12 and form, line 40, column 8",
          "high", 74),
    _rule("odoo-invalid-view", "syntax_error",
          r"Invalid view \S+ definition|Element odoo has extra content|Error while validating view"
          r"|RELAXNG_ERR|Invalid XML for View Architecture",
          "The view architecture is invalid for this Odoo version: fix the XML (element names, required "
          "attributes) at the reported line.",
          "odoo.tools.convert.ParseError: while parsing /__w/crm/crm/crm_extra/views/lead.xml:3\nError while "
          "validating view near:", "medium", 64),
    _rule("type-check-errors", "syntax_error",
          r"Found \d+ errors? in \d+ files? \(checked|error TS\d{4}:|Failed to compile\.|COMPILATION ERROR"
          r"|error: could not compile|Compilation failed|Build failed with \d+ errors?|^e: \S+\.kt"
          r"|error CS\d{4}:",
          "The code does not compile or type-check: fix the first reported error and rerun the build.",
          "Found 4 errors in 2 files (checked 63 source files)", "medium", 30),

    # ------------------------------------------------------------------ resource_exhaustion
    _rule("node-heap-out-of-memory", "resource_exhaustion",
          r"JavaScript heap out of memory|Reached heap limit Allocation failed|FATAL ERROR: .*Allocation failed",
          "Node ran out of heap: raise it (NODE_OPTIONS=--max-old-space-size=4096), split the build, or use a "
          "larger runner.",
          "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory", "high", 88),
    _rule("disk-full", "resource_exhaustion",
          r"No space left on device|ENOSPC(?!: System limit for number of file watchers)"
          r"|not enough space on the disk|You are running out of disk space|disk quota exceeded",
          "The runner's disk is full: free space first (remove unused toolchains, docker system prune), shrink "
          "the build, or use a larger runner.",
          "write /var/lib/docker/tmp/GetImageBlob123: no space left on device", "high", 88),
    _rule("file-watchers-or-handles", "resource_exhaustion",
          r"System limit for number of file watchers reached|Too many open files|\bEMFILE\b",
          "The job hit an OS limit (watchers/handles): raise it (sysctl fs.inotify.max_user_watches / ulimit -n) "
          "or disable watch mode in CI.",
          "Error: ENOSPC: System limit for number of file watchers reached, watch '/home/runner/work/app/app/src'",
          "medium", 84),
    _rule("jvm-out-of-memory", "resource_exhaustion",
          r"java\.lang\.OutOfMemoryError|GC overhead limit exceeded|Java heap space|Metaspace\b.*OutOfMemory"
          r"|Daemon (?:disappeared|stopped).*(?:memory|OOM)|daemon has disappeared unexpectedly"
          r"|Expiring Daemon because JVM heap space is exhausted",
          "The JVM ran out of memory: raise -Xmx (org.gradle.jvmargs / MAVEN_OPTS) or reduce parallel workers.",
          "Exception in thread \"main\" java.lang.OutOfMemoryError: Java heap space", "high", 86),
    _rule("native-out-of-memory", "resource_exhaustion",
          r"\bMemoryError\b|fatal error: runtime: out of memory|Cannot allocate memory|std::bad_alloc"
          r"|virtual memory exhausted|out of memory|Out of memory: Killed process|oom-kill|OOMKilled"
          r"|Unable to allocate [\d.]+ [KMGT]i?B|max memory reached",
          "The process ran out of memory: reduce parallelism (pytest -n, make -j), process data in chunks, or use "
          "a larger runner.",
          "fatal error: runtime: out of memory", "high", 80),
    _rule("process-killed", "resource_exhaustion",
          r"^\s*Killed\s*$|\b\d+ Killed\s+\S|(?:exit code|exit status|exited with code"
          r"|returned non-zero exit status) 137\b"
          r"|signal: killed|terminated with signal 9|Killed signal terminated program|\bSIGKILL\b|signal: 9\b"
          r"|internal compiler error: Killed|Killed \(program \w+\)|\] Error 137\b",
          "The process was killed (usually the out-of-memory killer): lower memory use or parallelism, or use a "
          "larger runner.",
          "c++: fatal error: Killed signal terminated program cc1plus", "high", 78),
    _rule("runner-lost", "resource_exhaustion",
          r"lost communication with the server|The runner has received a shutdown signal"
          r"|The hosted runner encountered an error|Runner \S+ did not respond|The runner has been shutdown",
          "The runner died or was shut down (often starved of CPU/memory): rerun the job; if it repeats reduce "
          "the job's memory/CPU use or use a larger runner.",
          "##[error]The runner has received a shutdown signal. This can happen when the runner service is "
          "stopped, or a manually started runner is canceled.", "high", 86),
    _rule("quota-exhausted", "resource_exhaustion",
          r"Artifact storage quota has been hit|storage quota|spending limit needs to be increased"
          r"|recent account payments have failed|exceeded (?:its|your) (?:storage )?quota|Resource temporarily "
          r"unavailable|fork: retry",
          "An account or system quota is exhausted: free artifact/cache storage (shorter retention) or raise the "
          "limit.",
          "Failed to CreateArtifact: Artifact storage quota has been hit. Unable to upload any new artifacts.",
          "high", 80, retryable=False),

    # ------------------------------------------------------------------ unknown
    _rule("run-cancelled", "unknown",
          r"^##\[error\]The operation was canceled\.?$|Canceling since a higher priority waiting request"
          r"|The run was canceled by @",
          "The run was cancelled (a newer run in the same concurrency group, or by a person): nothing to fix.",
          "##[error]The operation was canceled.", "low", 20),
    _rule("process-crashed", "unknown",
          r"Segmentation fault|\bSIGSEGV\b|\(core dumped\)|exit code 139\b|Illegal instruction",
          "A process crashed (segmentation fault) without a recognised cause: read the excerpt, rerun with a "
          "debugger or sanitizer, and add a failure pattern once the cause is known.",
          "./run_tests.sh: line 12:  4121 Segmentation fault      (core dumped) ./build/unit_tests", "medium", 24),
]
# fmt: on


# ---------------------------------------------------------------------------
# Matching


class PatternError(ValueError):
    """A rule pattern that cannot be used (does not compile, matches nothing useful, is too slow)."""


@lru_cache(maxsize=1024)
def compile_pattern(pattern):
    """Compile a rule pattern once per process (raises :class:`PatternError`)."""
    if not isinstance(pattern, str) or not pattern.strip():
        raise PatternError("the pattern is empty")
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise PatternError(f"the pattern is longer than {MAX_PATTERN_LENGTH} characters")
    try:
        return regex.compile(pattern, FLAGS)
    except (regex.error, OverflowError, RecursionError, ValueError) as exc:
        raise PatternError(f"the pattern does not compile: {exc}") from None


_PROBES = ("a" * 3000 + "!", " " * 3000 + "x", "0" * 3000 + "z", ("ab" * 1500) + "\n", "x" * 300 + ("\n" * 200))


def validate_pattern(pattern, timeout_ms=50.0):
    """Return why ``pattern`` cannot be a rule, or None when it can (for the rule form in the UI).

    Refused: empty or over-long patterns, patterns that do not compile, that
    match empty text (they would match every log), or that take longer than
    ``timeout_ms`` on adversarial probes (catastrophic backtracking).
    """
    try:
        compiled = compile_pattern(pattern)
    except PatternError as exc:
        return str(exc)
    try:
        if compiled.search("", timeout=timeout_ms / 1000.0) is not None:
            return "the pattern matches empty text, so it would match every log"
        for probe in _PROBES:
            try:
                compiled.search(probe, timeout=timeout_ms / 1000.0)
            except TimeoutError:
                # the budget is wall-clock: on a loaded machine a linear pattern can
                # overrun it once, while catastrophic backtracking overruns 20 times it too
                compiled.search(probe, timeout=20 * timeout_ms / 1000.0)
    except TimeoutError:
        return "the pattern is too slow (catastrophic backtracking): simplify nested repetitions such as (a+)+"
    except (regex.error, RecursionError, MemoryError) as exc:  # pragma: no cover - engine limits
        return f"the pattern cannot run: {exc}"
    return None


def _line_of(text, offset):
    return text.count("\n", 0, offset)


def match_rules(text, rules=None, timeout_ms=DEFAULT_TIMEOUT_MS, total_timeout_ms=DEFAULT_TOTAL_MS):
    """Apply ``rules`` (default :data:`SEED_RULES`) to ``text`` and report matches, best first.

    Each rule gets at most ``timeout_ms``; once ``total_timeout_ms`` is spent
    the remaining rules are skipped. Rules that do not compile or time out are
    listed in ``skipped``; matching never raises for a bad rule. Matches are
    ordered by priority, then by how late in the text they matched (the last
    evidence is closest to what stopped the job).

    The budget counts matching only: patterns are compiled (once per process,
    bounded in length) before the clock starts, otherwise a fresh process — a
    CI step running ``python3 -m autopilot diagnose``, a new Odoo worker —
    spent the budget compiling and silently skipped the end of the table.
    """
    rules = SEED_RULES if rules is None else rules
    report = MatchReport()
    if not isinstance(text, str) or not text:
        return report
    runnable = []
    for rule in rules:
        try:
            runnable.append((rule, compile_pattern(rule.pattern)))
        except PatternError as exc:
            report.skipped.append(SkippedRule(rule, "invalid", str(exc)))
    deadline = time.perf_counter() + total_timeout_ms / 1000.0
    for rule, compiled in runnable:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            report.skipped.append(SkippedRule(rule, "timeout", "the total matching budget was spent"))
            continue
        try:
            found = compiled.search(text, timeout=min(timeout_ms / 1000.0, remaining))
        except TimeoutError:
            report.skipped.append(SkippedRule(rule, "timeout", f"no answer within {timeout_ms:g} ms"))
            continue
        except (regex.error, RecursionError, MemoryError) as exc:  # pragma: no cover - engine limits
            report.skipped.append(SkippedRule(rule, "invalid", str(exc)))
            continue
        if found is not None and found.end() > found.start():
            report.matches.append(
                RuleMatch(rule, found.start(), found.end(), _line_of(text, found.start()), found.group(0)[:300])
            )
    report.matches.sort(key=lambda m: (-m.rule.priority, -m.start))
    return report


def rule_by_name(name, rules=None):
    """The rule called ``name`` in ``rules`` (default the seed rules), or None."""
    for rule in SEED_RULES if rules is None else rules:
        if rule.name == name:
            return rule
    return None
