from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from autopilot.ingest import lifecycle

T0 = datetime(2026, 11, 1, 12, 0, 0)


def test_late_in_progress_does_not_overwrite_completed():
    completed = lifecycle.progress_key(1, "completed", T0 + timedelta(minutes=5))
    late = lifecycle.progress_key(1, "in_progress", T0 + timedelta(minutes=1))
    assert lifecycle.is_stale(completed, late)
    assert not lifecycle.is_stale(late, completed)


def test_a_rerun_attempt_supersedes_a_completed_attempt():
    first = lifecycle.progress_key(1, "completed", T0 + timedelta(minutes=5))
    rerun_queued = lifecycle.progress_key(2, "queued", T0 + timedelta(minutes=6))
    assert not lifecycle.is_stale(first, rerun_queued)


def test_same_observation_twice_is_applied_idempotently():
    key = lifecycle.progress_key(1, "completed", T0)
    assert not lifecycle.is_stale(key, key)


def test_nothing_stored_means_nothing_is_stale():
    assert not lifecycle.is_stale(None, lifecycle.progress_key(1, "queued", None))


def test_unknown_values_are_kept_apart():
    assert lifecycle.known_status("in_progress") == "in_progress"
    assert lifecycle.known_status("brand_new_status") == lifecycle.UNKNOWN
    assert lifecycle.known_conclusion(None) == ""
    assert lifecycle.known_conclusion("startup_failure") == "startup_failure"
    assert lifecycle.known_conclusion("weird") == lifecycle.UNKNOWN


def test_outcomes():
    assert lifecycle.outcome("queued", "") == "queued"
    assert lifecycle.outcome("in_progress", "") == "running"
    assert lifecycle.outcome("completed", "success") == "success"
    assert lifecycle.outcome("completed", "timed_out") == "failure"
    assert lifecycle.outcome("completed", "startup_failure") == "failure"
    assert lifecycle.outcome("completed", "cancelled") == "cancelled"
    assert lifecycle.outcome("completed", "action_required") == "other"


def test_summarise_jobs():
    assert lifecycle.summarise_jobs([]) == ("queued", "")
    assert lifecycle.summarise_jobs([("queued", None), ("queued", "")]) == ("queued", "")
    assert lifecycle.summarise_jobs([("completed", "success"), ("queued", None)]) == ("in_progress", "")
    assert lifecycle.summarise_jobs([("completed", "success"), ("completed", "skipped")]) == ("completed", "success")
    assert lifecycle.summarise_jobs([("completed", "success"), ("completed", "failure")]) == ("completed", "failure")
    assert lifecycle.summarise_jobs([("completed", "success"), ("completed", "cancelled")]) == (
        "completed",
        "cancelled",
    )
    assert lifecycle.summarise_jobs([("completed", "neutral")]) == ("completed", "neutral")


def test_duration():
    assert lifecycle.duration_seconds(T0, T0 + timedelta(minutes=2)) == 120
    assert lifecycle.duration_seconds(T0, None) == 0
    assert lifecycle.duration_seconds(T0 + timedelta(minutes=2), T0) == 0


OBSERVATIONS = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=3),
        st.sampled_from(lifecycle.RUN_STATUSES),
        st.integers(min_value=0, max_value=10_000),
    ),
    min_size=1,
    max_size=12,
)


@given(OBSERVATIONS, st.randoms())
def test_any_delivery_order_converges_to_the_newest_observation(observations, rnd):
    """Applying the rule to shuffled deliveries always leaves the newest state stored."""
    keys = [lifecycle.progress_key(a, s, T0 + timedelta(seconds=t)) for a, s, t in observations]
    shuffled = list(keys)
    rnd.shuffle(shuffled)
    stored = None
    for incoming in shuffled:
        if not lifecycle.is_stale(stored, incoming):
            stored = incoming
    assert stored == max(keys)
