import itertools
from datetime import datetime

import pytest

from autopilot.monitoring import paging
from autopilot.monitoring.paging import PagerDutyEvents, WebhookPager, pd_severity
from autopilot.testing.paging_server import FakePagerDuty
from autopilot.testing.probe_targets import ProbeTargets, closed_port_url

ROUTING_KEY = "R0UT1NGKEYabcdef0123456789abcdef"


@pytest.fixture(scope="module")
def pd_server():
    server = FakePagerDuty(routing_key=ROUTING_KEY).start()
    yield server
    server.stop()


@pytest.fixture
def pd(pd_server):
    pd_server.reset()
    return pd_server


def client(pd, **kwargs):
    return PagerDutyEvents(url=pd.events_url, routing_key=ROUTING_KEY, timeout=5, **kwargs)


def test_trigger_acknowledge_resolve(pd):
    pager = client(pd)
    result = pager.trigger(
        "health.target/3:down",
        "shop is down",
        "critical",
        "shop.example.com",
        {"checks": 3, "at": datetime(2026, 3, 2, 3, 0)},
    )
    assert result.ok and result.status_code == 202 and result.dedup_key == "health.target/3:down"
    event = pd.events[-1]
    assert event["event_action"] == "trigger" and event["routing_key"] == ROUTING_KEY
    assert event["payload"]["severity"] == "critical" and event["payload"]["source"] == "shop.example.com"
    assert event["payload"]["custom_details"] == {"checks": 3, "at": "2026-03-02 03:00:00"}
    assert event["payload"]["timestamp"].endswith("+00:00")
    assert pd.alerts["health.target/3:down"] == "triggered"
    assert pager.acknowledge("health.target/3:down").ok
    assert pd.alerts["health.target/3:down"] == "acknowledged"
    assert pager.resolve("health.target/3:down").ok
    assert pd.alerts["health.target/3:down"] == "resolved"
    assert [e["event_action"] for e in pd.events] == ["trigger", "acknowledge", "resolve"]
    assert "payload" not in pd.events[1]


def test_repeated_trigger_updates_the_same_alert(pd):
    pager = client(pd)
    pager.trigger("k1", "cpu high", "high", "db1")
    pager.acknowledge("k1")
    pager.trigger("k1", "cpu still high", "high", "db1")
    assert pd.alerts == {"k1": "acknowledged"}
    assert pd.events[0]["payload"]["severity"] == "error"


def test_severity_mapping():
    assert [pd_severity(s) for s in ("low", "medium", "high", "critical")] == ["info", "warning", "error", "critical"]
    assert pd_severity("warning") == "warning"
    with pytest.raises(ValueError):
        pd_severity("urgent")


def test_summary_is_capped_and_secrets_masked(pd):
    token = "ghp_" + "Q" * 36
    client(pd).trigger("k2", f"failure with {token} " + "x" * 2000, "low", "src")
    summary = pd.events[-1]["payload"]["summary"]
    assert len(summary) <= 1024 and token not in summary


@pytest.mark.parametrize("status", [429, 500, 503])
def test_throttling_and_server_errors_are_retryable(pd, status):
    body = FakePagerDuty.THROTTLED if status == 429 else {"message": f"oops {ROUTING_KEY}"}
    pd.fail_next(status=status, body=body, headers={"Retry-After": "30"})
    result = client(pd).trigger("k3", "s", "critical", "src")
    assert not result.ok and result.retryable and result.status_code == status
    assert result.retry_after == 30.0
    assert ROUTING_KEY not in result.detail
    assert not pd.events


def test_invalid_event_is_not_retryable(pd):
    result = PagerDutyEvents(url=pd.events_url, routing_key="wrong-key-0000000000000").trigger("k", "s", "high", "x")
    assert not result.ok and not result.retryable and result.status_code == 400
    assert "Invalid routing key" in result.detail and "wrong-key-0000000000000" not in result.detail


def test_unreachable_is_retryable_and_secret_free():
    url = closed_port_url("/v2/enqueue")
    result = PagerDutyEvents(url, ROUTING_KEY, timeout=2).trigger("k", "s", "high", "x")
    assert not result.ok and result.retryable and result.status_code is None
    assert result.detail == "PagerDuty unreachable: connection refused"
    assert ROUTING_KEY not in repr(PagerDutyEvents(url, ROUTING_KEY))


def test_hanging_endpoint_respects_the_timeout():
    targets = ProbeTargets().start()
    try:
        result = PagerDutyEvents(targets.url_for("/hang"), ROUTING_KEY, timeout=0.3).resolve("k")
    finally:
        targets.stop()
    assert not result.ok and result.retryable and "timed out" in result.detail


def test_client_validation(pd):
    with pytest.raises(ValueError):
        PagerDutyEvents(url=pd.events_url)
    with pytest.raises(ValueError):
        client(pd).resolve("")


# -- generic webhook ---------------------------------------------------------------------
def test_json_webhook_pager(pd):
    pager = WebhookPager(f"{pd.url}/hook", headers={"X-Api-Key": "hook-secret-123456"})
    assert pager.trigger("k9", "db slow", "medium", "db1", {"p95": 2300}).ok
    assert pager.resolve("k9").ok
    first, second = pd.webhooks
    assert first["event_action"] == "trigger" and first["severity"] == "warning" and first["dedup_key"] == "k9"
    assert first["custom_details"] == {"p95": 2300} and "routing_key" not in first
    assert second == {"event_action": "resolve", "dedup_key": "k9"}


def test_slack_style_webhook_pager(pd):
    url = f"{pd.url}/hook"
    pager = WebhookPager(url, style="slack")
    assert pager.trigger("k10", "shop down", "critical", "shop").ok
    assert pd.webhooks[-1] == {"text": "[CRITICAL] shop down (shop)"}
    pd.fail_next(status=404, body=b"no_service")
    failed = pager.acknowledge("k10")
    assert not failed.ok and not failed.retryable and failed.detail == "HTTP 404: no_service"
    with pytest.raises(ValueError):
        WebhookPager(url, style="teams")


def test_retry_delay_backs_off_honours_retry_after_and_gives_up():
    delays = [paging.retry_delay(n) for n in range(1, paging.MAX_TRIGGER_ATTEMPTS)]
    assert delays[:3] == [60, 120, 240]
    assert all(b >= a for a, b in itertools.pairwise(delays))
    assert max(delays) == paging.RETRY_BACKOFF.max_delay
    assert paging.retry_delay(paging.MAX_TRIGGER_ATTEMPTS) is None, "a page is not retried forever"
    assert paging.retry_delay(1, retry_after=300) == 300, "the server asks for longer"
    assert paging.retry_delay(1, retry_after=5) == 60
    assert paging.retry_delay(1, retry_after=10**9) == paging.MAX_RETRY_AFTER
    with pytest.raises(ValueError):
        paging.retry_delay(0)
