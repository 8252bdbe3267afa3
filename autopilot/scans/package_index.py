"""Which dependency updates to propose, from the PyPI JSON API and the npm registry.

Decides, per declared dependency, the newest release worth proposing:
not yanked or deprecated, not a pre-release unless allowed, older than the
minimum release age (fresh releases are where hijacked packages show up
first), not matched by an ignore rule, and newer than what the file already
allows. Then :func:`group_updates` packs the updates into grouped draft pull
requests (one per ecosystem and update kind) with at most ``max_groups``
open at a time, counting the ones already open; a group whose exact
proposal (:attr:`UpdateGroup.fingerprint`) a person closed without merging
is not proposed again until a newer release changes it.

The index clients go through :class:`~..common.json_client.JsonClient` (timeouts,
size cap, typed errors); :func:`choose_update` is pure so the policy is
tested without a network.
"""

import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from ..common.errors import BadAnswer, NotFound, ServiceError
from ..common.json_client import JsonClient, quote_segment
from . import dependencies as deps_mod
from .dependencies import NPM, PYPI, VersionError

PYPI_URL = "https://pypi.org"
NPM_URL = "https://registry.npmjs.org"
KINDS = ("patch", "minor", "major")
DEFAULT_MAX_OPEN = 5
BRANCH_PREFIX = "autopilot/deps/"


@dataclass(frozen=True)
class Release:
    version: str
    released_at: datetime | None
    yanked: bool = False


@dataclass(frozen=True)
class Update:
    """A proposed change of one dependency declaration from ``current`` to ``latest``."""

    ecosystem: str
    name: str
    current: str
    latest: str
    released_at: datetime | None
    kind: str
    file: str = ""
    line: int = 0
    spec: str = ""


def _parse_time(value):
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class PyPIIndex:
    """``GET {base}/pypi/{name}/json``: every release with its first upload time and yanked flag."""

    ecosystem = PYPI

    def __init__(self, base_url=PYPI_URL, **client_options):
        self.http = JsonClient("PyPI", base_url, **client_options)

    def releases(self, name):
        data = self.http.get(f"/pypi/{quote_segment(name)}/json")
        if not isinstance(data, dict) or not isinstance(data.get("releases"), dict):
            raise BadAnswer("PyPI", f"{name}: answer has no 'releases' object")
        result = []
        for version, files in data["releases"].items():
            if not isinstance(files, list) or not files:
                continue  # a version without files cannot be installed
            if not all(isinstance(f, dict) for f in files):
                raise BadAnswer("PyPI", f"{name}: releases.{version} holds non-objects")
            stamps = (_parse_time(f.get("upload_time_iso_8601") or f.get("upload_time")) for f in files)
            times = [t for t in stamps if t]
            yanked = all(bool(f.get("yanked")) for f in files)
            result.append(Release(str(version), min(times) if times else None, yanked))
        return result


class NpmRegistry:
    """``GET {base}/{name}``: versions with their publication ``time`` and ``deprecated`` flag."""

    ecosystem = NPM

    def __init__(self, base_url=NPM_URL, **client_options):
        self.http = JsonClient("npm registry", base_url, **client_options)

    def releases(self, name):
        data = self.http.get(f"/{quote_segment(name)}")
        if not isinstance(data, dict):
            raise BadAnswer("npm registry", f"{name}: answer is not an object")
        versions, times = data.get("versions") or {}, data.get("time") or {}
        if not isinstance(versions, dict) or not isinstance(times, dict):
            raise BadAnswer("npm registry", f"{name}: 'versions'/'time' are not objects")
        result = []
        for version, manifest in versions.items():
            deprecated = isinstance(manifest, dict) and bool(manifest.get("deprecated"))
            result.append(Release(str(version), _parse_time(times.get(version)), deprecated))
        return result


# --------------------------------------------------------------------------
# policy
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class IgnoreRule:
    """Skip updates of ``name``: all of them, only versions inside ``versions``, or only some ``kinds``.

    Written as ``django``, ``django:major``, ``lodash@>=5`` or ``lodash@>=5:minor,major``.
    """

    name: str
    versions: str = ""
    kinds: frozenset = field(default_factory=frozenset)
    ecosystem: str = ""

    @classmethod
    def parse(cls, text, ecosystem=""):
        text = str(text).strip()
        kinds = frozenset()
        head, sep, tail = text.rpartition(":")
        if sep and tail and set(tail.split(",")) <= set(KINDS):
            text, kinds = head, frozenset(tail.split(","))
        name, _, versions = text.partition("@") if not text.startswith("@") else _scoped(text)
        if not name:
            raise ValueError(f"ignore rule without a package name: {text!r}")
        return cls(name.strip(), versions.strip(), kinds, ecosystem)

    def matches(self, ecosystem, name, version, kind):
        if self.ecosystem and self.ecosystem != ecosystem:
            return False
        if deps_mod.normalise_name(ecosystem, self.name) != deps_mod.normalise_name(ecosystem, name):
            return False
        if self.kinds and kind not in self.kinds:
            return False
        if self.versions:
            try:
                return deps_mod.satisfies(ecosystem, version, self.versions)
            except VersionError:
                return False
        return True


def _scoped(text):
    """``@scope/name@range`` keeps the leading ``@`` in the name."""
    name, sep, versions = text[1:].partition("@")
    return "@" + name, sep, versions


def _valid(ecosystem, release):
    return deps_mod.is_valid_version(ecosystem, release.version)


def current_version(dep, releases):
    """What the declaration resolves to today: its pin, else the newest release its range allows."""
    if dep.pinned_version:
        return dep.pinned_version
    allowed = []
    for release in releases:
        if release.yanked or not _valid(dep.ecosystem, release):
            continue
        try:
            if deps_mod.satisfies(dep.ecosystem, release.version, dep.spec):
                allowed.append(release.version)
        except VersionError:
            return None
    return max(allowed, key=lambda v: deps_mod.version_key(dep.ecosystem, v)) if allowed else None


def choose_update(dep, releases, now, min_release_age_days=0, ignore=(), allow_prerelease=False):
    """The update to propose for ``dep`` given the index's ``releases``, or None (pure policy)."""
    current = current_version(dep, releases)
    if current is None or not deps_mod.is_valid_version(dep.ecosystem, current):
        return None
    cutoff = now - timedelta(days=min_release_age_days)
    key = deps_mod.version_key
    candidates = []
    for release in releases:
        if release.yanked or not _valid(dep.ecosystem, release):
            continue
        if not allow_prerelease and deps_mod.is_prerelease(dep.ecosystem, release.version):
            continue
        if min_release_age_days > 0 and (release.released_at is None or release.released_at > cutoff):
            continue
        if key(dep.ecosystem, release.version) <= key(dep.ecosystem, current):
            continue
        kind = deps_mod.bump_kind(dep.ecosystem, current, release.version)
        if any(rule.matches(dep.ecosystem, dep.name, release.version, kind) for rule in ignore):
            continue
        candidates.append((release, kind))
    if not candidates:
        return None
    release, kind = max(candidates, key=lambda item: key(dep.ecosystem, item[0].version))
    if not dep.pinned_version and deps_mod.satisfies(dep.ecosystem, release.version, dep.spec):
        return None  # the range already admits it: nothing to edit
    return Update(
        dep.ecosystem, dep.name, current, release.version, release.released_at, kind, dep.file, dep.line, dep.spec
    )


def latest_update(index, dep, min_release_age_days=3, ignore=(), allow_prerelease=False, now=None):
    """Fetch ``dep``'s releases from ``index`` and choose its update (None when up to date)."""
    now = now or datetime.now(timezone.utc)
    return choose_update(dep, index.releases(dep.name), now, min_release_age_days, ignore, allow_prerelease)


@dataclass(frozen=True)
class UpdateCheck:
    updates: tuple
    #: ``(dependency, error)`` for packages the index did not know or answered badly for
    failures: tuple = ()
    #: dependencies not checked: another ecosystem, or no index configured
    skipped: tuple = ()


#: index requests in flight at once while checking many packages (one request per package name)
FETCH_WORKERS = 8
_NOT_FETCHED = object()


def _fetch_releases(keys, indexes, workers):
    """``{(ecosystem, name): releases or the ServiceError its request raised}``, ``workers`` requests at a time.

    After an error that stops the check (unreachable, rate limited) no new
    request starts; the packages not asked for map to ``_NOT_FETCHED``.
    """
    stop = threading.Event()

    def fetch(key):
        if stop.is_set():
            return _NOT_FETCHED
        try:
            return indexes[key[0]].releases(key[1])
        except ServiceError as error:
            if not _goes_on(error):
                stop.set()
            return error

    if workers <= 1 or len(keys) <= 1:
        return {key: fetch(key) for key in keys}
    with ThreadPoolExecutor(max_workers=min(workers, len(keys)), thread_name_prefix="package-index") as pool:
        return dict(zip(keys, pool.map(fetch, keys), strict=True))


def check_updates(
    dependencies,
    indexes,
    min_release_age_days=3,
    ignore=(),
    allow_prerelease=False,
    now=None,
    workers=FETCH_WORKERS,
):
    """Updates for many dependencies, one index request per package name, ``workers`` at a time.

    A package the index does not know (or answers garbage for) is listed in
    ``failures`` and the check goes on; an unreachable or rate-limiting index
    stops the check with its :class:`ServiceError`, carrying the
    :class:`UpdateCheck` gathered so far (the dependencies before the first
    one it could not check, in their order) as ``partial``.
    """
    now = now or datetime.now(timezone.utc)
    keys = list(dict.fromkeys((dep.ecosystem, dep.name) for dep in dependencies if dep.ecosystem in indexes))
    fetched = _fetch_releases(keys, indexes, workers)
    stopping = next((r for r in fetched.values() if isinstance(r, ServiceError) and not _goes_on(r)), None)
    updates, failures, skipped = [], [], []
    for dep in dependencies:
        if dep.ecosystem not in indexes:
            skipped.append(dep)
            continue
        releases = fetched[(dep.ecosystem, dep.name)]
        if releases is _NOT_FETCHED or (isinstance(releases, ServiceError) and not _goes_on(releases)):
            error = releases if releases is not _NOT_FETCHED else stopping
            raise error.with_partial(UpdateCheck(tuple(updates), tuple(failures), tuple(skipped))) from None
        if isinstance(releases, ServiceError):
            failures.append((dep, releases))
            continue
        update = choose_update(dep, releases, now, min_release_age_days, ignore, allow_prerelease)
        if update:
            updates.append(update)
    return UpdateCheck(tuple(updates), tuple(failures), tuple(skipped))


def _goes_on(error):
    """A package the index does not know or answers garbage for is that package's failure, not the check's."""
    return isinstance(error, NotFound | BadAnswer)


# --------------------------------------------------------------------------
# grouping into pull requests
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class UpdateGroup:
    """Updates that travel in one draft pull request, on a branch named after the group."""

    key: str
    ecosystem: str
    kind: str
    updates: tuple
    branch_prefix: str = BRANCH_PREFIX

    @property
    def branch(self):
        return f"{self.branch_prefix}{self.key}"

    @property
    def title(self):
        names = sorted({u.name for u in self.updates})
        if len(names) == 1:
            update = self.updates[0]
            return f"Bump {update.name} from {update.current} to {update.latest}"
        return f"Bump {len(names)} {self.ecosystem} dependencies ({self.kind} updates)"

    @property
    def files(self):
        return tuple(sorted({u.file for u in self.updates if u.file}))

    @property
    def fingerprint(self):
        """Identity of this exact proposal (packages, target versions, files); a newer release changes it."""
        lines = sorted(
            f"{u.ecosystem}:{deps_mod.normalise_name(u.ecosystem, u.name)}@{u.latest}:{u.file}" for u in self.updates
        )
        return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class GroupPlan:
    #: new pull requests to open now
    to_open: tuple
    #: groups whose pull request is already open (refreshing them is idempotent)
    already_open: tuple
    #: groups waiting for a free slot
    deferred: tuple
    #: groups whose exact proposal was closed without merging: not proposed again
    declined: tuple = ()


def build_groups(updates, branch_prefix=BRANCH_PREFIX):
    """The pull request groups of ``updates`` (one per ecosystem and kind), safest first."""
    buckets = {}
    for update in updates:
        buckets.setdefault((update.ecosystem, update.kind), []).append(update)
    groups = [
        UpdateGroup(
            f"{ecosystem.lower()}-{kind}",
            ecosystem,
            kind,
            tuple(sorted(items, key=lambda u: (u.name, u.file, u.line))),
            branch_prefix,
        )
        for (ecosystem, kind), items in buckets.items()
    ]
    groups.sort(key=lambda g: (KINDS.index(g.kind) if g.kind in KINDS else len(KINDS), g.ecosystem))
    return groups


def group_updates(updates, max_groups=DEFAULT_MAX_OPEN, open_branches=(), branch_prefix=BRANCH_PREFIX, declined=()):
    """Group updates by ecosystem and kind; open at most ``max_groups`` pull requests in total.

    ``open_branches`` are the head branches of this product's update pull
    requests still open; they count against the limit. ``declined`` holds
    ``(branch, fingerprint)`` of proposals closed without merging. Safer
    groups come first: patch, then minor, then major.
    """
    groups = build_groups(updates, branch_prefix)
    open_set, refused = set(open_branches), set(declined)
    ours_open = {b for b in open_set if b.startswith(branch_prefix)}
    already = tuple(g for g in groups if g.branch in open_set)
    closed = tuple(g for g in groups if g.branch not in open_set and (g.branch, g.fingerprint) in refused)
    fresh = [g for g in groups if g.branch not in open_set and g not in closed]
    slots = max(0, max_groups - len(ours_open))
    return GroupPlan(tuple(fresh[:slots]), already, tuple(fresh[slots:]), closed)
