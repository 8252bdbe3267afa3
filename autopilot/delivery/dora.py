"""The four DORA keys: deployment frequency, lead time for changes, change failure rate, time to restore.

Plain Python, no Odoo. Two levels, like :mod:`autopilot.kpis`:

* :func:`aggregate` reads plain records (:class:`Deployment`, :class:`Commit`,
  :class:`Incident`) of one period and reduces them to the few aggregates
  each key needs (counts, medians, p90). The command line
  (``python3 -m autopilot dora``) works at this level; the addon's dashboard
  computes the same aggregates with grouped SQL (one query per key) over
  100k deployments, under the same definitions (its tests hold both equal).
* :func:`evaluate` turns the aggregates of a period and of the period before
  it into :class:`KeyResult` s: value, display, DORA performance band, trend
  and the key's definition (the dashboard's tooltip).

What counts, in one place (the :data:`KEYS` definitions say it to users):

* only the deployments of the environment asked for (by default the
  production ones); a rollback is a remedy, not a change: it is left out of
  the frequency, the lead time and the failure rate's denominator, but it
  restores service;
* a *change* is a pull request (the first one a commit names) or, for a
  commit that names none, the commit; it counts once, at the first
  successful deploy in the period that brought it; its lead time runs from
  the earliest author date of its commits (in the period's deploys) to that
  deploy's first success status. A
  non-positive lead time (clock skew, a deploy of a commit authored later)
  is left out and counted as ``ignored``, as Four Keys does;
* a deploy *failed* when, within :data:`DEFAULT_FAILURE_WINDOW` after it was
  created, it got a failure/error status, a rollback put back what was
  before it, or an incident linked to it was opened (false positives left
  out);
* service is *restored* when the incident is resolved, or, for a failed
  deploy, when the same environment next reports a successful deploy
  (the rollback or a fix). What is never restored is counted, not guessed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from ..common.durations import human_duration

ELITE, HIGH, MEDIUM, LOW = "elite", "high", "medium", "low"
BANDS = (ELITE, HIGH, MEDIUM, LOW)
BAND_LABELS = {ELITE: "Elite", HIGH: "High", MEDIUM: "Medium", LOW: "Low"}

# How a value is held against a threshold.
AT_LEAST = "at_least"  # higher is better: the band's threshold is reached at the value itself
AT_MOST = "at_most"  # lower is better, threshold included (a rate of exactly 5 % is elite)
BELOW = "below"  # lower is better, threshold excluded ("less than one day")

HOUR = 3600.0
DAY = 24 * HOUR
WEEK = 7 * DAY
#: a month as Four Keys counts it (730 hours: ``dashboard/fourkeys_dashboard.json``)
MONTH = 730 * HOUR

#: How long after a production deploy a failure is still blamed on it. 24 hours: DORA asks for the
#: share of deploys that "required immediate intervention" (hotfix, rollback, patch); what breaks in the
#: first day is what the deploy did, later the blame is mostly coincidence — and the high and elite bands
#: deploy at least daily, so by then the next deploy is the suspect. Configurable per company.
DEFAULT_FAILURE_WINDOW = timedelta(hours=24)

SUCCESS = "success"
FAILED_STATES = ("failure", "error")
UNFINISHED_STATES = ("pending", "queued", "in_progress")
#: environment names that are production when nothing else says so (GitHub's own default name, and "prod")
PRODUCTION_NAMES = ("production", "prod")

#: The thresholds of the bands, best first; a value reaching none of them is ``low``.
#:
#: Source: DORA, *Accelerate State of DevOps Report 2023* (Google Cloud, October 2023), section
#: "Software delivery performance", table of the four performance levels (elite 18 %, high 31 %,
#: medium 33 %, low 17 % of respondents):
#:
#: ======  ==========================  =======================  ======  ============================
#: level   deployment frequency        change lead time         CFR     failed deployment recovery
#: ======  ==========================  =======================  ======  ============================
#: elite   on demand (multiple a day)  less than one day        5 %     less than one hour
#: high    once a day to once a week   one day to one week      10 %    less than one day
#: medium  once a week to once a month one week to one month    15 %    one day to one week
#: low     once a week to once a month one week to one month    64 %    one month to six months
#: ======  ==========================  =======================  ======  ============================
#:
#: How the table is read as thresholds: the frequency ranges become "at least once a day / a week /
#: a month" (the 2023 low cluster repeats medium's range; anything rarer than monthly is read as low,
#: as every earlier report and Four Keys' "Yearly" bucket do); the lead-time and recovery ranges
#: become "less than one day / week / month" resp. "less than one hour / day / week" (the gap the report
#: leaves between a week and a month of recovery falls to low); the change failure rates, which the
#: report gives as each cluster's typical value, become upper bounds (at most 5 / 10 / 15 %).
#: A month is 730 hours, as in Google's Four Keys dashboard (``dora-team/fourkeys``, formerly
#: ``GoogleCloudPlatform/fourkeys``, ``dashboard/fourkeys_dashboard.json`` at commit 6cc642e, panels
#: "Lead Time to Change Bucket" and "Median Time to Restore Services": ``< 24``, ``< 168``, ``< 730``
#: hours), which also gives the categorical frequency reading of :func:`four_keys_frequency`.
BAND_TABLE = {
    "deployment_frequency": (AT_LEAST, ((ELITE, 1.0), (HIGH, 1 / 7), (MEDIUM, 1 / (MONTH / DAY)))),  # deploys a day
    "lead_time": (BELOW, ((ELITE, DAY), (HIGH, WEEK), (MEDIUM, MONTH))),  # median, seconds
    "change_failure_rate": (AT_MOST, ((ELITE, 5.0), (HIGH, 10.0), (MEDIUM, 15.0))),  # percent
    "time_to_restore": (BELOW, ((ELITE, HOUR), (HIGH, DAY), (MEDIUM, WEEK))),  # median, seconds
}
BAND_SOURCE = "DORA, Accelerate State of DevOps Report 2023, section “Software delivery performance”"


@dataclass(frozen=True)
class KeyDefinition:
    key: str
    label: str
    unit: str
    goal: str  # AT_LEAST when higher is better, else lower is better
    definition: str


KEYS = {
    d.key: d
    for d in (
        KeyDefinition(
            "deployment_frequency",
            "Deployment frequency",
            "per day",
            AT_LEAST,
            "Successful deploys to the environment (production by default) per day in the period, rollbacks "
            "left out. Band from the deploys per day: elite at least daily, high at least weekly, medium at least "
            "monthly. Four Keys' reading (daily / weekly / monthly / yearly) comes from the days deployed per week.",
        ),
        KeyDefinition(
            "lead_time",
            "Lead time for changes",
            "s",
            BELOW,
            "From the first commit of a change (a pull request, or a commit that names none) to the first "
            "successful deploy that brought it, for changes deployed in the period: median (its band) and 90th "
            "percentile. Rollbacks and non-positive times (clock skew) are left out.",
        ),
        KeyDefinition(
            "change_failure_rate",
            "Change failure rate",
            "%",
            BELOW,
            "Deploys created in the period (rollbacks left out, unfinished ones not yet) that, within the failure "
            "window after their creation, got a failure or error status, were rolled back or had an incident "
            "linked to them (false positives left out), divided by all those deploys.",
        ),
        KeyDefinition(
            "time_to_restore",
            "Time to restore service",
            "s",
            BELOW,
            "Median time from an incident of the environment opening to its resolution (false positives left "
            "out), and from a failed deploy to the environment's next successful deploy, for incidents opened "
            "and deploys failed in the period. What is not restored yet is counted apart.",
        ),
    )
}
KEY_ORDER = tuple(KEYS)


# ---------------------------------------------------------------------------
# Records


@dataclass(frozen=True)
class Commit:
    sha: str
    committed_at: datetime | None = None  # the author date: when the change was first written
    pull_requests: tuple = ()  # pull request numbers, first one = the change it belongs to


@dataclass(frozen=True)
class Deployment:
    id: object
    environment: str
    created_at: datetime
    state: str = "pending"
    repository: str = ""
    is_production: bool | None = None  # None: from the environment's name (:data:`PRODUCTION_NAMES`)
    succeeded_at: datetime | None = None  # first success status
    failed_at: datetime | None = None  # first failure or error status
    is_rollback: bool = False
    rollback_of: object = None  # id of the deployment it undid, when known
    commits: tuple = ()

    @property
    def production(self):
        if self.is_production is None:
            return self.environment.lower() in PRODUCTION_NAMES
        return bool(self.is_production)

    @property
    def place(self):
        return (self.repository, self.environment)


@dataclass(frozen=True)
class Incident:
    id: object
    opened_at: datetime
    resolved_at: datetime | None = None
    deployment: object = None  # id of the linked deployment
    environment: str = ""  # the environment of its target; empty: the linked deployment's
    repository: str = ""
    is_production: bool | None = None
    false_positive: bool = False


def environment_matches(environment, is_production, wanted):
    """Whether a record of ``environment`` belongs to ``wanted`` (None: any production environment)."""
    if wanted is None:
        if is_production is None:
            return (environment or "").lower() in PRODUCTION_NAMES
        return bool(is_production)
    return environment == wanted


# ---------------------------------------------------------------------------
# Statistics


def percentile(values, fraction):
    """The ``fraction`` percentile with linear interpolation (PostgreSQL's ``percentile_cont``); None when empty."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = fraction * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def four_keys_frequency(deploy_days, days):
    """Four Keys' categorical deployment frequency: ``daily``, ``weekly``, ``monthly``, ``yearly``; None if no days.

    ``deploy_days`` are the day offsets (0 = the period's first day) with at least one successful deploy.
    As Four Keys' "Deployment Frequency" panel: daily when the median week has deploys on 3 days or more,
    weekly when the median week has one, monthly when the median week lies in a month (here: four weeks)
    that has one; weeks are 7-day slices from the period's start, a last partial one left out unless it is
    the only one.
    """
    total_days = int(days)
    if total_days <= 0:
        return None
    weeks = max(1, total_days // 7)
    per_week = [0] * weeks
    for day in set(deploy_days):
        if 0 <= day < weeks * 7:
            per_week[day // 7] += 1
    deployed = [1 if count else 0 for count in per_week]
    if percentile(per_week, 0.5) >= 3:
        return "daily"
    if percentile(deployed, 0.5) >= 1:
        return "weekly"
    monthly = [sum(deployed[(i // 4) * 4 : (i // 4) * 4 + 4]) for i in range(weeks)]
    if percentile(monthly, 0.5) >= 1:
        return "monthly"
    return "yearly"


# ---------------------------------------------------------------------------
# Records -> aggregates


def _in(moment, start, end):
    return moment is not None and start <= moment < end


def change_key(commit):
    """The change a commit belongs to: its (first) pull request, else the commit itself."""
    if commit.pull_requests:
        return f"pr:{commit.pull_requests[0]}"
    return f"sha:{commit.sha}"


def lead_times(deployments, start, end, environment=None):
    """``(lead times in seconds, ignored count)`` of the changes deployed in ``[start, end)``."""
    deploys = [
        d
        for d in deployments
        if not d.is_rollback
        and _in(d.succeeded_at, start, end)
        and environment_matches(d.environment, d.is_production, environment)
    ]
    changes = {}  # (repository, change) -> [first successful deploy, earliest commit]
    for deploy in deploys:
        for commit in deploy.commits:
            if commit.committed_at is None:
                continue
            key = (deploy.repository, change_key(commit))
            found = changes.setdefault(key, [deploy.succeeded_at, commit.committed_at])
            found[0], found[1] = min(found[0], deploy.succeeded_at), min(found[1], commit.committed_at)
    values, ignored = [], 0
    for deployed, first in changes.values():
        seconds = (deployed - first).total_seconds()
        if seconds > 0:
            values.append(seconds)
        else:
            ignored += 1
    return values, ignored


def failed_deploys(deployments, incidents, start, end, environment=None, window=DEFAULT_FAILURE_WINDOW):
    """``(failed, attempts)``: the deploys created in ``[start, end)`` that failed, and all of them."""
    mine = [d for d in deployments if environment_matches(d.environment, d.is_production, environment)]
    attempts = [
        d for d in mine if not d.is_rollback and _in(d.created_at, start, end) and d.state not in UNFINISHED_STATES
    ]
    blamed = set()
    by_place = {}
    for deploy in sorted((d for d in mine if not d.is_rollback), key=lambda d: d.created_at):
        by_place.setdefault(deploy.place, []).append(deploy)
    by_id = {d.id: d for d in mine}
    for rollback in (d for d in mine if d.is_rollback):
        target = by_id.get(rollback.rollback_of) if rollback.rollback_of is not None else None
        if target is None:  # unknown target: the last deploy of that environment before it
            before = [d for d in by_place.get(rollback.place, ()) if d.created_at < rollback.created_at]
            target = before[-1] if before else None
        if target is not None and timedelta(0) <= rollback.created_at - target.created_at <= window:
            blamed.add(target.id)
    for incident in incidents:
        target = by_id.get(incident.deployment) if incident.deployment is not None else None
        if incident.false_positive:
            continue  # an alert that was wrong is not a failed change
        if target is not None and timedelta(0) <= incident.opened_at - target.created_at <= window:
            blamed.add(target.id)
    failed = [
        d for d in attempts if d.id in blamed or (d.failed_at is not None and d.failed_at - d.created_at <= window)
    ]
    return failed, attempts


def restore_times(deployments, incidents, start, end, environment=None):
    """``(restore times in seconds, not restored count)`` of what broke in ``[start, end)``."""
    by_id = {d.id: d for d in deployments}
    values, unrestored = [], 0
    for incident in incidents:
        if incident.false_positive or not _in(incident.opened_at, start, end):
            continue
        linked = by_id.get(incident.deployment) if incident.deployment is not None else None
        env = incident.environment or (linked.environment if linked else "")
        prod = incident.is_production if incident.is_production is not None else (linked.production if linked else None)
        if not env and prod is None:
            continue  # an incident of no environment is not a delivery incident
        if not environment_matches(env, prod, environment):
            continue
        if incident.resolved_at is None:
            unrestored += 1
        else:
            values.append(max(0.0, (incident.resolved_at - incident.opened_at).total_seconds()))
    successes = {}
    for deploy in deployments:
        if deploy.succeeded_at is not None:
            successes.setdefault(deploy.place, []).append(deploy.succeeded_at)
    for deploy in deployments:
        if not _in(deploy.failed_at, start, end):
            continue
        if not environment_matches(deploy.environment, deploy.is_production, environment):
            continue
        later = [moment for moment in successes.get(deploy.place, ()) if moment > deploy.failed_at]
        if later:
            values.append((min(later) - deploy.failed_at).total_seconds())
        else:
            unrestored += 1
    return values, unrestored


def aggregate(deployments, incidents, start, end, environment=None, window=DEFAULT_FAILURE_WINDOW):
    """The aggregates of the four keys over ``[start, end)`` for ``environment`` (None: production)."""
    days = (end - start).total_seconds() / DAY
    successful = [
        d
        for d in deployments
        if not d.is_rollback
        and _in(d.succeeded_at, start, end)
        and environment_matches(d.environment, d.is_production, environment)
    ]
    leads, ignored = lead_times(deployments, start, end, environment)
    failed, attempts = failed_deploys(deployments, incidents, start, end, environment, window)
    restores, unrestored = restore_times(deployments, incidents, start, end, environment)
    return {
        "deployment_frequency": {
            "deploys": len(successful),
            "days": days,
            "deploy_days": sorted({int((d.succeeded_at - start).total_seconds() // DAY) for d in successful}),
        },
        "lead_time": {
            "changes": len(leads),
            "median": percentile(leads, 0.5),
            "p90": percentile(leads, 0.9),
            "ignored": ignored,
        },
        "change_failure_rate": {"failed": len(failed), "deploys": len(attempts)},
        "time_to_restore": {"restored": len(restores), "median": percentile(restores, 0.5), "unrestored": unrestored},
    }


# ---------------------------------------------------------------------------
# Aggregates -> keys


def value_of(key, aggregates):
    """The key's value from its aggregates: deploys a day, seconds, percent; None without data."""
    if not aggregates:
        return None
    if key == "deployment_frequency":
        days = aggregates.get("days") or 0
        return (aggregates.get("deploys") or 0) / days if days > 0 else None
    if key == "lead_time":
        return aggregates.get("median") if aggregates.get("changes") else None
    if key == "change_failure_rate":
        deploys = aggregates.get("deploys") or 0
        return 100.0 * (aggregates.get("failed") or 0) / deploys if deploys else None
    if key == "time_to_restore":
        return aggregates.get("median") if aggregates.get("restored") else None
    raise KeyError(key)


def band(key, value):
    """The DORA performance band of ``value`` for ``key`` (:data:`BAND_TABLE`); None without a value."""
    if value is None:
        return None
    comparison, thresholds = BAND_TABLE[key]
    for name, threshold in thresholds:
        if (
            (comparison == AT_LEAST and value >= threshold)
            or (comparison == AT_MOST and value <= threshold)
            or (comparison == BELOW and value < threshold)
        ):
            return name
    return LOW


def format_value(key, value):
    """The value as people read it: ``2.1 / day``, ``3.5 / week``, ``12.5%``, ``1 h 05 min``; "no data" without."""
    if value is None:
        return "no data"
    if key == "deployment_frequency":
        if value >= 1:
            return f"{value:.1f} / day"
        return f"{value * 7:.1f} / week"
    if key == "change_failure_rate":
        return f"{value:.1f}%"
    return human_duration(value)


def trend(key, current, previous):
    """``(direction, improved)`` against the previous period: ``up``/``down``/``flat`` or None, True/False/None."""
    if current is None or previous is None:
        return None, None
    if format_value(key, current) == format_value(key, previous):
        return "flat", None
    direction = "up" if current > previous else "down"
    return direction, (direction == "up") == (KEYS[key].goal == AT_LEAST)


def sample_size(key, aggregates):
    """How many things the value is computed from (deploys, changes, deploy attempts, restores)."""
    if not aggregates:
        return 0
    field_name = {"deployment_frequency": "deploys", "lead_time": "changes", "change_failure_rate": "deploys"}
    return int(aggregates.get(field_name.get(key, "restored")) or 0)


@dataclass
class KeyResult:
    key: str
    label: str
    unit: str
    value: float | None
    display: str
    band: str | None
    band_label: str
    previous: float | None
    previous_display: str
    previous_band: str | None
    trend: str | None
    improved: bool | None
    definition: str
    sample_size: int
    details: dict = field(default_factory=dict)

    def as_dict(self):
        return asdict(self)


def _details(key, aggregates, value):
    aggregates = aggregates or {}
    if key == "deployment_frequency":
        return {
            "per_week": None if value is None else value * 7,
            "four_keys": four_keys_frequency(aggregates.get("deploy_days") or (), aggregates.get("days") or 0)
            if aggregates.get("deploys")
            else None,
        }
    if key == "lead_time":
        p90 = aggregates.get("p90") if aggregates.get("changes") else None
        return {"p90": p90, "p90_display": format_value(key, p90), "ignored": aggregates.get("ignored") or 0}
    if key == "change_failure_rate":
        return {"failed": aggregates.get("failed") or 0}
    return {"unrestored": aggregates.get("unrestored") or 0}


def _band_of(key, aggregates):
    """The band of the key's aggregates; none for a frequency without a deploy (a short empty period says
    nothing about a monthly cadence)."""
    if key == "deployment_frequency" and not (aggregates or {}).get("deploys"):
        return None
    return band(key, value_of(key, aggregates))


def evaluate_key(key, current, previous=None):
    """The :class:`KeyResult` of ``key`` from the aggregates of the period and of the one before it."""
    definition = KEYS[key]
    value = value_of(key, current)
    before = value_of(key, previous)
    value_band = _band_of(key, current)
    direction, improved = trend(key, value, before)
    return KeyResult(
        key=key,
        label=definition.label,
        unit=definition.unit,
        value=value,
        display=format_value(key, value),
        band=value_band,
        band_label=BAND_LABELS.get(value_band, ""),
        previous=before,
        previous_display=format_value(key, before),
        previous_band=_band_of(key, previous),
        trend=direction,
        improved=improved,
        definition=definition.definition,
        sample_size=sample_size(key, current),
        details=_details(key, current, value),
    )


def evaluate(current, previous=None):
    """The four :class:`KeyResult` s, in :data:`KEY_ORDER`."""
    current, previous = current or {}, previous or {}
    return [evaluate_key(key, current.get(key), previous.get(key)) for key in KEY_ORDER]


def report(deployments, incidents, start, end, environment=None, window=DEFAULT_FAILURE_WINDOW):
    """The four keys over ``[start, end)`` with their trend against the period of equal length before it."""
    previous_start = start - (end - start)
    current = aggregate(deployments, incidents, start, end, environment, window)
    previous = aggregate(deployments, incidents, previous_start, start, environment, window)
    return evaluate(current, previous)


def places(deployments, environment=None):
    """The ``(repository, environment)`` pairs of ``deployments`` that ``environment`` selects, sorted."""
    return sorted({d.place for d in deployments if environment_matches(d.environment, d.is_production, environment)})


def report_by_place(deployments, incidents, start, end, environment=None, window=DEFAULT_FAILURE_WINDOW):
    """``[(repository, environment, [KeyResult])]``: :func:`report` per repository and environment."""
    results = []
    for repository, name in places(deployments, environment):
        mine = [d for d in deployments if d.place == (repository, name)]
        ids = {d.id for d in mine}
        theirs = [
            i
            for i in incidents
            if i.deployment in ids or ((i.repository, i.environment) == (repository, name) and i.deployment is None)
        ]
        results.append((repository, name, report(mine, theirs, start, end, name, window)))
    return results
