"""What an incident cost the business: the shortfall of its signals against their baselines.

While an incident is open, each interval of a linked signal contributes
``max(0, baseline - observed)`` records (orders not taken) and
``max(0, baseline amount - observed amount)`` money; for a signal that
watches rises, the excess instead (``observed - baseline``: e.g. cancelled
orders or failed payments above normal). An interval counts for the incident
when it overlaps the incident's open period. Intervals without a baseline
(learning) contribute nothing: there is nothing to compare with.

The figures are estimates, and are shown as such: rounded to what is worth
reading (:func:`display_round`: "≈ 42 orders, ≈ 12,300 EUR") and announced
in the incident's chatter only when they cross a step of the 1-2-5 series
(:func:`milestone_crossed`), not at every check. Severity follows the
configured impact level (:func:`severity_for`): half the level makes the
incident ``high``, the level itself ``critical`` (which pages).
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from .signals import DIRECTIONS

SEVERITY_ORDER = ("low", "medium", "high", "critical")


@dataclass(frozen=True)
class Point:
    """One checked interval of a signal: what was expected and what was observed."""

    start: datetime
    end: datetime
    observed: float
    observed_amount: float = 0.0
    #: None while the signal was learning (no baseline)
    baseline: float | None = None
    baseline_amount: float = 0.0


@dataclass(frozen=True)
class Impact:
    count: float = 0.0
    amount: float = 0.0

    def __add__(self, other):
        return Impact(self.count + other.count, self.amount + other.amount)


def point_impact(point: Point, direction: str = "drop") -> Impact:
    """The shortfall (``drop``) or excess (``rise``) of one interval; ``both`` counts the side it fell on."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    if point.baseline is None:
        return Impact()
    shortfall = Impact(
        max(0.0, point.baseline - point.observed), max(0.0, point.baseline_amount - point.observed_amount)
    )
    excess = Impact(max(0.0, point.observed - point.baseline), max(0.0, point.observed_amount - point.baseline_amount))
    if direction == "drop":
        return shortfall
    if direction == "rise":
        return excess
    return shortfall if point.observed <= point.baseline else excess


def overlaps(point: Point, since: datetime, until: datetime | None) -> bool:
    """Does the interval overlap ``[since, until)`` (``until`` None: still open)?"""
    return point.end > since and (until is None or point.start < until)


def incident_impact(points: Iterable[Point], since: datetime, until: datetime | None = None, direction="drop"):
    """The :class:`Impact` of the intervals overlapping an incident open from ``since`` to ``until``."""
    total = Impact()
    for point in points:
        if overlaps(point, since, until):
            total = total + point_impact(point, direction)
    return total


def display_round(value: float) -> float:
    """``value`` rounded to what is worth reading: whole units under 1,000, else 3 significant digits.

    42.4 -> 42, 987.6 -> 988, 12,287 -> 12,300, 1,234,567 -> 1,230,000. Never
    negative; half rounds up (an estimate, not a ledger).
    """
    value = max(0.0, float(value))
    if value < 1000:
        return float(math.floor(value + 0.5))
    digits = math.floor(math.log10(value)) - 2
    unit = 10**digits
    return float(math.floor(value / unit + 0.5) * unit)


def milestones(upto: float):
    """The 1-2-5 series (1, 2, 5, 10, 20, 50 ...) up to ``upto``."""
    value, steps = 1, (1, 2, 5)
    decade = 1
    while True:
        for factor in steps:
            value = factor * decade
            if value > upto:
                return
            yield value
        decade *= 10


def milestone_crossed(before: float, after: float):
    """The highest step of the 1-2-5 series in ``(before, after]``, or None (nothing worth a message)."""
    crossed = None
    for value in milestones(after):
        if value > before:
            crossed = value
    return crossed


def severity_for(impact: Impact, level_count: float = 0.0, level_amount: float = 0.0):
    """``critical`` at the configured level, ``high`` at half of it, else None (levels of 0 are off)."""
    ratios = []
    if level_count and level_count > 0:
        ratios.append(impact.count / level_count)
    if level_amount and level_amount > 0:
        ratios.append(impact.amount / level_amount)
    ratio = max(ratios, default=0.0)
    if ratio >= 1.0:
        return "critical"
    if ratio >= 0.5:
        return "high"
    return None


def raises_severity(current: str, proposed: str | None) -> bool:
    """Is ``proposed`` more severe than ``current``? (severity is raised, never lowered)"""
    return bool(proposed) and SEVERITY_ORDER.index(proposed) > SEVERITY_ORDER.index(current)
