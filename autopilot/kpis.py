"""KPI formulas, their targets, trends, report periods and the weekly report's recommendations.

Plain Python, no Odoo: the models aggregate counts and sums with SQL
(``read_group``) and hand them here; every decision about what a number
means lives in this module.

A KPI is computed from aggregates, never from invented figures: when its
denominator is empty the value is ``None`` and the KPI says "no data".
Percentages are 0-100, durations in minutes (build time, MTTR) or
milliseconds (response time).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta

from .common.durations import human_duration

NO_DATA = "no data"

# How a value compares to its target: ``min`` means at least the target
# (higher is better), ``max`` means below the target (lower is better).
AT_LEAST = "min"
BELOW = "max"


@dataclass(frozen=True)
class KpiDefinition:
    key: str
    label: str
    unit: str
    target: float
    goal: str  # AT_LEAST or BELOW
    computation: str
    digits: int = 1

    def met(self, value):
        """Whether ``value`` meets the target; None without a value."""
        if value is None:
            return None
        if self.goal == AT_LEAST:
            return value >= self.target
        return value < self.target

    @property
    def target_label(self):
        sign = "≥" if self.goal == AT_LEAST else "<"
        return f"{sign} {self.target:g}{_unit_suffix(self.unit)}"


# The seed's targets (cache hit rate, self-healing, build time, false positives, MTTR) and the
# monitoring defaults (availability, response time 2000 ms, error rate 5 %).
KPIS = {
    d.key: d
    for d in (
        KpiDefinition(
            "cache_hit_rate",
            "Cache hit rate",
            "%",
            90,
            AT_LEAST,
            "Cache restores that found a cache (exact key or restore key) divided by all cache restores, "
            "read from the actions/cache and setup-* steps of the job logs fetched in the period.",
        ),
        KpiDefinition(
            "self_healing_success_rate",
            "Self-healing success rate",
            "%",
            80,
            AT_LEAST,
            "Automatic re-runs of failed jobs that ended green divided by those that ended "
            "(succeeded + failed), for re-runs finished in the period.",
        ),
        KpiDefinition(
            "avg_build_time",
            "Average build time",
            "min",
            10,
            BELOW,
            "Mean duration of the completed workflow runs started in the period.",
        ),
        KpiDefinition(
            "false_positive_rate",
            "False-positive alert rate",
            "%",
            5,
            BELOW,
            "Incidents marked false positive divided by all incidents opened in the period.",
        ),
        KpiDefinition(
            "mttr",
            "Mean time to remediation (opened → resolved)",
            "min",
            15,
            BELOW,
            "Mean time from an incident opening to its resolution (by hand, or automatically when the condition "
            "recovered), over the incidents resolved in the period, false positives excluded. The time to detect "
            "(first failing check → incident opened) is not included: the weekly report shows it as MTTD.",
        ),
        KpiDefinition(
            "uptime",
            "Uptime",
            "%",
            99.9,
            AT_LEAST,
            "Health checks that found the target up divided by all checks in the period (hourly and daily rollups).",
            digits=2,
        ),
        KpiDefinition(
            "avg_response_time",
            "Average response time",
            "ms",
            2000,
            BELOW,
            "Mean response time of the health checks in the period, weighted by checks (hourly and daily rollups).",
            digits=0,
        ),
        KpiDefinition(
            "error_rate",
            "Failed checks",
            "%",
            5,
            BELOW,
            "Failed health checks (down, unexpected status or body, timeout, failed scrape or query) divided by all "
            "checks in the period: what the probes saw, not the services' own error ratio (which Prometheus targets "
            "and metrics pages give per target).",
            digits=2,
        ),
    )
}
KPI_ORDER = tuple(KPIS)


def _unit_suffix(unit):
    return "%" if unit == "%" else f" {unit}"


def format_number(value, digits=1):
    if value is None:
        return NO_DATA
    text = f"{value:,.{digits}f}"
    return text.replace(",", "\u202f")


def format_value(key, value):
    """A KPI's value as shown: durations as people read them ("11 min", "1 h 05 min"), others with their unit."""
    definition = KPIS[key]
    if value is None:
        return NO_DATA
    if definition.unit == "min":
        return human_duration(value * 60)
    return f"{format_number(value, definition.digits)}{_unit_suffix(definition.unit)}"


# ---------------------------------------------------------------------------
# Formulas over aggregates


def ratio_percent(part, whole):
    """``100 * part / whole``; None when ``whole`` is empty."""
    if not whole:
        return None
    return 100.0 * (part or 0) / whole


def mean(total, count):
    if not count:
        return None
    return (total or 0) / count


def cache_hit_rate(hits, misses):
    return ratio_percent(hits, (hits or 0) + (misses or 0))


def self_healing_success_rate(succeeded, failed):
    return ratio_percent(succeeded, (succeeded or 0) + (failed or 0))


def avg_build_time(total_seconds, runs):
    value = mean(total_seconds, runs)
    return None if value is None else value / 60.0


def false_positive_rate(false_positives, incidents):
    return ratio_percent(false_positives, incidents)


def mttr(total_minutes, resolved):
    return mean(total_minutes, resolved)


def uptime(up_checks, checks):
    return ratio_percent(up_checks, checks)


def avg_response_time(total_ms, timed_checks):
    return mean(total_ms, timed_checks)


def error_rate(failed_checks, checks):
    return ratio_percent(failed_checks, checks)


# Which aggregate keys feed each formula.
FORMULAS = {
    "cache_hit_rate": (cache_hit_rate, ("hits", "misses")),
    "self_healing_success_rate": (self_healing_success_rate, ("succeeded", "failed")),
    "avg_build_time": (avg_build_time, ("total_seconds", "runs")),
    "false_positive_rate": (false_positive_rate, ("false_positives", "incidents")),
    "mttr": (mttr, ("total_minutes", "resolved")),
    "uptime": (uptime, ("up", "checks")),
    "avg_response_time": (avg_response_time, ("total_ms", "timed_checks")),
    "error_rate": (error_rate, ("failed", "checks")),
}


def compute(key, aggregates):
    """The KPI ``key`` from its aggregates dict; None when the aggregates are absent or empty."""
    if not aggregates:
        return None
    formula, args = FORMULAS[key]
    return formula(*(aggregates.get(arg) or 0 for arg in args))


def sample_size(key, aggregates):
    """How many things the value is computed from (restores, re-runs, runs, incidents, checks)."""
    if not aggregates:
        return 0
    _formula, args = FORMULAS[key]
    if key in ("cache_hit_rate", "self_healing_success_rate"):
        return int((aggregates.get(args[0]) or 0) + (aggregates.get(args[1]) or 0))
    return int(aggregates.get(args[1]) or 0)


# ---------------------------------------------------------------------------
# Trend and evaluation


def trend(current, previous, goal=AT_LEAST, digits=1):
    """``(direction, improved)``: direction is ``up``/``down``/``flat`` or None, improved True/False/None.

    "flat" means the two values look the same once rounded as displayed (``digits``).
    """
    if current is None or previous is None:
        return None, None
    if round(current, digits) == round(previous, digits):
        return "flat", None
    direction = "up" if current > previous else "down"
    improved = (direction == "up") == (goal == AT_LEAST)
    return direction, improved


@dataclass
class KpiResult:
    key: str
    label: str
    unit: str
    value: float | None
    display: str
    target: float
    target_label: str
    goal: str
    met: bool | None
    previous: float | None
    previous_display: str
    trend: str | None
    improved: bool | None
    computation: str
    sample_size: int
    no_data: bool = field(default=False)

    def as_dict(self):
        return asdict(self)


def evaluate(key, current_aggregates, previous_aggregates=None):
    """Value, target, met?, and trend versus the previous period of the KPI ``key``."""
    definition = KPIS[key]
    value = compute(key, current_aggregates)
    previous = compute(key, previous_aggregates)
    direction, improved = trend(value, previous, definition.goal, definition.digits)
    rounded = None if value is None else round(value, definition.digits + 2)
    return KpiResult(
        key=key,
        label=definition.label,
        unit=definition.unit,
        value=rounded,
        display=format_value(key, value),
        target=definition.target,
        target_label=definition.target_label,
        goal=definition.goal,
        met=definition.met(value),
        previous=None if previous is None else round(previous, definition.digits + 2),
        previous_display=format_value(key, previous),
        trend=direction,
        improved=improved,
        computation=definition.computation,
        sample_size=sample_size(key, current_aggregates),
        no_data=value is None,
    )


# ---------------------------------------------------------------------------
# Periods

PERIODS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
DEFAULT_PERIOD = "7d"
MAX_CUSTOM_DAYS = 366


@dataclass(frozen=True)
class Window:
    """The period shown (``start`` <= t < ``end``) and the one just before it, of the same length."""

    period: str
    start: datetime
    end: datetime
    previous_start: datetime
    previous_end: datetime
    bucket: str  # "hour" or "day"

    @property
    def days(self):
        return (self.end - self.start).total_seconds() / 86400


def _as_datetime(value, end_of_day=False):
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
        return moment + timedelta(days=1) if end_of_day else moment
    if isinstance(value, str) and value:
        text = value.strip().replace("T", " ").rstrip("Z")
        if len(text) <= 10:
            return _as_datetime(date.fromisoformat(text), end_of_day)
        return datetime.fromisoformat(text)
    raise ValueError(f"not a date: {value!r}")


def window(period, now, date_from=None, date_to=None):
    """The :class:`Window` of ``period`` (``24h``, ``7d``, ``30d`` or ``custom``) ending at ``now``.

    A custom period runs from the start of ``date_from`` to the end of
    ``date_to`` (dates, naive UTC); it is clamped to MAX_CUSTOM_DAYS and
    never inverted. Unknown periods fall back to DEFAULT_PERIOD.
    """
    if period == "custom" and date_from and date_to:
        start = _as_datetime(date_from)
        end = _as_datetime(date_to, end_of_day=True)
        if end <= start:
            start, end = end - timedelta(days=1), start + timedelta(days=1)
        if end - start > timedelta(days=MAX_CUSTOM_DAYS):
            start = end - timedelta(days=MAX_CUSTOM_DAYS)
    else:
        if period not in PERIODS:
            period = DEFAULT_PERIOD
        end = now.replace(microsecond=0)
        start = end - PERIODS[period]
    length = end - start
    bucket = "hour" if length <= timedelta(hours=48) else "day"
    return Window(period, start, end, start - length, start, bucket)


def buckets(start, end, bucket):
    """The bucket starts covering ``[start, end)`` (hours or days), for charts without gaps."""
    step = timedelta(hours=1) if bucket == "hour" else timedelta(days=1)
    current = (
        start.replace(minute=0, second=0, microsecond=0)
        if bucket == "hour"
        else start.replace(hour=0, minute=0, second=0, microsecond=0)
    )
    result = []
    while current < end:
        result.append(current)
        current += step
    return result


def bucket_key(moment, bucket):
    if moment is None:
        return None
    if isinstance(moment, date) and not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day)
    if bucket == "hour":
        return moment.strftime("%Y-%m-%d %H:00")
    return moment.strftime("%Y-%m-%d")


# ---------------------------------------------------------------------------
# Recommendations for the weekly report

MIN_BREACH_DAYS = 3
MIN_RUNS_FOR_FAILURE_RATE = 5
FAILURE_RATE_ALERT = 20.0  # % of a workflow's runs failing
SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}


@dataclass(frozen=True)
class TargetDay:
    """One target on one day, from the daily (or hourly) rollups."""

    target: str
    day: str
    checks: int
    failed: int = 0
    avg_response_ms: float | None = None
    max_cpu: float | None = None
    max_memory: float | None = None
    response_threshold_ms: float = 2000
    error_threshold: float = 5.0
    cpu_threshold: float = 80.0
    memory_threshold: float = 85.0

    @property
    def error_rate(self):
        return ratio_percent(self.failed, self.checks)


@dataclass(frozen=True)
class WorkflowStat:
    workflow: str
    repository: str
    runs: int
    failures: int
    avg_minutes: float | None


@dataclass(frozen=True)
class FlakyJob:
    name: str
    repository: str
    count: int


@dataclass(frozen=True)
class Recommendation:
    severity: str  # high, medium, low
    subject: str
    title: str
    detail: str
    rule: str

    def as_dict(self):
        return asdict(self)


def _breach_days(days, predicate):
    return sorted({d.day for d in days if d.checks and predicate(d)})


def recommend(
    target_days=(),
    workflows=(),
    flaky_jobs=(),
    kpi_results=None,
    min_days=MIN_BREACH_DAYS,
):
    """Recommendations derived from a period's data, most severe first.

    * a target whose daily mean response time is above its threshold on
      ``min_days`` days or more → scale or optimise it;
    * same for error rate (→ investigate), CPU (→ add capacity) and memory
      (→ look for leaks or add memory);
    * a workflow slower than the build-time target, or failing on at least
      20 % of 5+ runs → speed it up / stabilise it;
    * flaky jobs → fix or quarantine;
    * a KPI off its target (cache, self-healing, false positives, MTTR,
      uptime) → the matching change of practice.
    """
    found = []
    by_target = {}
    for day in target_days:
        by_target.setdefault(day.target, []).append(day)
    for target, days in sorted(by_target.items()):
        observed = len({d.day for d in days if d.checks})
        slow = _breach_days(
            days, lambda d: d.avg_response_ms is not None and d.avg_response_ms > d.response_threshold_ms
        )
        if len(slow) >= min_days:
            threshold = days[0].response_threshold_ms
            found.append(
                Recommendation(
                    "high" if len(slow) >= max(min_days, observed - 1) else "medium",
                    target,
                    f"Scale or optimise {target}",
                    f"Mean response time above {format_number(threshold, 0)} ms on {len(slow)} of {observed} days "
                    f"({', '.join(slow)}).",
                    "response_time",
                )
            )
        erroring = _breach_days(days, lambda d: (d.error_rate or 0) > d.error_threshold)
        if len(erroring) >= min_days:
            found.append(
                Recommendation(
                    "high",
                    target,
                    f"Investigate the errors of {target}",
                    f"Failed checks above {format_number(days[0].error_threshold, 0)} % on {len(erroring)} of "
                    f"{observed} days ({', '.join(erroring)}).",
                    "error_rate",
                )
            )
        hot = _breach_days(days, lambda d: d.max_cpu is not None and d.max_cpu > d.cpu_threshold)
        if len(hot) >= min_days:
            found.append(
                Recommendation(
                    "medium",
                    target,
                    f"Add CPU capacity to {target} or spread its load",
                    f"CPU above {format_number(days[0].cpu_threshold, 0)} % on {len(hot)} of {observed} days.",
                    "cpu",
                )
            )
        full = _breach_days(days, lambda d: d.max_memory is not None and d.max_memory > d.memory_threshold)
        if len(full) >= min_days:
            found.append(
                Recommendation(
                    "medium",
                    target,
                    f"Look for memory leaks on {target} or add memory",
                    f"Memory above {format_number(days[0].memory_threshold, 0)} % on {len(full)} of {observed} days.",
                    "memory",
                )
            )
    build_target = KPIS["avg_build_time"].target
    for stat in sorted(workflows, key=lambda s: (s.repository, s.workflow)):
        label = f"{stat.workflow} ({stat.repository})" if stat.repository else stat.workflow
        if stat.avg_minutes is not None and stat.avg_minutes >= build_target:
            found.append(
                Recommendation(
                    "medium",
                    label,
                    f"Speed up workflow {label}",
                    f"Runs take {format_number(stat.avg_minutes)} min on average (target < "
                    f"{format_number(build_target, 0)} min): cache dependencies, split or parallelise jobs.",
                    "build_time",
                )
            )
        failure_rate = ratio_percent(stat.failures, stat.runs)
        if stat.runs >= MIN_RUNS_FOR_FAILURE_RATE and failure_rate >= FAILURE_RATE_ALERT:
            found.append(
                Recommendation(
                    "high" if failure_rate >= 50 else "medium",
                    label,
                    f"Stabilise workflow {label}",
                    f"{stat.failures} of {stat.runs} runs failed ({format_number(failure_rate, 0)} %).",
                    "failure_rate",
                )
            )
    for job in sorted(flaky_jobs, key=lambda j: (-j.count, j.name))[:5]:
        label = f"{job.name} ({job.repository})" if job.repository else job.name
        found.append(
            Recommendation(
                "medium",
                label,
                f"Fix or quarantine flaky job {label}",
                f"It failed then passed on the same commit {job.count} time(s).",
                "flaky",
            )
        )
    found.extend(_kpi_recommendations(kpi_results or {}))
    found.sort(key=lambda r: (SEVERITY_ORDER.get(r.severity, 9), r.rule, r.subject))
    return found


_KPI_ADVICE = {
    "cache_hit_rate": (
        "low",
        "Review CI cache keys",
        "Cache hit rate {value} (target {target}): key caches on lock files and add restore-keys.",
    ),
    "self_healing_success_rate": (
        "medium",
        "Review what self-healing retries",
        "Self-healing success rate {value} (target {target}): retries are spent on failures a re-run does not fix.",
    ),
    "false_positive_rate": (
        "medium",
        "Tune alert thresholds",
        "False-positive alert rate {value} (target "
        "{target}): raise thresholds or lengthen the time a breach must hold.",
    ),
    "mttr": (
        "high",
        "Shorten time to remediation",
        "MTTR {value} (target {target}): add remediation policies "
        "for the most frequent incident conditions and check on-call escalation.",
    ),
    "uptime": ("high", "Improve availability", "Uptime {value} (target {target}) over the period."),
}


def _kpi_recommendations(results):
    found = []
    for key, (severity, title, template) in _KPI_ADVICE.items():
        result = results.get(key)
        if result is None or result.met is not False:
            continue
        found.append(
            Recommendation(
                severity,
                result.label,
                title,
                template.format(value=result.display, target=result.target_label),
                f"kpi_{key}",
            )
        )
    return found
