"""What CI and AI cost: billable minutes, runner rates, minutes lost, incidents priced, budgets.

Plain Python, no Odoo. The models hand in a job's duration and runner
labels, a list of rates (the ``ops.ci.rate`` records, or :data:`DEFAULT_RATES`)
and aggregated sums; every rule about what a minute or a budget means lives
here.

Billable minutes follow GitHub's rule for its hosted runners: "GitHub rounds
the minutes and partial minutes each job uses up to the nearest whole
minute" (https://docs.github.com/en/billing/reference/actions-runner-pricing,
read 2026-12-06). So each job is rounded up on its own, then the jobs are
summed: a run of two 10-second jobs bills 2 minutes, not 1. A job that never
started (duration 0, e.g. skipped) bills nothing. Jobs on self-hosted runners
bill nothing either (the ``self-hosted`` label, rate 0). Standard runners are
free for public repositories: set their rates to 0 where every repository is
public (the table is the same for all repositories).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fnmatch import fnmatchcase

#: runner type of a job whose labels match no rate: not priced (0), shown as such
UNKNOWN = "unknown"
SELF_HOSTED = "self_hosted"

#: budget states, in the order they are reached
BUDGET_NONE = "none"
BUDGET_OK = "ok"
BUDGET_WARNING = "warning"
BUDGET_EXCEEDED = "exceeded"
#: the thresholds (percent of the month's budget) that each notify the repository's responsible once a month
BUDGET_THRESHOLDS = (80, 100)

#: why minutes were lost
LOST_RERUN = "rerun"
LOST_FAILURE = "failure"


@dataclass(frozen=True)
class Rate:
    """A per-minute price (USD) for the jobs one of whose runner labels matches ``pattern``.

    ``pattern`` is a shell-style glob (``*``, ``?``, ``[...]``) matched against
    each label, case-insensitively; the first rate (in table order) with a
    matching label prices the job.
    """

    pattern: str
    runner_type: str
    per_minute: float
    name: str = ""

    def matches(self, label):
        return fnmatchcase(label.strip().lower(), self.pattern.strip().lower())


def _larger(os_pattern, arch, runner_os, sizes):
    """Rates of GitHub's larger runners, named by their core count (``ubuntu-latest-4-cores``, ``ubuntu-22.04-16core``).

    Largest first, so that ``-32-cores`` is not read as ``-2``: the glob
    ``*-2*core*`` also matches ``ubuntu-24.04-32-cores``.
    """
    suffix = "_arm" if arch == "arm64" else ""
    label = f"{runner_os} {{}}-core ({arch})"
    return tuple(
        Rate(f"{os_pattern}-{cores}*core*", f"{runner_os.lower()}_{cores}_core{suffix}", price, label.format(cores))
        for cores, price in sorted(sizes.items(), reverse=True)
    )


#: GitHub's published per-minute rates (USD) per runner type, from "Actions runner pricing",
#: https://docs.github.com/en/billing/reference/actions-runner-pricing (source:
#: github/docs content/billing/reference/actions-runner-pricing.md and
#: data/reusables/billing/actions-standard-runner-prices.md), read on 2026-12-06: the standard
#: runners at their "January 1, 2026 onward" rates (Linux 2-core $0.006, Windows $0.010, macOS
#: $0.062, Linux 1-core $0.002, Linux arm64 2-core $0.005), the x64 and arm64 larger runners as
#: listed there. Labels are those of GitHub's runner images (``ubuntu-latest``, ``ubuntu-24.04``,
#: ``ubuntu-24.04-arm``, ``ubuntu-slim``, ``windows-latest``, ``windows-11-arm``, ``macos-14``,
#: ``macos-15-large`` (Intel 12-core, ``macos_l``), ``macos-15-xlarge`` (M2 Pro, ``macos_xl``)); larger
#: runners carry the names their organisation gives them, matched here by their core count
#: (``ubuntu-latest-4-cores``, ``windows-2022-8core``, ``ubuntu-24.04-arm-16-cores``). Any
#: ``self-hosted`` label costs 0 and wins over everything else. Order matters: first match wins.
DEFAULT_RATES = (
    Rate("self-hosted", SELF_HOSTED, 0.0, "Self-hosted runner"),
    *_larger("windows*arm*", "arm64", "Windows", {4: 0.014, 8: 0.026, 16: 0.050, 32: 0.098, 64: 0.194}),
    *_larger("*arm*", "arm64", "Linux", {4: 0.008, 8: 0.014, 16: 0.026, 32: 0.050, 64: 0.098}),
    *_larger("windows*", "x64", "Windows", {4: 0.022, 8: 0.042, 16: 0.082, 32: 0.162, 64: 0.322, 96: 0.552}),
    *_larger("ubuntu*", "x64", "Linux", {4: 0.012, 8: 0.022, 16: 0.042, 32: 0.082, 64: 0.162, 96: 0.252}),
    Rate("macos-*-xlarge", "macos_xl", 0.102, "macOS 5-core (M2 Pro, arm64)"),
    Rate("macos-*-large", "macos_l", 0.077, "macOS 12-core (Intel)"),
    Rate("macos-*", "macos", 0.062, "macOS 3-core or 4-core (M1 or Intel)"),
    Rate("windows-*-arm", "windows_arm", 0.010, "Windows 2-core (arm64)"),
    Rate("windows-*", "windows", 0.010, "Windows 2-core"),
    Rate("ubuntu-slim", "linux_slim", 0.002, "Linux 1-core"),
    Rate("ubuntu-*-arm", "linux_arm", 0.005, "Linux 2-core (arm64)"),
    Rate("ubuntu-*", "linux", 0.006, "Linux 2-core"),
)


@dataclass(frozen=True)
class JobCost:
    """What one job costs: its runner type, whole minutes billed, the rate applied and the price (USD)."""

    runner_type: str
    billable_minutes: int
    per_minute: float
    cost: float


def billable_minutes(duration_seconds):
    """Whole minutes GitHub bills for a job that ran ``duration_seconds``: rounded up, 0 when it did not run.

    >>> billable_minutes(61), billable_minutes(60), billable_minutes(0.4), billable_minutes(0)
    (2, 1, 1, 0)
    """
    if not duration_seconds or duration_seconds <= 0:
        return 0
    # durations come from timestamps in whole seconds: a float residue must not bill one more minute
    return math.ceil(round(duration_seconds, 6) / 60.0)


def split_labels(labels):
    """A job's labels as a list, from a list or the stored comma-separated text."""
    if not labels:
        return []
    if isinstance(labels, str):
        labels = labels.split(",")
    return [label.strip() for label in labels if label and label.strip()]


def match_rate(labels, rates=DEFAULT_RATES):
    """The first rate (table order) one of ``labels`` matches, else None (an unknown runner)."""
    labels = split_labels(labels)
    for rate in rates:
        if any(rate.matches(label) for label in labels):
            return rate
    return None


def runner_type(labels, rates=DEFAULT_RATES):
    """The runner type a job ran on: ``linux``, ``windows``, ``macos``, ``linux_4_core``, ``self_hosted``...

    ``unknown`` when no rate matches (a custom label nobody priced yet).
    """
    rate = match_rate(labels, rates)
    return rate.runner_type if rate else UNKNOWN


def job_cost(duration_seconds, labels, rates=DEFAULT_RATES):
    """Minutes billed for a job and their price; an unknown runner is counted in minutes but priced 0."""
    minutes = billable_minutes(duration_seconds)
    rate = match_rate(labels, rates)
    if rate is None:
        return JobCost(UNKNOWN, minutes, 0.0, 0.0)
    if rate.runner_type == SELF_HOSTED or rate.per_minute <= 0:
        # GitHub bills no minute of a self-hosted runner
        return JobCost(rate.runner_type, 0, 0.0, 0.0)
    return JobCost(rate.runner_type, minutes, rate.per_minute, round(minutes * rate.per_minute, 6))


def lost_reason(attempt, latest_attempt, outcome):
    """Why a job's minutes were lost, or None when they bought a result.

    A job of an earlier attempt of its run (``attempt < latest_attempt``: the
    run was re-run) was paid for again: :data:`LOST_RERUN`, whatever its
    outcome. A failed job of the latest attempt: :data:`LOST_FAILURE`.
    Each minute is counted under one reason only.
    """
    if attempt and latest_attempt and attempt < latest_attempt:
        return LOST_RERUN
    if outcome == "failure":
        return LOST_FAILURE
    return None


def incident_cost(duration_minutes, hourly_cost):
    """An incident's cost: its duration (minutes, open or resolved) times the hourly cost of an incident."""
    if not duration_minutes or duration_minutes <= 0 or not hourly_cost or hourly_cost <= 0:
        return 0.0
    return round(duration_minutes / 60.0 * hourly_cost, 2)


def budget_percent(spent, budget):
    """``spent`` as a percentage of ``budget``, None without a budget."""
    if not budget or budget <= 0:
        return None
    return round(100.0 * (spent or 0.0) / budget, 1)


def budget_state(spent, budget):
    """``none`` (no budget), ``ok``, ``warning`` (80 % reached) or ``exceeded`` (100 % reached)."""
    if not budget or budget <= 0:
        return BUDGET_NONE
    used = _used(spent, budget)
    if used >= BUDGET_THRESHOLDS[1]:
        return BUDGET_EXCEEDED
    if used >= BUDGET_THRESHOLDS[0]:
        return BUDGET_WARNING
    return BUDGET_OK


def thresholds_to_notify(spent, budget, notified):
    """The budget thresholds reached by ``spent`` and above ``notified`` (the highest already notified this month).

    Ascending, so a month that jumps from 50 % to 120 % notifies 80 and then 100 once each, and a
    later call with ``notified=100`` notifies nothing.
    """
    if not budget or budget <= 0:
        return []
    used = _used(spent, budget)
    return [threshold for threshold in BUDGET_THRESHOLDS if notified < threshold <= used]


def _used(spent, budget):
    # sums of float prices: 79.99999999 of a budget of 100 has reached 80 %
    return round(100.0 * (spent or 0.0) / budget, 6)
