from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autopilot.common.backoff import BackoffPolicy
from autopilot.common.errors import BadAnswer, NotFound, RateLimited, ServiceUnavailable, TooLarge
from autopilot.github import rest_api
from autopilot.scans import dependencies, scheduled, update_prs
from autopilot.scans import package_index as pi
from autopilot.scans.dependencies import Dependency
from autopilot.testing.github_scans_server import ScanGitHub
from autopilot.testing.scan_servers import FakePackageIndex

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)
NO_RETRY = BackoffPolicy(initial=0.01, max_attempts=0)


def days_ago(days):
    return NOW - timedelta(days=days)


@pytest.fixture
def index():
    server = FakePackageIndex().start()
    server.add_pypi(
        "Django",
        {
            "4.2.15": days_ago(200),
            "4.2.16": days_ago(90),
            "5.0.9": days_ago(80),
            "5.1.2": days_ago(40),
            "5.1.3": (days_ago(10), True),  # yanked
            "5.2a1": days_ago(5),
            "5.1.4": days_ago(1),  # too fresh for a 3-day minimum age
        },
    )
    server.add_npm(
        "lodash",
        {"4.17.20": days_ago(900), "4.17.21": days_ago(800), "5.0.0": days_ago(20), "5.0.1": days_ago(15)},
        deprecated=("5.0.1",),
    )
    server.add_npm("@babel/core", {"7.24.0": days_ago(100), "7.25.2": days_ago(30)})
    yield server
    server.stop()


def pypi(server, **options):
    return pi.PyPIIndex(server.url, **{"timeout": 2, "policy": NO_RETRY, **options})


def npm(server, **options):
    return pi.NpmRegistry(server.url, **{"timeout": 2, "policy": NO_RETRY, **options})


def dep(name, spec, pinned=None, ecosystem="PyPI"):
    return Dependency(ecosystem, name, spec, pinned, "requirements.txt", 3)


def test_pypi_releases_read_upload_times_and_yanked_files(index):
    releases = {r.version: r for r in pypi(index).releases("django")}
    assert releases["5.1.3"].yanked and not releases["5.1.2"].yanked
    assert releases["5.1.2"].released_at == days_ago(40)
    assert index.calls("GET")[0].path == "/pypi/django/json"


def test_npm_scoped_names_and_deprecations(index):
    releases = {r.version: r for r in npm(index).releases("@babel/core")}
    assert set(releases) == {"7.24.0", "7.25.2"}
    assert index.calls("GET")[-1].path == "/@babel%2Fcore"
    lodash = {r.version: r for r in npm(index).releases("lodash")}
    assert lodash["5.0.1"].yanked and not lodash["5.0.0"].yanked


def test_latest_update_honours_age_yanks_and_prereleases(index):
    update = pi.latest_update(pypi(index), dep("django", "==4.2.15", "4.2.15"), min_release_age_days=3, now=NOW)
    assert (update.current, update.latest, update.kind) == ("4.2.15", "5.1.2", "major")
    assert update.released_at == days_ago(40) and update.file == "requirements.txt" and update.line == 3
    fresh = pi.latest_update(pypi(index), dep("django", "==4.2.15", "4.2.15"), min_release_age_days=0, now=NOW)
    assert fresh.latest == "5.1.4"
    pre = pi.latest_update(
        pypi(index), dep("django", "==4.2.15", "4.2.15"), min_release_age_days=3, allow_prerelease=True, now=NOW
    )
    assert pre.latest == "5.2a1"


def test_ignore_rules_pick_the_best_allowed_update(index):
    releases = pypi(index).releases("django")
    django = dep("django", "==4.2.15", "4.2.15")
    no_major = pi.choose_update(django, releases, NOW, 3, [pi.IgnoreRule.parse("django:major")])
    assert (no_major.latest, no_major.kind) == ("4.2.16", "patch")
    no_51 = pi.choose_update(django, releases, NOW, 3, [pi.IgnoreRule.parse("Django@>=5.1")])
    assert no_51.latest == "5.0.9"
    assert pi.choose_update(django, releases, NOW, 3, [pi.IgnoreRule.parse("django")]) is None
    other = pi.choose_update(django, releases, NOW, 3, [pi.IgnoreRule.parse("flask")])
    assert other.latest == "5.1.2"
    scoped = pi.IgnoreRule.parse("@babel/core@>=7.25:minor")
    assert (scoped.name, scoped.versions, scoped.kinds) == ("@babel/core", ">=7.25", frozenset({"minor"}))


def test_ranges_only_update_when_the_latest_falls_outside(index):
    releases = npm(index).releases("lodash")
    inside = pi.choose_update(dep("lodash", "^4.17.0", ecosystem="npm"), releases, NOW, 3)
    assert inside is not None and (inside.current, inside.latest) == ("4.17.21", "5.0.0")
    assert pi.choose_update(dep("lodash", ">=4", ecosystem="npm"), releases, NOW, 3) is None
    assert pi.choose_update(dep("lodash", "4.17.21", "4.17.21", "npm"), releases, NOW, 3).latest == "5.0.0"


def test_group_updates_respects_the_open_limit():
    def upd(name, ecosystem, kind):
        return pi.Update(ecosystem, name, "1.0.0", "2.0.0", NOW, kind, "f", 1)

    updates = [
        upd("a", "PyPI", "major"),
        upd("b", "PyPI", "patch"),
        upd("c", "npm", "minor"),
        upd("d", "npm", "patch"),
        upd("e", "PyPI", "patch"),
        upd("f", "PyPI", "minor"),
    ]
    plan = pi.group_updates(updates, max_groups=2, open_branches=("autopilot/deps/npm-minor", "feature/x"))
    assert [g.key for g in plan.already_open] == ["npm-minor"]
    assert [g.key for g in plan.to_open] == ["pypi-patch"]  # one slot left: patch first
    assert [g.key for g in plan.deferred] == ["npm-patch", "pypi-minor", "pypi-major"]
    assert [u.name for u in plan.to_open[0].updates] == ["b", "e"]
    assert plan.to_open[0].branch == "autopilot/deps/pypi-patch"
    assert plan.to_open[0].title == "Bump 2 PyPI dependencies (patch updates)"
    full = pi.group_updates(updates, max_groups=5, open_branches=[g.branch for g in plan.already_open + plan.to_open])
    assert len(full.to_open) == 3 and not full.deferred


def test_check_updates_records_unknown_packages_and_goes_on(index):
    indexes = {"PyPI": pypi(index), "npm": npm(index)}
    deps = [
        dep("django", "==4.2.15", "4.2.15"),
        dep("private-pkg", "==1.0", "1.0"),
        dep("lodash", "4.17.20", "4.17.20", "npm"),
        Dependency("Go", "x", "", None, "go.mod", 1),
        dep("django", ">=4", None),
    ]
    check = pi.check_updates(deps, indexes, min_release_age_days=3, now=NOW)
    assert [(u.name, u.latest) for u in check.updates] == [("django", "5.1.2"), ("lodash", "5.0.0")]
    assert [(d.name, type(e)) for d, e in check.failures] == [("private-pkg", NotFound)]
    assert [d.name for d in check.skipped] == ["x"]
    assert len(index.calls("GET", r"/pypi/django/json")) == 1  # one request per package


def test_npm_names_are_looked_up_as_declared(index):
    """The npm registry is case-sensitive: ``JSONStream`` is found under that name, ``jsonstream`` is another."""
    index.add_npm("JSONStream", {"1.3.1": days_ago(900), "1.3.5": days_ago(400)})
    declared = dependencies.parse_package_json('{"dependencies": {"JSONStream": "1.3.1"}}').dependencies
    check = pi.check_updates(declared, {"npm": npm(index)}, min_release_age_days=3, now=NOW)
    assert [(u.name, u.latest) for u in check.updates] == [("JSONStream", "1.3.5")]
    assert not check.failures and index.calls("GET", r"^/JSONStream$")


# --------------------------------------------------------------------------
# trouble
# --------------------------------------------------------------------------


def test_rate_limit_with_long_retry_after_is_raised_not_slept(index):
    slept = []
    client = pypi(index, policy=BackoffPolicy(initial=0.01, max_attempts=3), sleep=slept.append, max_rate_wait=30)
    index.fail_next(1, status=429, headers={"Retry-After": "120"})
    with pytest.raises(RateLimited) as info:
        client.releases("django")
    assert info.value.retry_after == 120 and slept == []
    assert "PyPI" in str(info.value) and "429" in str(info.value)


def test_short_retry_after_is_waited_then_answered(index):
    slept = []
    client = npm(index, policy=BackoffPolicy(initial=0.01, max_attempts=3), sleep=slept.append, max_rate_wait=30)
    index.fail_next(1, status=429, headers={"Retry-After": "2"})
    assert len(client.releases("lodash")) == 4
    assert slept == [2.0]


def test_forbidden_rate_limit_headers_count_as_rate_limiting(index):
    index.fail_next(1, status=403, headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "9999999999"})
    with pytest.raises(RateLimited) as info:
        pypi(index).releases("django")
    assert info.value.retry_after > 0


def test_server_errors_are_retried_then_reported(index):
    slept = []
    client = pypi(index, policy=BackoffPolicy(initial=0.5, jitter=0, max_attempts=2), sleep=slept.append)
    index.fail_next(2, status=502)
    assert len(client.releases("django")) == 7
    assert slept == [0.5, 1.0]
    index.fail_next(3, status=500)
    with pytest.raises(ServiceUnavailable, match="500"):
        client.releases("django")


def test_timeouts_and_unreachable_hosts(index):
    index.fail_next(1, status=200, delay=1.0)
    with pytest.raises(ServiceUnavailable, match="timed out"):
        pi.PyPIIndex(index.url, timeout=0.2, policy=NO_RETRY).releases("django")
    closed = FakePackageIndex().start()
    url = closed.url
    closed.stop()
    with pytest.raises(ServiceUnavailable, match="unreachable"):
        pi.PyPIIndex(url, timeout=1, policy=NO_RETRY).releases("django")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("<html>maintenance</html>", "not JSON"),
        ({"info": {}}, "no 'releases'"),
        ({"info": {}, "releases": {"1.0": ["not an object"]}}, "non-objects"),
    ],
)
def test_garbage_answers_are_bad_answers(index, body, message):
    index.fail_next(1, status=200, body=body)
    with pytest.raises(BadAnswer, match=message):
        pypi(index).releases("django")


def test_oversized_answers_are_refused(index):
    with pytest.raises(TooLarge):
        pypi(index, max_bytes=100).releases("django")


def test_check_updates_stops_with_partial_results_when_the_index_is_down(index):
    indexes = {"PyPI": pypi(index), "npm": npm(index)}
    index.fail_next(1, status=503, path_re=r"^/lodash$")
    deps = [dep("django", "==4.2.15", "4.2.15"), dep("lodash", "4.17.20", "4.17.20", "npm")]
    with pytest.raises(ServiceUnavailable) as info:
        pi.check_updates(deps, indexes, now=NOW)
    assert [u.name for u in info.value.partial.updates] == ["django"]


def test_check_updates_asks_several_packages_at_once_and_keeps_their_order(index):
    names = [f"pkg-{n:02d}" for n in range(20)]
    for name in names:
        index.add_pypi(name, {"1.0.0": days_ago(100), "1.1.0": days_ago(50)})
    index.answer_delay = 0.05  # a slow index: requests overlap when they are sent together
    deps = [dep(name, "==1.0.0", "1.0.0") for name in reversed(names)]
    check = pi.check_updates(deps, {"PyPI": pypi(index)}, now=NOW)
    assert [u.name for u in check.updates] == list(reversed(names)), "the dependencies' order, not the answers'"
    assert len(index.calls("GET", r"^/pypi/pkg-")) == 20, "one request per package"
    assert 1 < index.max_in_flight <= pi.FETCH_WORKERS
    index.max_in_flight = 0
    assert pi.check_updates(deps, {"PyPI": pypi(index)}, now=NOW, workers=1) == check
    assert index.max_in_flight == 1


def test_check_updates_stops_asking_once_the_index_refuses(index):
    names = [f"pkg-{n:02d}" for n in range(40)]
    for name in names:
        index.add_pypi(name, {"1.0.0": days_ago(100), "1.1.0": days_ago(50)})
    index.answer_delay = 0.05
    index.fail_next(1, status=429, headers={"Retry-After": "600"}, path_re=r"^/pypi/pkg-00/")
    deps = [dep(name, "==1.0.0", "1.0.0") for name in names]
    with pytest.raises(RateLimited) as info:
        pi.check_updates(deps, {"PyPI": pypi(index)}, now=NOW)
    assert info.value.partial.updates == (), "nothing before the package it could not check"
    assert len(index.calls("GET", r"^/pypi/pkg-")) < len(names), "no new request after the refusal"


# --------------------------------------------------------------------------
# policy invariants
# --------------------------------------------------------------------------

release = st.builds(
    lambda parts, age, yanked: pi.Release(".".join(map(str, parts)), NOW - timedelta(days=age), yanked),
    st.tuples(st.integers(0, 4), st.integers(0, 4), st.integers(0, 4)),
    st.integers(0, 30),
    st.booleans(),
)


@settings(max_examples=150)
@given(st.lists(release, min_size=1, max_size=15), st.integers(0, 20), st.sampled_from(["0.0.1", "1.2.0", "2.2.2"]))
def test_chosen_update_is_old_enough_not_yanked_newest_and_newer(releases, min_age, current):
    update = pi.choose_update(dep("pkg", f"=={current}", current), releases, NOW, min_age)
    eligible = [
        r
        for r in releases
        if not r.yanked
        and r.released_at <= NOW - timedelta(days=min_age)
        and tuple(map(int, r.version.split("."))) > tuple(map(int, current.split(".")))
    ]
    if not eligible:
        assert update is None
        return
    newest = max(eligible, key=lambda r: tuple(map(int, r.version.split("."))))
    assert update.latest == newest.version
    chosen = [r for r in releases if r.version == update.latest and not r.yanked]
    assert any(r.released_at <= NOW - timedelta(days=min_age) for r in chosen)


def test_update_scan_plans_pull_requests_under_the_open_limit(index):
    gh = ScanGitHub().start()
    try:
        gh.seed_repo(
            "acme/erp",
            {
                "requirements.txt": "Django==4.2.15\nprivate-pkg==1.0\n",
                "package.json": '{"dependencies": {"lodash": "4.17.20"}}',
            },
        )
        client = rest_api.connect(gh.url, "test-token", timeout=5, retries=0)
        indexes = {"PyPI": pypi(index), "npm": npm(index)}
        scan = scheduled.update_scan(client, "acme/erp", indexes, ignore=["django:major"], max_open=1, now=NOW)
        assert scan.status == "done"
        assert [(u.name, u.latest) for u in scan.check.updates] == [("django", "4.2.16"), ("lodash", "5.0.0")]
        assert [d.name for d, _ in scan.check.failures] == ["private-pkg"]
        assert [g.key for g in scan.plan.to_open] == ["pypi-patch"] and [g.key for g in scan.plan.deferred] == [
            "npm-major"
        ]
        update_prs.open_update_pr(client, "acme/erp", scan.plan.to_open[0])
        again = scheduled.update_scan(client, "acme/erp", indexes, ignore=["django:major"], max_open=1, now=NOW)
        assert [g.key for g in again.plan.already_open] == ["pypi-patch"] and not again.plan.to_open

        index.fail_next(1, status=503, path_re=r"^/lodash$")
        partial = scheduled.update_scan(client, "acme/erp", indexes, now=NOW)
        assert partial.status == "partial" and "503" in partial.reason
        assert [u.name for u in partial.check.updates] == ["django"]
    finally:
        gh.stop()
