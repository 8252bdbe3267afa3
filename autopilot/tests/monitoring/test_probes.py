import socket
import threading
import time
import tracemalloc
import types
from datetime import datetime, timedelta, timezone

import pytest
import requests
import urllib3

from autopilot.monitoring import host_metrics, probes
from autopilot.monitoring.probes import ProbeSpec, Sample
from autopilot.testing.http_server import Response
from autopilot.testing.probe_targets import ProbeTargets, closed_port_url

TIMEOUT = 0.5


@pytest.fixture(scope="module")
def targets():
    server = ProbeTargets().start()
    yield server
    server.stop()


def check(targets, path, **kwargs):
    return probes.probe(ProbeSpec(url=targets.url_for(path), **kwargs))


def timed(function, *args, **kwargs):
    started = time.monotonic()
    result = function(*args, **kwargs)
    return result, time.monotonic() - started


# -- healthy answers ------------------------------------------------------------
def test_healthy_target(targets):
    sample = check(targets, "/ok", expected_text="healthy")
    assert sample.up and sample.status_code == 200 and sample.error is None
    assert sample.response_ms > 0
    assert sample.checked_at.tzinfo is None
    assert abs(sample.checked_at - datetime.now(timezone.utc).replace(tzinfo=None)) < timedelta(seconds=5)


def test_head_method(targets):
    assert check(targets, "/ok", method="head").up


def test_expected_text_missing_is_down(targets):
    sample = check(targets, "/ok", expected_text="maintenance page")
    assert not sample.up and sample.status_code == 200
    assert sample.error == "expected text not found in the answer"


def test_unexpected_status_is_down_with_its_code(targets):
    sample = check(targets, "/status/503")
    assert not sample.up and sample.status_code == 503
    assert sample.error == "unexpected status 503 Service Unavailable"


def test_expected_statuses_accept_listed_codes(targets):
    assert check(targets, "/status/503", expected_statuses=(503,)).up
    assert check(targets, "/status/204", expected_statuses="200-299").up
    # empty: any status below 400
    assert check(targets, "/status/302", expected_statuses=(), follow_redirects=False).up
    assert not check(targets, "/status/404", expected_statuses=()).up


def test_parse_statuses():
    assert probes.parse_statuses("200, 204 300-302") == (200, 204, 300, 301, 302)
    assert probes.parse_statuses("") == ()
    for bad in ("abc", "99", "500-400", "200-700"):
        with pytest.raises(ValueError):
            probes.parse_statuses(bad)


def test_spec_validation():
    with pytest.raises(ValueError):
        ProbeSpec(url="http://x", timeout=0)
    with pytest.raises(ValueError):
        ProbeSpec(url=" ")
    assert ProbeSpec(url="http://x", method="post").method == "POST"


def test_slow_answer_is_measured(targets):
    sample = check(targets, "/slow/300", timeout=5)
    assert sample.up and sample.response_ms >= 290


def test_redirects_are_followed_up_to_a_limit(targets):
    assert check(targets, "/redirect/3").up
    sample = check(targets, "/redirect/9")
    assert not sample.up and sample.error == f"more than {probes.MAX_REDIRECTS} redirects"
    unfollowed = check(targets, "/redirect/1", follow_redirects=False)
    assert not unfollowed.up and unfollowed.status_code == 302


def test_credentials_are_dropped_when_a_redirect_leaves_the_origin(targets):
    other = ProbeTargets().start()
    try:
        targets.route("GET", r"/away", lambda r: Response(302, b"", {"Location": other.url_for("/ok")}))
        headers = {"Authorization": "Bearer abcdefghijklmnop123456", "X-Probe": "1"}
        assert check(targets, "/away", headers=headers).up
        [seen] = other.calls("GET", "/ok")
        assert "authorization" not in seen.headers and seen.headers["x-probe"] == "1"
    finally:
        other.stop()


def test_flapping_target_alternates(targets):
    spec = ProbeSpec(url=targets.url_for("/flapping/UUD?id=probes"))
    assert [probes.probe(spec).up for _ in range(6)] == [True, True, False, True, True, False]


# -- hostile servers: the deadline holds -------------------------------------------
@pytest.mark.parametrize("path", ["/hang", "/trickle?interval=0.05", "/trickle_headers?interval=0.05"])
def test_deadline_holds_against_hanging_and_trickling_servers(targets, path):
    sample, elapsed = timed(check, targets, path, timeout=TIMEOUT)
    assert not sample.up
    assert sample.error == f"timed out after {TIMEOUT:g}s"
    assert elapsed < TIMEOUT * 3


@pytest.mark.parametrize("path", ["/hang", "/trickle?interval=0.05"])
def test_deadline_holds_with_a_callers_plain_session(targets, path):
    with requests.Session() as session:
        sample, elapsed = timed(probes.probe, ProbeSpec(url=targets.url_for(path), timeout=TIMEOUT), session)
    assert not sample.up and "timed out" in sample.error
    assert elapsed < TIMEOUT * 3


def test_huge_body_is_capped_and_not_held_in_memory(targets):
    spec = ProbeSpec(url=targets.url_for("/huge"), timeout=5, max_body_bytes=256 * 1024, expected_text="needle")
    tracemalloc.start()
    try:
        sample, elapsed = timed(probes.probe, spec)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert not sample.up and sample.status_code == 200
    assert sample.error == "expected text not found in the first 262144 bytes of the answer"
    assert peak < 4 * 1024 * 1024
    assert elapsed < 5


def test_huge_body_without_expectation_is_up(targets):
    sample = check(targets, "/huge", timeout=5)
    assert sample.up and sample.status_code == 200


# -- network failures become short clear errors -------------------------------------
def test_connection_refused():
    sample = probes.probe(ProbeSpec(url=closed_port_url(), timeout=2))
    assert not sample.up and sample.error == "connection refused" and sample.status_code is None


def test_connection_reset(targets):
    sample = check(targets, "/reset")
    assert not sample.up
    assert sample.error in ("connection reset by peer", "connection closed without an answer")


def test_tls_error_against_a_plain_http_port(targets):
    port = targets.url.rsplit(":", 1)[1]
    sample = probes.probe(ProbeSpec(url=f"https://127.0.0.1:{port}/ok", timeout=2))
    assert not sample.up and sample.error.startswith("TLS error: ")


def test_invalid_url():
    assert probes.probe(ProbeSpec(url="ftp://example.invalid/")).error == "invalid URL"


def _dns_failure():
    try:
        try:
            raise socket.gaierror(-2, "Name or service not known")
        except socket.gaierror as error:
            raise urllib3.exceptions.NewConnectionError(None, "Failed to establish a new connection") from error
    except urllib3.exceptions.NewConnectionError as error:
        return requests.exceptions.ConnectionError(error)


def test_dns_failure_is_described_with_the_host_only():
    # built, not provoked: a real lookup would query a name server outside this machine
    message = probes.describe_exception(_dns_failure(), "http://bob:pw123456@db.internal.example/x?token=abc")
    assert message == "DNS lookup failed for db.internal.example"


def test_errors_never_show_url_secrets():
    url = closed_port_url("/health?token=tok_abcdef123456&page=2").replace("//", "//admin:hunter2secret@")
    sample = probes.probe(ProbeSpec(url=url, timeout=2))
    assert not sample.up
    for secret in ("hunter2secret", "tok_abcdef123456", "admin"):
        assert secret not in sample.error


def test_redact_url():
    url = "https://admin:pw@host.example:8443/p/a?access_token=abc&page=2&api_key=k#frag"
    assert probes.redact_url(url) == "https://host.example:8443/p/a?access_token=REDACTED&page=2&api_key=REDACTED"
    assert probes.redact_url("http://[::1]:80/") == "http://[::1]:80/"
    assert "secret123" not in probes.scrub("failed for http://u:secret123@h/", "http://u:secret123@h/")


# -- metrics ------------------------------------------------------------------------
def test_json_metrics_are_read(targets):
    targets.metrics = {"cpu_percent": 91.5, "memory_percent": 33.0}
    sample = check(targets, "/ok", metrics_url=targets.url_for("/metrics/json"))
    assert sample.up and sample.error is None
    assert (sample.cpu_percent, sample.memory_percent) == (91.5, 33.0)


def test_node_exporter_cpu_needs_two_scrapes(targets):
    state = host_metrics.MetricsState()
    spec = ProbeSpec(url=targets.url_for("/ok"), metrics_url=targets.url_for("/metrics/prom"))
    first = probes.probe(spec, metrics_state=state, metrics_key="t1")
    assert first.cpu_percent is None and first.memory_percent == pytest.approx(62.5)
    targets.advance_cpu(busy_seconds=45, idle_seconds=55)
    second = probes.probe(spec, metrics_state=state, metrics_key="t1")
    assert second.cpu_percent == pytest.approx(45.0)
    assert state.get("t1") is not None


def test_a_failed_scrape_is_a_failed_check_with_its_reason(targets):
    garbage = check(targets, "/ok", metrics_url=targets.url_for("/metrics/garbage"))
    assert not garbage.up and garbage.cpu_percent is None and garbage.memory_percent is None
    assert garbage.error == "metrics: the metrics answer is neither JSON nor Prometheus text"
    refused = check(targets, "/ok", metrics_url=closed_port_url("/metrics"))
    assert not refused.up and refused.error == "metrics: connection refused"
    assert refused.status_code == 200, "the service itself answered"
    broken = check(targets, "/status/500", metrics_url=targets.url_for("/status/404"))
    assert not broken.up and broken.error == "unexpected status 500 Internal Server Error; metrics: HTTP 404"


# -- many at once ---------------------------------------------------------------------
def test_probe_many_bounds_hanging_targets(targets):
    specs = {}
    for index in range(16):
        path = "/hang" if index % 4 == 0 else ("/status/500" if index % 4 == 1 else "/ok")
        specs[f"t{index}"] = ProbeSpec(url=targets.url_for(path), timeout=TIMEOUT)
    specs["refused"] = ProbeSpec(url=closed_port_url(), timeout=TIMEOUT)
    results, elapsed = timed(probes.probe_many, specs, max_workers=4)
    assert set(results) == set(specs)
    assert all(isinstance(sample, Sample) for sample in results.values())
    assert [k for k, s in results.items() if s.up] == [f"t{i}" for i in range(16) if i % 4 >= 2]
    assert results["t0"].error == f"timed out after {TIMEOUT:g}s"
    assert results["refused"].error == "connection refused"
    # 4 hangs on 4 workers: about one timeout, far below a sequential run
    assert elapsed < TIMEOUT * 4


def test_probe_many_turns_an_unexpected_exception_into_a_down_sample(targets):
    specs = {"good": ProbeSpec(url=targets.url_for("/ok")), "broken": None}
    results = probes.probe_many(specs, max_workers=2)
    assert results["good"].up
    assert not results["broken"].up and results["broken"].error == "probe failed: AttributeError"


def test_probe_many_uses_and_closes_the_session_factory(targets):
    made = []

    def factory():
        session = probes.new_session()
        made.append(session)
        return session

    results = probes.probe_many({i: ProbeSpec(url=targets.url_for("/ok")) for i in range(6)}, 3, factory)
    assert all(s.up for s in results.values())
    assert 1 <= len(made) <= 3
    assert probes.probe_many({}) == {}


def test_target_headers_reach_the_metrics_url_only_on_the_same_origin(targets):
    other = ProbeTargets().start()
    try:
        headers = {"Authorization": "Bearer target-only-credential-123"}
        same = check(targets, "/ok", headers=headers, metrics_url=targets.url_for("/metrics/json"))
        away = check(targets, "/ok", headers=headers, metrics_url=other.url_for("/metrics/json"))
        assert same.cpu_percent is not None and away.cpu_percent is not None
        assert targets.calls("GET", "/metrics/json")[-1].headers["authorization"].endswith("123")
        assert "authorization" not in other.calls("GET", "/metrics/json")[-1].headers
    finally:
        other.stop()


def test_every_check_opens_its_own_connection(targets):
    # with "Connection: close" the server closes each socket after answering; a pooled socket reused
    # by the next check (or redirect hop) would fail it with a reset
    session = probes.new_session()
    headers = {"Connection": "close"}
    specs = [ProbeSpec(url=targets.url_for(p), headers=headers) for p in ("/redirect/2", "/ok", "/status/204")]
    specs[2] = ProbeSpec(url=targets.url_for("/status/204"), headers=headers, expected_statuses=(204,))
    results = [probes.probe(specs[i % 3], session) for i in range(60)]
    session.close()
    assert [s.error for s in results if not s.up] == []


def cut(peer):
    """Whether the other end of ``peer`` was shut down (``peer`` reads end of file)."""
    peer.setblocking(False)
    try:
        return peer.recv(1) == b""
    except BlockingIOError:
        return False


def test_a_late_watchdog_never_cuts_the_next_check_on_the_same_connection(monkeypatch):
    """The watchdog may run late; once a check's deadline scope is closed, its connection object
    (which urllib3 reconnects for the next check) must not be shut down any more."""
    entered, go, closed = threading.Event(), threading.Event(), threading.Event()
    real_shutdown = probes._shutdown

    def slow_shutdown(conn):
        entered.set()
        go.wait(5)
        real_shutdown(conn)

    monkeypatch.setattr(probes, "_shutdown", slow_shutdown)
    old_ours, old_peer = socket.socketpair()
    new_ours, new_peer = socket.socketpair()
    conn = types.SimpleNamespace(sock=old_ours)
    scope = probes._Scope(time.monotonic())
    scope.watch(conn)
    watchdog = threading.Thread(target=scope.expire)
    watchdog.start()
    assert entered.wait(5)

    def end_check_and_reconnect():
        scope.close()
        conn.sock = new_ours  # the pool's connection object, reconnected for the next check
        closed.set()

    ending = threading.Thread(target=end_check_and_reconnect)
    ending.start()
    closed.wait(0.3)  # with the lock released before the shutdown, the check ends at once
    go.set()
    watchdog.join(5)
    ending.join(5)
    try:
        assert cut(old_peer), "the check's own socket is cut at its deadline"
        assert not cut(new_peer), "the next check's socket is untouched"
    finally:
        for sock in (old_ours, old_peer, new_ours, new_peer):
            sock.close()
