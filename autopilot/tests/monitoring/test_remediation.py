import dataclasses
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autopilot.monitoring import remediation
from autopilot.monitoring.alerts import KINDS
from autopilot.monitoring.remediation import Attempt, Policy, decide
from autopilot.testing.github_scans_server import ScanGitHub
from autopilot.testing.probe_targets import ProbeTargets, closed_port_url

NOW = datetime(2026, 3, 2, 12, 0, 0)
HOOK = Policy(action="http_hook")


def ago(seconds, succeeded=False):
    return Attempt(at=NOW - timedelta(seconds=seconds), succeeded=succeeded)


# -- decide -----------------------------------------------------------------------------
def test_no_action_is_never_allowed():
    decision = decide(Policy(action="none"), [], NOW)
    assert not decision.allowed and decision.not_before is None


def test_first_attempt_is_allowed():
    decision = decide(HOOK, [], NOW)
    assert decision.allowed and decision.breaker == "closed"
    assert not decision.requires_approval and not decision.dry_run


def test_dry_run_and_approval_are_passed_on():
    decision = decide(dataclasses.replace(HOOK, dry_run=True, requires_approval=True), [], NOW)
    assert decision.allowed and decision.dry_run and decision.requires_approval
    assert "approval" in decision.reason and "dry run" in decision.reason


def test_cooldown_after_any_attempt():
    decision = decide(HOOK, [ago(100, succeeded=True)], NOW)
    assert not decision.allowed and "cooldown" in decision.reason
    assert decision.not_before == NOW + timedelta(seconds=200)
    assert decide(HOOK, [ago(300, succeeded=True)], NOW).allowed


def test_rate_limit_per_sliding_hour():
    attempts = [ago(3000, True), ago(2000, True), ago(1000, True)]
    decision = decide(HOOK, attempts, NOW)
    assert not decision.allowed and "rate limit" in decision.reason
    assert decision.not_before == NOW + timedelta(seconds=600)  # the oldest leaves the hour
    assert decide(HOOK, attempts, NOW + timedelta(seconds=600)).allowed


def test_zero_per_hour_disables():
    assert not decide(dataclasses.replace(HOOK, max_attempts_per_hour=0), [], NOW).allowed


def test_exponential_backoff_after_failures():
    one = decide(HOOK, [ago(301)], NOW)
    assert one.allowed  # 1 failure: wait = cooldown (300 s)
    two = decide(HOOK, [ago(4000), ago(400)], NOW)
    assert not two.allowed and "backoff" in two.reason
    assert two.not_before == NOW + timedelta(seconds=200)  # 600 s after the last
    policy = dataclasses.replace(HOOK, cooldown_seconds=30, max_delay_seconds=100, breaker_failures=10)
    failures = [ago(7200 * (5 - i)) for i in range(5)]  # hours apart: no rate limit
    last_at = failures[-1].at
    assert decide(policy, failures, NOW).allowed
    capped = decide(policy, failures, last_at + timedelta(seconds=99))
    assert not capped.allowed and capped.not_before == last_at + timedelta(seconds=100)


def test_a_success_ends_the_failure_run():
    assert decide(HOOK, [ago(9000), ago(8000), ago(7000, True), ago(5000)], NOW).allowed


def test_circuit_breaker_opens_then_half_opens_then_closes():
    failures = [ago(7000), ago(6000), ago(400)]
    opened = decide(HOOK, failures, NOW)
    assert not opened.allowed and opened.breaker == "open" and "circuit open" in opened.reason
    assert opened.not_before == failures[-1].at + timedelta(seconds=3600)
    half = decide(HOOK, failures, opened.not_before)
    assert half.allowed and half.breaker == "half_open" and "trial" in half.reason
    trial_at = opened.not_before
    failed_trial = [*failures, Attempt(trial_at, False)]
    reopened = decide(HOOK, failed_trial, trial_at + timedelta(seconds=600))
    assert not reopened.allowed and reopened.breaker == "open"
    assert reopened.not_before == trial_at + timedelta(seconds=3600)
    closed = decide(HOOK, [*failures, Attempt(trial_at, True)], trial_at + timedelta(seconds=400))
    assert closed.allowed and closed.breaker == "closed"


def test_running_attempt_blocks_until_cooldown():
    assert "still running" in decide(HOOK, [ago(10, None)], NOW).reason
    # a run that never reported back stops blocking after the cooldown
    assert decide(HOOK, [ago(400, None)], NOW).allowed


def test_order_and_future_attempts_do_not_matter():
    attempts = [ago(400), ago(7000), ago(6000)]
    assert decide(HOOK, attempts, NOW) == decide(HOOK, sorted(attempts, key=lambda a: a.at), NOW)
    assert decide(HOOK, [Attempt(NOW + timedelta(hours=1), False)], NOW).allowed


def test_policy_validation():
    for kwargs in ({"action": "reboot"}, {"breaker_failures": 0}, {"backoff_base": 0.5}, {"cooldown_seconds": -1}):
        with pytest.raises(ValueError):
            Policy(**kwargs)


@settings(max_examples=40, deadline=None)
@given(
    outcomes=st.lists(st.sampled_from([True, False]), min_size=1, max_size=30),
    step=st.sampled_from([60, 120, 300, 900]),
    per_hour=st.integers(1, 5),
)
def test_acting_whenever_allowed_respects_every_limit(outcomes, step, per_hour):
    policy = Policy(action="http_hook", max_attempts_per_hour=per_hour, cooldown_seconds=300, breaker_failures=3)
    attempts, now, outcome_iter = [], NOW, iter(outcomes)
    for _tick in range(200):
        now += timedelta(seconds=step)
        decision = decide(policy, attempts, now)
        if not decision.allowed:
            assert decision.not_before > now
            continue
        outcome = next(outcome_iter, None)
        if outcome is None:
            break
        if attempts:
            assert now - attempts[-1].at >= timedelta(seconds=300)
        attempts.append(Attempt(now, outcome))
        in_hour = [a for a in attempts if a.at > now - timedelta(hours=1)]
        assert len(in_hour) <= per_hour
        run = 0
        for attempt in reversed(attempts[:-1]):
            if attempt.succeeded:
                break
            run += 1
        if run >= 3:  # a trial through a half-open circuit waited max_delay
            assert now - attempts[-2].at >= timedelta(seconds=3600)


# -- seed actions -----------------------------------------------------------------------
def test_seed_actions_cover_every_alert_kind():
    assert set(remediation.SEED_ACTIONS) == set(KINDS)
    assert [a.name for a in remediation.SEED_ACTIONS["down"]] == ["restart_service", "health_check"]
    assert remediation.SEED_ACTIONS["memory"][0].name == "clear_caches"
    assert remediation.SEED_ACTIONS["slow"][0].name == "scale_up"
    assert remediation.SEED_ACTIONS["cpu"][0].destructive
    with pytest.raises(TypeError):
        remediation.SEED_ACTIONS["down"] = ()


# -- executors --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def hooks():
    server = ProbeTargets().start()
    yield server
    server.stop()


def test_http_hook_posts_json(hooks):
    outcome = remediation.run_http_hook(
        hooks.url_for("/hook?token=hooktoken123456"),
        payload={"action": "restart", "target": "shop"},
        headers={"Authorization": "Bearer s3cr3t-header-value-xyz"},
    )
    assert outcome.succeeded and outcome.status_code == 200 and outcome.duration_ms > 0
    call = hooks.calls("POST", "^/hook$")[-1]
    assert call.json() == {"action": "restart", "target": "shop"}
    assert call.headers["content-type"] == "application/json"
    text = " ".join((outcome.detail, outcome.request, outcome.response))
    assert "s3cr3t-header-value-xyz" not in text and "hooktoken123456" not in text
    assert '"action": "restart"' in outcome.request and "token=REDACTED" in outcome.request
    assert '"ok": true' in outcome.response


def test_http_hook_failure_status(hooks):
    outcome = remediation.run_http_hook(hooks.url_for("/hook/fail"), payload={})
    assert not outcome.succeeded and outcome.status_code == 500
    assert "restart failed" in outcome.response and "500" in outcome.detail


def test_http_hook_unreachable_and_hanging(hooks):
    refused = remediation.run_http_hook(closed_port_url("/hook"), payload={})
    assert not refused.succeeded and refused.status_code is None and "connection refused" in refused.detail
    hang = remediation.run_http_hook(hooks.url_for("/hang"), method="GET", timeout=0.3)
    assert not hang.succeeded and "timed out" in hang.detail


def test_http_hook_does_not_follow_redirects(hooks):
    outcome = remediation.run_http_hook(hooks.url_for("/redirect/1"), method="GET")
    assert not outcome.succeeded and outcome.status_code == 302


@pytest.fixture(scope="module")
def scan_github():
    server = ScanGitHub(token="ghp_" + "a" * 36).start()
    server.seed_repo("acme/shop", {"README.md": "hi"})
    server.add_workflow("acme/shop", path=".github/workflows/restart.yml", name="Restart")
    yield server
    server.stop()


def test_github_dispatch(scan_github):
    outcome = remediation.run_github_dispatch(
        scan_github.url, scan_github.token, "acme/shop", "restart.yml", "main", {"service": "web", "force": True}, 5
    )
    assert outcome.succeeded and outcome.status_code == 204, outcome.detail
    assert scan_github.dispatches[-1][2:] == ("main", {"service": "web", "force": True})
    assert scan_github.token not in outcome.request + outcome.detail


def test_github_dispatch_failures_are_outcomes(scan_github):
    missing = remediation.run_github_dispatch(scan_github.url, scan_github.token, "acme/shop", "nope.yml", "main")
    assert not missing.succeeded and missing.status_code == 404
    bad_ref = remediation.run_github_dispatch(scan_github.url, scan_github.token, "acme/shop", "restart.yml", "zzz")
    assert not bad_ref.succeeded and bad_ref.status_code == 422
    wrong_token = "ghp_" + "b" * 36
    denied = remediation.run_github_dispatch(scan_github.url, wrong_token, "acme/shop", "restart.yml", "main")
    assert not denied.succeeded and denied.status_code == 401 and wrong_token not in denied.detail
    too_many = remediation.run_github_dispatch(
        scan_github.url, scan_github.token, "acme/shop", "restart.yml", "main", {f"k{i}": i for i in range(30)}
    )
    assert not too_many.succeeded and "invalid dispatch" in too_many.detail
