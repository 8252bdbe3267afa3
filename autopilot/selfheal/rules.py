"""Failure rules: the knowledge base that names a CI failure from its log.

Decides which known failure a log excerpt shows. A :class:`Rule` is a regular
expression with a category, a suggested fix, a severity and a priority (the
more specific rule wins when several match). :data:`SEED_RULES` is the shipped
knowledge base, kept as data in ``autopilot/data/rules/<category>.toml`` and
read (and checked) once, the first time it is used; the Odoo model
``ops.failure.pattern`` is seeded from it and managers add their own rules
there.

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
from functools import cache, lru_cache

import regex

from ..common.datafiles import DATA_DIR, DataFileError, entries, read_toml

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
    rules = seed_rules() if rules is None else rules
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
    for rule in seed_rules() if rules is None else rules:
        if rule.name == name:
            return rule
    return None


# ---------------------------------------------------------------------------
# The seed rules: data/rules/<category>.toml

RULES_DIR = DATA_DIR / "rules"
RULE_FIELDS = ("name", "pattern", "suggested_fix", "example", "severity", "priority", "retryable")


def _rule_from_entry(entry, category):
    """The :class:`Rule` of one ``[[rules]]`` table of ``<category>.toml`` (raises :class:`DataFileError`)."""
    entry.reject_unknown(RULE_FIELDS)
    name = entry.text("name")
    pattern = entry.text("pattern")
    try:
        compiled = compile_pattern(pattern)
    except PatternError as exc:
        raise entry.error(str(exc), "pattern") from None
    if compiled.search("") is not None:
        raise entry.error("the pattern matches empty text, so it would match every log", "pattern")
    return Rule(
        name=name,
        pattern=pattern,
        category=category,
        suggested_fix=entry.text("suggested_fix"),
        retryable=entry.boolean("retryable", category in RETRYABLE_CATEGORIES),
        severity=entry.choice("severity", SEVERITIES, "medium"),
        priority=entry.integer("priority", 50),
        example=entry.text("example"),
    )


def load_rules(folder=RULES_DIR):
    """The rules of ``folder``: one ``<category>.toml`` per category, read in :data:`CATEGORIES` order.

    Every pattern is compiled here, so a rule that cannot run is an error
    naming its file and entry (:class:`~autopilot.common.datafiles.DataFileError`),
    not a rule silently skipped later. How slow a pattern is on hostile input
    is measured by the tests and the rule form, not here: a wall-clock probe
    must not decide whether a CI job gets its diagnosis.
    """
    for path in sorted(folder.glob("*.toml")):
        if path.stem not in CATEGORIES:
            raise DataFileError(path, f"the file name is not a category; the categories are {', '.join(CATEGORIES)}")
    found, seen = [], {}
    for category in CATEGORIES:
        path = folder / f"{category}.toml"
        if not path.exists():
            continue
        document = read_toml(path)
        unknown = sorted(set(document) - {"rules"})
        if unknown:
            raise DataFileError(path, f"unknown key {unknown[0]!r}; the file holds [[rules]] entries only")
        for entry in entries(path, document, "rules", kind="rule", key="name"):
            rule = _rule_from_entry(entry, category)
            if rule.name in seen:
                raise entry.error(f"{rule.name!r} is already used in {seen[rule.name]}", "name")
            seen[rule.name] = f"{path.name} entry {entry.number}"
            found.append(rule)
    return tuple(found)


@cache
def seed_rules():
    """The shipped rules (:data:`SEED_RULES`), read and checked once per process."""
    return load_rules()


def __getattr__(name):
    # SEED_RULES is read on first use: compiling the table costs more than the rest of
    # the import, and most importers (the other CLI commands, Odoo workers) never match
    if name == "SEED_RULES":
        return seed_rules()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
