"""Dead code in a repository's default branch, as one cleanup issue per scan.

Decides which definitions look unused: the default branch's tarball is
downloaded through the GitHub API (size-capped) and read with the safe rules
of :mod:`..github.archives`, then vulture (its Python API) scans every Python
file, in batches so a large repository reports progress.

Odoo calls much of an addon's code by name, so the scan leaves out, to keep
false positives down:

- files that are not product code (tests, migrations, manifests, setup):
  they are scanned, so what they use counts as used, but never reported;
- methods and attributes the framework calls by convention (``_compute_*``,
  ``_inverse_*``, ``_search_*``, ``_onchange_*``, ``_check_*``,
  ``_default_*``, ``action_*``, ``_cron*``, model attributes such as
  ``_name`` / ``_inherit`` / ``_order``, ORM overrides such as ``create``);
- anything decorated with ``@api.*`` or ``@http.route``;
- fields (``x = fields.Char(...)``): views and domains use them by name;
- overrides (a method calling ``super().same_name(...)``): the framework or
  another module calls them;
- names that XML data or JavaScript mention (buttons, cron code, RPC calls).

Findings carry a GitHub blob link (``/blob/{sha}/{path}#L{line}``) and
:func:`build_issue` turns one scan into one issue body.

A large repository (Odoo's own addons take minutes) is scanned in steps that
fit a cron call: :func:`analyse_step` scans Python files until a deadline
and returns a JSON-safe state (vulture's definitions and used names so
far); the next call goes on from it, at the same commit, and
:func:`finish_analysis` decides once every file was read. Vulture decides
"unused" from the definitions and names of all files together, so the
steps give exactly the findings of one pass.
"""

import ast
import fnmatch
import re
import time
from dataclasses import dataclass

from vulture import Vulture
from vulture.core import Item

from ..github import rest_api
from ..github.archives import MAX_ARCHIVE_BYTES, download_tarball, read_tarball
from ..github.rest_api import github_call, paginate

MARKER = "<!-- ops-autopilot:dead-code -->"
MAX_ISSUE_CHARS = 60_000
DEFAULT_MIN_CONFIDENCE = 60
DEFAULT_BATCH_SIZE = 200
READ_SUFFIXES = (".py", ".xml", ".js")

#: not product code: scanned for usages, never reported
DEFAULT_EXCLUDES = (
    "tests/*",
    "*/tests/*",
    "test_*.py",
    "*/test_*.py",
    "*_test.py",
    "conftest.py",
    "*/conftest.py",
    "migrations/*",
    "*/migrations/*",
    "upgrades/*",
    "*/upgrades/*",
    "__manifest__.py",
    "*/__manifest__.py",
    "__openerp__.py",
    "*/__openerp__.py",
    "setup.py",
    "setup/*",
    "*/setup/*",
    "doc/*",
    "docs/*",
)

#: names Odoo calls by convention (fnmatch patterns)
ODOO_IGNORE_NAMES = (
    "_compute_*",
    "_inverse_*",
    "_search_*",
    "_onchange_*",
    "_check_*",
    "_default_*",
    "_selection_*",
    "action_*",
    "_action_*",
    "_cron*",
    "cron_*",
    "_name",
    "_inherit",
    "_inherits",
    "_description",
    "_order",
    "_rec_name",
    "_rec_names_search",
    "_sql_constraints",
    "_auto",
    "_table",
    "_log_access",
    "_parent_name",
    "_parent_store",
    "_check_company_auto",
    "_fold_name",
    "_abstract",
    "_transient",
    "_register",
    "_mail_post_access",
    "_primary_email",
    "_translate",
    "_allow_sudo_commands",
    "_active_name",
    "create",
    "write",
    "unlink",
    "copy",
    "copy_data",
    "default_get",
    "name_get",
    "name_search",
    "_name_search",
    "init",
    "_auto_init",
    "_register_hook",
    "_get_report_values",
    "pre_init_hook",
    "post_init_hook",
    "uninstall_hook",
    "post_load",
    "migrate",
)
ODOO_IGNORE_DECORATORS = ("@api.*", "@http.route", "@route", "@odoo.http.route", "@tools.ormcache*", "@ormcache*")

_XML_NAME_RE = re.compile(r"""\bname\s*=\s*["']([A-Za-z_]\w*)["']""")
_CODE_CALL_RE = re.compile(r"\b(?:model|records?|object|env\[[^\]]+\])\.([A-Za-z_]\w*)\s*\(")
_JS_RPC_RE = re.compile(
    r"""(?:orm\.call|rpc)\s*\(\s*["'][\w.]+["']\s*,\s*["']([A-Za-z_]\w*)["']|method\s*:\s*["']([A-Za-z_]\w*)["']"""
)


@dataclass(frozen=True)
class DeadCodeFinding:
    path: str
    line: int
    kind: str
    name: str
    confidence: int
    message: str
    url: str = ""


@dataclass(frozen=True)
class DeadCodeScan:
    full_name: str
    sha: str
    findings: tuple
    scanned_files: int
    #: ``(path, reason)``: unreadable, unparsable or left out by the archive caps
    skipped: tuple = ()
    min_confidence: int = DEFAULT_MIN_CONFIDENCE

    @property
    def complete(self):
        return not any(reason in ("file limit", "size limit") for _path, reason in self.skipped)


def is_excluded(path, patterns=DEFAULT_EXCLUDES):
    return any(fnmatch.fnmatchcase(path, pattern) for pattern in patterns)


def _framework_names(tree, ignore_names=ODOO_IGNORE_NAMES, ignore_decorators=ODOO_IGNORE_DECORATORS):
    """Names the framework uses, and the arguments of the methods it calls.

    Returns ``(names, arguments)``: models and controllers, fields
    (``x = fields.X(...)``) and overrides (methods calling ``super().<name>``);
    and ``(line, name)`` of the parameters of framework-called methods, whose
    signature the framework dictates (``_search_x(self, operator, value)``).
    """
    names, arguments = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            if _is_registered_class(node):
                names.add(node.name)
            for statement in node.body:
                if isinstance(statement, ast.Assign) and _is_field_call(statement.value):
                    names.update(t.id for t in statement.targets if isinstance(t, ast.Name))
                elif (
                    isinstance(statement, ast.AnnAssign)
                    and _is_field_call(statement.value)
                    and isinstance(statement.target, ast.Name)
                ):
                    names.add(statement.target.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            override = _calls_super(node)
            if override:
                names.add(node.name)
            if override or _framework_called(node, ignore_names, ignore_decorators):
                params = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
                params += [a for a in (node.args.vararg, node.args.kwarg) if a]
                arguments.update((arg.lineno, arg.arg) for arg in params)
    return names, arguments


def _framework_called(function, ignore_names, ignore_decorators):
    if any(fnmatch.fnmatchcase(function.name, pattern) for pattern in ignore_names):
        return True
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        text = "@" + ast.unparse(target)
        if any(fnmatch.fnmatchcase(text, pattern) for pattern in ignore_decorators):
            return True
    return False


def _is_registered_class(node):
    """Odoo registers models and controllers by metaclass: nothing names the class itself."""
    for base in node.bases:
        name = base.attr if isinstance(base, ast.Attribute) else base.id if isinstance(base, ast.Name) else ""
        if name in ("Model", "TransientModel", "AbstractModel", "Controller"):
            return True
    return any(
        isinstance(statement, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id in ("_name", "_inherit") for t in statement.targets)
        for statement in node.body
    )


def _is_field_call(value):
    if not isinstance(value, ast.Call):
        return False
    func = value.func
    return isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "fields"


def _calls_super(function):
    for node in ast.walk(function):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == function.name
            and isinstance(node.func.value, ast.Call)
            and isinstance(node.func.value.func, ast.Name)
            and node.func.value.func.id == "super"
        ):
            return True
    return False


def referenced_names(path, text):
    """Identifiers XML data and JavaScript use by name (buttons, cron code, RPC method names)."""
    if path.endswith(".xml"):
        return set(_XML_NAME_RE.findall(text)) | set(_CODE_CALL_RE.findall(text))
    if path.endswith(".js"):
        return {a or b for a, b in _JS_RPC_RE.findall(text)}
    return set()


#: vulture's lists of definitions (and unreachable code), kept between steps
_DEFINED = (
    "defined_attrs",
    "defined_classes",
    "defined_funcs",
    "defined_imports",
    "defined_methods",
    "defined_props",
    "defined_vars",
    "unreachable_code",
)


def analyse_step(
    sources,
    state=None,
    deadline=None,
    clock=time.monotonic,
    ignore_names=ODOO_IGNORE_NAMES,
    ignore_decorators=ODOO_IGNORE_DECORATORS,
    batch_size=DEFAULT_BATCH_SIZE,
    progress=None,
):
    """Scan the next Python files of ``sources`` (path → bytes/str, in path order); returns the new state.

    Stops after the first file that ends past ``deadline`` (a ``clock()``
    value; None: scan everything), so at least one file is read. The state is a
    JSON-safe dict: ``next`` / ``total`` Python files, and what
    :func:`finish_analysis` needs. ``progress(done, total)`` is called after
    each batch.
    """
    python = sorted(p for p in sources if p.endswith(".py"))
    if state is None:
        keep = set()
        for path, raw in sources.items():
            if path.endswith((".xml", ".js")):
                text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
                keep |= referenced_names(path, text)
        state = {"next": 0, "scanned": 0, "keep": sorted(keep), "arguments": [], "skipped": [], "used": []}
        state.update({key: [] for key in _DEFINED})
    state = {**state, "total": len(python)}
    vulture = Vulture(ignore_names=list(ignore_names), ignore_decorators=list(ignore_decorators))
    keep, arguments, skipped = set(), [], []
    index, total, batch_size = state["next"], len(python), max(1, batch_size)
    while index < total:
        path = python[index]
        index += 1
        raw = sources[path]
        try:
            text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
            tree = ast.parse(text, filename=path)
        except (UnicodeDecodeError, SyntaxError, ValueError):
            skipped.append([path, "not parsable Python"])
            tree = None
        if tree is not None:
            names, params = _framework_names(tree, ignore_names, ignore_decorators)
            keep |= names
            arguments += [[path, line, name] for line, name in params]
            vulture.scan(text, filename=path)
            state["scanned"] += 1
        stop = deadline is not None and clock() >= deadline
        if progress and (stop or index % batch_size == 0 or index == total):
            progress(index, total)
        if stop:
            break
    state["next"] = index
    keep |= set(state["keep"])
    used = set(state["used"]) | set(vulture.used_names)
    state["keep"], state["used"] = sorted(keep), sorted(used)
    state["skipped"] = state["skipped"] + skipped
    for key in _DEFINED:
        rows = [
            [i.name, i.typ, str(i.filename), i.first_lineno, i.last_lineno, i.message, i.confidence]
            for i in getattr(vulture, key)
        ]
        rows = state[key] + rows
        if key != "unreachable_code":
            # a used or kept name stays so (both sets only grow): only what may be reported is carried on
            rows = [row for row in rows if row[0] not in used and row[0] not in keep]
        state[key] = rows
    variables = {(row[2], row[3], row[0]) for row in state["defined_vars"]}
    state["arguments"] = [row for row in state["arguments"] + arguments if tuple(row) in variables]
    return state


def finish_analysis(state, min_confidence=DEFAULT_MIN_CONFIDENCE, exclude=DEFAULT_EXCLUDES):
    """``(findings, scanned, skipped)`` once :func:`analyse_step` has read every file."""
    if state["next"] < state["total"]:
        raise ValueError("the analysis has files left to scan")
    vulture = Vulture()
    for key in _DEFINED:
        getattr(vulture, key).extend(Item(*row) for row in state[key])
    vulture.used_names.update(state["used"])
    keep = set(state["keep"])
    arguments = {tuple(row) for row in state["arguments"]}
    findings = []
    for item in vulture.get_unused_code(min_confidence=min_confidence):
        path = str(item.filename)
        if is_excluded(path, exclude) or item.name in keep:
            continue
        if item.typ == "variable" and (path, item.first_lineno, item.name) in arguments:
            continue
        findings.append(DeadCodeFinding(path, item.first_lineno, item.typ, item.name, item.confidence, item.message))
    return findings, state["scanned"], [tuple(row) for row in state["skipped"]]


def analyse_sources(
    sources,
    min_confidence=DEFAULT_MIN_CONFIDENCE,
    exclude=DEFAULT_EXCLUDES,
    ignore_names=ODOO_IGNORE_NAMES,
    ignore_decorators=ODOO_IGNORE_DECORATORS,
    batch_size=DEFAULT_BATCH_SIZE,
    progress=None,
):
    """Run vulture over ``sources`` (path → bytes/str) in one go; returns ``(findings, scanned, skipped)``.

    ``progress(done, total)`` is called after each batch of Python files.
    """
    state = analyse_step(
        sources,
        ignore_names=ignore_names,
        ignore_decorators=ignore_decorators,
        batch_size=batch_size,
        progress=progress,
    )
    return finish_analysis(state, min_confidence, exclude)


def blob_url(html_base, full_name, sha, path, line):
    return f"{html_base.rstrip('/')}/{full_name}/blob/{sha}/{path}#L{line}"


def scan_repository(
    client,
    full_name,
    api_url=None,
    ref=None,
    min_confidence=DEFAULT_MIN_CONFIDENCE,
    max_archive_bytes=MAX_ARCHIVE_BYTES,
    progress=None,
    **limits,
):
    """Download the default branch (or ``ref``) and scan it; findings link to that exact commit."""
    _state, scan = scan_repository_step(
        client,
        full_name,
        {"sha": ref} if ref else None,
        api_url,
        min_confidence,
        max_archive_bytes,
        progress=progress,
        **limits,
    )
    return scan


def scan_repository_step(
    client,
    full_name,
    state=None,
    api_url=None,
    min_confidence=DEFAULT_MIN_CONFIDENCE,
    max_archive_bytes=MAX_ARCHIVE_BYTES,
    deadline=None,
    progress=None,
    **limits,
):
    """One step of a scan that may take several calls: ``(state, DeadCodeScan or None)``.

    The first step pins the default branch head (``state["sha"]``); later
    steps download that same commit again and go on where the state says.
    The scan is returned once every Python file was read (None before).
    """
    state = dict(state or {})
    sha = state.get("sha")
    if not sha:
        repo = github_call("GitHub", client.get_repo, full_name)
        sha = github_call("GitHub", repo.get_branch, repo.default_branch).commit.sha
    data = download_tarball(client, full_name, sha, max_archive_bytes)
    archive = read_tarball(data, include=lambda path: path.endswith(READ_SUFFIXES), **limits)
    analysis = state.get("analysis")
    analysis = analyse_step(archive.files, analysis, deadline, progress=progress)
    state = {"sha": sha, "analysis": analysis}
    if analysis["next"] < analysis["total"]:
        return state, None
    findings, scanned, skipped = finish_analysis(analysis, min_confidence)
    base = rest_api.html_base(api_url or client.requester.base_url)
    linked = tuple(
        DeadCodeFinding(
            f.path, f.line, f.kind, f.name, f.confidence, f.message, blob_url(base, full_name, sha, f.path, f.line)
        )
        for f in findings
    )
    scan = DeadCodeScan(full_name, sha, linked, scanned, tuple(archive.skipped) + tuple(skipped), min_confidence)
    return state, scan


# --------------------------------------------------------------------------
# the cleanup issue
# --------------------------------------------------------------------------


def build_issue(scan, max_chars=MAX_ISSUE_CHARS):
    """``(title, body)`` of the one cleanup issue for this scan (None when nothing was found)."""
    if not scan.findings:
        return None
    files = {}
    for finding in scan.findings:
        files.setdefault(finding.path, []).append(finding)
    title = f"Dead code cleanup: {len(scan.findings)} unused items in {len(files)} files"
    head = [
        MARKER,
        f"<!-- ops-autopilot:sha:{scan.sha} -->",
        f"Vulture found **{len(scan.findings)}** possibly unused items in `{scan.full_name}` "
        f"at `{scan.sha[:12]}` (minimum confidence {scan.min_confidence}%, {scan.scanned_files} Python files).",
        "",
        "Odoo hooks are left out (computes, inverses, searches, onchanges, constraints, defaults, actions, "
        "crons, fields, `@api.*` methods, routes, overrides and names used in XML or JavaScript), and so are "
        "tests, migrations and manifests. Check each item before deleting it: code may still be called "
        "dynamically.",
    ]
    if not scan.complete:
        head += ["", "> The repository exceeded the scan limits: this list covers part of it."]
    lines, shown = list(head), 0
    for path in sorted(files):
        block = ["", f"### `{path}`", ""]
        block += [
            f"- [ ] [L{f.line}]({f.url}) {f.message} ({f.confidence}% confidence)"
            if f.url
            else f"- [ ] L{f.line} {f.message} ({f.confidence}% confidence)"
            for f in sorted(files[path], key=lambda f: f.line)
        ]
        if len("\n".join(lines + block)) > max_chars - 200:
            break
        lines += block
        shown += len(files[path])
    if shown < len(scan.findings):
        lines += ["", f"_{len(scan.findings) - shown} more items are not listed (issue size limit)._"]
    return title, "\n".join(lines)


@dataclass(frozen=True)
class IssueResult:
    number: int
    url: str
    created: bool
    commented: bool


def publish_issue(client, full_name, title, body, label="dead-code"):
    """Open the cleanup issue, or comment on the open one; nothing new when this commit was already reported."""
    repo = github_call("GitHub", client.get_repo, full_name)
    path = f"/repos/{full_name}/issues"
    issues = github_call("GitHub", lambda: list(paginate(client, path, {"state": "open", "labels": label})))
    existing = next((i for i in issues if "pull_request" not in i and MARKER in str(i.get("body") or "")), None)
    if existing is None:
        issue = github_call("GitHub", repo.create_issue, title=title, body=body, labels=[label])
        return IssueResult(issue.number, issue.html_url, True, False)
    sha_marker = next((line for line in body.splitlines() if line.startswith("<!-- ops-autopilot:sha:")), None)
    number = int(existing["number"])
    comments_path = f"{path}/{number}/comments"
    comments = github_call("GitHub", lambda: list(paginate(client, comments_path)))
    texts = [str(existing.get("body") or "")] + [str(c.get("body") or "") for c in comments]
    if sha_marker and any(sha_marker in text for text in texts):
        return IssueResult(number, str(existing.get("html_url") or ""), False, False)
    issue = github_call("GitHub", repo.get_issue, number)
    github_call("GitHub", issue.create_comment, body)
    return IssueResult(number, issue.html_url, False, True)
