from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from autopilot.business import signals
from autopilot.business.signals import HIGH, LEARNING, LOW, NORMAL, QUIET, Rule, State

BRUSSELS = ZoneInfo("Europe/Brussels")
UTC = ZoneInfo("UTC")
INTERVALS = st.sampled_from([5, 10, 15, 20, 30, 60, 120, 1440])
# 2020 holds a leap day; 2024 too; DST changes every March and October
MOMENTS = st.datetimes(min_value=datetime(2019, 1, 1), max_value=datetime(2030, 12, 31))


def local(moment_utc, zone=BRUSSELS):
    return moment_utc.replace(tzinfo=UTC).astimezone(zone)


# ----------------------------------------------------------------------
# slots
# ----------------------------------------------------------------------
@pytest.mark.parametrize("interval", [0, 7, 50, 2880, 15.0])
def test_an_interval_that_does_not_divide_a_day_is_refused(interval):
    with pytest.raises(ValueError, match="divide a day"):
        signals.check_interval(interval)


def test_last_interval_is_aligned_on_the_local_wall_clock():
    # 10:07 UTC in winter is 11:07 in Brussels: the last complete slot is 10:45-11:00 local
    start, end = signals.last_interval(datetime(2026, 1, 12, 10, 7), 15, "Europe/Brussels")
    assert (start, end) == (datetime(2026, 1, 12, 9, 45), datetime(2026, 1, 12, 10, 0))
    # Kathmandu is UTC+5:45: hourly slots start at :15 UTC
    start, end = signals.last_interval(datetime(2026, 1, 12, 10, 7), 60, "Asia/Kathmandu")
    # (10:07 UTC is 15:52 there: the last complete hour is 14:00-15:00 local)
    assert (start, end) == (datetime(2026, 1, 12, 8, 15), datetime(2026, 1, 12, 9, 15))


@settings(max_examples=300, deadline=None)
@given(now=MOMENTS, interval=INTERVALS, zone=st.sampled_from(["Europe/Brussels", "America/New_York", "UTC"]))
def test_last_interval_is_complete_aligned_and_recent(now, interval, zone):
    start, end = signals.last_interval(now, interval, zone)
    assert end <= now
    assert end - start == timedelta(minutes=interval)
    wall = local(end, ZoneInfo(zone))
    assert (wall.hour * 60 + wall.minute) % interval == 0 and wall.second == 0
    # the most recent one: less than an interval (+1 h on a DST night) between its end and now
    assert now - end < timedelta(minutes=interval, hours=1)


def test_spring_forward_keeps_the_local_slot_not_the_utc_one():
    # Monday 30 March 2026, the day after Brussels moved to summer time (UTC+2): 11:00 local = 09:00 UTC
    slots = signals.seasonal_slots(datetime(2026, 3, 30, 9, 0), 15, "Europe/Brussels", 3)
    # the Mondays before were in winter time (UTC+1): 11:00 local = 10:00 UTC
    assert slots == [
        (datetime(2026, 3, 23, 10, 0), datetime(2026, 3, 23, 10, 15)),
        (datetime(2026, 3, 16, 10, 0), datetime(2026, 3, 16, 10, 15)),
        (datetime(2026, 3, 9, 10, 0), datetime(2026, 3, 9, 10, 15)),
    ]


def test_autumn_back_keeps_the_local_slot():
    # Monday 26 October 2026, after the return to winter time: 11:00 local = 10:00 UTC, before: 09:00 UTC
    slots = signals.seasonal_slots(datetime(2026, 10, 26, 10, 0), 15, "Europe/Brussels", 2)
    assert [s for s, _e in slots] == [datetime(2026, 10, 19, 9, 0), datetime(2026, 10, 12, 9, 0)]


def test_a_slot_that_did_not_exist_is_left_out():
    # Sunday 5 April 2026 02:30 local (00:30 UTC): on 29 March 02:30 did not exist in Brussels
    slots = signals.seasonal_slots(datetime(2026, 4, 5, 0, 30), 15, "Europe/Brussels", 3)
    assert [s for s, _e in slots] == [datetime(2026, 3, 22, 1, 30), datetime(2026, 3, 15, 1, 30)]


def test_the_twice_lived_slot_of_the_autumn_night_keeps_its_fold():
    # Sunday 25 October 2026 02:15 local exists twice: 00:15 UTC (summer) and 01:15 UTC (winter)
    first = signals.seasonal_slots(datetime(2026, 10, 25, 0, 15), 15, "Europe/Brussels", 1)
    second = signals.seasonal_slots(datetime(2026, 10, 25, 1, 15), 15, "Europe/Brussels", 1)
    # a week before, 02:15 local existed once, in summer time: 00:15 UTC
    assert first == second == [(datetime(2026, 10, 18, 0, 15), datetime(2026, 10, 18, 0, 30))]


@settings(max_examples=300, deadline=None)
@given(now=MOMENTS, interval=INTERVALS, weeks=st.integers(1, 10))
def test_seasonal_slots_are_the_same_local_weekday_and_time(now, interval, weeks):
    start, _end = signals.last_interval(now, interval, BRUSSELS)
    observed = local(start)
    slots = signals.seasonal_slots(start, interval, BRUSSELS, weeks)
    # at most one slot missing: the one spring-forward night of the span
    assert weeks - 1 <= len(slots) <= weeks
    previous = start
    for slot_start, slot_end in slots:
        assert slot_end - slot_start == timedelta(minutes=interval)
        assert slot_start < previous
        previous = slot_start
        then = local(slot_start)
        assert then.weekday() == observed.weekday()
        assert (then.hour, then.minute) == (observed.hour, observed.minute)
        # whole weeks on the calendar, whatever the month length, leap day or DST change in between
        assert (observed.date() - then.date()).days % 7 == 0


@settings(max_examples=100, deadline=None)
@given(year=st.sampled_from([2020, 2024, 2028]), hour=st.integers(0, 23))
def test_leap_day_and_month_ends_count_whole_weeks(year, hour):
    # 7 March is a week after 29 February (and before the spring DST change): the slots cross the leap day
    # and the end of February as whole weeks, at the same local hour
    start = datetime(year, 3, 7, hour) - timedelta(hours=1)  # Brussels is UTC+1 in winter
    slots = signals.seasonal_slots(start, 60, BRUSSELS, 4)
    assert [s for s, _e in slots] == [start - timedelta(weeks=w) for w in range(1, 5)]
    assert local(slots[0][0]).date() == datetime(year, 2, 29).date()


# ----------------------------------------------------------------------
# baseline
# ----------------------------------------------------------------------
def test_no_history_means_learning_and_never_fires():
    assert signals.baseline([]) is None
    assert signals.baseline([40, 41]) is None  # fewer than MIN_HISTORY weeks
    rule = Rule(direction="both")
    assert signals.judge(0, None, rule) == LEARNING
    assert signals.run([LEARNING] * 50, rule) == State("learning", 0, "")


def test_baseline_is_the_median_with_a_poisson_floor_on_the_spread():
    base = signals.baseline([40, 40, 40, 40], [400.0, 410.0, 390.0, 400.0])
    assert base.median == 40
    assert base.amount == 400.0
    assert base.spread == pytest.approx(40**0.5)  # MAD 0, the Poisson floor holds
    wide = signals.baseline([10, 40, 70, 100, 130])
    assert wide.spread == pytest.approx(1.4826 * 30)


@settings(max_examples=200, deadline=None)
@given(
    normal=st.lists(st.integers(20, 60), min_size=5, max_size=8),
    outlier=st.integers(0, 100_000),
)
def test_one_outlier_hardly_moves_the_baseline(normal, outlier):
    """A Black Friday or an outage week moves the median by at most one rank, the mean by anything."""
    clean = signals.baseline(normal)
    with_outlier = signals.baseline([*normal[:-1], outlier])
    ordered = sorted(normal)
    # the mean would move by up to 100,000 / 8; the median stays among the normal weeks
    assert ordered[0] <= with_outlier.median <= ordered[-1]
    assert abs(with_outlier.median - clean.median) <= ordered[-1] - ordered[0]


# ----------------------------------------------------------------------
# anomaly rule
# ----------------------------------------------------------------------
def test_a_drop_fires_a_small_dip_and_a_quiet_hour_do_not():
    rule = Rule(direction="drop", threshold=3, min_change=0.5, min_baseline=5)
    busy = signals.baseline([40, 42, 38, 41, 39])
    assert signals.judge(0, busy, rule) == LOW
    assert signals.judge(35, busy, rule) == NORMAL  # a dip, not an outage
    assert signals.judge(90, busy, Rule(direction="rise")) == HIGH
    assert signals.run([HIGH, HIGH], rule).state == "ok"  # a drop signal does not fire on a rise
    night = signals.baseline([2, 3, 2, 1])
    assert signals.judge(0, night, rule) == QUIET


def test_at_high_volume_the_relative_drop_guards_against_paging_for_a_dip():
    rule = Rule(direction="drop", threshold=3, min_change=0.5)
    base = signals.baseline([10_000, 10_050, 9_980, 10_020])
    assert signals.judge(9_000, base, rule) == NORMAL  # 10 sigmas, but a 10 % dip
    assert signals.judge(4_000, base, rule) == LOW


@settings(max_examples=300, deadline=None)
@given(history=st.lists(st.integers(0, 3), min_size=3, max_size=8), observed=st.integers(0, 3))
def test_quiet_hours_never_fire_a_drop(history, observed):
    rule = Rule(direction="drop", min_baseline=5, threshold=0.1, min_change=0.0)
    assert signals.judge(observed, signals.baseline(history), rule) != LOW


@settings(max_examples=300, deadline=None)
@given(history=st.lists(st.integers(0, 500), min_size=3, max_size=8), observed=st.integers(0, 500))
def test_an_observed_count_at_the_median_is_never_an_anomaly(history, observed):
    base = signals.baseline(history)
    assume(observed == base.median)
    assert signals.judge(observed, base, Rule(direction="both", threshold=0.01, min_change=0)) in (NORMAL, QUIET)


def test_k_consecutive_intervals_fire_and_k_clear_clear():
    rule = Rule(direction="drop", k=3, k_clear=2)
    state = signals.run([NORMAL, LOW, LOW], rule, State("ok"))
    assert state.state == "ok" and state.streak == 2
    state = signals.step(state, LOW, rule)
    assert state == State("anomaly", 0, LOW)
    # one normal interval in the middle of an outage does not clear it
    state = signals.run([NORMAL, LOW, NORMAL], rule, state)
    assert state.state == "anomaly"
    assert signals.step(state, QUIET, rule).state == "ok"


def test_an_interrupted_run_starts_again():
    rule = Rule(direction="both", k=2)
    assert signals.run([LOW, NORMAL, LOW], rule).state == "ok"
    assert signals.run([LOW, HIGH], rule).state == "ok"  # two different anomalies are not a run
    assert signals.run([HIGH, HIGH], rule) == State("anomaly", 0, HIGH)


@settings(max_examples=300, deadline=None)
@given(verdicts=st.lists(st.sampled_from(signals.VERDICTS), max_size=40), k=st.integers(1, 4))
def test_the_state_only_fires_after_k_watched_verdicts_in_a_row(verdicts, k):
    rule = Rule(direction="drop", k=k, k_clear=k)
    state = State()
    for index, verdict in enumerate(verdicts):
        new = signals.step(state, verdict, rule)
        if new.state == "anomaly" and state.state != "anomaly":
            assert verdicts[max(0, index - k + 1) : index + 1] == [LOW] * k
        if state.state == "anomaly" and new.state != "anomaly":
            assert LOW not in verdicts[max(0, index - k + 1) : index + 1]
        state = new
    if LOW not in verdicts:
        assert state.state != "anomaly"


@pytest.mark.parametrize(
    "kwargs", [{"direction": "up"}, {"threshold": 0}, {"min_change": -1}, {"k": 0}, {"min_baseline": -2}]
)
def test_a_bad_rule_is_refused(kwargs):
    with pytest.raises(ValueError):
        Rule(**kwargs)
