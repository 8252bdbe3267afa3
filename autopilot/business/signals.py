"""Business signals: a count per interval against its seasonal baseline, and when that is an anomaly.

A business signal counts records of the ERP (confirmed orders, posted
invoices, new customers) per interval, e.g. 15 minutes. Whether a count is
abnormal depends on when it is: 40 orders is a bad Monday 11:00 and a great
Sunday 03:00. So the count of an interval is compared with the counts of the
**same weekday and wall-clock slot** over the last N weeks.

Slots (:func:`last_interval`, :func:`seasonal_slots`)
    Intervals are aligned on the wall clock of the business's time zone
    (11:00-11:15 local), and "the same slot N weeks ago" is the same local
    time N weeks ago, so a daylight-saving change does not shift the slot by
    an hour: on the Monday after Brussels moves to summer time, 11:00 local is
    compared with the 11:00 local of the weeks before (09:00 UTC against
    10:00 UTC). A slot that did not exist that week (02:00-03:00 local on the
    spring-forward night) is left out of the history; a slot that existed
    twice (the autumn night) is taken in the same fold as the observed one.
    Each slot lasts ``interval`` minutes of real time. The interval must
    divide a day (5, 10, 15, 30, 60 ... 1440 minutes), so a slot never
    straddles local midnight: the caller can group a slot's records by
    local day.

Baseline (:func:`baseline`)
    The median of the history (half of the weeks may be outliers, e.g. Black
    Friday or the outage of two weeks ago, without moving it much) and its
    spread, the MAD scaled by 1.4826 (the standard deviation of normally
    distributed data). Counts of events are roughly Poisson, so their spread
    is never smaller than ``sqrt(median)``: with four to eight weeks the MAD
    is often 0 (four equal counts), which would make any difference infinitely
    significant. The spread is therefore ``max(1.4826 * MAD, sqrt(median),
    1)``. Fewer than :data:`MIN_HISTORY` slots of history (a new shop, a
    model with no history): no baseline, the signal is **learning** and never
    fires.

Anomaly rule (:func:`judge`)
    An interval is *low* when all of:

    * the baseline is at least ``min_baseline`` (quiet hours, e.g. 2 orders
      at 03:00, never fire: one order less is not an outage, and a
      percentage of a tiny number means nothing);
    * the robust z-score ``(median - observed) / spread`` is at least
      ``threshold`` (3 by default: not noise);
    * the relative drop ``(median - observed) / median`` is at least
      ``min_change`` (0.5 by default): at high volume the spread is small and
      a 5 % dip is many spreads away, but nobody wants to be paged for it.

    *High* is the mirror (``observed - median``), gated on the observed count
    reaching ``min_baseline`` (a spike from nothing, such as card testing at
    night, is what a rise signal is for) and the relative rise computed
    against ``max(median, 1)``.

State (:func:`step`)
    ``learning`` / ``ok`` / ``anomaly``. The signal enters ``anomaly`` after
    ``k`` consecutive anomalous intervals in a direction it watches, and
    returns to ``ok`` after ``k_clear`` consecutive intervals that are not
    (normal, quiet or without a baseline: nothing says it is still wrong), so
    one bad interval neither opens nor closes an incident.
"""

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

MAD_SCALE = 1.4826
#: history slots needed for a baseline (fewer: "learning", never fires)
MIN_HISTORY = 3
DIRECTIONS = ("drop", "rise", "both")
STATES = ("learning", "ok", "anomaly")
#: verdicts of one interval
LOW, HIGH, NORMAL, QUIET, LEARNING = "low", "high", "normal", "quiet", "learning"
VERDICTS = (LOW, HIGH, NORMAL, QUIET, LEARNING)
DAY_MINUTES = 24 * 60
DEFAULT_INTERVAL = 15
DEFAULT_WEEKS = 6
DEFAULT_THRESHOLD = 3.0
DEFAULT_MIN_CHANGE = 0.5
DEFAULT_MIN_BASELINE = 5.0
DEFAULT_K = 2


def check_interval(minutes: int) -> int:
    """``minutes`` when it is a valid interval (divides a day, at least 5), else ``ValueError``."""
    if not isinstance(minutes, int) or minutes < 5 or minutes > DAY_MINUTES or DAY_MINUTES % minutes:
        raise ValueError(f"interval must divide a day (5, 10, 15, 30, 60 ... 1440 minutes), got {minutes!r}")
    return minutes


def _zone(tz) -> ZoneInfo:
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz or "UTC")


def _aware(moment: datetime) -> datetime:
    """A naive UTC datetime (as Odoo stores them) made aware; aware ones are converted to UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def last_interval(now: datetime, interval: int, tz) -> tuple[datetime, datetime]:
    """``(start, end)`` (naive UTC) of the last complete interval before ``now``, aligned on ``tz``'s wall clock."""
    check_interval(interval)
    zone = _zone(tz)
    local = _aware(now).astimezone(zone)
    minutes = local.hour * 60 + local.minute
    floored = minutes - minutes % interval
    end_local = local.replace(hour=floored // 60, minute=floored % 60, second=0, microsecond=0)
    end = _naive_utc(end_local)
    return end - timedelta(minutes=interval), end


def next_interval(start: datetime, interval: int, tz) -> tuple[datetime, datetime]:
    """The interval after the one starting at ``start`` (naive UTC), realigned on the wall clock."""
    return last_interval(start + timedelta(minutes=2 * interval), interval, tz)


def seasonal_slots(start: datetime, interval: int, tz, weeks: int) -> list[tuple[datetime, datetime]]:
    """``[(start, end)]`` (naive UTC) of the same local weekday and time 1 .. ``weeks`` weeks before ``start``.

    Slots that did not exist on the wall clock that week (the spring-forward
    gap) are left out; an ambiguous one (the autumn night) is taken in the
    fold of ``start``. Most recent first.
    """
    check_interval(interval)
    zone = _zone(tz)
    local = _aware(start).astimezone(zone)
    wall = local.replace(tzinfo=None)
    slots = []
    for week in range(1, weeks + 1):
        then_wall = wall - timedelta(weeks=week)
        then = then_wall.replace(tzinfo=zone, fold=local.fold)
        if then.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != then_wall:
            continue  # this wall-clock time was skipped that week (spring forward)
        slot_start = _naive_utc(then)
        slots.append((slot_start, slot_start + timedelta(minutes=interval)))
    return slots


@dataclass(frozen=True)
class Baseline:
    """The seasonal expectation of an interval: median count, robust spread, median amount."""

    median: float
    spread: float
    amount: float
    points: int


def baseline(counts: Sequence[float], amounts: Sequence[float] | None = None, min_history: int = MIN_HISTORY):
    """:class:`Baseline` of the history ``counts`` (and ``amounts``), or None with too little history."""
    counts = [float(c) for c in counts]
    if len(counts) < max(1, min_history):
        return None
    median = statistics.median(counts)
    mad = statistics.median(abs(c - median) for c in counts)
    spread = max(MAD_SCALE * mad, math.sqrt(median), 1.0)
    amount = statistics.median(float(a) for a in amounts) if amounts else 0.0
    return Baseline(median=median, spread=spread, amount=amount, points=len(counts))


@dataclass(frozen=True)
class Rule:
    """How a signal judges an interval (see the module's docstring)."""

    direction: str = "drop"
    threshold: float = DEFAULT_THRESHOLD
    min_change: float = DEFAULT_MIN_CHANGE
    min_baseline: float = DEFAULT_MIN_BASELINE
    k: int = DEFAULT_K
    k_clear: int = DEFAULT_K

    def __post_init__(self):
        if self.direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {DIRECTIONS}, got {self.direction!r}")
        if self.threshold <= 0 or self.min_change < 0 or self.min_baseline < 0:
            raise ValueError("threshold must be positive, min_change and min_baseline not negative")
        if self.k < 1 or self.k_clear < 1:
            raise ValueError("k and k_clear must be at least 1")

    def watches(self, verdict: str) -> bool:
        return (verdict == LOW and self.direction in ("drop", "both")) or (
            verdict == HIGH and self.direction in ("rise", "both")
        )


def judge(observed: float, base: Baseline | None, rule: Rule) -> str:
    """The verdict of one interval: ``low``, ``high``, ``normal``, ``quiet`` or ``learning``."""
    if base is None:
        return LEARNING
    median = base.median
    if observed < median and median >= rule.min_baseline:
        gap = median - observed
        if gap / base.spread >= rule.threshold and gap / median >= rule.min_change:
            return LOW
    if observed > median and observed >= rule.min_baseline:
        gap = observed - median
        if gap / base.spread >= rule.threshold and gap / max(median, 1.0) >= rule.min_change:
            return HIGH
    if median < rule.min_baseline and observed < rule.min_baseline:
        return QUIET
    return NORMAL


@dataclass(frozen=True)
class State:
    """Where a signal stands: ``state`` and the run of intervals that argue for changing it."""

    state: str = "learning"
    streak: int = 0
    #: the watched verdict of the run that fired (``low``/``high``), while in anomaly
    fired: str = ""


def step(previous: State, verdict: str, rule: Rule) -> State:
    """The state after one more interval judged ``verdict``."""
    if verdict not in VERDICTS:
        raise ValueError(f"unknown verdict {verdict!r}")
    bad = rule.watches(verdict)
    if previous.state == "anomaly":
        if bad:
            return State("anomaly", 0, verdict)
        streak = previous.streak + 1
        if streak >= rule.k_clear:
            return State(LEARNING if verdict == LEARNING else "ok", 0, "")
        return State("anomaly", streak, previous.fired)
    if bad:
        streak = previous.streak + 1 if previous.fired in ("", verdict) else 1
        if streak >= rule.k:
            return State("anomaly", 0, verdict)
        return State("ok", streak, verdict)
    return State(LEARNING if verdict == LEARNING else "ok", 0, "")


def run(verdicts: Iterable[str], rule: Rule, start: State | None = None) -> State:
    """The state after a sequence of verdicts (oldest first)."""
    state = start or State()
    for verdict in verdicts:
        state = step(state, verdict, rule)
    return state
