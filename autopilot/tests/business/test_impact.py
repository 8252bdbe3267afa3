import itertools
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autopilot.business import impact, signals
from autopilot.business.impact import Impact, Point

T0 = datetime(2026, 3, 29, 0, 0)  # the spring-forward night in Brussels


def points(observed, baseline, amount_per_record=100.0, start=T0, interval=15):
    return [
        Point(
            start + timedelta(minutes=interval * i),
            start + timedelta(minutes=interval * (i + 1)),
            o,
            o * amount_per_record,
            b,
            (b or 0) * amount_per_record,
        )
        for i, (o, b) in enumerate(zip(observed, baseline, strict=True))
    ]


def test_the_shortfall_sums_what_was_not_taken_and_ignores_better_intervals():
    pts = points([0, 10, 50, 30], [40, 40, 40, 40])
    total = impact.incident_impact(pts, since=T0)
    assert total == Impact(40 + 30 + 0 + 10, (40 + 30 + 10) * 100.0)


def test_only_the_intervals_of_the_incident_count():
    pts = points([0, 0, 0, 0], [40, 40, 40, 40])
    # open from the middle of the second interval to the start of the fourth
    total = impact.incident_impact(pts, since=T0 + timedelta(minutes=20), until=T0 + timedelta(minutes=45))
    assert total.count == 80


def test_learning_intervals_contribute_nothing():
    pts = points([0, 0], [None, 40])
    assert impact.incident_impact(pts, since=T0).count == 40


def test_a_rise_signal_counts_the_excess():
    pts = points([90, 10], [40, 40])
    assert impact.incident_impact(pts, since=T0, direction="rise").count == 50
    assert impact.incident_impact(pts, since=T0, direction="both").count == 50 + 30


@settings(max_examples=300, deadline=None)
@given(
    pairs=st.lists(st.tuples(st.integers(0, 1000), st.one_of(st.none(), st.integers(0, 1000))), max_size=60),
    cut=st.integers(0, 60),
)
def test_impact_is_never_negative_and_adds_up_over_a_split_period(pairs, cut):
    observed = [o for o, _b in pairs]
    baseline = [b for _o, b in pairs]
    pts = points(observed, baseline)
    middle = T0 + timedelta(minutes=15 * cut)
    whole = impact.incident_impact(pts, since=T0)
    first = impact.incident_impact(pts, since=T0, until=middle)
    second = impact.incident_impact(pts, since=middle)
    assert whole.count >= 0 and whole.amount >= 0
    assert whole.count == first.count + second.count
    assert whole.count == sum(max(0, b - o) for o, b in pairs if b is not None)


@settings(max_examples=100, deadline=None)
@given(day=st.dates(min_value=datetime(2020, 1, 1).date(), max_value=datetime(2030, 12, 31).date()))
def test_a_day_long_outage_counts_every_slot_of_the_local_day_once(day):
    """Across a DST change, a leap day or a month end, the slots of a day are contiguous and counted once."""
    start_local = datetime.combine(day, datetime.min.time())
    start, _end = signals.last_interval(start_local - timedelta(hours=2) + timedelta(minutes=15), 15, "Europe/Brussels")
    slots, moment = [], start
    for _ in range(100):
        slots.append(signals.next_interval(moment, 15, "Europe/Brussels"))
        moment = slots[-1][0]
    for (_s1, e1), (s2, _e2) in itertools.pairwise(slots):
        assert s2 == e1  # contiguous: nothing counted twice, nothing missed
    pts = [Point(s, e, 0, 0.0, 10, 50.0) for s, e in slots]
    assert impact.incident_impact(pts, since=slots[0][0]).count == 10 * len(slots)


@pytest.mark.parametrize(
    ("value", "shown"),
    [(0, 0), (0.4, 0), (42.4, 42), (42.5, 43), (987.6, 988), (12_287, 12_300), (1_234_567, 1_230_000), (-5, 0)],
)
def test_display_rounding(value, shown):
    assert impact.display_round(value) == shown


@settings(max_examples=300, deadline=None)
@given(value=st.floats(0, 1e12, allow_nan=False))
def test_display_rounding_stays_within_half_a_percent(value):
    shown = impact.display_round(value)
    assert abs(shown - value) <= max(0.5, value * 0.005) + 1e-6


def test_milestones_are_announced_once_not_every_cycle():
    assert impact.milestone_crossed(0, 1) == 1
    assert impact.milestone_crossed(1, 1.9) is None
    assert impact.milestone_crossed(3, 12) == 10
    assert impact.milestone_crossed(12, 19) is None
    assert impact.milestone_crossed(12, 20) == 20
    assert impact.milestone_crossed(40, 40) is None


def test_severity_follows_the_configured_level():
    assert impact.severity_for(Impact(10, 0), level_count=50) is None
    assert impact.severity_for(Impact(25, 0), level_count=50) == "high"
    assert impact.severity_for(Impact(5, 9_000), level_count=50, level_amount=5_000) == "critical"
    assert impact.severity_for(Impact(10_000, 10**9)) is None  # no level configured: never pages
    assert impact.raises_severity("medium", "critical")
    assert not impact.raises_severity("critical", "high")
    assert not impact.raises_severity("high", None)
