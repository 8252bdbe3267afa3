"""Selection values that several models, wizards or reports share.

A selection that mirrors a constant of the engine (:mod:`autopilot`) takes its
values from there; only labels that are not the value made readable are
written here.
"""

from .autopilot.ingest import lifecycle
from .autopilot.monitoring import escalation
from .autopilot.review import architecture
from .autopilot.scans import dependencies, findings, licenses, records
from .autopilot.selfheal import rules


def _selection(values, labels=None):
    """``[(value, label)]`` in the engine's order; a label not given is the value made readable (Dead code)."""
    labels = labels or {}
    return [(value, labels.get(value) or value.replace("_", " ").capitalize()) for value in values]


# ----------------------------------------------------------------------
# incidents and what opens them
# ----------------------------------------------------------------------
#: severity of an incident
SEVERITIES = _selection(escalation.SEVERITIES)
#: severity of a CI failure pattern (the incident it opens takes it)
FAILURE_SEVERITIES = _selection(rules.SEVERITIES)
#: policy condition of every Odoo-native signal (failing crons, stuck modules)
NATIVE_CONDITION = "native"
REMEDIATION_KINDS = [
    ("restart_service", "Restart service"),
    ("clear_caches", "Clear caches"),
    ("scale_up", "Scale resources up"),
    ("health_check", "Health check"),
    ("github_dispatch", "Dispatch a workflow"),
    ("rerun_jobs", "Re-run failed jobs"),
    ("rollback", "Roll back a deployment"),
    ("custom", "Custom"),
]

# ----------------------------------------------------------------------
# CI
# ----------------------------------------------------------------------
RUN_STATUSES = [*_selection(lifecycle.RUN_STATUSES), (lifecycle.UNKNOWN, "Unknown")]
CONCLUSIONS = [*_selection(lifecycle.CONCLUSIONS), (lifecycle.UNKNOWN, "Unknown")]
OUTCOMES = _selection(lifecycle.OUTCOMES)
FAILURE_CATEGORIES = _selection(rules.CATEGORIES)
#: severity of an architecture check (and of a review finding)
REVIEW_SEVERITIES = _selection(architecture.SEVERITIES)

# ----------------------------------------------------------------------
# scans
# ----------------------------------------------------------------------
#: severity of a scan finding, ascending as the engine ranks them
FINDING_SEVERITIES = _selection(findings.SEVERITIES)
SCAN_TYPES = _selection(records.SCAN_TYPES, {"migration_dry_run": "Migration dry-run"})
#: scans the crons run for every repository (the migration dry-run is on demand only)
SCHEDULED_SCAN_TYPES = tuple(value for value, _label in SCAN_TYPES if value != "migration_dry_run")
ECOSYSTEMS = [(ecosystem, ecosystem) for ecosystem in dependencies.ECOSYSTEMS]
#: a dependency's license under the policy, best first
LICENSE_VERDICTS = _selection(licenses.VERDICTS)
#: days of a weekly window (Python's weekday(): Monday is 0), for silences and freezes
WEEKDAYS = [
    ("0", "Monday"),
    ("1", "Tuesday"),
    ("2", "Wednesday"),
    ("3", "Thursday"),
    ("4", "Friday"),
    ("5", "Saturday"),
    ("6", "Sunday"),
]
