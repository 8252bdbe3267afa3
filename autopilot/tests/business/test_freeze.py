"""Freeze calendars: expansion of each kind of rule, DST, month ends, leap days, empty calendars."""

import calendar
import itertools
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autopilot.business import freeze as fz

UTC = timezone.utc
BRUSSELS = "Europe/Brussels"
NEW_YORK = "America/New_York"
ZONES = st.sampled_from([BRUSSELS, NEW_YORK, "UTC", "Asia/Kolkata", "Australia/Sydney"])
MOMENTS = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2098, 12, 31)).map(
    lambda d: d.replace(tzinfo=UTC)
)


def aware(*args, tz=UTC):
    return datetime(*args, tzinfo=ZoneInfo(tz) if isinstance(tz, str) else tz)


def local(moment, tz):
    return moment.astimezone(ZoneInfo(tz))


def month_edges(before, after, tz=BRUSSELS, working_days=None):
    return fz.Window("m", fz.Rule(fz.MONTH_EDGES, before=before, after=after), tz, working_days)


def holidays_out(*days):
    """Monday-Friday minus ``days``."""
    skipped = set(days)
    return lambda day: day.weekday() < 5 and day not in skipped


# --------------------------------------------------------------------------
# examples
# --------------------------------------------------------------------------


def test_month_edges_last_two_and_first_three_working_days():
    window = month_edges(2, 3)
    [interval] = fz.expand(window, aware(2026, 1, 2), aware(2026, 1, 3))
    # 30 and 31 Dec 2025 (Tue, Wed), then 1, 2 and 5 Jan 2026 (Thu, Fri, Mon)
    assert local(interval.start, BRUSSELS) == aware(2025, 12, 30, tz=BRUSSELS)
    assert local(interval.end, BRUSSELS) == aware(2026, 1, 6, tz=BRUSSELS)


def test_a_public_holiday_shifts_the_working_days():
    window = month_edges(2, 3, working_days=holidays_out(date(2026, 1, 1)))
    [interval] = fz.expand(window, aware(2026, 1, 3), aware(2026, 1, 4))
    assert local(interval.end, BRUSSELS) == aware(2026, 1, 7, tz=BRUSSELS)  # 2, 5, 6 Jan


def test_working_days_as_a_set_of_dates():
    days = frozenset({date(2026, 5, 29), date(2026, 6, 3)})
    [interval] = fz.expand(month_edges(1, 1, tz="UTC", working_days=days), aware(2026, 5, 1), aware(2026, 6, 30))
    assert (interval.start, interval.end) == (aware(2026, 5, 29), aware(2026, 6, 4))


def test_yearly_window_crosses_the_new_year():
    window = fz.Window("y", fz.Rule(fz.YEARLY, start_day=15, start_month=12, end_day=6, end_month=1), BRUSSELS)
    assert fz.active_window([window], aware(2027, 1, 6, 22, tz=BRUSSELS)) is window
    assert fz.active_window([window], aware(2027, 1, 7, 0, 0, 1, tz=BRUSSELS)) is None
    assert fz.active_window([window], aware(2026, 12, 14, 23, 59, tz=BRUSSELS)) is None
    assert fz.next_end([window], aware(2026, 12, 20)) == aware(2027, 1, 7, tz=BRUSSELS)


def test_weekly_window_keeps_wall_clock_times_across_dst():
    rule = fz.Rule(fz.WEEKLY, start_weekday=4, start_minute=15 * 60, end_weekday=0, end_minute=8 * 60)
    window = fz.Window("w", rule, BRUSSELS)
    # 25 Oct 2026: Brussels goes back to CET during the weekend
    [interval] = fz.expand(window, aware(2026, 10, 24), aware(2026, 10, 25))
    assert local(interval.start, BRUSSELS).replace(tzinfo=None) == datetime(2026, 10, 23, 15)
    assert local(interval.end, BRUSSELS).replace(tzinfo=None) == datetime(2026, 10, 26, 8)
    assert interval.end - interval.start == timedelta(hours=66)  # 65 wall-clock hours + the hour given back


def test_one_off_and_chained_windows():
    once = fz.Window("o", fz.Rule(fz.ONCE, start=aware(2026, 6, 1), end=aware(2026, 6, 10)))
    later = fz.Window("l", fz.Rule(fz.ONCE, start=aware(2026, 6, 10), end=aware(2026, 6, 12)))
    assert fz.active_window([once, later], aware(2026, 6, 5)) is once
    assert fz.next_end([once, later], aware(2026, 6, 5)) == aware(2026, 6, 12)
    assert fz.next_end([once, later], aware(2026, 6, 12)) is None
    assert fz.next_start([once, later], aware(2026, 5, 1)).window is once


def test_fiscal_close_around_the_fiscal_year_end():
    window = fz.Window("f", fz.Rule(fz.FISCAL_CLOSE, before=1, after=2, end_day=31, end_month=3), "UTC")
    [interval] = fz.expand(window, aware(2027, 3, 1), aware(2027, 4, 30))
    # 31 Mar 2027 is a Wednesday; 1 and 2 Apr follow
    assert (interval.start, interval.end) == (aware(2027, 3, 31), aware(2027, 4, 3))


@pytest.mark.parametrize(
    "rule",
    [
        fz.Rule(fz.ONCE, start=datetime(2026, 1, 2), end=datetime(2026, 1, 3)),
        fz.Rule(fz.ONCE, start=aware(2026, 1, 3), end=aware(2026, 1, 2)),
        fz.Rule(fz.MONTH_EDGES),
        fz.Rule(fz.MONTH_EDGES, before=61),
        fz.Rule(fz.YEARLY, start_day=30, start_month=2, end_day=1, end_month=3),
        fz.Rule(fz.YEARLY, start_day=1, start_month=13, end_day=1, end_month=3),
        fz.Rule(fz.WEEKLY, start_weekday=7),
        fz.Rule(fz.WEEKLY, end_minute=1440),
        fz.Rule("monthly"),
    ],
)
def test_bad_rules_are_refused_with_a_reason(rule):
    with pytest.raises(fz.RuleError):
        fz.expand(fz.Window("x", rule), aware(2026, 1, 1), aware(2026, 2, 1))


def test_naive_moments_are_refused():
    with pytest.raises(ValueError):
        fz.active_window([month_edges(1, 1)], datetime(2026, 1, 1))


# --------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------


def _check_shape(intervals, start, end):
    for interval in intervals:
        assert interval.start.tzinfo is not None and interval.start.utcoffset() == timedelta(0)
        assert interval.start < interval.end
        assert interval.end > start and interval.start < end
    for first, second in itertools.pairwise(intervals):
        assert first.end < second.start  # merged: never overlapping nor touching


@settings(max_examples=150, deadline=None)
@given(
    moment=MOMENTS,
    tz=ZONES,
    before=st.integers(0, 25),
    after=st.integers(0, 25),
    holidays=st.sets(st.integers(0, 60), max_size=25),
)
def test_month_edges_cover_the_asked_working_days(moment, tz, before, after, holidays):
    """Each month boundary's interval starts and ends on day bounds and covers min(asked, available) days."""
    if not (before or after):
        return
    base = local(moment, tz).date().replace(day=1)
    off = {base - timedelta(days=31) + timedelta(days=n) for n in holidays}
    window = month_edges(before, after, tz, holidays_out(*off))
    boundary = base
    intervals = fz.expand(window, moment - timedelta(days=70), moment + timedelta(days=70))
    _check_shape(intervals, moment - timedelta(days=70), moment + timedelta(days=70))
    prev_month = [d for d in _month_days(boundary - timedelta(days=1)) if window.is_working(d)]
    this_month = [d for d in _month_days(boundary) if window.is_working(d)]
    expected = prev_month[len(prev_month) - min(before, len(prev_month)) :] + this_month[:after]
    covering = [i for i in intervals if any(i.contains(fz._day_start(d, ZoneInfo(tz))) for d in expected)]
    if not expected:
        assert not covering
        return
    assert len(covering) == 1  # one stretch around the boundary (it may merge with a neighbour's)
    for day in expected:
        noon = datetime.combine(day, datetime.min.time()).replace(hour=12, tzinfo=ZoneInfo(tz))
        assert covering[0].contains(noon)
    for interval in intervals:
        for bound in (interval.start, interval.end):
            wall = local(bound, tz)
            assert (wall.hour, wall.minute) == (0, 0) or _in_gap(wall.date(), tz)


def _month_days(day):
    return [day.replace(day=n) for n in range(1, calendar.monthrange(day.year, day.month)[1] + 1)]


def _in_gap(day, tz):
    zone = ZoneInfo(tz)
    midnight = datetime.combine(day, datetime.min.time())
    return midnight.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None) != midnight


@settings(max_examples=100, deadline=None)
@given(moment=MOMENTS, tz=ZONES)
def test_empty_calendar_gives_no_month_edge_freeze(moment, tz):
    window = month_edges(2, 3, tz, working_days=frozenset())
    assert fz.expand(window, moment - timedelta(days=90), moment + timedelta(days=90)) == []
    assert fz.active_window([window], moment) is None
    assert fz.next_end([window], moment) is None


@settings(max_examples=150, deadline=None)
@given(
    moment=MOMENTS,
    tz=ZONES,
    start=st.tuples(st.integers(1, 12), st.integers(1, 31)),
    end=st.tuples(st.integers(1, 12), st.integers(1, 31)),
)
def test_yearly_window_contains_exactly_its_days(moment, tz, start, end):
    """In force at a local noon iff that day lies between the bounds (year crossing, 29 Feb as 28 Feb)."""
    (start_month, start_day), (end_month, end_day) = start, end
    if start_day > calendar.monthrange(2024, start_month)[1] or end_day > calendar.monthrange(2024, end_month)[1]:
        return
    rule = fz.Rule(fz.YEARLY, start_day=start_day, start_month=start_month, end_day=end_day, end_month=end_month)
    window = fz.Window("y", rule, tz)
    day = local(moment, tz).date()
    noon = datetime.combine(day, datetime.min.time()).replace(hour=12, tzinfo=ZoneInfo(tz))

    def clamp(month, dom):
        return min(dom, calendar.monthrange(day.year, month)[1])

    key = (day.month, day.day)
    lo, hi = (start_month, clamp(start_month, start_day)), (end_month, clamp(end_month, end_day))
    inside = lo <= key <= hi if lo <= hi else key >= lo or key <= hi
    assert (fz.active_window([window], noon) is window) == inside
    if inside:
        ends = local(fz.next_end([window], noon), tz)
        assert (ends.hour, ends.minute) == (0, 0) or _in_gap(ends.date(), tz)
        assert (ends.date() - timedelta(days=1)).month == end_month


@settings(max_examples=150, deadline=None)
@given(
    moment=MOMENTS,
    tz=ZONES,
    days=st.tuples(st.integers(0, 6), st.integers(0, 6)),
    minutes=st.tuples(st.integers(0, 1439), st.integers(0, 1439)),
)
def test_weekly_window_bounds_are_wall_clock_times(moment, tz, days, minutes):
    rule = fz.Rule(
        fz.WEEKLY, start_weekday=days[0], start_minute=minutes[0], end_weekday=days[1], end_minute=minutes[1]
    )
    window = fz.Window("w", rule, tz)
    if (days[0], minutes[0]) == (days[1], minutes[1]):
        with pytest.raises(fz.RuleError):
            fz.expand(window, moment, moment + timedelta(days=1))
        return
    intervals = fz.expand(window, moment - timedelta(days=15), moment + timedelta(days=15))
    _check_shape(intervals, moment - timedelta(days=15), moment + timedelta(days=15))
    assert intervals
    for interval in intervals:
        span = ((days[1] - days[0]) % 7 * 1440 + minutes[1] - minutes[0]) % (7 * 1440)
        if span < 7 * 1440 - 180:  # longer ones may touch the next week's across a DST change, and merge
            assert interval.end - interval.start < timedelta(days=7, hours=2)
        wall = local(interval.start, tz)
        if not _shifted(wall, tz):
            assert wall.weekday() == days[0] and wall.hour * 60 + wall.minute == minutes[0]


def _shifted(wall, tz):
    """True when the wall time may have been moved by a DST gap (within 2 hours of an offset change)."""
    zone = ZoneInfo(tz)
    return any(
        (wall + timedelta(hours=h)).astimezone(zone).utcoffset() != wall.utcoffset() for h in (-3, -2, -1, 1, 2, 3)
    )


@settings(max_examples=100, deadline=None)
@given(moment=MOMENTS, tz=ZONES, offsets=st.lists(st.integers(-400, 400), min_size=1, max_size=4))
def test_next_end_is_after_the_moment_and_free(moment, tz, offsets):
    """Whatever the windows, the freeze in force ends later, and right then nothing is in force."""
    windows = [
        fz.Window(n, fz.Rule(fz.ONCE, start=moment + timedelta(hours=o), end=moment + timedelta(hours=o + 30)), tz)
        for n, o in enumerate(offsets)
    ]
    windows.append(month_edges(1, 1, tz))
    end = fz.next_end(windows, moment)
    if fz.active_window(windows, moment) is None:
        assert end is None
        return
    assert end > moment
    assert fz.active_window(windows, end) is None


def test_leap_day_yearly_window_in_common_and_leap_years():
    window = fz.Window("l", fz.Rule(fz.YEARLY, start_day=29, start_month=2, end_day=29, end_month=2), "UTC")
    assert fz.active_window([window], aware(2028, 2, 29, 12)) is window
    assert fz.active_window([window], aware(2027, 2, 28, 12)) is window
    assert fz.active_window([window], aware(2027, 3, 1, 12)) is None


def test_dst_spring_forward_new_york_month_edge():
    # 8 Mar 2026: New York springs forward; midnight bounds are unaffected (the gap is at 02:00)
    window = month_edges(0, 6, NEW_YORK)
    [interval] = fz.expand(window, aware(2026, 3, 3), aware(2026, 3, 4))
    assert local(interval.start, NEW_YORK) == aware(2026, 3, 2, tz=NEW_YORK)  # Monday, the first working day
    assert local(interval.end, NEW_YORK) == aware(2026, 3, 10, tz=NEW_YORK)  # 2-6 and 9 Mar
    assert interval.end - interval.start == timedelta(days=8, hours=-1)


def test_occurrences_lists_the_next_ones_in_order():
    found = fz.occurrences(month_edges(1, 1, "UTC"), aware(2026, 2, 10), count=3)
    assert [i.start.date() for i in found] == [date(2026, 2, 27), date(2026, 3, 31), date(2026, 4, 30)]


RULES = st.one_of(
    st.builds(lambda b, a: fz.Rule(fz.MONTH_EDGES, before=b, after=a), st.integers(0, 60), st.integers(1, 60)),
    st.builds(
        lambda b, a, m: fz.Rule(fz.FISCAL_CLOSE, before=b, after=a, end_day=28, end_month=m),
        st.integers(0, 60),
        st.integers(0, 60),
        st.integers(1, 12),
    ),
    st.builds(
        lambda sm, sd, em, ed: fz.Rule(fz.YEARLY, start_month=sm, start_day=sd, end_month=em, end_day=ed),
        st.integers(1, 12),
        st.integers(1, 28),
        st.integers(1, 12),
        st.integers(1, 28),
    ),
    st.builds(
        lambda d, m: fz.Rule(fz.WEEKLY, start_weekday=d, start_minute=m, end_weekday=(d + 2) % 7, end_minute=m),
        st.integers(0, 6),
        st.integers(0, 1439),
    ),
)


@settings(max_examples=150, deadline=None)
@given(moment=MOMENTS, tz=ZONES, rule=RULES)
def test_active_window_agrees_with_a_long_expansion(moment, tz, rule):
    """The short look-back of each kind misses no interval in force (checked against 800 days of expansion)."""
    window = fz.Window("k", rule, tz)
    expected = any(i.contains(moment) for i in fz.expand(window, moment - timedelta(days=800), moment + timedelta(1)))
    assert (fz.active_window([window], moment) is window) == expected
