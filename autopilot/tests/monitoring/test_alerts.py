from datetime import datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autopilot.monitoring.alerts import (
    KINDS,
    Suppression,
    Thresholds,
    WeeklyWindow,
    active_suppression,
    dedup_key,
    error_rate,
    evaluate,
    outage_indexes,
)
from autopilot.monitoring.probes import Sample
from autopilot.monitoring.schedule import next_check, rechecking

T0 = datetime(2026, 3, 2, 12, 0, 0)  # a Monday
STEP = 60


def series(pattern, start=T0, step=STEP, **values):
    """``"UUD"`` -> samples one ``step`` apart; extra keyword lists give per-sample values."""
    samples = []
    for index, char in enumerate(pattern):
        fields = {name: seq[index] for name, seq in values.items()}
        up = char == "U"
        fields.setdefault("response_ms", 100.0 if up else None)
        samples.append(
            Sample(
                up=up,
                error=None if up else "connection refused",
                checked_at=start + timedelta(seconds=index * step),
                **fields,
            )
        )
    return samples


def metric_series(values, name, step=STEP, start=T0):
    return [
        Sample(up=True, response_ms=100.0, checked_at=start + timedelta(seconds=i * step), **{name: v})
        for i, v in enumerate(values)
    ]


def last(samples):
    return samples[-1].checked_at


def cond(conditions, kind):
    return next(c for c in conditions if c.kind == kind)


DEFAULTS = Thresholds()


def run(samples, firing=(), thresholds=DEFAULTS, now=None):
    return {c.kind: c for c in evaluate(samples, thresholds, now or last(samples), frozenset(firing))}


# -- shape ------------------------------------------------------------------------
def test_one_condition_per_kind_in_order():
    conditions = evaluate(series("UUU"), Thresholds(), last(series("UUU")))
    assert [c.kind for c in conditions] == list(KINDS)
    assert not any(c.firing for c in conditions)
    assert {c.severity for c in conditions} == {"low"}


def test_thresholds_validation():
    for kwargs in ({"down_after": 0}, {"recover_after": 0}, {"window_seconds": 0}, {"cpu": -1}, {"min_checks": 0}):
        with pytest.raises(ValueError):
            Thresholds(**kwargs)


# -- down ---------------------------------------------------------------------------
def test_down_after_exactly_n_consecutive_failures():
    assert not run(series("UUDD"))["down"].firing  # N - 1
    down = run(series("UUDDD"))["down"]
    assert down.firing and down.severity == "critical" and down.value == 3.0 and down.threshold == 3.0
    assert down.since == T0 + timedelta(seconds=2 * STEP)
    assert "connection refused" in down.message


def test_a_success_breaks_the_failure_run():
    assert not run(series("DDUDD"))["down"].firing


def test_recovery_needs_m_consecutive_successes():
    assert run(series("DDDU"), firing={"down"})["down"].firing
    assert run(series("DDDUDU"), firing={"down"})["down"].firing
    recovered = run(series("DDDUU"), firing={"down"})["down"]
    assert not recovered.firing and recovered.severity == "low"


def test_no_samples_keep_the_previous_state():
    assert evaluate([], Thresholds(), T0, frozenset({"down"}))[0].firing
    assert not evaluate([], Thresholds(), T0)[0].firing


def test_future_samples_are_ignored():
    samples = series("UUDDD")
    assert not run(samples, now=samples[3].checked_at)["down"].firing


def test_unsorted_samples_are_sorted():
    samples = series("UUDDD")
    assert run(list(reversed(samples)), now=last(samples))["down"].firing


# -- slow / cpu / memory -------------------------------------------------------------
def test_slow_fires_when_every_sample_over_the_duration_breaches():
    breach = [2500.0] * 6  # 0..300 s: the duration is covered
    samples = series("U" * 6, response_ms=breach)
    slow = run(samples)["slow"]
    assert slow.firing and slow.severity == "medium" and slow.value == 2500.0 and slow.since == T0
    assert "for 5 min" in slow.message


def test_slow_not_firing_when_the_duration_is_not_covered():
    samples = series("U" * 5, response_ms=[2500.0] * 5)  # only 240 s of evidence
    slow = run(samples)["slow"]
    assert not slow.firing and "fires after 5 min" in slow.message


def test_one_good_sample_restarts_the_duration():
    values = [2500.0, 2500.0, 2500.0, 900.0, 2500.0, 2500.0, 2500.0]
    assert not run(series("U" * 7, response_ms=values))["slow"].firing


def test_sparse_samples_cover_the_duration_between_them():
    # 15-minute checks: two breaching samples 900 s apart cover 300 s
    samples = series("UU", step=900, response_ms=[3000.0, 3000.0])
    assert run(samples)["slow"].firing
    assert not run(samples[:1])["slow"].firing


def test_slow_clears_after_m_good_values_and_does_not_flap():
    thresholds = Thresholds()
    firing = series("U" * 6, response_ms=[2500.0] * 6)
    after = firing + series("UUU", start=last(firing) + timedelta(seconds=60), response_ms=[100.0, 2500.0, 100.0])
    # alternating around the threshold: stays firing (needs 2 good values in a row)
    assert run(after, firing={"slow"}, thresholds=thresholds)["slow"].firing
    cleared = after + series("U", start=last(after) + timedelta(seconds=60), response_ms=[100.0])
    assert not run(cleared, firing={"slow"})["slow"].firing


def test_failed_checks_are_not_slow():
    samples = series("DDDDDD")
    assert not run(samples)["slow"].firing


def test_far_over_is_high():
    samples = series("U" * 6, response_ms=[5000.0] * 6)
    assert run(samples)["slow"].severity == "high"
    cpu = metric_series([97.0] * 6, "cpu_percent")
    assert run(cpu)["cpu"].severity == "high"
    cpu_medium = metric_series([97.0] * 5 + [85.0], "cpu_percent")
    assert run(cpu_medium)["cpu"].severity == "medium"


def test_cpu_and_memory():
    cpu = run(metric_series([81.0] * 6, "cpu_percent"))["cpu"]
    assert cpu.firing and cpu.threshold == 80.0
    assert not run(metric_series([80.0] * 6, "cpu_percent"))["cpu"].firing  # at the threshold is fine
    memory = run(metric_series([90.0] * 6, "memory_percent"))["memory"]
    assert memory.firing and memory.value == 90.0


def test_metric_without_recent_data_keeps_its_state():
    samples = metric_series([95.0] * 6, "cpu_percent")
    later = last(samples) + timedelta(hours=2)
    assert run(samples, firing={"cpu"}, now=later)["cpu"].firing
    assert not run(samples, now=later)["cpu"].firing
    assert "no recent" in run(samples, now=later)["cpu"].message


def test_disabled_threshold_never_fires():
    samples = metric_series([99.0] * 6, "cpu_percent")
    cpu = run(samples, firing={"cpu"}, thresholds=Thresholds(cpu=None))["cpu"]
    assert not cpu.firing and cpu.message == "disabled"


def test_zero_duration_fires_on_one_sample():
    samples = metric_series([99.0], "memory_percent")
    assert run(samples, thresholds=Thresholds(duration_seconds=0))["memory"].firing


# -- error rate ------------------------------------------------------------------------
def test_error_rate_window_edges():
    samples = series("DUUU")  # T0 .. T0+180
    now = T0 + timedelta(seconds=180)
    assert error_rate(samples, now, 180) == 0.0  # T0 is exactly at the window start: out
    assert error_rate(samples, now, 181) == 25.0
    assert error_rate(samples, T0 - timedelta(seconds=1), 3600) is None


def test_error_rate_fires_on_intermittent_failures():
    samples = series("UUDUUUUUUDUUUUUUUUUU")  # 2 of 20 = 10 %
    rate = run(samples)["error_rate"]
    assert rate.firing and rate.severity == "high" and rate.value == 10.0
    assert "2 of 20" in rate.message


def test_error_rate_needs_two_failures_and_min_checks():
    assert not run(series("UUDUUUUUUU"))["error_rate"].firing  # one blip
    assert not run(series("DUD"))["error_rate"].firing  # 3 checks < 4
    assert run(series("DUD"), firing={"error_rate"})["error_rate"].firing  # not enough checks: keeps state
    assert run(series("DUDU"))["error_rate"].firing


def test_an_outage_is_not_also_an_error_rate():
    samples = series("UUUUUDDDDDUUUUUUUUUU")
    conditions = run(samples)
    assert not conditions["error_rate"].firing and conditions["error_rate"].value == 0.0
    assert not conditions["down"].firing


def test_error_rate_clears_at_half_the_threshold():
    base = series("DUDU" + "U" * 36)  # 2 / 40 = 5 %: not above 5 %, above 2.5 %
    assert run(base, firing={"error_rate"})["error_rate"].firing
    assert not run(base)["error_rate"].firing
    more = series("DU" + "U" * 78)  # 1 / 80 = 1.25 %
    assert not run(more, firing={"error_rate"})["error_rate"].firing


def test_error_rate_critical_from_half():
    assert run(series("DUDU"))["error_rate"].severity == "critical"


def test_error_rate_only_counts_the_window():
    old = series("DUDUDUDU")
    recent = series("UUUUU", start=T0 + timedelta(hours=2))
    assert not run(old + recent)["error_rate"].firing


# -- hysteresis invariants --------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(
    outcomes=st.lists(st.booleans(), min_size=1, max_size=60),
    down_after=st.integers(1, 5),
    recover_after=st.integers(1, 5),
)
def test_down_never_flaps(outcomes, down_after, recover_after):
    thresholds = Thresholds(down_after=down_after, recover_after=recover_after)
    samples = series("".join("U" if ok else "D" for ok in outcomes))
    firing, flips = False, []
    for index in range(len(samples)):
        history = samples[: index + 1]
        now_firing = evaluate(history, thresholds, last(history), {"down"} if firing else set())[0].firing
        if now_firing != firing:
            flips.append((index, now_firing))
        firing = now_firing
    previous = None
    for index, state in flips:
        if state:  # fired: the last down_after outcomes all failed
            assert not any(outcomes[index - down_after + 1 : index + 1])
        else:  # cleared: the last recover_after outcomes all succeeded
            assert all(outcomes[index - recover_after + 1 : index + 1])
        if previous is not None:
            assert index - previous >= (down_after if state else recover_after)
        previous = index


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.sampled_from([70.0, 79.0, 81.0, 90.0]), min_size=1, max_size=40),
    duration=st.sampled_from([0, 60, 120, 300]),
    recover_after=st.integers(1, 4),
)
def test_metric_conditions_never_flap(values, duration, recover_after):
    thresholds = Thresholds(duration_seconds=duration, recover_after=recover_after)
    samples = metric_series(values, "cpu_percent")
    firing, last_flip = False, None
    for index in range(len(samples)):
        history = samples[: index + 1]
        now_firing = cond(evaluate(history, thresholds, last(history), {"cpu"} if firing else set()), "cpu").firing
        if now_firing != firing:
            if now_firing:
                needed = duration // STEP + 1
                assert all(v > 80 for v in values[index - needed + 1 : index + 1])
            else:
                assert all(v <= 80 for v in values[index - recover_after + 1 : index + 1])
            if last_flip is not None:
                assert index - last_flip >= min(recover_after, duration // STEP + 1)
            last_flip = index
        firing = now_firing


# -- dedup --------------------------------------------------------------------------------
def test_dedup_key():
    assert dedup_key("health.target/7", "down") == "health.target/7:down"
    assert dedup_key(" t ", " cpu ") == "t:cpu"
    long_a, long_b = dedup_key("x" * 400, "down"), dedup_key("x" * 399 + "y", "down")
    assert len(long_a) <= 255 and long_a != long_b and long_a == dedup_key("x" * 400, "down")
    with pytest.raises(ValueError):
        dedup_key("", "down")


# -- suppressions -----------------------------------------------------------------------
def test_adhoc_silence_until_a_time():
    silence = Suppression(start=T0, end=T0 + timedelta(hours=1), reason="deploy", created_by="ann")
    assert silence.is_active(T0) and silence.is_active(T0 + timedelta(minutes=59))
    assert not silence.is_active(T0 + timedelta(hours=1))  # the end is exclusive
    assert not silence.is_active(T0 - timedelta(seconds=1))
    assert Suppression(start=None, end=None, reason="forever").is_active(T0)


def test_suppression_validation():
    with pytest.raises(ValueError):
        Suppression(start=T0, end=T0, reason="x")
    with pytest.raises(ValueError):
        Suppression(start=None, end=None, kind="mute")
    with pytest.raises(ValueError):
        WeeklyWindow(weekday=7, start=time(1), duration_seconds=60)
    with pytest.raises(ValueError):
        WeeklyWindow(weekday=0, start=time(1), duration_seconds=8 * 86400)
    with pytest.raises(ValueError):
        WeeklyWindow(weekday=0, start=time(1), duration_seconds=60, tz="Mars/Olympus")


def test_weekly_window_across_midnight_and_the_week_end():
    # Sunday 23:00 for 3 hours: into Monday 02:00 (and from week to week)
    window = Suppression(None, None, "patching", "maintenance", WeeklyWindow(6, time(23, 0), 3 * 3600))
    sunday = datetime(2026, 3, 8)
    assert not window.is_active(sunday.replace(hour=22, minute=59))
    assert window.is_active(sunday.replace(hour=23))
    assert window.is_active(datetime(2026, 3, 9, 1, 59))  # Monday
    assert not window.is_active(datetime(2026, 3, 9, 2, 0))
    assert window.window(datetime(2026, 3, 9, 1, 0)) == (datetime(2026, 3, 8, 23), datetime(2026, 3, 9, 2))
    assert window.is_active(datetime(2026, 3, 16, 0, 30))  # next week too


def test_weekly_window_in_a_time_zone():
    # Tuesday 02:00 Paris = 01:00 UTC in winter, 00:00 UTC in summer
    window = Suppression(None, None, "backup", "maintenance", WeeklyWindow(1, time(2, 0), 1800, "Europe/Paris"))
    assert window.is_active(datetime(2026, 1, 6, 1, 10))
    assert not window.is_active(datetime(2026, 1, 6, 2, 10))
    assert window.is_active(datetime(2026, 7, 7, 0, 10))


def test_weekly_window_bounded_by_start_and_end():
    weekly = WeeklyWindow(0, time(12, 0), 3600)
    bounded = Suppression(T0 + timedelta(days=1), T0 + timedelta(days=30), "q2", "maintenance", weekly)
    assert not bounded.is_active(T0 + timedelta(minutes=5))  # before the recurrence starts
    assert bounded.is_active(T0 + timedelta(days=7, minutes=5))
    assert not bounded.is_active(T0 + timedelta(days=35, minutes=5))


def test_active_suppression_prefers_the_longest():
    short = Suppression(T0, T0 + timedelta(minutes=10), "short")
    long = Suppression(T0, T0 + timedelta(hours=5), "long")
    past = Suppression(T0 - timedelta(days=1), T0 - timedelta(hours=1), "past")
    assert active_suppression([short, long, past], T0 + timedelta(minutes=1)) is long
    assert active_suppression([past], T0) is None
    forever = Suppression(None, None, "forever")
    assert active_suppression([long, forever], T0) is forever


# -- one incident per outage --------------------------------------------------------------
def test_an_outage_cut_by_the_window_is_still_an_outage():
    # 15-minute checks, five failures then recovery: the 1-hour window only holds the last two
    # failures of the outage, which must not read as intermittent errors (the seed's bug)
    samples = series("DDDDDUU", step=900)
    conditions = run(samples, firing={"down"})
    assert not conditions["down"].firing
    assert not conditions["error_rate"].firing
    assert conditions["error_rate"].value == 0.0
    assert "failed checks" in conditions["error_rate"].message


def test_a_lone_success_inside_an_outage_belongs_to_it():
    samples = series("UUDDDDUDDDUUUUU", step=30)
    conditions = run(samples, firing={"down"})
    assert not conditions["down"].firing
    assert not conditions["error_rate"].firing and conditions["error_rate"].value == 0.0


def test_derived_conditions_are_inhibited_while_down():
    samples = series("UDUDUDUDDD")  # intermittent failures, then down
    conditions = run(samples)
    assert conditions["down"].firing
    assert conditions["error_rate"].inhibited and not conditions["error_rate"].firing
    assert "inhibited" in conditions["error_rate"].message
    kept = run(samples, firing={"error_rate"})["error_rate"]
    assert kept.inhibited and kept.firing, "an incident already open is neither resolved nor counted"
    assert not conditions["cpu"].inhibited


def test_outage_indexes_follow_the_down_rule():
    history = series("UDDUDDDUDUUD")
    assert outage_indexes(history, 3, 2) == {4, 5, 6, 7, 8}
    assert outage_indexes(series("DDD"), 3, 2) == {0, 1, 2}
    assert outage_indexes(series("DDU"), 3, 2) == set()


# -- the service's own metrics ------------------------------------------------------------
def test_error_ratio_from_metrics_fires_after_the_duration_and_says_so():
    samples = metric_series([1.0, 7.0, 8.0, 9.0, 7.5, 8.0, 9.0], "error_ratio")
    rate = run(samples)["error_rate"]
    assert rate.firing and rate.basis == "metrics" and rate.value == 9.0
    assert "error ratio" in rate.message
    assert not run(samples[:5])["error_rate"].firing, "breached for 3 minutes only"
    back = run(
        [*samples, *metric_series([2.0, 1.0], "error_ratio", start=last(samples) + timedelta(minutes=1))],
        firing={"error_rate"},
    )["error_rate"]
    assert not back.firing


def test_p95_latency_from_metrics_is_what_slow_judges():
    samples = [Sample(up=True, response_ms=10.0, p95_ms=2500.0, checked_at=T0 + timedelta(minutes=i)) for i in range(6)]
    slow = run(samples)["slow"]
    assert slow.firing and slow.basis == "metrics" and "p95 latency" in slow.message
    assert not run(series("UUUUUU"))["slow"].firing


# -- scheduling ------------------------------------------------------------------------------
def test_next_check_fast_while_failing_or_firing_then_back_to_normal():
    now = T0 + timedelta(microseconds=400)
    assert next_check(now, 60, 30, up=True) == T0 + timedelta(seconds=60)
    assert next_check(now, 900, 30, up=False) == T0 + timedelta(seconds=30)
    assert next_check(now, 900, 30, up=True, firing={"down"}) == T0 + timedelta(seconds=30)
    assert next_check(now, 900, 0, up=False) == T0 + timedelta(seconds=900), "0 turns fast re-checks off"
    assert next_check(now, 20, 30, up=False) == T0 + timedelta(seconds=20), "never slower than the interval"
    assert rechecking(30, up=False) and rechecking(30, up=True, firing=("slow",))
    assert not rechecking(30, up=True) and not rechecking(0, up=False)


def test_the_first_failures_of_an_outage_are_not_judged_before_it_is_confirmed():
    # 30-second re-checks after an hour of good checks: two failures, down not confirmed yet
    samples = series("U" * 60 + "DD", step=30)
    rate = run(samples)["error_rate"]
    assert not rate.firing and rate.value == 0.0
    # a success ends the run: two failures were a blip after all, and count
    assert run(series("UUUUUUDDU", step=30))["error_rate"].firing
