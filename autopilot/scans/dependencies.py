"""Read a repository's declared dependencies, and compare their versions.

Decides which dependencies a repository declares, in which file and on
which line, from ``requirements*.txt`` (pins, ranges, extras, markers,
``-r`` includes through a loader callback, comments, hashes),
``pyproject.toml`` (PEP 621 ``[project]`` dependencies and optional groups,
Poetry ``[tool.poetry.*dependencies]``) and ``package.json``
(``dependencies`` / ``devDependencies``). Lines that do not name a
versioned package of an index (editable installs, URLs, local paths, git
specs, dist-tags) are reported as :class:`Unparseable` with the reason,
never dropped silently.

Version order is PEP 440 (``packaging``) for PyPI and SemVer with npm's
range syntax (:mod:`.npm_semver`) for npm. Poetry's ``^``/``~`` constraints
are translated to PEP 440 specifiers.
"""

import json
import posixpath
import re
from dataclasses import dataclass

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from . import npm_semver
from .findings import normalise_package

try:  # Python 3.11+
    import tomllib
except ImportError:  # pragma: no cover - Odoo 18 also runs on 3.10
    import tomli as tomllib

PYPI = "PyPI"
NPM = "npm"
ECOSYSTEMS = (PYPI, NPM)
MAX_INCLUDE_DEPTH = 10
MAX_MANIFEST_BYTES = 2 * 1024 * 1024

_URL_RE = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|\.{1,2}/|/|[a-z][a-z0-9+.-]*\+[a-z]+:)", re.IGNORECASE)
_ARCHIVE_RE = re.compile(r"\.(?:whl|tar\.gz|tgz|zip|tar\.bz2)$", re.IGNORECASE)
_COMMENT_RE = re.compile(r"(^|\s+)#.*$")
_OPTION_SUFFIX_RE = re.compile(r"\s+--?[a-zA-Z].*$")
_INCLUDE_RE = re.compile(r"^(?:-r|--requirement)(?:\s*=\s*|\s+|(?=\S))(?P<path>\S+)\s*$")
_EDITABLE_RE = re.compile(r"^(?:-e|--editable)(?:\s|=|$)")
_CONSTRAINT_RE = re.compile(r"^(?:-c|--constraint)\b")
_NPM_NON_REGISTRY = ("file:", "link:", "git", "http:", "https:", "github:", "workspace:", "npm:", "portal:", "patch:")


class ManifestError(ValueError):
    """A whole manifest cannot be read (bad TOML/JSON, wrong shape)."""

    def __init__(self, file, message):
        super().__init__(f"{file}: {message}")
        self.file = file


class VersionError(ValueError):
    """A version string the ecosystem's rules do not accept."""


@dataclass(frozen=True)
class Dependency:
    """One declared dependency: ``spec`` as written, ``pinned_version`` when it pins exactly one."""

    ecosystem: str
    name: str
    spec: str
    pinned_version: str | None
    file: str
    line: int
    extras: tuple = ()
    marker: str = ""
    #: optional-dependencies group, Poetry group, devDependencies...
    group: str = ""
    #: the line carries ``--hash`` options (changing the version would need new hashes)
    hashed: bool = False


@dataclass(frozen=True)
class Unparseable:
    file: str
    line: int
    text: str
    reason: str


@dataclass(frozen=True)
class ParseResult:
    dependencies: tuple = ()
    unparseable: tuple = ()

    def __add__(self, other):
        return ParseResult(self.dependencies + other.dependencies, self.unparseable + other.unparseable)


def normalise_name(ecosystem, name):
    """The index's canonical package name (PEP 503 for PyPI; npm names are case-sensitive, kept as written)."""
    return normalise_package(ecosystem, name)


# --------------------------------------------------------------------------
# versions
# --------------------------------------------------------------------------


def _pep440(version):
    try:
        return Version(str(version))
    except InvalidVersion:
        raise VersionError(f"not a PEP 440 version: {str(version)[:60]!r}") from None


def _semver(version):
    try:
        return npm_semver.SemVer.parse(version)
    except npm_semver.SemverError as exc:
        raise VersionError(str(exc)) from None


def version_key(ecosystem, version):
    """A sort key ordering versions by the ecosystem's rules."""
    if ecosystem == PYPI:
        return _pep440(version)
    if ecosystem == NPM:
        return _semver(version).key
    raise VersionError(f"unknown ecosystem {ecosystem!r}")


def is_valid_version(ecosystem, version):
    try:
        version_key(ecosystem, version)
    except VersionError:
        return False
    return True


def compare_versions(ecosystem, a, b):
    """-1, 0 or 1 as ``a`` is older than, equal to or newer than ``b``."""
    ka, kb = version_key(ecosystem, a), version_key(ecosystem, b)
    return (ka > kb) - (ka < kb)


def sort_versions(ecosystem, versions):
    """Valid versions, oldest first (invalid ones are left out)."""
    valid = [v for v in versions if is_valid_version(ecosystem, v)]
    return sorted(valid, key=lambda v: version_key(ecosystem, v))


def is_prerelease(ecosystem, version):
    if ecosystem == PYPI:
        return _pep440(version).is_prerelease
    return bool(_semver(version).prerelease)


def _release_triple(ecosystem, version):
    if ecosystem == PYPI:
        parsed = _pep440(version)
        release = (*parsed.release, 0, 0)[:3]
        return (parsed.epoch, *release)
    parsed = _semver(version)
    return (0, parsed.major, parsed.minor, parsed.patch)


def bump_kind(ecosystem, current, latest):
    """``'major'``, ``'minor'`` or ``'patch'``: the largest release component that changed."""
    old, new = _release_triple(ecosystem, current), _release_triple(ecosystem, latest)
    if old[0] != new[0] or old[1] != new[1]:
        return "major"
    if old[2] != new[2]:
        return "minor"
    return "patch"


def pep440_specifier(spec):
    """A :class:`SpecifierSet` for a PEP 440 or Poetry constraint (``^1.2``, ``~1.2.3``, ``1.2.3``, ``*``)."""
    spec = str(spec or "").strip()
    parts = []
    for raw in spec.split(","):
        part = raw.strip()
        if not part or part == "*":
            continue
        parts.extend(_poetry_part(part))
    try:
        return SpecifierSet(",".join(parts))
    except InvalidSpecifier:
        raise VersionError(f"not a version constraint: {spec[:80]!r}") from None


def _poetry_part(part):
    match = re.match(r"^(\^|~(?!=))\s*(\d+(?:\.\d+)*)$", part)
    if match:
        numbers = [int(n) for n in match.group(2).split(".")]
        low = match.group(2)
        if match.group(1) == "^":
            index = next((i for i, n in enumerate(numbers) if n != 0), len(numbers) - 1)
        else:
            index = 0 if len(numbers) == 1 else 1
        upper = [*numbers[:index], numbers[index] + 1]
        return [f">={low}", f"<{'.'.join(str(n) for n in upper)}"]
    if re.match(r"^\d", part):
        return [f"=={part}"]
    return [part]


def satisfies(ecosystem, version, spec):
    """True when ``version`` is allowed by ``spec`` (pre-releases only when the spec names one)."""
    if ecosystem == PYPI:
        return pep440_specifier(spec).contains(_pep440(version), prereleases=None)
    if ecosystem == NPM:
        try:
            return npm_semver.satisfies(_semver(version), spec or "*")
        except npm_semver.SemverError as exc:
            raise VersionError(str(exc)) from None
    raise VersionError(f"unknown ecosystem {ecosystem!r}")


def pinned_version(ecosystem, spec):
    """The single version an exact spec pins (``==1.2``, ``===1.2``, Poetry ``1.2``, npm ``1.2.3``), else None."""
    spec = str(spec or "").strip()
    if ecosystem == NPM:
        return npm_semver.exact_version(spec)
    if re.match(r"^\d[\w.!+-]*$", spec):
        spec = f"=={spec}"
    try:
        specifiers = list(SpecifierSet(spec))
    except InvalidSpecifier:
        return None
    if len(specifiers) == 1 and specifiers[0].operator in ("==", "===") and "*" not in specifiers[0].version:
        return specifiers[0].version
    return None


# --------------------------------------------------------------------------
# requirements*.txt
# --------------------------------------------------------------------------


def _logical_lines(text):
    """``(first line number, text)`` with backslash continuations joined."""
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        stripped = raw.rstrip()
        if stripped.endswith("\\") and not stripped.lstrip().startswith("#"):
            pending += stripped[:-1] + " "
            continue
        yield start, pending + raw
        pending = ""
    if pending:
        yield start, pending


def _include_path(base_file, target):
    if _URL_RE.match(target) and not target.startswith(("./", "../")):
        return None
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(base_file), target))
    if joined.startswith("../") or joined == ".." or posixpath.isabs(joined):
        return None
    return joined


def parse_requirements(text, file="requirements.txt", loader=None, _seen=None, _depth=0):
    """Dependencies of a pip requirements file; ``loader(path) -> str | None`` resolves ``-r`` includes."""
    seen = set(_seen or ()) | {file}
    deps, bad = [], []
    for number, logical in _logical_lines(text):
        line = _COMMENT_RE.sub("", logical).strip()
        if not line:
            continue
        if line.startswith("-"):
            include = _INCLUDE_RE.match(line)
            if include:
                result = _include(file, number, logical, include.group("path"), loader, seen, _depth)
                deps.extend(result.dependencies)
                bad.extend(result.unparseable)
            elif _EDITABLE_RE.match(line):
                bad.append(Unparseable(file, number, logical.strip(), "editable install, not a versioned package"))
            elif not _CONSTRAINT_RE.match(line):
                continue  # index and install options (-i, --extra-index-url, --pre, ...) declare no package
            continue
        hashed = "--hash" in line
        requirement_text = _OPTION_SUFFIX_RE.sub("", line).strip()
        if _URL_RE.match(requirement_text) or _ARCHIVE_RE.search(requirement_text):
            bad.append(Unparseable(file, number, logical.strip(), "URL or local path, not a versioned package"))
            continue
        try:
            requirement = Requirement(requirement_text)
        except InvalidRequirement as exc:
            reason = str(exc).splitlines()[0][:200]
            bad.append(Unparseable(file, number, logical.strip(), f"not a PEP 508 requirement: {reason}"))
            continue
        if requirement.url:
            bad.append(Unparseable(file, number, logical.strip(), "direct URL reference, not a versioned package"))
            continue
        spec = _written_spec(requirement_text, requirement)
        deps.append(
            Dependency(
                ecosystem=PYPI,
                name=normalise_name(PYPI, requirement.name),
                spec=spec,
                pinned_version=pinned_version(PYPI, spec),
                file=file,
                line=number,
                extras=tuple(sorted(requirement.extras)),
                marker=str(requirement.marker or ""),
                hashed=hashed,
            )
        )
    return ParseResult(tuple(deps), tuple(bad))


_SPEC_RE = re.compile(r"^\s*[A-Za-z0-9][A-Za-z0-9._-]*\s*(?:\[[^\]]*\])?\s*(?P<spec>[^;@]*)")


def _written_spec(text, requirement):
    """The version constraint as the author wrote it (``str(SpecifierSet)`` reorders it)."""
    match = _SPEC_RE.match(text)
    written = re.sub(r"\s+", "", match.group("spec")).strip("()") if match else ""
    try:
        same = SpecifierSet(written) == requirement.specifier
    except InvalidSpecifier:
        same = False
    return written if same else str(requirement.specifier)


def _include(file, number, logical, target, loader, seen, depth):
    path = _include_path(file, target)
    if path is None:
        return ParseResult((), (Unparseable(file, number, logical.strip(), "include outside the repository"),))
    if loader is None:
        return ParseResult((), (Unparseable(file, number, logical.strip(), f"include {path} not followed"),))
    if path in seen:
        return ParseResult((), (Unparseable(file, number, logical.strip(), f"include cycle through {path}"),))
    if depth >= MAX_INCLUDE_DEPTH:
        return ParseResult((), (Unparseable(file, number, logical.strip(), "includes nested too deeply"),))
    included = loader(path)
    if included is None:
        return ParseResult((), (Unparseable(file, number, logical.strip(), f"included file {path} not found"),))
    return parse_requirements(included, path, loader, seen, depth + 1)


# --------------------------------------------------------------------------
# pyproject.toml
# --------------------------------------------------------------------------


class _LineFinder:
    """Best-effort line numbers for values of a parsed TOML/JSON document."""

    def __init__(self, text):
        self.lines = text.splitlines()
        self.used = set()

    def find(self, predicate, start=0):
        for index in range(max(start, 0), len(self.lines)):
            if index not in self.used and predicate(self.lines[index]):
                self.used.add(index)
                return index + 1
        return 0

    def header(self, pattern):
        regex = re.compile(pattern)
        for index, line in enumerate(self.lines):
            if regex.search(line):
                return index
        return 0


def _pep508_dependency(value, file, line, group):
    if not isinstance(value, str):
        return None, Unparseable(file, line, str(value)[:200], "expected a PEP 508 string")
    try:
        requirement = Requirement(value)
    except InvalidRequirement as exc:
        return None, Unparseable(file, line, value[:200], f"not a PEP 508 requirement: {str(exc).splitlines()[0]}")
    if requirement.url:
        return None, Unparseable(file, line, value[:200], "direct URL reference, not a versioned package")
    spec = _written_spec(value, requirement)
    return (
        Dependency(
            PYPI,
            normalise_name(PYPI, requirement.name),
            spec,
            pinned_version(PYPI, spec),
            file,
            line,
            tuple(sorted(requirement.extras)),
            str(requirement.marker or ""),
            group,
        ),
        None,
    )


def parse_pyproject(text, file="pyproject.toml"):
    """PEP 621 and Poetry dependencies of a ``pyproject.toml``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(file, f"not valid TOML: {exc}") from None
    finder = _LineFinder(text)
    deps, bad = [], []

    def pep621(values, group, section_start):
        if not isinstance(values, list):
            bad.append(Unparseable(file, section_start + 1, str(values)[:200], "expected a list of requirements"))
            return
        for value in values:
            line = finder.find(lambda text, v=value: f'"{v}"' in text or f"'{v}'" in text, section_start)
            dep, problem = _pep508_dependency(value, file, line, group)
            deps.append(dep) if dep else bad.append(problem)

    project = data.get("project") if isinstance(data.get("project"), dict) else {}
    start = finder.header(r"^\s*\[project\]")
    pep621(project.get("dependencies", []), "", start)
    optional = project.get("optional-dependencies") or {}
    if isinstance(optional, dict):
        for group, values in optional.items():
            pep621(values, str(group), finder.header(r"^\s*\[project\.optional-dependencies\]") or start)

    poetry = ((data.get("tool") or {}).get("poetry") or {}) if isinstance(data.get("tool"), dict) else {}
    if isinstance(poetry, dict):
        sections = [
            ("", "dependencies", poetry.get("dependencies")),
            ("dev", "dev-dependencies", poetry.get("dev-dependencies")),
        ]
        for name, group in (poetry.get("group") or {}).items():
            if isinstance(group, dict):
                sections.append((str(name), f"group.{name}.dependencies", group.get("dependencies")))
        for group, header, table in sections:
            if isinstance(table, dict):
                section_start = finder.header(rf"^\s*\[tool\.poetry\.{re.escape(header)}\]")
                _poetry_table(table, group, section_start, file, finder, deps, bad)
    return ParseResult(tuple(deps), tuple(bad))


def _poetry_table(table, group, section_start, file, finder, deps, bad):
    for raw_name, declared in table.items():
        value = declared
        if raw_name.lower() == "python":
            continue
        key = re.compile(rf"""^\s*["']?{re.escape(raw_name)}["']?\s*=""")
        line = finder.find(key.search, section_start)
        extras, marker = (), ""
        if isinstance(value, dict):
            if any(k in value for k in ("git", "path", "url")):
                bad.append(Unparseable(file, line, f"{raw_name} = {value}"[:200], "git/path/URL source, not versioned"))
                continue
            extras = tuple(sorted(str(e) for e in value.get("extras") or ()))
            marker = str(value.get("markers") or "")
            value = value.get("version", "*")
        if not isinstance(value, str):
            bad.append(Unparseable(file, line, f"{raw_name} = {value}"[:200], "multiple or unsupported constraints"))
            continue
        try:
            pep440_specifier(value)
        except VersionError as exc:
            bad.append(Unparseable(file, line, f"{raw_name} = {value}"[:200], str(exc)))
            continue
        deps.append(
            Dependency(
                PYPI,
                normalise_name(PYPI, raw_name),
                value.strip(),
                pinned_version(PYPI, value),
                file,
                line,
                extras,
                marker,
                group,
            )
        )


# --------------------------------------------------------------------------
# package.json
# --------------------------------------------------------------------------

NPM_SECTIONS = ("dependencies", "devDependencies")


def _npm_problem(spec):
    spec = spec.strip()
    if spec.startswith(_NPM_NON_REGISTRY) or "://" in spec:
        return "git/URL/file/alias spec, not a registry version"
    if "/" in spec:
        return "GitHub shorthand, not a registry version"
    try:
        npm_semver.parse_range(spec)
    except npm_semver.SemverError:
        return "dist-tag or invalid range, not a version range"
    return None


def parse_package_json(text, file="package.json"):
    """``dependencies`` and ``devDependencies`` of a ``package.json``."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ManifestError(file, f"not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ManifestError(file, "expected a JSON object")
    finder = _LineFinder(text)
    deps, bad = [], []
    for section in NPM_SECTIONS:
        table = data.get(section)
        if table is None:
            continue
        start = finder.header(rf'"{section}"\s*:')
        if not isinstance(table, dict):
            bad.append(Unparseable(file, start + 1, section, "expected an object of name: range"))
            continue
        for raw_name, spec in table.items():
            key = re.compile(rf'"{re.escape(raw_name)}"\s*:')
            line = finder.find(key.search, start)
            if not isinstance(spec, str):
                bad.append(Unparseable(file, line, f"{raw_name}: {spec}"[:200], "expected a version range string"))
                continue
            problem = _npm_problem(spec)
            if problem:
                bad.append(Unparseable(file, line, f"{raw_name}: {spec}"[:200], problem))
                continue
            deps.append(
                Dependency(
                    NPM,
                    normalise_name(NPM, raw_name),
                    spec.strip(),
                    pinned_version(NPM, spec),
                    file,
                    line,
                    group="" if section == "dependencies" else section,
                )
            )
    return ParseResult(tuple(deps), tuple(bad))


# --------------------------------------------------------------------------
# dispatch by file name
# --------------------------------------------------------------------------

DEFAULT_MANIFESTS = ("requirements*.txt", "pyproject.toml", "package.json")


def manifest_kind(path):
    """``'requirements'``, ``'pyproject'``, ``'package.json'`` or None."""
    name = posixpath.basename(path)
    if name == "package.json":
        return "package.json"
    if name == "pyproject.toml":
        return "pyproject"
    if re.match(r"^requirements.*\.(?:txt|in)$", name) or (name.endswith(".txt") and "requirements" in path):
        return "requirements"
    return None


def parse_manifest(path, text, loader=None):
    """Parse one manifest by its file name; raises :class:`ManifestError` for unknown or unreadable files."""
    if len(text) > MAX_MANIFEST_BYTES:
        raise ManifestError(path, f"larger than {MAX_MANIFEST_BYTES} bytes")
    kind = manifest_kind(path)
    if kind == "requirements":
        return parse_requirements(text, path, loader)
    if kind == "pyproject":
        return parse_pyproject(text, path)
    if kind == "package.json":
        return parse_package_json(text, path)
    raise ManifestError(path, "not a known dependency manifest")
