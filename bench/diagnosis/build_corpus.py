"""Build the labelled diagnosis corpus from hand-written failure bodies.

Each file in bench/diagnosis/bodies/<category>.txt holds failure outputs
written after real projects' CI output (one per ``=== eco | command``
block). This script wraps every body in a realistic GitHub Actions job log —
runner preamble, checkout, setup-* steps with cache messages, dependency
installs and other passing steps with their usual noise (warnings,
deprecations, "0 errors"), the failing step's header, the body, the runner's
``##[error]Process completed ...`` line and post-job cleanup — with runner
timestamps, occasional ANSI colours, CRLF endings or no timestamps (logs
copied from the UI). Output: autopilot/data/diagnosis_corpus/<category>/*.log.

Deterministic: the same bodies give the same corpus. Run from /work/main:
``python3 bench/diagnosis/build_corpus.py``.
"""

import datetime as dt
import hashlib
import random
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BODIES = Path(__file__).resolve().parent / "bodies"
OUT = ROOT / "autopilot" / "data" / "diagnosis_corpus"

REPOS = [
    "billing-api",
    "storefront",
    "etl",
    "infra",
    "web",
    "ledger",
    "sale-workflow",
    "helpdesk",
    "mobile",
    "scheduler",
    "docs-site",
    "ingest",
    "agent",
    "portal",
    "crm-sync",
    "catalog",
    "relay",
    "reporting",
]
BRANCHES = [
    "main",
    "develop",
    "feature/checkout-v2",
    "fix/issue-412",
    "16.0-mig-sale_extra",
    "renovate/pytest-8.x",
    "dependabot/npm_and_yarn/vite-5.2.8",
    "release/2.4",
    "17.0",
    "hotfix/login-loop",
]


def blocks(path):
    text = path.read_text(encoding="utf-8")
    for part in re.split(r"(?m)^(?==== [\w-]+ \| )", text):
        if not part.strip():
            continue
        header, _, body = part.partition("\n")
        eco, _, cmd = header[4:].partition(" | ")
        yield eco.strip(), cmd.strip(), body.rstrip("\n").split("\n")


def sha(rng):
    return "".join(rng.choice("0123456789abcdef") for _ in range(40))


def preamble(rng, repo):
    image = rng.choice(["ubuntu-22.04", "ubuntu-24.04"])
    lines = [
        f"Current runner version: '2.3{rng.randint(10, 21)}.{rng.randint(0, 3)}'",
        "##[group]Operating System",
        "Ubuntu",
        image.split("-")[1],
        "LTS",
        "##[endgroup]",
        "##[group]Runner Image",
        f"Image: {image}",
        f"Version: 2024{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}.1.0",
        "##[endgroup]",
        "##[group]GITHUB_TOKEN Permissions",
        "Contents: read",
        "Metadata: read",
        "##[endgroup]",
        "Secret source: Actions",
        "Prepare workflow directory",
        "Prepare all required actions",
        "Getting action download info",
        f"Download action repository 'actions/checkout@v4' (SHA:{sha(rng)})",
        f"Complete job name: {rng.choice(['test', 'build', 'lint', 'ci', 'tests (3.11)', 'test (ubuntu-latest, 20)'])}",
    ]
    return lines


def checkout(rng, repo, branch):
    commit = sha(rng)
    return [
        "##[group]Run actions/checkout@v4",
        "with:",
        f"  repository: acme/{repo}",
        "  token: ***",
        "  ssh-strict: true",
        "  persist-credentials: true",
        "  clean: true",
        "  fetch-depth: 1",
        "##[endgroup]",
        f"Syncing repository: acme/{repo}",
        "##[group]Getting Git version info",
        f"Working directory is '/home/runner/work/{repo}/{repo}'",
        "[command]/usr/bin/git version",
        "git version 2.45.1",
        "##[endgroup]",
        "##[group]Fetching the repository",
        "[command]/usr/bin/git -c protocol.version=2 fetch --no-tags --prune --no-recurse-submodules --depth=1 "
        f"origin +{commit}:refs/remotes/origin/{branch}",
        f"remote: Enumerating objects: {rng.randint(80, 4000)}, done.",
        f"remote: Counting objects: 100% ({rng.randint(80, 4000)}/{rng.randint(80, 4000)}), done.",
        f"remote: Total {rng.randint(80, 4000)} (delta {rng.randint(0, 300)}), reused 0 (delta 0), pack-reused 0",
        "##[endgroup]",
        "##[group]Checking out the ref",
        f"[command]/usr/bin/git checkout --progress --force -B {branch} refs/remotes/origin/{branch}",
        f"Switched to a new branch '{branch}'",
        "##[endgroup]",
        "[command]/usr/bin/git log -1 --format='%H'",
        f"'{commit}'",
    ]


def cache_lines(rng, tool, key_prefix):
    key = f"{key_prefix}-{sha(rng)[:64]}"
    roll = rng.random()
    if roll < 0.45:
        size = rng.randint(5, 900)
        return [
            f"Cache Size: ~{size} MB ({size * 1048576 + rng.randint(0, 99999)} B)",
            "[command]/usr/bin/tar -xf /home/runner/work/_temp/cache.tzst -P -C /home/runner --use-compress-program "
            "unzstd",
            "Cache restored successfully",
            f"Cache restored from key: {key}",
        ]
    if roll < 0.8:
        return [f"{tool} cache is not found"] if tool else [f"Cache not found for input keys: {key}"]
    return []


def setup_python(rng):
    version = rng.choice(["3.10", "3.11", "3.12", "3.9"])
    patch = {"3.9": "3.9.19", "3.10": "3.10.14", "3.11": "3.11.9", "3.12": "3.12.3"}[version]
    return [
        "##[group]Run actions/setup-python@v5",
        "with:",
        f"  python-version: {version}",
        "  cache: pip",
        "  check-latest: false",
        "##[endgroup]",
        "##[group]Installed versions",
        f"Successfully set up CPython ({patch})",
        "##[endgroup]",
        *cache_lines(rng, "pip", f"setup-python-Linux-x64-24.04-Ubuntu-python-{patch}-pip"),
    ]


def setup_node(rng):
    version = rng.choice(["18", "20", "22"])
    return [
        "##[group]Run actions/setup-node@v4",
        "with:",
        f"  node-version: {version}",
        "  cache: npm",
        "  always-auth: false",
        "##[endgroup]",
        f"Found in cache @ /opt/hostedtoolcache/node/{version}.12.2/x64",
        "##[group]Environment details",
        f"node: v{version}.12.2",
        "npm: 10.5.0",
        "##[endgroup]",
        "[command]/opt/hostedtoolcache/node/20.12.2/x64/bin/npm config get cache",
        "/home/runner/.npm",
        *cache_lines(rng, "npm", "node-cache-Linux-x64-npm"),
    ]


def setup_go(rng):
    return [
        "##[group]Run actions/setup-go@v5",
        "with:",
        "  go-version-file: go.mod",
        "  cache: true",
        "##[endgroup]",
        "Setup go version spec 1.22.2",
        "Found in cache @ /opt/hostedtoolcache/go/1.22.2/x64",
        "Added go to the path",
        "Successfully set up Go version 1.22.2",
        *(cache_lines(rng, "", "setup-go-Linux-ubuntu22-go-1.22.2") or ["Cache is not found"]),
    ]


def setup_java(rng):
    tool = rng.choice(["maven", "gradle"])
    return [
        "##[group]Run actions/setup-java@v4",
        "with:",
        "  distribution: temurin",
        f"  java-version: {rng.choice(['17', '21'])}",
        f"  cache: {tool}",
        "##[endgroup]",
        "Installed distributions",
        "Resolved Java 17.0.11+9 from tool-cache",
        "Setting Java 17.0.11+9 as the default",
        *cache_lines(rng, tool, f"setup-java-Linux-x64-{tool}"),
    ]


def docker_setup(rng):
    return [
        "##[group]Run docker/setup-buildx-action@v3",
        "##[endgroup]",
        "##[group]Docker info",
        "[command]/usr/bin/docker version",
        "Client: Docker Engine - Community",
        " Version:           26.1.3",
        "##[endgroup]",
        "##[group]Run docker/login-action@v3",
        "with:",
        "  registry: ghcr.io",
        "  username: acme-bot",
        "  password: ***",
        "##[endgroup]",
        "Logging into ghcr.io...",
        "Login Succeeded!",
    ]


def odoo_setup(rng, repo):
    version = rng.choice(["16.0", "17.0", "18.0"])
    lines = [
        "##[group]Run oca_install_addons",
        "oca_install_addons",
        "shell: sh -e {0}",
        "##[endgroup]",
        "+ pip install --no-cache-dir -r test-requirements.txt",
        f"Collecting odoo-addon-queue_job=={version}.*",
        "WARNING: Running pip as the 'root' user can result in broken permissions and conflicting behaviour with "
        "the system package manager.",
        f"Successfully installed odoo-addon-queue_job-{version}.2.7.1",
        "##[group]Run oca_init_test_database",
        "oca_init_test_database",
        "shell: sh -e {0}",
        "##[endgroup]",
    ]
    ts = (
        f"2024-0{rng.randint(1, 9)}-1{rng.randint(0, 9)} 0{rng.randint(1, 9)}:1{rng.randint(0, 9)}:0{rng.randint(0, 9)}"
    )
    pid = rng.randint(80, 500)
    lines += [
        f"{ts},{rng.randint(100, 999)} {pid} INFO ? odoo: Odoo version {version}",
        f"{ts},{rng.randint(100, 999)} {pid} INFO ? odoo: addons paths: "
        f"['/opt/odoo/odoo/addons', '/__w/{repo}/{repo}']",
        f"{ts},{rng.randint(100, 999)} {pid} INFO ? odoo: database: odoo@postgres:5432",
        f"{ts},{rng.randint(100, 999)} {pid} WARNING odoo odoo.modules.module: python-dependency: odoo-addon version "
        "mismatch ignored",
        f"{ts},{rng.randint(100, 999)} {pid} INFO odoo odoo.modules.loading: {rng.randint(20, 90)} modules loaded in "
        f"{rng.randint(2, 40)}.{rng.randint(10, 99)}s, {rng.randint(100, 9000)} queries",
    ]
    return lines


def install_step(rng, eco):
    if eco == "python":
        return [
            "##[group]Run python -m pip install --upgrade pip",
            "python -m pip install --upgrade pip",
            "pip install -r requirements-dev.txt",
            "shell: /usr/bin/bash -e {0}",
            "##[endgroup]",
            "Requirement already satisfied: pip in /opt/hostedtoolcache/Python/3.11.9/x64/lib/python3.11/site-packages",
            "Collecting pytest==8.2.0 (from -r requirements-dev.txt (line 3))",
            "  Downloading pytest-8.2.0-py3-none-any.whl.metadata (7.5 kB)",
            "Collecting pytest-error-for-skips==2.0.2 (from -r requirements-dev.txt (line 4))",
            "DEPRECATION: Loading egg at /opt/hostedtoolcache/Python/3.11.9/x64/lib/python3.11/site-packages/"
            "foo.egg is deprecated.",
            "Successfully installed iniconfig-2.0.0 pluggy-1.5.0 pytest-8.2.0 pytest-error-for-skips-2.0.2",
        ]
    if eco == "node":
        return [
            "##[group]Run npm ci",
            "npm ci",
            "shell: /usr/bin/bash -e {0}",
            "##[endgroup]",
            "npm WARN deprecated inflight@1.0.6: This module is not supported, and leaks memory. Do not use it.",
            "npm WARN deprecated glob@7.2.3: Glob versions prior to v9 are no longer supported",
            f"added {rng.randint(200, 1800)} packages, and audited {rng.randint(200, 1800)} packages in "
            f"{rng.randint(5, 60)}s",
            f"{rng.randint(50, 300)} packages are looking for funding",
            "  run `npm fund` for details",
            "found 0 vulnerabilities",
        ]
    if eco == "go":
        return [
            "##[group]Run go mod download",
            "go mod download",
            "shell: /usr/bin/bash -e {0}",
            "##[endgroup]",
            "go: downloading github.com/stretchr/testify v1.9.0",
            "go: downloading golang.org/x/sync v0.7.0",
        ]
    if eco == "java":
        return [
            "##[group]Run mvn -B -ntp dependency:resolve",
            "mvn -B -ntp dependency:resolve",
            "shell: /usr/bin/bash -e {0}",
            "##[endgroup]",
            "[INFO] Scanning for projects...",
            "Downloaded from central: https://repo.maven.apache.org/maven2/org/junit/junit-bom/5.10.2/junit-bom-5.10.2.pom"
            " (5.6 kB at 112 kB/s)",
            '[WARNING] The requested profile "ci" could not be activated because it does not exist.',
            "[INFO] BUILD SUCCESS",
        ]
    if eco == "generic":
        return [
            "##[group]Run sudo apt-get update && sudo apt-get install -y jq",
            "sudo apt-get update && sudo apt-get install -y jq",
            "shell: /usr/bin/bash -e {0}",
            "##[endgroup]",
            "Hit:1 http://azure.archive.ubuntu.com/ubuntu jammy InRelease",
            "Get:2 http://azure.archive.ubuntu.com/ubuntu jammy-updates InRelease [128 kB]",
            "Reading package lists...",
            "jq is already the newest version (1.6-2.1ubuntu3).",
            "0 upgraded, 0 newly installed, 0 to remove and 12 not upgraded.",
        ]
    return []


def passing_step(rng, eco):
    """A step that passed, with words that look like trouble but are not."""
    options = {
        "python": [
            [
                "##[group]Run ruff check .",
                "ruff check .",
                "shell: /usr/bin/bash -e {0}",
                "##[endgroup]",
                "All checks passed!",
            ],
            [
                "##[group]Run pytest tests/unit -q",
                "pytest tests/unit -q",
                "shell: /usr/bin/bash -e {0}",
                "##[endgroup]",
                "tests/unit/test_errors.py::test_error_message_is_translated PASSED",
                f"{rng.randint(20, 400)} passed, 0 failed in {rng.randint(1, 30)}.{rng.randint(10, 99)}s",
            ],
        ],
        "node": [
            [
                "##[group]Run npm run lint",
                "npm run lint",
                "shell: /usr/bin/bash -e {0}",
                "##[endgroup]",
                "> lint",
                "> eslint src",
                "",
                "✔ No problems found (0 errors, 0 warnings)",
            ]
        ],
        "go": [["##[group]Run go vet ./...", "go vet ./...", "shell: /usr/bin/bash -e {0}", "##[endgroup]"]],
        "java": [
            [
                "##[group]Run mvn -B -ntp spotless:check",
                "mvn -B -ntp spotless:check",
                "shell: /usr/bin/bash -e {0}",
                "##[endgroup]",
                "[INFO] Spotless.Java is keeping 212 files clean",
                "[INFO] BUILD SUCCESS",
            ]
        ],
    }
    choices = options.get(eco)
    return rng.choice(choices) if choices and rng.random() < 0.6 else []


def failing_header(cmd, eco, repo, rng):
    if cmd.startswith("Run "):
        title = cmd
        return [f"##[group]{title}", "with:", "  github-token: ***", "##[endgroup]"]
    shell = "sh -e {0}" if eco == "odoo" else "/usr/bin/bash -e {0}"
    lines = [f"##[group]Run {cmd}", cmd, f"shell: {shell}"]
    if eco == "python":
        lines += [
            "env:",
            "  pythonLocation: /opt/hostedtoolcache/Python/3.11.9/x64",
            "  LD_LIBRARY_PATH: /opt/hostedtoolcache/Python/3.11.9/x64/lib",
        ]
    elif eco == "odoo":
        lines += ["env:", "  PGHOST: postgres", "  PGUSER: odoo", "  PGPASSWORD: odoo", "  PGDATABASE: odoo"]
    elif rng.random() < 0.3:
        lines += ["env:", "  CI: true", "  FORCE_COLOR: 1"]
    lines.append("##[endgroup]")
    return lines


def post_steps(rng, repo, eco):
    lines = ["Post job cleanup."]
    if eco == "node" and rng.random() < 0.3:
        lines += ["Post job cleanup."]
    lines += [
        "[command]/usr/bin/git version",
        "git version 2.45.1",
        f"Temporarily overriding HOME='/home/runner/work/_temp/{sha(rng)[:8]}' before making global git config changes",
        "Adding repository directory to the temporary git global config as a safe directory",
        f"[command]/usr/bin/git config --global --add safe.directory /home/runner/work/{repo}/{repo}",
        "[command]/usr/bin/git config --local --name-only --get-regexp core\\.sshCommand",
        '[command]/usr/bin/git submodule foreach --recursive sh -c "git config --local --name-only --get-regexp '
        "'core\\.sshCommand' && git config --local --unset-all 'core.sshCommand' || :\"",
        "Cleaning up orphan processes",
    ]
    return lines


_COLOR = re.compile(r"\b(FAILED|FAIL|ERROR|Error|error|PASSED|passed|failed)\b")


def colorize(line):
    return _COLOR.sub(lambda m: f"\x1b[{31 if 'ass' not in m.group(1) else 32}m{m.group(1)}\x1b[0m", line)


def build_log(category, index, eco, cmd, body):
    seed = int(hashlib.sha256(f"{category}/{index}/{cmd}".encode()).hexdigest()[:12], 16)
    rng = random.Random(seed)
    repo = rng.choice(REPOS)
    branch = rng.choice(BRANCHES)
    lines = preamble(rng, repo)
    setup_job_failure = cmd in {"Set up job", "Workflow validation"}
    if setup_job_failure:
        lines += body
    else:
        lines += checkout(rng, repo, branch)
        runtime = {
            "python": setup_python,
            "node": setup_node,
            "go": setup_go,
            "java": setup_java,
            "docker": docker_setup,
        }.get(eco)
        if eco == "action" and "setup-python" in cmd:
            runtime = None
        if runtime:
            lines += runtime(rng)
        if eco == "odoo":
            lines += odoo_setup(rng, repo)
        elif eco != "action":
            lines += install_step(rng, eco)
            lines += passing_step(rng, eco)
        elif rng.random() < 0.5:
            lines += setup_python(rng) if rng.random() < 0.5 else setup_node(rng)
        lines += failing_header(cmd, eco, repo, rng)
        if rng.random() < 0.25:
            body = [colorize(line) for line in body]
        lines += body
        if not any(line.startswith("##[error]") for line in body):
            code = (
                137
                if "137" in "\n".join(body)
                else rng.choice([1, 1, 1, 2, 1, 127 if "not found" in "\n".join(body) else 1])
            )
            lines.append(f"##[error]Process completed with exit code {code}.")
        lines += post_steps(rng, repo, eco)
    start = dt.datetime(2024, 1, 1) + dt.timedelta(seconds=rng.randint(0, 300 * 86400))
    style = rng.random()
    out = []
    now = start
    for line in lines:
        now += dt.timedelta(microseconds=rng.randint(100, 400000))
        if style < 0.1:
            out.append(line)
        else:
            out.append(now.strftime("%Y-%m-%dT%H:%M:%S.%f") + f"{rng.randint(0, 9)}Z {line}")
    newline = "\r\n" if 0.1 <= style < 0.17 else "\n"
    return newline.join(out) + newline


def slug(text):
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "step"


def main():
    if OUT.exists():
        shutil.rmtree(OUT)
    total = 0
    for path in sorted(BODIES.glob("*.txt")):
        category = path.stem
        target = OUT / category
        target.mkdir(parents=True)
        for index, (eco, cmd, body) in enumerate(blocks(path), 1):
            name = f"{index:02d}-{eco}-{slug(cmd)}.log"
            (target / name).write_bytes(build_log(category, index, eco, cmd, body).encode("utf-8"))
            total += 1
    sys.stdout.write(f"wrote {total} logs under {OUT.relative_to(ROOT)}\n")


if __name__ == "__main__":
    main()
