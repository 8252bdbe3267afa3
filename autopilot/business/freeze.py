"""Change freeze calendars: windows expanded into concrete UTC intervals.

A freeze window is a :class:`Rule` read in a time zone (the company's), with
the working days of its calendar given as data: a predicate ``date -> bool``
or a collection of dates (the model computes them from Odoo's working
calendar and its public holidays; this module never reads a calendar). Every
interval is half-open ``[start, end)`` in aware UTC datetimes.

Kinds of rules:

``once``
    one range, ``start``/``end`` aware datetimes (any zone).
``month_edges``
    the last ``before`` and the first ``after`` working days around each
    month boundary, as one interval from the start of the first of those days
    to the end of the last one (the weekend and holidays between included).
    A month with fewer working days than asked gives all it has; a calendar
    without working days gives nothing.
``yearly``
    every year from day/month ``start_day/start_month`` (00:00) to
    ``end_day/end_month`` (24:00), crossing the new year when the end comes
    first in the year (15 Dec - 6 Jan); 29 Feb stands for 28 Feb in common years.
``weekly``
    every week from ``start_weekday`` at ``start_minute`` to the next
    ``end_weekday`` at ``end_minute`` (local wall-clock time, Monday = 0),
    e.g. Friday 15:00 -> Monday 08:00: a weekend deploy freeze.
``fiscal_close``
    ``before`` working days up to and including the fiscal year's last day
    (``end_day/end_month``) and ``after`` working days following it.

Local wall-clock times are converted with :mod:`zoneinfo`: across a DST
change an interval keeps its wall-clock bounds (Friday 15:00 stays 15:00) and
its length in hours changes; a bound inside a skipped hour (spring forward)
is shifted forward by the gap.
"""

import calendar as _calendar
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

ONCE = "once"
MONTH_EDGES = "month_edges"
YEARLY = "yearly"
WEEKLY = "weekly"
FISCAL_CLOSE = "fiscal_close"
KINDS = (ONCE, MONTH_EDGES, YEARLY, WEEKLY, FISCAL_CLOSE)

#: how far back an interval in force may have started (a yearly window lasts less than a year)
LOOKBACK = timedelta(days=400)
#: a rule asking for more working days than this is refused (a freeze longer than a quarter is a policy error)
MAX_EDGE_DAYS = 60
MINUTES_PER_DAY = 24 * 60
#: how far from the fiscal year's end its close may reach, either side
FISCAL_REACH = timedelta(days=93)


class RuleError(ValueError):
    """A freeze rule that cannot be expanded (the message says which field and why)."""


@dataclass(frozen=True)
class Rule:
    kind: str
    start: datetime | None = None
    end: datetime | None = None
    before: int = 0
    after: int = 0
    start_day: int = 0
    start_month: int = 0
    end_day: int = 0
    end_month: int = 0
    start_weekday: int = 0
    start_minute: int = 0
    end_weekday: int = 0
    end_minute: int = 0

    def check(self):
        """Raise :class:`RuleError` when the rule is incomplete or out of range; return the rule."""
        if self.kind not in KINDS:
            raise RuleError(f"unknown kind {self.kind!r}")
        if self.kind == ONCE:
            if not self.start or not self.end or self.start.tzinfo is None or self.end.tzinfo is None:
                raise RuleError("a one-off window needs an aware start and end")
            if self.end <= self.start:
                raise RuleError("a one-off window must end after it starts")
        if self.kind in (MONTH_EDGES, FISCAL_CLOSE):
            for name in ("before", "after"):
                value = getattr(self, name)
                if not 0 <= value <= MAX_EDGE_DAYS:
                    raise RuleError(f"{name} must be between 0 and {MAX_EDGE_DAYS} working days, got {value}")
            if self.kind == MONTH_EDGES and not (self.before or self.after):
                raise RuleError("a month-end window needs working days before or after the month's end")
        if self.kind in (YEARLY, FISCAL_CLOSE):
            _check_day_month(self.end_day, self.end_month, "end")
        if self.kind == YEARLY:
            _check_day_month(self.start_day, self.start_month, "start")
        if self.kind == WEEKLY:
            for name in ("start_weekday", "end_weekday"):
                if not 0 <= getattr(self, name) <= 6:
                    raise RuleError(f"{name} must be 0 (Monday) to 6 (Sunday)")
            for name in ("start_minute", "end_minute"):
                if not 0 <= getattr(self, name) < MINUTES_PER_DAY:
                    raise RuleError(f"{name} must be within the day (0-1439)")
            if (self.start_weekday, self.start_minute) == (self.end_weekday, self.end_minute):
                raise RuleError("a weekly window that ends when it starts would never end")
        return self


def _check_day_month(day, month, which):
    if not 1 <= month <= 12:
        raise RuleError(f"{which} month must be 1-12, got {month}")
    if not 1 <= day <= _calendar.monthrange(2024, month)[1]:  # 2024: a leap year, so 29 Feb is allowed
        raise RuleError(f"{which} day {day} does not exist in month {month}")


@dataclass(frozen=True)
class Window:
    """A rule as a company applies it: its time zone and its working days.

    ``working_days``: a predicate ``date -> bool`` or a collection of dates;
    ``key`` identifies the window for the caller (a record id); ``reason`` is
    carried along for messages.
    """

    key: object
    rule: Rule
    tz: str = "UTC"
    working_days: Callable | frozenset | set | None = field(default=None, compare=False)
    reason: str = ""

    def is_working(self, day):
        days = self.working_days
        if days is None:
            return day.weekday() < 5
        if callable(days):
            return bool(days(day))
        return day in days


@dataclass(frozen=True)
class Interval:
    start: datetime
    end: datetime
    window: Window

    def contains(self, moment):
        return self.start <= moment < self.end


# --------------------------------------------------------------------------
# local time
# --------------------------------------------------------------------------


def _utc(moment):
    if moment.tzinfo is None:
        raise ValueError("freeze moments are aware datetimes")
    return moment.astimezone(timezone.utc)


def _local_to_utc(naive, zone):
    """The UTC instant of a local wall-clock time; a time skipped by DST is shifted forward by the gap
    (02:30 on a spring-forward night in Brussels is 03:30), an ambiguous one is its first occurrence."""
    return naive.replace(tzinfo=zone, fold=0).astimezone(timezone.utc)  # PEP 495: fold=0 does both


def _day_start(day, zone):
    return _local_to_utc(datetime.combine(day, time()), zone)


def _days(first, last):
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _clamped(year, month, day):
    return date(year, month, min(day, _calendar.monthrange(year, month)[1]))


# --------------------------------------------------------------------------
# expansion
# --------------------------------------------------------------------------


def _edge_days(window, boundary, before, after, lowest, highest):
    """The working days around ``boundary`` (the first day after the close): the last ``before`` ones before
    it (not before ``lowest``) and the first ``after`` ones from it (not after ``highest``); a stretch with
    fewer working days gives all it has. ``(first, last)`` or ``None``."""
    picked = []
    day, found = boundary - timedelta(days=1), 0
    while found < before and day >= lowest:
        if window.is_working(day):
            picked.append(day)
            found += 1
        day -= timedelta(days=1)
    day, found = boundary, 0
    while found < after and day <= highest:
        if window.is_working(day):
            picked.append(day)
            found += 1
        day += timedelta(days=1)
    return (min(picked), max(picked)) if picked else None


def _month_start(day, months=0):
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _month_edges(window, zone, first, last):
    """One interval per month boundary between ``first`` and ``last`` (local dates)."""
    rule = window.rule
    out = []
    # the days of boundary B lie in B's month and the one before: earlier boundaries end before ``first``
    boundary = _month_start(first)
    while boundary <= last + timedelta(days=32):
        span = _edge_days(
            window,
            boundary,
            rule.before,
            rule.after,
            _month_start(boundary, -1),
            _month_start(boundary, 1) - timedelta(days=1),
        )
        if span:
            out.append((_day_start(span[0], zone), _day_start(span[1] + timedelta(days=1), zone)))
        boundary = _month_start(boundary, 1)
    return out


def _yearly(rule, zone, first, last):
    out = []
    for year in range(first.year - 1, last.year + 2):
        start = _clamped(year, rule.start_month, rule.start_day)
        crosses = (rule.end_month, rule.end_day) < (rule.start_month, rule.start_day)
        end = _clamped(year + crosses, rule.end_month, rule.end_day)
        out.append((_day_start(start, zone), _day_start(end + timedelta(days=1), zone)))
    return out


def _weekly(rule, zone, first, last):
    out = []
    day = first - timedelta(days=7)
    day -= timedelta(days=(day.weekday() - rule.start_weekday) % 7)
    span = (rule.end_weekday - rule.start_weekday) % 7 * MINUTES_PER_DAY + rule.end_minute - rule.start_minute
    if span <= 0:  # ends the next week (e.g. Monday 18:00 -> Monday 08:00)
        span += 7 * MINUTES_PER_DAY
    while day <= last + timedelta(days=7):
        local_start = datetime.combine(day, time()) + timedelta(minutes=rule.start_minute)
        local_end = local_start + timedelta(minutes=span)  # wall-clock arithmetic, then each bound converted
        out.append((_local_to_utc(local_start, zone), _local_to_utc(local_end, zone)))
        day += timedelta(days=7)
    return out


def _fiscal(window, zone, first, last):
    rule = window.rule
    out = []
    for year in range(first.year - 1, last.year + 2):
        boundary = _clamped(year, rule.end_month, rule.end_day) + timedelta(days=1)
        span = _edge_days(window, boundary, rule.before, rule.after, boundary - FISCAL_REACH, boundary + FISCAL_REACH)
        if span:
            out.append((_day_start(span[0], zone), _day_start(span[1] + timedelta(days=1), zone)))
    return out


def expand(window, start, end):
    """The window's intervals that overlap ``[start, end)``, sorted and merged where they touch."""
    rule = window.rule.check()
    start, end = _utc(start), _utc(end)
    if end <= start:
        return []
    if rule.kind == ONCE:
        raw = [(_utc(rule.start), _utc(rule.end))]
    else:
        zone = ZoneInfo(window.tz or "UTC")
        first = start.astimezone(zone).date()
        last = end.astimezone(zone).date()
        if rule.kind == MONTH_EDGES:
            raw = _month_edges(window, zone, first, last)
        elif rule.kind == YEARLY:
            raw = _yearly(rule, zone, first, last)
        elif rule.kind == WEEKLY:
            raw = _weekly(rule, zone, first, last)
        else:
            raw = _fiscal(window, zone, first, last)
    merged = []
    for lo, hi in sorted(raw):
        if hi <= lo:
            continue
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return [Interval(lo, hi, window) for lo, hi in merged if hi > start and lo < end]


#: how far back an interval of each kind in force may have started (the month-edge and fiscal ones span at most
#: MAX_EDGE_DAYS working days either side of their boundary, within about three months)
KIND_LOOKBACK = {
    ONCE: LOOKBACK,
    MONTH_EDGES: timedelta(days=64),
    YEARLY: LOOKBACK,
    WEEKLY: timedelta(days=8),
    FISCAL_CLOSE: timedelta(days=200),
}


def _around(windows, moment, ahead):
    """Intervals near ``moment``: back as far as each kind may reach (fewer working days to compute), then ahead."""
    moment = _utc(moment)
    intervals = []
    for window in windows:
        back = KIND_LOOKBACK.get(window.rule.kind, LOOKBACK)
        intervals.extend(expand(window, moment - back, moment + ahead))
    return sorted(intervals, key=lambda i: (i.start, i.end, str(i.window.key)))


def active_intervals(windows, moment):
    """The intervals of ``windows`` in force at ``moment``, earliest start first."""
    moment = _utc(moment)
    return [i for i in _around(windows, moment, timedelta(days=1)) if i.contains(moment)]


def active_window(windows, moment):
    """The window in force at ``moment`` (the one that started first), or ``None``."""
    found = active_intervals(windows, moment)
    return found[0].window if found else None


def next_end(windows, moment, horizon=timedelta(days=800)):
    """When the freeze in force at ``moment`` ends, following windows that overlap or chain; ``None`` if none is.

    A freeze that flows straight into another one (a month-end freeze inside
    the year-end one) ends when the last of them does.
    """
    moment = _utc(moment)
    intervals = _around(windows, moment, horizon)
    end = max((i.end for i in intervals if i.contains(moment)), default=None)
    if end is None:
        return None
    chained = True
    while chained:
        chained = False
        for interval in intervals:
            if interval.start <= end < interval.end:
                end, chained = interval.end, True
    return end


def next_start(windows, moment, horizon=timedelta(days=400)):
    """The first interval starting after ``moment`` (within ``horizon``), or ``None``."""
    moment = _utc(moment)
    later = [i for i in _around(windows, moment, horizon) if i.start > moment]
    return later[0] if later else None


def occurrences(window, moment, count=5, horizon=timedelta(days=800)):
    """The next ``count`` intervals of one window that end after ``moment`` (the one in force first)."""
    moment = _utc(moment)
    return expand(window, moment, moment + horizon)[:count]
