"""Per-target history at a glance: readable durations, chart axes, sparklines and the status page's strip.

Pure functions over rollup figures (hourly and daily sums of a target's
checks, see ``ops.health.sample.hourly``): the models read the rollups, these
functions decide what is drawn, so raw samples are never scanned for a view.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

#: days in the status page's uptime strip (one bar per day, oldest first)
STRIP_DAYS = 90
#: a day at or above this uptime (%) is drawn as fully up; below PARTIAL_BELOW as down
UP_FROM = 99.9
DOWN_BELOW = 95.0


def hour_label(moment):
    """An hourly axis tick: ``"14:00"`` (the day is implied by the position on a 24 h axis)."""
    return moment.strftime("%H:00")


def buckets(end, count, unit):
    """``count`` bucket starts (``"hour"`` or ``"day"``) ending with the one holding ``end``, oldest first."""
    if unit == "hour":
        last = end.replace(minute=0, second=0, microsecond=0)
        return [last - timedelta(hours=count - 1 - i) for i in range(count)]
    last = end.date() if isinstance(end, datetime) else end
    return [last - timedelta(days=count - 1 - i) for i in range(count)]


@dataclass(frozen=True)
class Bucket:
    """One rollup row's figures (sums over the bucket's checks)."""

    checks: int = 0
    failed: int = 0
    avg_ms: float | None = None
    p95_ms: float | None = None

    @property
    def uptime(self):
        return round(100.0 * (self.checks - self.failed) / self.checks, 2) if self.checks else None


def series(starts, rows):
    """Chart series over ``starts`` from ``rows`` (``{bucket start: Bucket}``): gaps are ``None``.

    Returns ``{"avg_ms", "p95_ms", "uptime", "checks"}``, each a list aligned
    with ``starts``.
    """
    out = {"avg_ms": [], "p95_ms": [], "uptime": [], "checks": []}
    for start in starts:
        row = rows.get(start)
        out["checks"].append(row.checks if row else 0)
        out["uptime"].append(row.uptime if row else None)
        out["avg_ms"].append(None if row is None or row.avg_ms is None else round(row.avg_ms, 1))
        out["p95_ms"].append(None if row is None or row.p95_ms is None else round(row.p95_ms, 1))
    return out


def summary(rows):
    """Figures over several buckets: ``uptime`` (% of checks up), ``avg_ms`` (weighted by successful checks),
    ``p95_ms`` (the highest bucket's p95: an upper bound, never an invented percentile) and ``checks``."""
    rows = list(rows)
    checks = sum(r.checks for r in rows)
    failed = sum(r.failed for r in rows)
    timed = [(r.avg_ms, r.checks - r.failed) for r in rows if r.avg_ms is not None and r.checks > r.failed]
    weight = sum(w for _avg, w in timed)
    p95s = [r.p95_ms for r in rows if r.p95_ms is not None]
    return {
        "checks": checks,
        "uptime": round(100.0 * (checks - failed) / checks, 2) if checks else None,
        "avg_ms": round(sum(a * w for a, w in timed) / weight, 1) if weight else None,
        "p95_ms": round(max(p95s), 1) if p95s else None,
    }


def day_level(uptime):
    """The colour class of one day of the strip: ``up``, ``partial``, ``down`` or ``none`` (no check)."""
    if uptime is None:
        return "none"
    if uptime >= UP_FROM:
        return "up"
    if uptime >= DOWN_BELOW:
        return "partial"
    return "down"


def uptime_strip(today, days, count=STRIP_DAYS):
    """The status page's strip: ``count`` days ending ``today``, oldest first.

    ``days`` maps a date to its :class:`Bucket`. Each bar is
    ``{"day": ISO date, "uptime": % or None, "checks", "failed", "level"}``.
    """
    if isinstance(today, datetime):
        today = today.date()
    bars = []
    for day in buckets(today, count, "day"):
        row = days.get(day) or Bucket()
        uptime = row.uptime
        bars.append(
            {
                "day": day.isoformat() if isinstance(day, date) else str(day),
                "uptime": uptime,
                "checks": row.checks,
                "failed": row.failed,
                "level": day_level(uptime),
            }
        )
    return bars
