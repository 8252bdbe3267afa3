"""Unified diffs: parse them, map their line numbers, and apply them strictly.

Three consumers share these rules. The architecture checks read the lines a
pull request adds; the AI review checks that every finding points at a line
GitHub can comment on; the auto-fix applies a suggested patch to the real
file. Diffs come from GitHub (the ``patch`` field of a changed file: hunks
without file headers) and from the model (a full ``---``/``+++`` diff), so
both shapes parse here, and everything is untrusted: a malformed diff raises
:class:`PatchError` naming the problem, never a half-applied file.

Applying is strict: every context and removed line must match the file
exactly. A hunk whose stated line number is off is accepted only where its
old lines match at exactly one place after the previous hunk.
"""

import difflib
import re
from dataclasses import dataclass

_HUNK_RE = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
MAX_PATCH_CHARS = 2_000_000
NO_NEWLINE = "\\ No newline at end of file"


class PatchError(ValueError):
    """A diff is malformed, unsafe, or does not apply to the file it names."""


@dataclass(frozen=True)
class Hunk:
    old_start: int
    old_len: int
    new_start: int
    new_len: int
    #: ``(tag, text)`` with tag ``" "`` (context), ``"-"`` (removed) or ``"+"`` (added)
    lines: tuple = ()
    #: the old / new side of this hunk ends without a final newline
    old_no_newline: bool = False
    new_no_newline: bool = False

    @property
    def old_lines(self):
        return [text for tag, text in self.lines if tag != "+"]

    @property
    def new_lines(self):
        return [text for tag, text in self.lines if tag != "-"]


@dataclass(frozen=True)
class FilePatch:
    old_path: str | None  # None: the file is created
    new_path: str | None  # None: the file is deleted
    hunks: tuple = ()

    @property
    def path(self):
        return self.new_path or self.old_path

    @property
    def paths(self):
        return {p for p in (self.old_path, self.new_path) if p}


@dataclass(frozen=True)
class DiffLines:
    """Line numbers of one file's diff, as GitHub counts them for review comments."""

    #: new-file line number -> text of the lines the diff adds
    added: dict
    #: new-file lines a review comment may target with ``side="RIGHT"`` (added and context)
    right: frozenset
    #: old-file lines a review comment may target with ``side="LEFT"`` (removed and context)
    left: frozenset


# --------------------------------------------------------------------------
# parsing
# --------------------------------------------------------------------------


def _check_size(text):
    if not isinstance(text, str):
        raise PatchError(f"a diff must be text, got {type(text).__name__}")
    if len(text) > MAX_PATCH_CHARS:
        raise PatchError("diff too large")
    if "\x00" in text:
        raise PatchError("NUL character in diff")


def _parse_hunk_at(lines, index):
    """Parse the hunk whose header is ``lines[index]``; return ``(hunk, next_index)``."""
    match = _HUNK_RE.match(lines[index])
    if not match:
        raise PatchError(f"line {index + 1}: expected a hunk header '@@ -a,b +c,d @@'")
    old_start, new_start = int(match[1]), int(match[3])
    old_len = int(match[2]) if match[2] is not None else 1
    new_len = int(match[4]) if match[4] is not None else 1
    body, old_seen, new_seen = [], 0, 0
    old_nl = new_nl = False
    index += 1
    while index < len(lines) and (old_seen < old_len or new_seen < new_len):
        line = lines[index]
        if line.startswith("\\"):
            if not body:
                raise PatchError(f"line {index + 1}: '\\' marker before any line")
            old_nl, new_nl = _mark_no_newline(body[-1][0], old_nl, new_nl)
            index += 1
            continue
        tag, text = (line[0], line[1:]) if line else (" ", "")  # some tools strip a blank context line
        if tag not in " -+":
            raise PatchError(f"line {index + 1}: unexpected line in hunk: {line[:60]!r}")
        old_seen += tag != "+"
        new_seen += tag != "-"
        body.append((tag, text))
        index += 1
    if old_seen != old_len or new_seen != new_len:
        raise PatchError(
            f"hunk @@ -{old_start},{old_len} +{new_start},{new_len} @@ has {old_seen} old and {new_seen} new lines"
        )
    if index < len(lines) and lines[index].startswith("\\"):
        old_nl, new_nl = _mark_no_newline(body[-1][0] if body else " ", old_nl, new_nl)
        index += 1
    hunk = Hunk(old_start, old_len, new_start, new_len, tuple(body), old_nl, new_nl)
    return hunk, index


def _mark_no_newline(tag, old_nl, new_nl):
    if tag == " ":
        return True, True
    if tag == "-":
        return True, new_nl
    return old_nl, True


def _split(text):
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def parse_hunks(patch):
    """Hunks of a GitHub ``patch`` field (hunks only, no ``---``/``+++`` headers)."""
    _check_size(patch)
    lines = _split(patch)
    hunks, index = [], 0
    while index < len(lines):
        if not lines[index] and index == len(lines) - 1:
            break
        hunk, index = _parse_hunk_at(lines, index)
        hunks.append(hunk)
    return tuple(hunks)


def safe_path(raw):
    """A repository-relative path from a diff header, or ``None`` for ``/dev/null``."""
    path = raw.split("\t")[0].strip()
    if path == "/dev/null":
        return None
    if path.startswith(("a/", "b/")):
        path = path[2:]
    if (
        not path
        or path.startswith("/")
        or "\\" in path
        or any(part in ("", ".", "..") for part in path.split("/"))
        or any(ord(char) < 32 for char in path)
    ):
        raise PatchError(f"unsafe path in diff: {path[:120]!r}")
    return path


def parse_unified_diff(text):
    """Every file of a full unified diff (``--- a/x`` / ``+++ b/x`` headers, optional ``diff --git``)."""
    _check_size(text)
    lines = _split(text)
    patches, index = [], 0
    while index < len(lines):
        line = lines[index]
        if not line.startswith("--- "):
            if line.startswith("@@"):
                raise PatchError(f"line {index + 1}: hunk without '---'/'+++' file headers")
            index += 1  # diff --git, index, mode lines and prose are skipped
            continue
        if index + 1 >= len(lines) or not lines[index + 1].startswith("+++ "):
            raise PatchError(f"line {index + 1}: '---' header without '+++'")
        old_path, new_path = safe_path(line[4:]), safe_path(lines[index + 1][4:])
        if old_path is None and new_path is None:
            raise PatchError("a diff cannot go from /dev/null to /dev/null")
        index += 2
        hunks = []
        while index < len(lines) and lines[index].startswith("@@"):
            hunk, index = _parse_hunk_at(lines, index)
            hunks.append(hunk)
        if not hunks:
            raise PatchError(f"no hunk for {new_path or old_path}")
        patches.append(FilePatch(old_path, new_path, tuple(hunks)))
    if not patches:
        raise PatchError("no file in diff")
    return patches


# --------------------------------------------------------------------------
# line numbers
# --------------------------------------------------------------------------


def diff_lines(patch):
    """Line numbers a GitHub ``patch`` adds and lets review comments target."""
    added, right, left = {}, set(), set()
    for hunk in parse_hunks(patch) if isinstance(patch, str) else patch:
        old_no, new_no = hunk.old_start, hunk.new_start
        for tag, text in hunk.lines:
            if tag == "+":
                added[new_no] = text
                right.add(new_no)
                new_no += 1
            elif tag == "-":
                left.add(old_no)
                old_no += 1
            else:
                right.add(new_no)
                left.add(old_no)
                old_no += 1
                new_no += 1
    return DiffLines(added=added, right=frozenset(right), left=frozenset(left))


def hunks_text(hunks):
    """Render hunks back as a GitHub-style ``patch`` (no file headers)."""
    out = []
    for hunk in hunks:
        out.append(f"@@ -{hunk.old_start},{hunk.old_len} +{hunk.new_start},{hunk.new_len} @@")
        out.extend(f"{tag}{text}" for tag, text in hunk.lines)
    return "\n".join(out)


def make_patch(old, new, context=3):
    """GitHub's ``patch`` for a change from ``old`` to ``new`` text (``None``: file absent)."""
    diff = difflib.unified_diff(_split(old or ""), _split(new or ""), lineterm="", n=context)
    lines = list(diff)[2:]  # drop the ---/+++ headers: GitHub's patch field has none
    return "\n".join(lines)


def make_file_diff(path, old, new, context=3):
    """A full unified diff of one file, as a model would suggest it."""
    diff = difflib.unified_diff(
        _split(old or ""),
        _split(new or ""),
        fromfile=f"a/{path}" if old is not None else "/dev/null",
        tofile=f"b/{path}" if new is not None else "/dev/null",
        lineterm="",
        n=context,
    )
    return "\n".join(diff) + "\n"


# --------------------------------------------------------------------------
# applying
# --------------------------------------------------------------------------


def _find(lines, block, start, stated):
    """Index where ``block`` matches ``lines``: the stated one, else the only match after ``start``."""
    size = len(block)
    if stated >= start and lines[stated : stated + size] == block:
        return stated
    if not block:
        raise PatchError("a hunk without context lines does not match at its stated line")
    found = [i for i in range(start, len(lines) - size + 1) if lines[i : i + size] == block]
    if len(found) != 1:
        where = "nowhere" if not found else f"at {len(found)} places"
        raise PatchError(f"hunk @@ -{stated + 1} @@ matches the file {where}")
    return found[0]


def apply_file_patch(original, file_patch):
    """The file's text after ``file_patch``; ``None`` when the patch deletes it.

    ``original`` is ``None`` when the file does not exist. Raises
    :class:`PatchError` when the patch does not apply exactly.
    """
    if file_patch.old_path is None and original is not None:
        raise PatchError(f"{file_patch.new_path}: the patch creates a file that exists")
    if file_patch.old_path is not None and original is None:
        raise PatchError(f"{file_patch.old_path}: the patch changes a file that does not exist")
    lines = _split(original or "")
    # an empty or new file gets a final newline unless the patch says otherwise
    final_newline = original.endswith("\n") if original else True
    out, cursor = [], 0
    for hunk in file_patch.hunks:
        block = hunk.old_lines
        # "@@ -12,0 ..." inserts after line 12; otherwise the block starts at line old_start
        stated = hunk.old_start if hunk.old_len == 0 else hunk.old_start - 1
        index = _find(lines, block, cursor, stated)
        out.extend(lines[cursor:index])
        out.extend(hunk.new_lines)
        cursor = index + len(block)
        if cursor == len(lines) and (hunk.old_no_newline or hunk.new_no_newline):
            final_newline = not hunk.new_no_newline
    out.extend(lines[cursor:])
    if file_patch.new_path is None:
        if out:
            raise PatchError(f"{file_patch.old_path}: a deletion must remove every line")
        return None
    text = "\n".join(out)
    return text + "\n" if out and final_newline else text


def apply_diff(files, diff_text):
    """Apply a multi-file diff to ``files`` (path -> text or ``None``); return only the changed paths.

    The whole diff applies or nothing does: one failing hunk raises
    :class:`PatchError` and no result is returned.
    """
    result = {}
    for file_patch in parse_unified_diff(diff_text):
        if file_patch.old_path and file_patch.new_path and file_patch.old_path != file_patch.new_path:
            raise PatchError(f"renames are not supported: {file_patch.old_path} -> {file_patch.new_path}")
        path = file_patch.path
        current = result[path] if path in result else files.get(path)
        result[path] = apply_file_patch(current, file_patch)
    return result
