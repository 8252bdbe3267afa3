"""Change router: which kinds of files a push or pull request touches, what to run, how big it is.

Decides three things about a change:

* the *categories* of its files, from a routing table of glob patterns
  (:data:`SEED_ROUTES`: OCA modules, custom addons, Docker, infrastructure,
  documentation, workflows, scripts, Python, JavaScript, database); a file
  belongs to every category whose patterns match it (``addons/x/models/a.py``
  is an OCA module *and* Python), a file no route knows is ``other``;
* the *workflows* to run: the target workflows of those categories, each once,
  in routing-table order;
* its *complexity*: ``low`` (≤ 3 files and ≤ 50 changed lines), ``medium``
  (≤ 10 files and ≤ 300 lines), ``high`` otherwise.

Glob patterns (one route has several, comma or newline separated):

* ``name/`` — a directory called ``name`` at any depth (``migrations/``);
* a pattern with another ``/`` is anchored at the repository root
  (``addons/**``, ``.github/workflows/*.yml``); ``**`` spans directories,
  ``*`` and ``?`` stay within one, ``[...]`` is a character class;
* a pattern without ``/`` matches the file name at any depth
  (``*.py``, ``Dockerfile*``).

Inputs are the ``push`` and ``pull_request`` webhook payloads (push commits
list file names only: their line counts are unknown), or a list of
``{"filename", "additions", "deletions"}`` such as GitHub's "list pull
request files" answer.
"""

import re
from dataclasses import dataclass, field
from functools import lru_cache

from ..common.workflows import split_patterns  # noqa: F401 (the router's API: ops.route.rule uses it)

CATEGORY_OTHER = "other"
LOW_FILES, LOW_LINES = 3, 50
MEDIUM_FILES, MEDIUM_LINES = 10, 300
MAX_PATTERN_LENGTH = 500
MAX_FILES = 10_000
#: status of the old path of a renamed file: routed (a moved migration still matters), not counted as a file
RENAMED_FROM = "renamed_from"


@dataclass(frozen=True)
class Route:
    """One line of the routing table: glob ``patterns`` → ``category`` → ``workflow`` (may be empty)."""

    category: str
    patterns: tuple
    workflow: str = ""
    label: str = ""

    def __post_init__(self):
        if not self.category or not re.fullmatch(r"[a-z][a-z0-9_]*", self.category):
            raise ValueError(f"a route category is a lower-case identifier, not {self.category!r}")
        if not self.patterns:
            raise ValueError(f"route {self.category!r} has no pattern")
        for pattern in self.patterns:
            glob_error(pattern, raise_=True)


@dataclass(frozen=True)
class ChangedFile:
    """A changed file; ``additions``/``deletions`` are None when unknown (push payloads)."""

    filename: str
    additions: int | None = None
    deletions: int | None = None
    status: str = ""

    @property
    def changes(self):
        return (self.additions or 0) + (self.deletions or 0)


@dataclass(frozen=True)
class Decision:
    """Where a change goes. ``files`` maps each file name to its categories."""

    categories: list
    workflows: list
    complexity: str
    file_count: int
    changed_lines: int
    lines_known: bool
    files: dict = field(default_factory=dict)
    category_counts: dict = field(default_factory=dict)

    def summary(self):
        """What the command line prints: categories, workflows and complexity."""
        return {"categories": list(self.categories), "workflows": list(self.workflows), "complexity": self.complexity}

    def to_dict(self):
        return {
            **self.summary(),
            "file_count": self.file_count,
            "changed_lines": self.changed_lines,
            "lines_known": self.lines_known,
            "category_counts": dict(self.category_counts),
            "files": {name: list(cats) for name, cats in self.files.items()},
        }


# ---------------------------------------------------------------------------
# globs


def _translate(pattern):
    """Regex source for the path part of a glob (no anchoring decided here)."""
    out, i, n = [], 0, len(pattern)
    while i < n:
        char = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:[^/]*/)*")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif char == "*":
            out.append("[^/]*")
            i += 1
        elif char == "?":
            out.append("[^/]")
            i += 1
        elif char == "[":
            end = pattern.find("]", i + 2)
            if end == -1:
                out.append(re.escape(char))
                i += 1
                continue
            body = pattern[i + 1 : end]
            negate = body.startswith("!")
            body = body[1:] if negate else body
            body = body.replace("\\", "\\\\").replace("^", "\\^")
            out.append(f"[{'^' if negate else ''}{body}]")
            i = end + 1
        else:
            out.append(re.escape(char))
            i += 1
    return "".join(out)


@lru_cache(maxsize=2048)
def compile_glob(pattern):
    """A compiled regex matching a whole repository-relative path (see the module docstring)."""
    pattern = pattern.strip()
    if pattern.startswith("./"):
        pattern = pattern[2:]
    if pattern.endswith("/") and "/" not in pattern[:-1].lstrip("/"):
        anchored = pattern.startswith("/")
        name = _translate(pattern.strip("/"))
        prefix = "" if anchored else "(?:[^/]*/)*"
        return re.compile(f"^{prefix}{name}/.*$")
    if "/" in pattern.rstrip("/"):
        body = pattern.lstrip("/")
        if body.endswith("/"):
            body += "**"
        return re.compile(f"^{_translate(body)}$")
    return re.compile(f"^(?:[^/]*/)*{_translate(pattern)}$")


def glob_error(pattern, raise_=False):
    """Why ``pattern`` cannot be a route glob, or None."""
    reason = None
    if not isinstance(pattern, str) or not pattern.strip():
        reason = "a glob pattern cannot be empty"
    elif len(pattern) > MAX_PATTERN_LENGTH:
        reason = f"a glob pattern is at most {MAX_PATTERN_LENGTH} characters"
    else:
        try:
            compile_glob(pattern)
        except re.error as exc:
            reason = f"the glob {pattern!r} is invalid: {exc}"
    if reason and raise_:
        raise ValueError(reason)
    return reason


def glob_match(pattern, path):
    return bool(compile_glob(pattern).match(path.lstrip("/")))


#: The seed routing table (the Odoo model ``ops.route.rule`` starts as a copy of it).
SEED_ROUTES = (
    Route("workflows", (".github/workflows/**",), "workflow-lint.yml", "GitHub Actions workflows"),
    Route("oca_modules", ("addons/**",), "oca-tests.yml", "OCA modules"),
    Route("custom_addons", ("custom_addons/**",), "odoo-tests.yml", "Custom addons"),
    Route("docker", ("Dockerfile*", "docker-compose*", "*.dockerfile", ".dockerignore"), "docker-build.yml", "Docker"),
    Route("infrastructure", ("terraform/**", "infra/**", "*.tf", "*.tfvars"), "infra-plan.yml", "Infrastructure"),
    Route("database", ("*.sql", "migrations/"), "migration-dry-run.yml", "Database"),
    Route("scripts", ("scripts/**",), "scripts-check.yml", "Scripts"),
    Route("python", ("*.py",), "python-tests.yml", "Python"),
    Route("javascript", ("*.js", "*.jsx", "*.ts", "*.tsx"), "js-tests.yml", "JavaScript"),
    Route("documentation", ("docs/**", "*.md", "*.rst"), "docs.yml", "Documentation"),
)


# ---------------------------------------------------------------------------
# inputs


def _count(value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def files_from_list(items):
    """ChangedFiles from ``[{"filename", "additions", "deletions", "status"?}, ...]`` (or plain names)."""
    files = []
    for index, raw in enumerate(items):
        item = {"filename": raw} if isinstance(raw, str) else raw
        if not isinstance(item, dict):
            raise ValueError(f"file {index} is not an object")
        name = item.get("filename")
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"file {index} has no filename")
        files.append(
            ChangedFile(
                name.strip(),
                _count(item.get("additions")),
                _count(item.get("deletions")),
                str(item.get("status") or ""),
            )
        )
        if item.get("previous_filename") and isinstance(item["previous_filename"], str):
            # a rename touches the old path too (a moved migration still matters)
            files.append(ChangedFile(item["previous_filename"].strip(), 0, 0, RENAMED_FROM))
    return files[:MAX_FILES]


def files_from_push(payload):
    """Files a ``push`` payload's commits touched (line counts unknown), net of add-then-remove."""
    status = {}
    for commit in payload.get("commits") or ():
        if not isinstance(commit, dict):
            continue
        for name in commit.get("added") or ():
            status[name] = "added"
        for name in commit.get("modified") or ():
            status[name] = "added" if status.get(name) == "added" else "modified"
        for name in commit.get("removed") or ():
            if status.get(name) == "added":
                del status[name]
            else:
                status[name] = "removed"
    return [ChangedFile(name, None, None, state) for name, state in sorted(status.items()) if isinstance(name, str)]


def files_from_input(data):
    """``(kind, files, totals)`` for a push payload, a pull_request payload or a list of files.

    A ``pull_request`` payload names no files, only totals
    (``changed_files``, ``additions``, ``deletions``): ``files`` is empty and
    ``totals`` carries them so complexity can still be judged.
    """
    if isinstance(data, list):
        return "files", files_from_list(data), None
    if not isinstance(data, dict):
        raise ValueError("expected a push or pull_request payload, or a JSON list of files")
    if "pull_request" in data and isinstance(data["pull_request"], dict):
        pr = data["pull_request"]
        totals = (
            _count(pr.get("changed_files")) or 0,
            (_count(pr.get("additions")) or 0) + (_count(pr.get("deletions")) or 0),
        )
        files = files_from_list(data["files"]) if isinstance(data.get("files"), list) else []
        return "pull_request", files, None if files else totals
    if "commits" in data and "ref" in data:
        return "push", files_from_push(data), None
    if isinstance(data.get("files"), list):
        return "files", files_from_list(data["files"]), None
    raise ValueError("expected a push or pull_request payload, or a JSON list of files")


# ---------------------------------------------------------------------------
# decisions


def complexity(file_count, changed_lines):
    """``low`` ≤ 3 files and ≤ 50 lines, ``medium`` ≤ 10 files and ≤ 300 lines, ``high`` otherwise."""
    if file_count <= LOW_FILES and changed_lines <= LOW_LINES:
        return "low"
    if file_count <= MEDIUM_FILES and changed_lines <= MEDIUM_LINES:
        return "medium"
    return "high"


def categorize(filename, routes=SEED_ROUTES):
    """The categories of one file (route order), ``["other"]`` when no route matches."""
    path = filename.lstrip("/")
    found = []
    for route in routes:
        if route.category not in found and any(glob_match(p, path) for p in route.patterns):
            found.append(route.category)
    return found or [CATEGORY_OTHER]


def route_files(files, routes=SEED_ROUTES, totals=None):
    """Decide categories, workflows and complexity for changed files.

    ``totals`` = ``(file_count, changed_lines)`` overrides the counts when the
    files themselves are not known (a pull_request payload alone).
    """
    routes = tuple(routes)
    per_file = {}
    counts = {}
    for changed in files:
        cats = categorize(changed.filename, routes)
        per_file[changed.filename] = cats
        for cat in cats:
            counts[cat] = counts.get(cat, 0) + 1
    order = {route.category: index for index, route in enumerate(routes)}
    categories = sorted(counts, key=lambda c: (order.get(c, len(order)), c))
    workflows = []
    for route in routes:
        if route.category in counts and route.workflow and route.workflow not in workflows:
            workflows.append(route.workflow)
    lines_known = bool(files) and all(f.additions is not None and f.deletions is not None for f in files)
    # a rename is one changed file (as GitHub counts it), although both its paths are routed
    file_count = len({f.filename for f in files if f.status != RENAMED_FROM})
    lines = sum(f.changes for f in files)
    if totals is not None:
        file_count, lines = totals
        lines_known = True
    return Decision(
        categories=categories,
        workflows=workflows,
        complexity=complexity(file_count, lines),
        file_count=file_count,
        changed_lines=lines,
        lines_known=lines_known,
        files=per_file,
        category_counts=counts,
    )


def route(data, routes=SEED_ROUTES):
    """Decide for a push payload, a pull_request payload or a list of files (see :func:`files_from_input`)."""
    _kind, files, totals = files_from_input(data)
    return route_files(files, routes, totals)
