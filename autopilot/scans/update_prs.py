"""Grouped dependency-update pull requests: edit the manifests, open a draft PR.

Two halves. The pure half rewrites manifest text: the version of a named
dependency changes, every other byte (spacing, comments, markers, key order,
indentation) stays as it was. It rewrites exact pins, ``~=``, npm/Poetry
``^``/``~`` ranges; it refuses (reported in ``problems``) hash-pinned
requirement lines, whose hashes would go stale, and compound ranges a human
should decide on.

The GitHub half (:func:`open_update_pr`) works through PyGithub: it creates
the group's branch from the default branch head when absent, commits each
edited file to that branch, and opens a **draft** pull request unless one is
already open for the branch. Running it twice changes nothing the second
time; it never writes to the default branch. Each body carries the group's
fingerprint in a hidden marker, so :func:`declined_updates` can tell a
proposal a person closed without merging from a new one.
"""

import re
from dataclasses import dataclass

from github import GithubException
from packaging.requirements import InvalidRequirement, Requirement
from requests import RequestException

from ..github import rest_api
from ..github.rest_api import from_github, github_call
from . import dependencies
from .dependencies import NPM, PYPI
from .package_index import BRANCH_PREFIX

MARKER = "<!-- ops-autopilot:dependency-update -->"
SET_MARKER = "<!-- ops-autopilot:update-set:{} -->"


class EditError(ValueError):
    """A version constraint this module will not rewrite automatically."""


@dataclass(frozen=True)
class EditResult:
    text: str
    #: normalised names whose declaration was rewritten (or already at the new version)
    applied: tuple = ()
    #: ``(name, reason)`` for declarations left alone
    problems: tuple = ()


# --------------------------------------------------------------------------
# spec rewriting
# --------------------------------------------------------------------------


def _same_precision(old, new):
    """``new`` cut or padded to as many release components as ``old`` has (``~=1.4`` + 2.1.3 → 2.1)."""
    count = len(old.split("."))
    parts = re.match(r"^\d+(?:\.\d+)*", new).group(0).split(".")
    parts = (parts + ["0"] * count)[:count]
    return ".".join(parts)


def new_spec(ecosystem, spec, version):
    """``spec`` rewritten to admit ``version`` in the same style (spacing kept), or :class:`EditError`."""
    spec = spec.strip()
    if ecosystem == NPM:
        match = re.match(r"^(=|v|\^|~|)(\s*)(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)$", spec)
        if not match:
            raise EditError(f"npm range {spec!r} is not an exact, ^ or ~ version")
        return f"{match.group(1)}{match.group(2)}{version}"
    if ecosystem != PYPI:
        raise EditError(f"unknown ecosystem {ecosystem!r}")
    match = re.match(r"^(===|==)(\s*)([\w.!+-]+)$", spec)
    if match:
        return f"{match.group(1)}{match.group(2)}{version}"
    match = re.match(r"^(~=|\^|~)(\s*)(\d+(?:\.\d+)*)$", spec)
    if match:
        return f"{match.group(1)}{match.group(2)}{_same_precision(match.group(3), version)}"
    if re.match(r"^\d+(?:\.\d+)*$", spec):
        return version
    raise EditError(f"constraint {spec!r} is a range: update it by hand")


# --------------------------------------------------------------------------
# requirements*.txt
# --------------------------------------------------------------------------

_REQ_LINE_RE = re.compile(
    r"^(?P<lead>\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*)"
    r"(?P<spec>[^;#\s@][^;#]*?)?(?P<tail>\s*(?:;.*|\s#.*|\s--.*|\\)?)$"
)


def edit_requirements(text, changes):
    """Set the versions of ``changes`` (normalised name → version) in a requirements file."""
    lines = text.splitlines(keepends=True)
    applied, problems = [], []
    continued = False
    for index, raw in enumerate(lines):
        body = raw.rstrip("\r\n")
        starts_here = not continued
        continued = body.rstrip().endswith("\\")
        if not starts_here or body.lstrip().startswith(("#", "-")):
            continue
        match = _REQ_LINE_RE.match(body)
        if not match:
            continue
        name = dependencies.normalise_name(PYPI, match.group("name"))
        if name not in changes:
            continue
        if "--hash" in _logical_from(lines, index):
            problems.append((name, "hash-pinned requirement: regenerate the file with its hashes"))
            continue
        written = (match.group("spec") or "").rstrip()
        try:
            replacement = new_spec(PYPI, written, changes[name])
        except EditError as exc:
            problems.append((name, str(exc)))
            continue
        start = match.start("spec")
        lines[index] = body[:start] + replacement + body[start + len(written) :] + raw[len(body) :]
        applied.append(name)
    return EditResult("".join(lines), tuple(applied), tuple(problems))


def _logical_from(lines, index):
    """The physical line at ``index`` with its backslash continuations."""
    parts = []
    for raw in lines[index:]:
        parts.append(raw)
        if not raw.rstrip().endswith("\\"):
            break
    return "".join(parts)


# --------------------------------------------------------------------------
# package.json
# --------------------------------------------------------------------------


def _object_span(text, key):
    """``(start, end)`` of the JSON object value of top-level-ish ``"key": {...}``, or None."""
    match = re.search(rf'"{re.escape(key)}"\s*:\s*\{{', text)
    if not match:
        return None
    depth, index, in_string = 0, match.end() - 1, False
    while index < len(text):
        char = text[index]
        if in_string:
            if char == "\\":
                index += 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return match.end(), index
        index += 1
    return None


def edit_package_json(text, changes):
    """Set the ranges of ``changes`` (name → version) in ``dependencies``/``devDependencies``."""
    applied, problems = [], []
    for section in dependencies.NPM_SECTIONS:
        span = _object_span(text, section)
        if span is None:
            continue
        start, end = span
        inner = text[start:end]
        for name, version in changes.items():
            pattern = re.compile(rf'("{re.escape(name)}"\s*:\s*")([^"]*)(")', re.IGNORECASE)
            match = pattern.search(inner)
            if not match:
                continue
            try:
                replacement = new_spec(NPM, match.group(2), version)
            except EditError as exc:
                problems.append((name, str(exc)))
                continue
            inner = inner[: match.start(2)] + replacement + inner[match.end(2) :]
            applied.append(name)
        text = text[:start] + inner + text[end:]
    return EditResult(text, tuple(applied), tuple(problems))


# --------------------------------------------------------------------------
# pyproject.toml
# --------------------------------------------------------------------------

_TABLE_RE = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_QUOTED_RE = re.compile(r"(\")([^\"\n]+)\"|(')([^'\n]+)'")


def edit_pyproject(text, changes):
    """Set versions in PEP 621 requirement strings and Poetry dependency tables."""
    lines = text.splitlines(keepends=True)
    applied, problems, table = [], [], ""
    for index, raw in enumerate(lines):
        header = _TABLE_RE.match(raw)
        if header:
            table = header.group(1)
            continue
        if table == "project" or table.startswith("project.optional-dependencies"):
            lines[index] = _edit_pep621_line(raw, changes, applied, problems)
        elif table.startswith("tool.poetry") and table.endswith("dependencies"):
            lines[index] = _edit_poetry_line(raw, changes, applied, problems)
    return EditResult("".join(lines), tuple(applied), tuple(problems))


def _edit_pep621_line(raw, changes, applied, problems):
    def replace(match):
        quote = match.group(1) or match.group(3)
        value = match.group(2) or match.group(4)
        try:
            requirement = Requirement(value)
        except InvalidRequirement:
            return match.group(0)
        name = dependencies.normalise_name(PYPI, requirement.name)
        if name not in changes or requirement.url:
            return match.group(0)
        spec_match = re.match(r"^(\s*[A-Za-z0-9][A-Za-z0-9._-]*\s*(?:\[[^\]]*\])?\s*)([^;]*?)(\s*(?:;.*)?)$", value)
        try:
            spec = new_spec(PYPI, spec_match.group(2), changes[name])
        except EditError as exc:
            problems.append((name, str(exc)))
            return match.group(0)
        applied.append(name)
        return f"{quote}{spec_match.group(1)}{spec}{spec_match.group(3)}{quote}"

    return _QUOTED_RE.sub(replace, raw)


def _edit_poetry_line(raw, changes, applied, problems):
    match = re.match(r"^(\s*[\"']?)([A-Za-z0-9][A-Za-z0-9._-]*)([\"']?\s*=\s*)(.*)$", raw, re.DOTALL)
    if not match:
        return raw
    name = dependencies.normalise_name(PYPI, match.group(2))
    if name not in changes:
        return raw
    value = match.group(4)
    plain = re.match(r"^([\"'])([^\"']*)[\"'](.*)$", value, re.DOTALL)
    inline = re.match(r"^(\{.*?\bversion\s*=\s*)([\"'])([^\"']*)[\"'](.*)$", value, re.DOTALL)
    if plain:
        prefix, quote, written, rest = "", plain.group(1), plain.group(2), plain.group(3)
    elif inline:
        prefix, quote, written, rest = inline.groups()
    else:
        return raw
    try:
        spec = new_spec(PYPI, written, changes[name])
    except EditError as exc:
        problems.append((name, str(exc)))
        return raw
    applied.append(name)
    return f"{match.group(1)}{match.group(2)}{match.group(3)}{prefix}{quote}{spec}{quote}{rest}"


def edit_manifest(path, text, changes):
    """Dispatch on the manifest's file name; unknown files raise :class:`EditError`."""
    kind = dependencies.manifest_kind(path)
    if kind == "requirements":
        return edit_requirements(text, changes)
    if kind == "package.json":
        return edit_package_json(text, changes)
    if kind == "pyproject":
        return edit_pyproject(text, changes)
    raise EditError(f"{path} is not a manifest this module edits")


# --------------------------------------------------------------------------
# pull requests
# --------------------------------------------------------------------------


def changes_by_file(group):
    """``{path: {name: new version}}`` for a group's updates."""
    result = {}
    for update in group.updates:
        if update.file:
            result.setdefault(update.file, {})[update.name] = update.latest
    return result


def pr_body(group, problems=(), draft=True):
    """Markdown body of the group's pull request (a table of the updates)."""
    lines = [
        MARKER,
        SET_MARKER.format(group.fingerprint),
        f"Dependency updates ({group.ecosystem}, {group.kind}) proposed by ops_autopilot.",
        "",
        "| Package | From | To | Released | File |",
        "| --- | --- | --- | --- | --- |",
    ]
    for update in group.updates:
        released = update.released_at.strftime("%Y-%m-%d") if update.released_at else "?"
        where = f"{update.file}:{update.line}" if update.line else update.file
        lines.append(f"| `{update.name}` | {update.current} | {update.latest} | {released} | `{where}` |")
    if problems:
        lines += ["", "Left for a human:", ""]
        lines += [f"- `{name}`: {reason}" for name, reason in problems]
    if draft:
        status = "This is a draft: CI runs on it; mark it ready for review once it passes."
    else:
        status = (
            "This pull request cannot be a draft (GitHub does not allow drafts in this repository): CI runs on it;"
            " review it once it passes."
        )
    lines += [
        "",
        f"{status} Closing it unmerged declines these versions: the next proposal waits for a newer release.",
    ]
    return "\n".join(lines)


@dataclass(frozen=True)
class PullRequestResult:
    branch: str
    number: int | None
    url: str
    created: bool
    changed_files: tuple = ()
    problems: tuple = ()
    #: False when the repository does not allow drafts and the pull request was opened ready for review
    draft: bool = True


def open_update_branches(client, full_name, prefix=BRANCH_PREFIX):
    """Head branches of the open pull requests this product opened (for :func:`group_updates`)."""
    repo = github_call("GitHub", client.get_repo, full_name)
    pulls = github_call("GitHub", lambda: list(repo.get_pulls(state="open")))
    return tuple(p.head.ref for p in pulls if p.head.ref.startswith(prefix))


def declined_updates(client, full_name, groups):
    """``(branch, fingerprint)`` of ``groups`` whose exact proposal was closed without merging.

    One request per group (closed pull requests of its branch), so a
    repository's long history of closed pull requests is never paged through.
    """
    groups = list(groups)
    if not groups:
        return ()
    repo = github_call("GitHub", client.get_repo, full_name)
    owner = full_name.split("/")[0]
    declined = []
    for group in groups:
        head = f"{owner}:{group.branch}"
        pulls = github_call("GitHub", lambda h=head: list(repo.get_pulls(state="closed", head=h)))
        wanted = SET_MARKER.format(group.fingerprint)
        if any(pull.merged_at is None and wanted in (pull.body or "") for pull in pulls):
            declined.append((group.branch, group.fingerprint))
    return tuple(declined)


def _ensure_branch(repo, branch, base):
    try:
        repo.get_branch(branch)
        return False
    except GithubException as exc:
        if exc.status != 404:
            raise from_github(exc) from None
    head = github_call("GitHub", repo.get_branch, base).commit.sha
    try:
        repo.create_git_ref(f"refs/heads/{branch}", head)
    except GithubException as exc:
        if exc.status != 422:  # 422: created meanwhile by another run
            raise from_github(exc) from None
    return True


def open_update_pr(client, full_name, group, labels=()):
    """Commit the group's edits to its branch and open (or find) its draft pull request."""
    repo = github_call("GitHub", client.get_repo, full_name)
    base = repo.default_branch
    branch = group.branch
    if not branch or branch == base:
        raise ValueError("update branch must differ from the default branch")
    github_call("GitHub", _ensure_branch, repo, branch, base)
    changed, problems = [], []
    for path, changes in sorted(changes_by_file(group).items()):
        content = github_call("GitHub", repo.get_contents, path, ref=branch)
        text = github_call("GitHub", rest_api.content_bytes, repo, content).decode("utf-8")
        try:
            result = edit_manifest(path, text, changes)
        except EditError as exc:
            problems.extend((name, str(exc)) for name in changes)
            continue
        problems.extend(result.problems)
        if result.text != text:
            message = f"{group.title}\n\nEdited {path} ({', '.join(sorted(set(result.applied)))})."
            github_call("GitHub", repo.update_file, path, message, result.text, content.sha, branch=branch)
            changed.append(path)
    owner = full_name.split("/")[0]
    existing = github_call("GitHub", lambda: list(repo.get_pulls(state="open", head=f"{owner}:{branch}", base=base)))
    if existing:
        pull = existing[0]
        return PullRequestResult(branch, pull.number, pull.html_url, False, tuple(changed), tuple(problems))
    if not changed and _branch_is_base(repo, branch, base):
        return PullRequestResult(branch, None, "", False, (), tuple(problems))
    pull, draft = _create_pull(repo, group, problems, base, branch)
    if labels:
        # GitHub's described form ({"labels": [...]}), not the bare list PyGithub's add_to_labels sends
        path = f"/repos/{full_name}/issues/{pull.number}/labels"
        github_call("GitHub", client.requester.requestJsonAndCheck, "POST", path, input={"labels": list(labels)})
    return PullRequestResult(branch, pull.number, pull.html_url, True, tuple(changed), tuple(problems), draft)


def _drafts_unsupported(exc):
    """GitHub's 422 for a draft where the repository's plan has none (private repositories of some plans)."""
    if exc.status != 422 or not isinstance(exc.data, dict):
        return False
    texts = [str(exc.data.get("message") or "")]
    texts += [str(e.get("message") or "") for e in exc.data.get("errors") or [] if isinstance(e, dict)]
    return any("draft pull requests are not supported" in text.lower() for text in texts)


def _create_pull(repo, group, problems, base, branch):
    """``(pull, draft)``: a draft pull request, or a ready one where GitHub does not allow drafts."""
    try:
        pull = repo.create_pull(title=group.title, body=pr_body(group, problems), base=base, head=branch, draft=True)
        return pull, True
    except GithubException as exc:
        if not _drafts_unsupported(exc):
            raise from_github(exc) from None
    except (RequestException, OSError) as exc:
        raise from_github(exc) from None
    body = pr_body(group, problems, draft=False)
    pull = github_call("GitHub", repo.create_pull, title=group.title, body=body, base=base, head=branch, draft=False)
    return pull, False


def _branch_is_base(repo, branch, base):
    """True when the branch still points at the default branch head (nothing to propose)."""
    head = github_call("GitHub", repo.get_branch, branch).commit.sha
    return head == github_call("GitHub", repo.get_branch, base).commit.sha
