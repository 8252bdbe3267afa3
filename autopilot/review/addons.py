"""Which Odoo addons a pull request touches, and their files at the PR's head and base.

The architecture checks see a PR as its changed files (:class:`ChangedFile`:
path, status, GitHub ``patch``) and a loader ``loader(path, ref) -> text |
None`` that reads the repository; :func:`find_addons` groups the files by the
addon they belong to (:class:`AddonView`), whose manifest is read with
``ast.literal_eval``, never run.
"""

import ast
import fnmatch
import posixpath
from dataclasses import dataclass

from ..github.rest_api import describe_error
from . import patches

#: directories that only an Odoo addon has: a changed file below one of them belongs to an addon
ADDON_SUBDIRS = frozenset(
    {"models", "views", "security", "data", "demo", "wizard", "wizards", "report", "controllers", "i18n"}
)
#: top-level folders that are never addons
NON_ADDON_DIRS = frozenset({"setup", "docs", "doc", ".github", "node_modules"})
MAX_FILE_CHARS = 1_000_000


class LoaderError(RuntimeError):
    """The loader failed (not "file absent": a real failure, e.g. GitHub unreachable); retry later."""

    def __init__(self, path, cause):
        super().__init__(f"reading {path} failed: {type(cause).__name__}")
        self.path = path
        self.cause = cause

    def describe(self):
        return f"reading {self.path} failed: {describe_error(self.cause)}"


@dataclass(frozen=True)
class ChangedFile:
    """One file of a pull request or compare, as GitHub lists it."""

    path: str
    status: str = "modified"  # added, modified, removed, renamed, copied, changed, unchanged
    patch: str = ""
    previous_path: str = ""

    @property
    def removed(self):
        return self.status == "removed"

    def lines(self):
        """The diff's line numbers (empty when GitHub gave no patch or it is malformed)."""
        if not self.patch:
            return patches.DiffLines({}, frozenset(), frozenset())
        try:
            return patches.diff_lines(self.patch)
        except patches.PatchError:
            return patches.DiffLines({}, frozenset(), frozenset())

    def added_lines(self):
        """``{new line number: text}`` of the lines the change adds (all lines of an added file)."""
        return self.lines().added


class Source:
    """Cached reads of the repository at the PR head (and base, when known) through the loader."""

    def __init__(self, loader, head_ref, base_ref=None):
        self._loader = loader
        self.head_ref = head_ref
        self.base_ref = base_ref
        self._cache = {}

    def text_at(self, path, base=False):
        ref = self.base_ref if base else self.head_ref
        if base and not ref:
            return None
        key = (path, ref)
        if key not in self._cache:
            try:
                text = self._loader(path, ref)
            except Exception as exc:
                raise LoaderError(path, exc) from exc
            self._cache[key] = text[:MAX_FILE_CHARS] if isinstance(text, str) else None
        return self._cache[key]

    def exists(self, path):
        return self.text_at(path) is not None


@dataclass
class AddonView:
    """One touched addon: its root folder, manifest and the PR's files inside it."""

    root: str  # "" when the repository root is the addon
    name: str
    manifest: dict | None
    manifest_error: str
    files: list
    source: Source

    def path(self, relative):
        return posixpath.join(self.root, relative) if self.root else relative

    def rel(self, path):
        return path[len(self.root) + 1 :] if self.root else path

    @property
    def where(self):
        """The addon folder as a finding's path ("." for the repository root)."""
        return self.root or "."

    @property
    def manifest_path(self):
        return self.path("__manifest__.py")

    def changed(self, pattern=None, include_removed=False):
        for changed in self.files:
            if changed.removed and not include_removed:
                continue
            if pattern is None or fnmatch.fnmatch(self.rel(changed.path), pattern):
                yield changed

    def manifest_list(self, key):
        value = (self.manifest or {}).get(key) or []
        return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []

    def manifest_line(self, needle):
        """Line of the manifest where ``needle`` appears (0 when not found)."""
        text = self.source.text_at(self.manifest_path) or ""
        for number, line in enumerate(text.splitlines(), 1):
            if needle in line:
                return number
        return 0


def parse_manifest(text):
    """The manifest dictionary, or ``(None, reason)``: it is read with ``ast.literal_eval``, never run."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as exc:
        return None, f"not a Python literal: {type(exc).__name__}"
    if not isinstance(value, dict):
        return None, f"a manifest is a dictionary, not {type(value).__name__}"
    return value, ""


def _addon_candidates(path):
    """Folders that may be the addon of ``path``, deepest first ("" is the repository root)."""
    parts = path.split("/")
    if parts[0] in NON_ADDON_DIRS or any(part.startswith(".") for part in parts[:-1]):
        return []
    return ["/".join(parts[:i]) for i in range(len(parts) - 1, -1, -1)]


def _strong_root(path):
    """The addon root implied by an addon-only folder (``x/models/y.py`` -> ``x``), or ``None``."""
    parts = path.split("/")
    if parts[0] in NON_ADDON_DIRS:
        return None
    for index, part in enumerate(parts[:-1]):
        if part in ADDON_SUBDIRS:
            return "/".join(parts[:index])
    if parts[-1] == "__manifest__.py":
        return "/".join(parts[:-1])
    return None


def find_addons(files, source, root_name=""):
    """Group the changed files by the addon they belong to.

    An addon is the nearest folder holding a ``__manifest__.py`` at head. A
    file below an addon-only folder (``models/``, ``views/``...) with no
    manifest above it belongs to an addon that lacks its manifest.
    """
    roots, groups = {}, {}
    for changed in files:
        root = None
        for candidate in _addon_candidates(changed.path):
            if candidate not in roots:
                manifest = posixpath.join(candidate, "__manifest__.py") if candidate else "__manifest__.py"
                roots[candidate] = source.exists(manifest)
            if roots[candidate]:
                root = candidate
                break
        if root is None and not changed.removed:
            root = _strong_root(changed.path)
        if root is not None:
            groups.setdefault(root, []).append(changed)
    addons = []
    for root, members in sorted(groups.items()):
        manifest_path = posixpath.join(root, "__manifest__.py") if root else "__manifest__.py"
        text = source.text_at(manifest_path)
        manifest, error = parse_manifest(text) if text is not None else (None, "")
        if text is None and all(m.removed for m in members):
            continue  # the addon was deleted
        name = posixpath.basename(root) if root else root_name
        addons.append(AddonView(root, name, manifest, error, members, source))
    return addons
