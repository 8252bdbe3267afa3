"""Alert evaluation without noise: from a target's recent samples to firing conditions.

:func:`evaluate` is stateless: it reads the samples (oldest to newest) and
the set of conditions that were firing after the previous evaluation, and
returns one :class:`Condition` per kind in :data:`KINDS`. The caller keeps
``previously_firing`` (the open incidents of the target) and passes it back.

Rules (``t`` = :class:`Thresholds`)
-----------------------------------
Evidence changes state, absence of evidence never does: with no usable
sample a condition keeps its previous state, so a gap in probing cannot
open or close anything. (An archived target's incidents are the caller's to
resolve.) Samples later than ``now`` are ignored.

``down``
    Fires after ``t.down_after`` consecutive failed checks; once firing it
    clears only after ``t.recover_after`` consecutive successful checks.
    Exactly ``down_after - 1`` failures never fire; a single success in a
    failing run does not clear. Severity ``critical``.
``slow`` / ``cpu`` / ``memory`` (and ``error_rate`` from the service's metrics)
    Measured values: the service's own p95 latency (``p95_ms``) where the
    checks carry it, else ``response_ms`` of successful checks;
    ``cpu_percent``; ``memory_percent``; for ``error_rate``, the service's
    own ``error_ratio`` (checks without the value are skipped). A condition
    fires when the trailing run of values *above* the threshold spans at
    least ``t.duration_seconds`` (from its first to its last sample), i.e.
    every value seen over that duration breaches and the duration is
    actually covered by samples. Once firing it clears only after
    ``t.recover_after`` consecutive values at or below the threshold, so a
    value oscillating around the threshold neither re-fires (it needs a full
    duration again) nor clears. Values older than
    ``max(t.window_seconds, t.duration_seconds)`` are "no data".
    Severity ``medium``; ``high`` when every value of the firing run is far
    over: twice the threshold for ``slow``, three quarters of the way from
    the threshold to 100 % for ``cpu``/``memory`` (80 -> 95, 85 -> 96.25).
``error_rate``
    From the service's own metrics when the recent checks carry an
    ``error_ratio`` (share of its requests that failed, Prometheus or its
    metrics page): judged like ``slow`` above. Otherwise, the fallback for
    plain HTTP targets, **failed checks** / checks within
    ``t.window_seconds`` (percent), counting only *intermittent* failures:
    checks that belong to an outage are reported by ``down`` and are left out
    of both numerator and denominator (so an outage does not also raise a
    failed-checks incident, nor one for the hour after it), and so are the
    failures of a trailing run shorter than ``t.down_after``: until a
    success ends it, nobody knows whether it is a blip or an outage being
    confirmed (so the first failures of an outage do not open a
    failed-checks incident before ``down`` fires). An outage is
    found by running the ``down`` rule over the whole history, not only the
    window: it spans from the first failure of the run that made ``down``
    fire to the check that cleared it (a lone success in the middle of it
    included), so the window cutting an outage in two never turns its tail
    into "intermittent" failures. Judged only with at least
    ``t.min_checks`` checks in the window and at least :data:`MIN_FAILURES`
    failures; fires above ``t.error_rate``, clears at or below
    ``t.error_rate * ERROR_RATE_CLEAR_RATIO`` (half). Severity ``high``,
    ``critical`` from 50 %. ``Condition.basis`` says which was judged
    (``"metrics"`` or ``"checks"``).

Inhibition (as Alertmanager's ``inhibit_rules``): while ``down`` fires,
its derived conditions ``error_rate`` and ``slow`` are *inhibited*: they
keep their previous state (nothing opens, nothing resolves) and carry
``inhibited=True``; one outage is one incident. CPU and memory, which may
be the cause of the outage, are not inhibited.

A threshold set to ``None`` disables its condition (never firing).
Conditions that are not firing have severity ``low``.

Suppressions
------------
:class:`Suppression` is an ad-hoc silence or a maintenance window: a
one-off interval (``start``/``end``, either open) or, with ``weekly``, a
recurring :class:`WeeklyWindow` (weekday, local start time, duration, time
zone) whose ``start``/``end`` bound when the recurrence applies. Windows may
cross midnight and the end of the week. :func:`active_suppression` picks the
active one that lasts longest.
"""

import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

KINDS = ("down", "error_rate", "slow", "cpu", "memory")
SEVERITIES = ("low", "medium", "high", "critical")
MIN_FAILURES = 2
ERROR_RATE_CLEAR_RATIO = 0.5
ERROR_RATE_CRITICAL = 50.0
DEDUP_KEY_MAX = 255


@dataclass(frozen=True)
class Thresholds:
    response_ms: float | None = 2000.0
    error_rate: float | None = 5.0
    cpu: float | None = 80.0
    memory: float | None = 85.0
    duration_seconds: int = 300
    down_after: int = 3
    recover_after: int = 2
    window_seconds: int = 3600
    min_checks: int = 4

    def __post_init__(self):
        if self.down_after < 1 or self.recover_after < 1:
            raise ValueError("down_after and recover_after are at least 1")
        if self.duration_seconds < 0 or self.window_seconds <= 0:
            raise ValueError("duration_seconds >= 0 and window_seconds > 0")
        if self.min_checks < 1:
            raise ValueError("min_checks is at least 1")
        for name in ("response_ms", "error_rate", "cpu", "memory"):
            value = getattr(self, name)
            if value is not None and (not math.isfinite(value) or value < 0):
                raise ValueError(f"{name} must be a non-negative number or None")


@dataclass(frozen=True)
class Condition:
    kind: str
    firing: bool
    severity: str
    value: float | None
    threshold: float | None
    message: str
    #: when the breach that makes it fire started (first sample of the run), if known
    since: datetime | None = None
    #: muted while the target is down (see "Inhibition"): neither opens nor resolves anything
    inhibited: bool = False
    #: what was judged: "checks" (probe outcomes) or "metrics" (the service's own figures)
    basis: str = "checks"


# ---------------------------------------------------------------------------
# evaluation
# ---------------------------------------------------------------------------
def _trailing(items, predicate):
    """The trailing run of ``items`` satisfying ``predicate`` (oldest first)."""
    count = 0
    for item in reversed(items):
        if not predicate(item):
            break
        count += 1
    return items[len(items) - count :]


def _fmt(value, unit):
    if unit == "ms":
        return f"{value:.0f} ms"
    return f"{value:.1f} %"


def _minutes(seconds):
    return f"{seconds / 60:.0f} min" if seconds >= 60 else f"{seconds:.0f} s"


def _down(history, t, was):
    fails = _trailing(history, lambda s: not s.up)
    oks = _trailing(history, lambda s: s.up)
    threshold = float(t.down_after)
    if not history:
        return Condition("down", was, "critical" if was else "low", None, threshold, "no checks yet")
    firing = len(oks) < t.recover_after if was else len(fails) >= t.down_after
    since = fails[0].checked_at if fails else None
    last_error = next((s.error for s in reversed(history) if not s.up and s.error), None)
    if firing and fails:
        message = f"down: {len(fails)} consecutive failed checks"
        if last_error:
            message += f" (last: {last_error})"
    elif firing:
        message = f"recovering: {len(oks)} of {t.recover_after} successful checks needed to clear"
    elif fails:
        message = f"{len(fails)} failed check(s); down after {t.down_after}"
    else:
        message = "up"
    return Condition(
        "down",
        firing,
        "critical" if firing else "low",
        float(len(fails)),
        threshold,
        message,
        since if firing else None,
    )


def error_rate(samples: Sequence, now: datetime, window_seconds: float) -> float | None:
    """Failed checks / checks within ``(now - window_seconds, now]``, in percent; None without checks."""
    start = now - timedelta(seconds=window_seconds)
    total = failed = 0
    for sample in samples:
        if start < sample.checked_at <= now:
            total += 1
            failed += not sample.up
    return failed * 100.0 / total if total else None


def outage_indexes(history, down_after, recover_after):
    """Indexes of ``history`` (oldest first) that belong to an outage, by the ``down`` rule run over it all.

    An outage spans from the first failure of the run of ``down_after``
    consecutive failures that made ``down`` fire to the last check before
    ``recover_after`` consecutive successes cleared it.
    """
    inside, down, fails, oks, start = set(), False, 0, 0, None
    for index, sample in enumerate(history):
        if sample.up:
            fails, oks = 0, oks + 1
            if down and oks >= recover_after:
                inside.update(range(start, index - oks + 1))
                down, start = False, None
            continue
        oks, fails = 0, fails + 1
        if not down and fails >= down_after:
            down, start = True, index - fails + 1
    if down:
        inside.update(range(start, len(history)))
    return inside


def _error_rate(history, t, now, was):
    threshold = t.error_rate
    if threshold is None:
        return Condition("error_rate", False, "low", None, None, "disabled")
    horizon = now - timedelta(seconds=max(t.window_seconds, t.duration_seconds))
    if any(s.error_ratio is not None and s.checked_at >= horizon for s in history):
        return _metric("error_rate", history, t, now, was)
    start = now - timedelta(seconds=t.window_seconds)
    outage = outage_indexes(history, t.down_after, t.recover_after)
    pending = len(_trailing(history, lambda s: not s.up))
    judged = history[: len(history) - pending]
    checks = [s for index, s in enumerate(judged) if s.checked_at > start and index not in outage]
    failed = sum(1 for s in checks if not s.up)
    rate = failed * 100.0 / len(checks) if checks else None
    span = _minutes(t.window_seconds)
    if len(checks) < t.min_checks:
        message = f"failed checks: not enough checks to judge ({len(checks)} of {t.min_checks} in {span})"
        return Condition("error_rate", was, "high" if was else "low", rate, threshold, message)
    # fires above the threshold, clears only well below it
    firing = rate > threshold * ERROR_RATE_CLEAR_RATIO if was else (rate > threshold and failed >= MIN_FAILURES)
    severity = ("critical" if rate >= ERROR_RATE_CRITICAL else "high") if firing else "low"
    message = f"failed checks {rate:.1f} % ({failed} of {len(checks)} checks failed in {span}, outages left out)"
    if firing:
        message += f", above {threshold:g} %"
    since = next((s.checked_at for s in checks if not s.up), None) if firing else None
    return Condition("error_rate", firing, severity, round(rate, 3), threshold, message, since)


_METRICS = {
    "slow": ("response_ms", "response time", "ms"),
    "cpu": ("cpu", "CPU", "%"),
    "memory": ("memory", "memory", "%"),
    "error_rate": ("error_rate", "error ratio", "%"),
}


def _value(kind, sample, p95):
    if kind == "slow":
        if p95:
            return sample.p95_ms
        return sample.response_ms if sample.up else None
    if kind == "cpu":
        return sample.cpu_percent
    if kind == "error_rate":
        return sample.error_ratio
    return sample.memory_percent


def _far_level(kind, threshold):
    if kind == "slow":
        return threshold * 2
    if kind == "error_rate":
        return max(threshold * 2, ERROR_RATE_CRITICAL)
    return threshold + (100.0 - threshold) * 0.75


def _metric(kind, history, t, now, was):
    attr, label, unit = _METRICS[kind]
    threshold = getattr(t, attr)
    if threshold is None:
        return Condition(kind, False, "low", None, None, "disabled")
    # the service's own p95 latency, where its metrics give one, is what "slow" judges
    p95 = kind == "slow" and any(s.p95_ms is not None for s in history)
    if p95:
        label = "p95 latency"
    valued = [(s.checked_at, v) for s in history if (v := _value(kind, s, p95)) is not None]
    horizon = now - timedelta(seconds=max(t.window_seconds, t.duration_seconds))
    if not valued or valued[-1][0] < horizon:
        message = f"no recent {label} data"
        return Condition(kind, was, "medium" if was else "low", None, threshold, message)
    latest = valued[-1][1]
    streak = _trailing(valued, lambda item: item[1] > threshold)
    span = (streak[-1][0] - streak[0][0]).total_seconds() if streak else 0.0
    if was:
        tail = valued[-t.recover_after :]
        cleared = len(tail) >= t.recover_after and all(v <= threshold for _at, v in tail)
        firing = not cleared
    else:
        firing = bool(streak) and span >= t.duration_seconds
    severity = "low"
    if firing:
        far = bool(streak) and all(v >= _far_level(kind, threshold) for _at, v in streak)
        severity = "high" if far else "medium"
    if firing and streak:
        message = f"{label} {_fmt(latest, unit)} above {_fmt(threshold, unit)} for {_minutes(span)}"
    elif firing:
        good = len(_trailing(valued, lambda item: item[1] <= threshold))
        message = (
            f"{label} back to {_fmt(latest, unit)} ({good} of {t.recover_after} checks at or below "
            f"{_fmt(threshold, unit)} needed to clear)"
        )
    elif streak:
        message = (
            f"{label} {_fmt(latest, unit)} above {_fmt(threshold, unit)} for {_minutes(span)} "
            f"(fires after {_minutes(t.duration_seconds)})"
        )
    else:
        message = f"{label} {_fmt(latest, unit)}"
    since = streak[0][0] if firing and streak else None
    basis = "metrics" if kind != "slow" or p95 else "checks"
    return Condition(kind, firing, severity, round(latest, 3), threshold, message, since, basis=basis)


#: conditions muted while ``down`` fires (see "Inhibition")
INHIBITED_BY_DOWN = ("error_rate", "slow")


def _inhibit(condition, was):
    """``condition`` muted by an outage: its previous state kept, said in the message."""
    firing = condition.kind in was
    severity = condition.severity if firing == condition.firing else ("medium" if firing else "low")
    return replace(
        condition,
        firing=firing,
        severity=severity,
        message=f"inhibited while the target is down ({condition.message})",
        since=None,
        inhibited=True,
    )


def evaluate(
    samples: Sequence,
    thresholds: Thresholds,
    now: datetime,
    previously_firing: Iterable[str] = frozenset(),
) -> list[Condition]:
    """One :class:`Condition` per kind of :data:`KINDS`, in that order (see the module rules)."""
    was = frozenset(previously_firing or ())
    history = sorted((s for s in samples if s.checked_at <= now), key=lambda s: s.checked_at)
    conditions = [
        _down(history, thresholds, "down" in was),
        _error_rate(history, thresholds, now, "error_rate" in was),
        *(_metric(kind, history, thresholds, now, kind in was) for kind in ("slow", "cpu", "memory")),
    ]
    if conditions[0].firing:
        conditions = [_inhibit(c, was) if c.kind in INHIBITED_BY_DOWN else c for c in conditions]
    return conditions


def dedup_key(target_ref: str, kind: str) -> str:
    """``"<target_ref>:<kind>"``: one open incident per key; at most 255 characters (PagerDuty's limit)."""
    ref, kind = str(target_ref or "").strip(), str(kind or "").strip()
    if not ref or not kind:
        raise ValueError("a dedup key needs a target reference and a kind")
    key = f"{ref}:{kind}"
    if len(key) > DEDUP_KEY_MAX:
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        key = f"{key[: DEDUP_KEY_MAX - 17]}~{digest}"
    return key


# ---------------------------------------------------------------------------
# silences and maintenance windows
# ---------------------------------------------------------------------------
def _zone(name):
    if not name or name == "UTC":
        return timezone.utc
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None


@dataclass(frozen=True)
class WeeklyWindow:
    """Every week on ``weekday`` (0 = Monday) from local ``start`` for ``duration_seconds`` (at most a week)."""

    weekday: int
    start: time
    duration_seconds: int
    tz: str | None = None

    def __post_init__(self):
        if not 0 <= self.weekday <= 6:
            raise ValueError("weekday is 0 (Monday) to 6 (Sunday)")
        if not 0 < self.duration_seconds <= 7 * 86400:
            raise ValueError("a weekly window lasts more than 0 seconds and at most a week")
        _zone(self.tz)

    def occurrence(self, now):
        """``(start, end)`` in naive UTC of the occurrence containing ``now`` (naive UTC), or None."""
        zone = _zone(self.tz)
        now_utc = now.replace(tzinfo=timezone.utc)
        local = now_utc.astimezone(zone).replace(tzinfo=None)
        days_back = (local.weekday() - self.weekday) % 7
        first = datetime.combine(local.date() - timedelta(days=days_back), self.start)
        for candidate in (first, first - timedelta(days=7)):
            start = candidate.replace(tzinfo=zone).astimezone(timezone.utc)
            end = start + timedelta(seconds=self.duration_seconds)
            if start <= now_utc < end:
                return start.replace(tzinfo=None), end.replace(tzinfo=None)
        return None


@dataclass(frozen=True)
class Suppression:
    """An ad-hoc silence or a maintenance window (see the module docstring)."""

    start: datetime | None
    end: datetime | None
    reason: str = ""
    kind: str = "silence"
    weekly: WeeklyWindow | None = None
    created_by: str | None = None

    def __post_init__(self):
        if self.kind not in ("silence", "maintenance"):
            raise ValueError("a suppression is a 'silence' or a 'maintenance' window")
        if self.start and self.end and self.end <= self.start:
            raise ValueError("a suppression ends after it starts")

    def window(self, now):
        """``(start, end)`` of the stretch active at ``now`` (``end`` None = open-ended), or None."""
        if (self.start and now < self.start) or (self.end and now >= self.end):
            return None
        if self.weekly is None:
            return self.start, self.end
        occurrence = self.weekly.occurrence(now)
        if occurrence is None:
            return None
        start, end = occurrence
        return start, min(end, self.end) if self.end else end

    def is_active(self, now):
        return self.window(now) is not None


def active_suppression(suppressions: Iterable[Suppression], now: datetime) -> Suppression | None:
    """The suppression active at ``now`` that lasts longest (open-ended first), or None."""
    best, best_end = None, None
    for suppression in suppressions:
        window = suppression.window(now)
        if window is None:
            continue
        end = window[1] or datetime.max
        if best is None or end > best_end:
            best, best_end = suppression, end
    return best
