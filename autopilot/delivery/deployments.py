"""Deployments: their states, environments in promotion order, rollbacks and what waits to be promoted.

GitHub records a deployment (``deployment`` event) and then any number of
statuses for it (``deployment_status``): ``pending``/``queued`` →
``in_progress`` → ``success``/``failure``/``error``, and later ``inactive``
when a newer deployment replaces it. GitHub does not guarantee delivery
order and redelivers on request, so, as for workflow runs
(:mod:`autopilot.ingest.lifecycle`), a status is applied only when it is not
older than the last applied one; an older one is kept in the history and
moves nothing.
"""

import re

STATES = ("pending", "queued", "in_progress", "success", "failure", "error", "inactive")
#: statuses after which a deployment is finished (``inactive`` comes after one of them)
TERMINAL_STATES = ("success", "failure", "error")
FAILED_STATES = ("failure", "error")
SOURCES = ("deployment", "workflow_run")
COMMITS_STATES = ("pending", "done", "failed", "too_many")
#: commits stored per deployment; a compare that brought more says ``too_many``
MAX_COMMITS = 250

# ----------------------------------------------------------------------
# environments
# ----------------------------------------------------------------------
#: GitHub's environment when a deployment names none
DEFAULT_ENVIRONMENT = "production"
DEFAULT_SEQUENCE = 15
#: default promotion order by the usual names, first match wins (a manager reorders them per repository)
_ENVIRONMENT_SEQUENCES = (
    (("staging", "stage", "stg", "pre", "preprod", "preproduction", "uat", "acceptance"), 10),
    (("test", "testing", "qa", "ci", "integration"), 8),
    (("dev", "development", "develop", "sandbox"), 5),
    (("production", "prod", "live", "prd"), 20),
)
PRODUCTION_SEQUENCE = 20


def _words(name):
    return set(re.split(r"[^a-z0-9]+", (name or "").lower())) - {""}


def default_sequence(name):
    """Promotion order of a new environment from its name: dev 5, test 8, staging 10, production 20, else 15."""
    words = _words(name)
    for names, sequence in _ENVIRONMENT_SEQUENCES:
        if words & set(names):
            return sequence
    return DEFAULT_SEQUENCE


def is_production_name(name):
    """True for the names teams give production ("production", "prod-eu", "Live"; not "pre-production")."""
    return default_sequence(name) == PRODUCTION_SEQUENCE
