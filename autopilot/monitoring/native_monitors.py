"""Odoo-native signals no outside monitor can see: failing or stuck crons, modules stuck mid-operation.

The Odoo side reads plain dicts and passes them here (no ORM in the engine).

Crons, shaped on Odoo 18's ``ir.cron``: ``id`` (optional), ``name``,
``active``, ``nextcall``, ``lastcall``, ``interval_seconds`` (see
:func:`interval_seconds`), ``failure_count``, ``first_failure_date``. In
Odoo 18 ``failure_count`` counts *consecutive* failed runs (an exception,
or a run killed three times in a row by the time limit) and is reset with
``first_failure_date`` on the next success; once a cron has failed
:data:`ODOO_FAILURES_BEFORE_DEACTIVATION` times over at least
:data:`ODOO_DAYS_BEFORE_DEACTIVATION` days, Odoo deactivates it silently
(and resets both fields), so it is worth shouting before that.

* ``cron_failing``: ``failure_count >= 1``. Severity ``low`` for one
  failure (often transient), ``medium`` from two, ``high`` from five or
  when it has been failing for more than a day.
* ``cron_stuck``: an active cron whose ``nextcall`` is overdue by more than
  ``stuck_factor`` intervals (at least :data:`MIN_STUCK_SECONDS`): its job is
  blocked (a lock, a never-ending run) or the cron workers do not pick it
  up. Severity ``high``.

Modules: ``name``, ``state`` and optionally ``write_date``. A module left in
``to install`` / ``to upgrade`` / ``to remove`` means an operation was
interrupted or only scheduled ("Apply scheduled upgrades" never ran); the
next registry update will act on it by surprise. One ``module_stuck`` issue
per state lists its modules (a failed upgrade of ``base`` marks dozens:
one incident, not dozens). Modules changed within ``grace_seconds`` are left
out, so an install in progress is not reported.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

ODOO_FAILURES_BEFORE_DEACTIVATION = 5
ODOO_DAYS_BEFORE_DEACTIVATION = 7
MIN_STUCK_SECONDS = 300
MODULE_GRACE_SECONDS = 900
PENDING_STATES = ("to install", "to upgrade", "to remove")
INTERVAL_SECONDS = {"minutes": 60, "hours": 3600, "days": 86400, "weeks": 7 * 86400, "months": 30 * 86400}


@dataclass(frozen=True)
class NativeIssue:
    kind: str
    ref: str
    message: str
    severity: str


def interval_seconds(interval_number, interval_type):
    """An ``ir.cron`` interval in seconds (a month counts 30 days)."""
    if interval_type not in INTERVAL_SECONDS:
        raise ValueError(f"unknown cron interval type {interval_type!r}")
    return max(0, int(interval_number or 0)) * INTERVAL_SECONDS[interval_type]


def _duration(seconds):
    seconds = int(seconds)
    if seconds >= 2 * 86400:
        return f"{seconds // 86400} days"
    if seconds >= 2 * 3600:
        return f"{seconds // 3600} h"
    if seconds >= 120:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def _at(value):
    return value.strftime("%Y-%m-%d %H:%M UTC") if isinstance(value, datetime) else "never"


def _cron_ref(cron):
    return f"ir.cron:{cron['id']}" if cron.get("id") else f"ir.cron:{cron.get('name') or '?'}"


def _failing(cron, now):
    failures = int(cron.get("failure_count") or 0)
    if failures <= 0:
        return None
    first = cron.get("first_failure_date")
    failing_for = (now - first).total_seconds() if isinstance(first, datetime) else 0
    if failures >= ODOO_FAILURES_BEFORE_DEACTIVATION or failing_for > 86400:
        severity = "high"
    elif failures >= 2:
        severity = "medium"
    else:
        severity = "low"
    message = f"cron {cron.get('name')!r} failed {failures} time(s) in a row"
    if isinstance(first, datetime):
        message += f" since {_at(first)}"
        if failures >= ODOO_FAILURES_BEFORE_DEACTIVATION - 1:
            deadline = first + timedelta(days=ODOO_DAYS_BEFORE_DEACTIVATION)
            message += f"; Odoo deactivates it if it still fails after {_at(deadline)}"
    return NativeIssue("cron_failing", _cron_ref(cron), message, severity)


def _stuck(cron, now, stuck_factor):
    nextcall, interval = cron.get("nextcall"), cron.get("interval_seconds")
    if not isinstance(nextcall, datetime) or not interval:
        return None
    overdue = (now - nextcall).total_seconds()
    limit = max(stuck_factor * float(interval), MIN_STUCK_SECONDS)
    if overdue <= limit:
        return None
    message = (
        f"cron {cron.get('name')!r} is {_duration(overdue)} overdue (due {_at(nextcall)}, runs every "
        f"{_duration(interval)}, last run {_at(cron.get('lastcall'))})"
    )
    return NativeIssue("cron_stuck", _cron_ref(cron), message, "high")


def evaluate_crons(crons: Sequence[Mapping], now: datetime, stuck_factor: float = 3) -> list[NativeIssue]:
    """Issues of the active crons: failing (``failure_count``) and stuck (``nextcall`` long overdue)."""
    if stuck_factor <= 0:
        raise ValueError("stuck_factor must be positive")
    issues = []
    for cron in crons:
        if not cron.get("active", True):
            continue
        for issue in (_failing(cron, now), _stuck(cron, now, stuck_factor)):
            if issue:
                issues.append(issue)
    return issues


def evaluate_modules(
    modules: Sequence[Mapping], now: datetime | None = None, grace_seconds: float = MODULE_GRACE_SECONDS
) -> list[NativeIssue]:
    """One ``module_stuck`` issue per pending state that has modules (see the module docstring)."""
    by_state = {}
    for module in modules:
        state = module.get("state")
        if state not in PENDING_STATES:
            continue
        changed = module.get("write_date")
        if now is not None and isinstance(changed, datetime) and (now - changed).total_seconds() < grace_seconds:
            continue
        by_state.setdefault(state, []).append(str(module.get("name") or "?"))
    issues = []
    for state in PENDING_STATES:
        names = sorted(by_state.get(state, ()))
        if not names:
            continue
        shown = ", ".join(names[:20]) + (f" and {len(names) - 20} more" if len(names) > 20 else "")
        message = f"{len(names)} module(s) stuck in {state!r}: {shown}"
        severity = "high" if state == "to remove" else "medium"
        issues.append(NativeIssue("module_stuck", f"ir.module.module:{state.replace(' ', '_')}", message, severity))
    return issues
