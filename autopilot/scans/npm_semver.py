"""npm's semantic versions and ranges, small and self-contained.

Decides order and range membership the way the npm CLI (node-semver) does
for the syntax people write in ``package.json``: exact versions, ``^`` and
``~`` ranges, ``x``/``*`` wildcards and partial versions, comparators
(``>=1.2 <2``), hyphen ranges (``1.2 - 2.3``) and ``||`` unions.
A pre-release (``2.0.0-beta.1``) satisfies a range only when one of its
comparators names a pre-release of the same ``major.minor.patch``, as in npm.
"""

import re
from dataclasses import dataclass
from functools import total_ordering

_SEMVER_RE = re.compile(
    r"^\s*[v=]?\s*(\d+)\.(\d+)\.(\d+)"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?\s*$"
)
_PARTIAL_RE = re.compile(
    r"^[v=]?(?P<major>\d+|[xX*])(?:\.(?P<minor>\d+|[xX*])(?:\.(?P<patch>\d+|[xX*])"
    r"(?:-(?P<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-.]+)?)?)?$"
)
_TOKEN_RE = re.compile(r"^(?P<op><=|>=|<|>|=|~>|~|\^)?(?P<version>.*)$")
_MAX_RANGE_LENGTH = 256


class SemverError(ValueError):
    """Not a version or range npm would accept."""


@total_ordering
@dataclass(frozen=True)
class SemVer:
    major: int
    minor: int
    patch: int
    prerelease: tuple = ()

    @classmethod
    def parse(cls, text):
        match = _SEMVER_RE.match(str(text))
        if not match:
            raise SemverError(f"not a semantic version: {str(text)[:60]!r}")
        pre = tuple(int(p) if p.isdigit() else p for p in (match.group(4) or "").split(".") if p)
        return cls(int(match.group(1)), int(match.group(2)), int(match.group(3)), pre)

    @property
    def key(self):
        """Sort key implementing SemVer 2.0 precedence (build metadata ignored)."""
        if not self.prerelease:
            return (self.major, self.minor, self.patch, 1, ())
        ids = tuple((0, part, "") if isinstance(part, int) else (1, 0, part) for part in self.prerelease)
        return (self.major, self.minor, self.patch, 0, ids)

    @property
    def triple(self):
        return (self.major, self.minor, self.patch)

    def __lt__(self, other):
        return self.key < other.key

    def __str__(self):
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += "-" + ".".join(str(p) for p in self.prerelease)
        return text


def parse(text):
    return SemVer.parse(text)


def compare(a, b):
    """-1, 0 or 1 as version ``a`` sorts before, with or after ``b``."""
    ka, kb = SemVer.parse(a).key, SemVer.parse(b).key
    return (ka > kb) - (ka < kb)


# --------------------------------------------------------------------------
# ranges
# --------------------------------------------------------------------------

_LOWEST = SemVer(0, 0, 0, (0,))


def _floor(major, minor=0, patch=0):
    """The lowest version of a line, pre-releases excluded: ``<X-0`` stops before any X pre-release."""
    return SemVer(major, minor, patch, (0,))


def _partial(text):
    match = _PARTIAL_RE.match(text.strip())
    if not match:
        raise SemverError(f"not a version or range part: {text[:60]!r}")

    def number(name):
        value = match.group(name)
        return None if value is None or value in "xX*" else int(value)

    major, minor, patch = number("major"), number("minor"), number("patch")
    if major is None:
        minor = patch = None
    elif minor is None:
        patch = None
    pre = tuple(int(p) if p.isdigit() else p for p in (match.group("pre") or "").split(".") if p)
    if patch is None and pre:
        raise SemverError(f"pre-release on a partial version: {text[:60]!r}")
    return major, minor, patch, pre


def _comparators(op, text):
    """Desugar one token into ``[(op, SemVer)]`` primitives (empty list: any version)."""
    major, minor, patch, pre = _partial(text)
    if major is None:
        # "*" and "x" match everything, "<*" and ">*" nothing
        return [("<", _LOWEST)] if op in ("<", ">") else []
    if op in ("", "="):
        if patch is not None:
            return [("=", SemVer(major, minor, patch, pre))]
        if minor is None:
            return [(">=", SemVer(major, 0, 0)), ("<", _floor(major + 1))]
        return [(">=", SemVer(major, minor, 0)), ("<", _floor(major, minor + 1))]
    if op in ("~", "~>"):
        low = SemVer(major, minor or 0, patch or 0, pre)
        high = _floor(major + 1) if minor is None else _floor(major, minor + 1)
        return [(">=", low), ("<", high)]
    if op == "^":
        low = SemVer(major, minor or 0, patch or 0, pre)
        if major > 0 or minor is None:
            high = _floor(major + 1)
        elif minor > 0 or patch is None:
            high = _floor(0, minor + 1)
        else:
            high = _floor(0, 0, patch + 1)
        return [(">=", low), ("<", high)]
    if op == ">":
        if patch is not None:
            return [(">", SemVer(major, minor, patch, pre))]
        return [(">=", SemVer(major + 1, 0, 0) if minor is None else SemVer(major, minor + 1, 0))]
    if op == ">=":
        return [(">=", SemVer(major, minor or 0, patch or 0, pre))]
    if op == "<":
        if patch is not None:
            return [("<", SemVer(major, minor, patch, pre))]
        return [("<", _floor(major) if minor is None else _floor(major, minor))]
    if op == "<=":
        if patch is not None:
            return [("<=", SemVer(major, minor, patch, pre))]
        return [("<", _floor(major + 1) if minor is None else _floor(major, minor + 1))]
    raise SemverError(f"unknown operator {op!r}")


def _hyphen(low_text, high_text):
    low = _comparators(">=", low_text)
    major, minor, patch, pre = _partial(high_text)
    if major is None:
        high = []
    elif patch is not None:
        high = [("<=", SemVer(major, minor, patch, pre))]
    else:
        high = _comparators("<=", high_text)
    return low + high


def parse_range(text):
    """A range as a list of comparator sets (OR of ANDs) of ``(op, SemVer)`` pairs."""
    text = str(text or "").strip()
    if len(text) > _MAX_RANGE_LENGTH:
        raise SemverError("range too long")
    sets = []
    for raw in text.split("||"):
        part = re.sub(r"(<=|>=|<|>|=|~>|~|\^)\s+", r"\1", raw.strip())
        hyphen = re.match(r"^(\S+)\s+-\s+(\S+)$", part)
        if hyphen:
            sets.append(_hyphen(hyphen.group(1), hyphen.group(2)))
            continue
        comparators = []
        for token in part.split():
            match = _TOKEN_RE.match(token)
            comparators.extend(_comparators(match.group("op") or "", match.group("version")))
        sets.append(comparators)
    return sets


def _holds(op, version, bound):
    if op == "=":
        return version.key == bound.key
    if op == ">":
        return version > bound
    if op == ">=":
        return version >= bound
    if op == "<":
        return version < bound
    return version <= bound


def satisfies(version, range_text, include_prerelease=False):
    """True when ``version`` is inside the npm range ``range_text``."""
    version = version if isinstance(version, SemVer) else SemVer.parse(version)
    for comparators in parse_range(range_text):
        if not all(_holds(op, version, bound) for op, bound in comparators):
            continue
        if not version.prerelease or include_prerelease:
            return True
        if any(bound.prerelease and bound.triple == version.triple and bound != _LOWEST for _, bound in comparators):
            return True
    return False


def max_satisfying(versions, range_text):
    """The highest of ``versions`` (strings) inside the range, or None."""
    best = None
    for text in versions:
        try:
            version = SemVer.parse(text)
        except SemverError:
            continue
        if satisfies(version, range_text) and (best is None or version > best[0]):
            best = (version, text)
    return best[1] if best else None


def exact_version(spec):
    """The version an exact spec (``1.2.3``, ``=1.2.3``, ``v1.2.3``) pins, else None."""
    spec = str(spec or "").strip()
    if _SEMVER_RE.match(spec):
        return str(SemVer.parse(spec))
    return None
