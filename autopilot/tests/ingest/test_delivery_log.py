"""GitHub's delivery log as the second copy: what is resent, and when a delivery may be acknowledged early."""

from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from autopilot.github.events import HookDelivery
from autopilot.ingest import delivery_log

NOW = datetime(2026, 12, 5, 12, 0, 0)


def attempt(guid, minutes_ago, status, delivery_id=None):
    return HookDelivery(
        delivery_id=delivery_id or int(minutes_ago * 1000) + status,
        guid=guid,
        event="push",
        delivered_at=NOW - timedelta(minutes=minutes_ago),
        status_code=status,
        redelivery=False,
    )


def resend(attempts, known=(), since_minutes=60, kept_days=None):
    kept_since = NOW - timedelta(days=kept_days) if kept_days is not None else None
    chosen = delivery_log.deliveries_to_resend(attempts, NOW - timedelta(minutes=since_minutes), set(known), kept_since)
    return [a.guid for a in chosen]


def test_a_delivery_acknowledged_and_then_lost_is_resent():
    # what a PostgreSQL crash after an early acknowledgement, or a restored backup, leaves behind
    assert resend([attempt("lost-after-202", 5, 202)]) == ["lost-after-202"]


def test_a_delivery_odoo_holds_is_never_resent_whatever_github_recorded():
    assert resend([attempt("g", 5, 202), attempt("h", 4, 502), attempt("i", 3, 0)], known={"g", "h", "i"}) == []


def test_refused_and_unanswered_deliveries_are_resent_once_with_their_newest_attempt():
    attempts = [attempt("g", 9, 502, delivery_id=1), attempt("g", 7, 0, delivery_id=2), attempt("h", 8, 401)]
    chosen = delivery_log.deliveries_to_resend(attempts, NOW - timedelta(hours=1), set())
    assert [(a.guid, a.delivery_id) for a in chosen] == [("h", attempt("h", 8, 401).delivery_id), ("g", 2)]


def test_attempts_before_the_window_are_left_alone():
    assert resend([attempt("old", 90, 502), attempt("new", 30, 502)], since_minutes=60) == ["new"]


def test_a_delivery_purged_after_its_retention_is_not_lost():
    # retention 0 days: processed deliveries are purged at once; what GitHub delivered before is not lost
    attempts = [attempt("purged", 30, 202), attempt("refused", 30, 500)]
    assert resend(attempts, kept_days=0) == ["refused"], "a refused one was never stored: it is still resent"
    assert resend(attempts, kept_days=1) == ["purged", "refused"]


def test_the_log_covers_a_repository_only_while_its_last_check_is_recent():
    assert not delivery_log.covers(None, NOW)
    assert delivery_log.covers(NOW, NOW)
    assert delivery_log.covers(NOW - delivery_log.TRUSTED_FOR + timedelta(seconds=1), NOW)
    assert not delivery_log.covers(NOW - delivery_log.TRUSTED_FOR, NOW)
    assert not delivery_log.covers(NOW + timedelta(minutes=5), NOW), "a mark from the future is not trusted"
    assert delivery_log.TRUSTED_FOR < delivery_log.GITHUB_KEEPS


def test_the_cached_mark_is_rewritten_only_when_missing_or_old():
    assert delivery_log.mark_due(None, NOW)
    assert not delivery_log.mark_due(NOW - timedelta(hours=11), NOW)
    assert delivery_log.mark_due(NOW - delivery_log.MARK_REFRESH, NOW)
    assert delivery_log.mark_due(NOW + timedelta(hours=1), NOW), "a clock set back rewrites a mark from the future"


@given(st.lists(st.integers(min_value=0, max_value=30 * 24 * 60), max_size=60))
def test_while_checks_succeed_every_few_hours_the_cached_mark_keeps_covering(gaps_minutes):
    """Checks at irregular times, each under MARK_REFRESH apart: the mark is never stale in between."""
    clock, mark = NOW, None
    limit = delivery_log.MARK_REFRESH
    for gap in gaps_minutes:
        clock += min(timedelta(minutes=gap), limit - timedelta(minutes=1))
        if delivery_log.mark_due(mark, clock):
            mark = clock
        # up to the next check (at most MARK_REFRESH later) the workers' cached mark still covers
        assert delivery_log.covers(mark, clock + limit - timedelta(seconds=1))


def test_a_delivery_the_gate_keeps_refusing_is_asked_again_a_bounded_number_of_times():
    """A wrong secret or a renamed repository: each redelivery is refused again; after 3 the sync stops asking."""
    asked, resent_per_check, given_up, now = {}, [], [], NOW
    log = [attempt("refused", 30, 401), attempt("outage", 30, 502)]
    for check in range(30):
        plan = delivery_log.plan_redeliveries(log, now - timedelta(hours=2), set(), now, asked)
        resent_per_check.append(sorted(a.guid for a in plan.resend))
        given_up += [(a.guid, a.status_code) for a in plan.given_up]
        asked = plan.asked
        # GitHub records each redelivery as a new attempt, answered as before
        log = log + [
            HookDelivery(9000 + check * 2 + i, a.guid, "push", now, a.status_code, True)
            for i, a in enumerate(plan.resend)
        ]
        now += timedelta(minutes=5)
    assert resent_per_check[:3] == [["outage", "refused"]] * 3
    assert sum("refused" in guids for guids in resent_per_check) == delivery_log.MAX_REFUSED_REDELIVERIES
    assert sum("outage" in guids for guids in resent_per_check) == delivery_log.MAX_FAILED_REDELIVERIES
    assert ("refused", 401) in given_up and ("outage", 502) in given_up
    assert delivery_log.given_up(asked) == {"refused": 401, "outage": 502}, "remembered for the repository form"


def test_what_was_asked_is_forgotten_once_github_no_longer_keeps_it():
    plan = delivery_log.plan_redeliveries(
        [attempt("g", 5, 401)], None, set(), NOW, {"gone": {"count": 3, "at": "2026-12-01T00:00:00"}}
    )
    assert set(plan.asked) == {"g"} and plan.asked["g"]["count"] == 1
    assert plan.resend and not plan.given_up
