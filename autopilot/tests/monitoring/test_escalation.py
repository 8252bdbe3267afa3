from datetime import datetime, timedelta

import pytest
import requests
from github import GithubException
from hypothesis import given, settings
from hypothesis import strategies as st

from autopilot.monitoring import escalation
from autopilot.monitoring.escalation import LADDER, github_issue_body, next_step

OPENED = datetime(2026, 3, 2, 3, 0, 0)


def at(minutes):
    return OPENED + timedelta(minutes=minutes)


def climb(severity, now, remediation_failed=False, acknowledged=False, can_heal=True, delays=None):
    """Take every step due at ``now``, as the cron does; returns the steps taken."""
    taken, current = [], None
    while True:
        step, due = next_step(
            current,
            severity,
            OPENED,
            now,
            remediation_failed,
            acknowledged,
            delays or escalation.DEFAULT_DELAYS,
            can_heal=can_heal,
        )
        if step is None or due > now:
            return taken
        taken.append(step)
        current = step


def test_ladder_and_steps():
    assert LADDER == ("auto_heal", "github_issue", "on_call", "page")
    assert set(escalation.STEPS) == set(LADDER)


def test_auto_heal_comes_first_and_at_once():
    assert next_step(None, "high", OPENED, OPENED, False, False) == ("auto_heal", OPENED)


def test_default_timing_for_high():
    assert climb("high", at(9)) == ["auto_heal"]
    assert climb("high", at(10)) == ["auto_heal", "github_issue"]
    assert climb("high", at(25)) == ["auto_heal", "github_issue", "on_call"]
    assert climb("high", at(600)) == ["auto_heal", "github_issue", "on_call"]  # high never pages


def test_severity_caps_the_ladder():
    assert climb("low", at(10_000)) == ["auto_heal", "github_issue"]
    assert climb("medium", at(10_000)) == ["auto_heal", "github_issue", "on_call"]
    assert climb("critical", at(10_000)) == list(LADDER)


def test_critical_skips_waiting():
    assert climb("critical", at(4)) == ["auto_heal"]
    assert climb("critical", at(5)) == list(LADDER)  # heal had 5 minutes
    assert climb("critical", at(0), remediation_failed=True) == list(LADDER)


def test_failed_heal_opens_the_issue_at_once():
    assert climb("medium", at(1), remediation_failed=True) == ["auto_heal", "github_issue"]
    step, due = next_step("auto_heal", "medium", OPENED, at(1), True, False)
    assert (step, due) == ("github_issue", at(1))


def test_nothing_to_heal_skips_auto_heal():
    assert climb("medium", at(0), can_heal=False) == ["github_issue"]
    assert climb("critical", at(0), can_heal=False) == ["github_issue", "on_call", "page"]


def test_acknowledged_stops_climbing():
    assert next_step(None, "critical", OPENED, at(60), True, True) == (None, None)
    assert next_step("on_call", "critical", OPENED, at(60), True, True) == (None, None)


def test_severity_raised_later_climbs_on():
    assert next_step("on_call", "high", OPENED, at(60), False, False) == (None, None)
    step, due = next_step("on_call", "critical", OPENED, at(60), False, False)
    assert step == "page" and due <= at(60)


def test_custom_delays_are_per_step_and_counted_from_opening():
    delays = {"auto_heal": 60, "github_issue": 60, "on_call": 60, "page": 60}
    assert next_step("github_issue", "high", OPENED, at(0), False, False, delays) == ("on_call", at(3))
    assert climb("high", at(2), delays=delays) == ["auto_heal", "github_issue"]
    # a missing entry takes its default
    assert next_step(None, "high", OPENED, at(0), False, False, {"github_issue": 5})[1] == OPENED


def test_invalid_arguments():
    with pytest.raises(ValueError):
        next_step("email", "high", OPENED, OPENED, False, False)
    with pytest.raises(ValueError):
        next_step(None, "urgent", OPENED, OPENED, False, False)


@settings(max_examples=80, deadline=None)
@given(
    current=st.sampled_from([None, *LADDER]),
    severity=st.sampled_from(escalation.SEVERITIES),
    minutes=st.integers(0, 600),
    failed=st.booleans(),
    acknowledged=st.booleans(),
    can_heal=st.booleans(),
)
def test_escalation_invariants(current, severity, minutes, failed, acknowledged, can_heal):
    step, due = next_step(current, severity, OPENED, at(minutes), failed, acknowledged, can_heal=can_heal)
    if acknowledged:
        assert (step, due) == (None, None)
        return
    if step is None:
        assert due is None
        return
    position = LADDER.index(step)
    assert position == (LADDER.index(current) + 1 if current else (0 if can_heal else 1))
    assert position <= LADDER.index(escalation.MAX_STEP[severity])
    assert step != "page" or severity == "critical"
    assert due >= OPENED
    if severity == "critical":
        assert due <= OPENED + timedelta(seconds=escalation.CRITICAL_MAX_WAIT)


# -- the GitHub issue text ----------------------------------------------------------------
INCIDENT = {
    "reference": "INC0042",
    "name": "shop.example.com is down",
    "severity": "critical",
    "state": "open",
    "source": "health",
    "kind": "down",
    "target": "Shop *front* [prod] @ops-team",
    "url": "https://admin:hunter2pass@shop.example.com/health?token=abcdef123456",
    "dedup_key": "ops.health.target/3:down --> <script>",
    "first_seen": datetime(2026, 3, 2, 3, 0),
    "last_seen": datetime(2026, 3, 2, 3, 15),
    "count": 4,
    "message": "down: 3 consecutive failed checks",
    "error": "boom ``` injected\nAuthorization: token ghp_" + "Z" * 36,
    "remediation": [{"at": datetime(2026, 3, 2, 3, 1), "action": "restart_service", "state": "failed"}],
    "link": "https://odoo.example.com/odoo/action-42/3",
}


def test_issue_title():
    title, _body = github_issue_body(INCIDENT)
    assert title.startswith("[critical] INC0042 ")
    assert "\n" not in title and len(title) <= 256
    long_title, _ = github_issue_body({"name": "x\n" * 400, "severity": "low"})
    assert "\n" not in long_title and len(long_title) <= 256


def test_issue_body_is_markdown_safe_and_secret_free():
    _title, body = github_issue_body(INCIDENT)
    assert "hunter2pass" not in body and "abcdef123456" not in body and "Z" * 36 not in body
    assert "token=REDACTED" in body
    assert "@\u200bops" in body  # no mention
    assert r"Shop \*front\* \[prod\]" in body
    # the fence is longer than any backtick run of the error text
    assert "````text\nboom ``` injected" in body
    assert "<script>" not in body and "-->" not in body.split("<!--")[1].split("-->")[0]
    assert body.rstrip().endswith("-->")
    assert "[Open the incident in Odoo](https://odoo.example.com/odoo/action-42/3)" in body
    assert "restart\\_service" in body


def test_issue_body_without_optional_fields():
    title, body = github_issue_body({})
    assert title == "[unknown] incident"
    assert "ops_autopilot" in body and "<!--" not in body


def test_issue_body_is_capped():
    _title, body = github_issue_body({"error": "e" * 200_000, "message": "m" * 200_000})
    assert len(body) <= escalation.BODY_MAX + 100


# -- recurrence: updating the issue ---------------------------------------------------------
def test_issue_update_needs_a_recurrence():
    assert not escalation.issue_update_due(3, 3, at(0), at(600))
    assert not escalation.issue_update_due(5, 4, None, at(600)), "a count never goes back"


def test_issue_update_is_throttled_unless_severity_rose():
    minimum = escalation.ISSUE_UPDATE_MIN_SECONDS
    just_before = OPENED + timedelta(seconds=minimum - 1)
    assert not escalation.issue_update_due(1, 9, OPENED, just_before)
    assert escalation.issue_update_due(1, 9, OPENED, OPENED + timedelta(seconds=minimum))
    assert escalation.issue_update_due(1, 2, OPENED, at(1), severity_raised=True)
    assert escalation.issue_update_due(1, 2, None, at(1)), "never written: write it"
    assert escalation.issue_update_due(1, 2, OPENED, at(1), min_interval=60)


@settings(max_examples=60, deadline=None)
@given(
    repeats=st.lists(st.integers(0, 30), min_size=1, max_size=40),
    interval=st.integers(1, 1800),
)
def test_issue_updates_per_recurring_incident_are_bounded(repeats, interval):
    """Whatever the rhythm of repeats, updates are at least ``interval`` apart and the last repeat is written."""
    count, synced_count, synced_at, now, writes = 1, 1, OPENED, OPENED, []
    for gap in repeats:
        now += timedelta(minutes=gap)
        count += 1
        if escalation.issue_update_due(synced_count, count, synced_at, now, min_interval=interval):
            writes.append(now)
            synced_count, synced_at = count, now
    assert all((b - a).total_seconds() >= interval for a, b in zip([OPENED, *writes], writes, strict=False))
    now += timedelta(seconds=interval)
    assert escalation.issue_update_due(synced_count, count, synced_at, now, min_interval=interval) == (
        synced_count < count
    )


TOKEN = "ghp_0123456789abcdefABCDEF0123456789abcd"


@pytest.mark.parametrize(
    ("exc", "retry_after"),
    [
        (GithubException(502, {"message": "Bad gateway"}, {}), None),
        (GithubException(503, None, {}), None),
        (GithubException(429, {"message": "slow down"}, {"Retry-After": "120"}), 120),
        (GithubException(403, {"message": "You have exceeded a secondary rate limit"}, {"Retry-After": "90"}), 90),
        # GitHub: a secondary limit that names no time means at least a minute (autopilot.github.rest_api)
        (GithubException(403, {"message": "You have exceeded a secondary rate limit"}, {}), 60),
        (requests.Timeout("read timed out"), None),
        (requests.ConnectionError("refused"), None),
    ],
)
def test_issue_failure_passing_reasons_are_retried(exc, retry_after):
    failure = escalation.issue_failure(exc)
    assert failure.transient
    assert failure.retry_after == retry_after
    assert failure.reason


def test_issue_failure_primary_rate_limit_waits_for_the_reset():
    reset = int(datetime.now().timestamp()) + 600
    exc = GithubException(
        403, {"message": "API rate limit exceeded"}, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)}
    )
    failure = escalation.issue_failure(exc)
    assert failure.transient
    assert 500 < failure.retry_after <= 600


@pytest.mark.parametrize(
    ("status", "message"),
    [(404, "Not Found"), (401, "Bad credentials"), (403, "Resource not accessible by integration"), (422, "Invalid")],
)
def test_issue_failure_permanent_reasons_are_not_retried(status, message):
    failure = escalation.issue_failure(GithubException(status, {"message": message}, {}))
    assert not failure.transient
    assert failure.retry_after is None
    assert str(status) in failure.reason


def test_issue_failure_reason_is_masked():
    exc = GithubException(502, {"message": f"proxy echoed {TOKEN} and s3cr3t-value"}, {})
    reason = escalation.issue_failure(exc, known_secrets=["s3cr3t-value", None]).reason
    assert TOKEN not in reason
    assert "s3cr3t-value" not in reason
    assert "502" in reason


def test_issue_retry_delay_backs_off_honours_retry_after_and_is_bounded():
    delays = [escalation.issue_retry_delay(n) for n in range(1, 8)]
    assert delays[:3] == [60, 120, 240]
    assert max(delays) == escalation.ISSUE_RETRY_BACKOFF.max_delay
    assert escalation.issue_retry_delay(8) is None, "8 tries in all, then the failure stays recorded"
    assert escalation.issue_retry_delay(1, retry_after=300) == 300
    assert escalation.issue_retry_delay(1, retry_after=10**9) == escalation.ISSUE_MAX_RETRY_AFTER
