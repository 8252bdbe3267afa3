"""Lifecycle of workflow runs and jobs: known states and out-of-order protection.

GitHub does not guarantee delivery order. A run goes
``requested/queued → in_progress → completed`` within one attempt, and a
re-run starts a new attempt (``run_attempt`` + 1) from the beginning. An
incoming state is applied only when it is not older than the stored one,
so a late ``in_progress`` never overwrites a ``completed``.
"""

from datetime import datetime

RUN_STATUSES = ("requested", "pending", "waiting", "queued", "in_progress", "completed")
CONCLUSIONS = (
    "success",
    "failure",
    "cancelled",
    "skipped",
    "timed_out",
    "action_required",
    "neutral",
    "stale",
    "startup_failure",
)
UNKNOWN = "unknown"

OUTCOMES = ("queued", "running", "success", "failure", "cancelled", "skipped", "other")

_STATUS_RANK = {
    "requested": 0,
    "pending": 0,
    "waiting": 1,
    "queued": 1,
    "in_progress": 2,
    "completed": 3,
}
_FAILED_CONCLUSIONS = {"failure", "timed_out", "startup_failure"}


def known_status(value):
    """GitHub's status, or ``unknown`` for a value this version does not know."""
    return value if value in _STATUS_RANK else UNKNOWN


def known_conclusion(value):
    """GitHub's conclusion, ``""`` when there is none yet, ``unknown`` otherwise."""
    if not value:
        return ""
    return value if value in CONCLUSIONS else UNKNOWN


def outcome(status, conclusion):
    """One word for lists and kanban columns."""
    if status != "completed":
        return "running" if status == "in_progress" else "queued"
    if conclusion == "success":
        return "success"
    if conclusion in _FAILED_CONCLUSIONS:
        return "failure"
    if conclusion in ("cancelled", "skipped"):
        return conclusion
    return "other"


def summarise_jobs(states):
    """Status and conclusion of a run known only from its jobs' ``(status, conclusion)`` pairs.

    Completed when every job is; then failed if any job failed, successful
    if all succeeded or were skipped, cancelled if any was, neutral otherwise.
    """
    states = [(status, conclusion or "") for status, conclusion in states]
    statuses = {status for status, _ in states}
    if not states:
        return "queued", ""
    if statuses == {"completed"}:
        outcomes = {outcome(status, conclusion) for status, conclusion in states}
        if "failure" in outcomes:
            return "completed", "failure"
        if outcomes <= {"success", "skipped"}:
            return "completed", "success"
        return "completed", "cancelled" if "cancelled" in outcomes else "neutral"
    if statuses & {"in_progress", "completed"}:
        return "in_progress", ""
    return "queued", ""


def progress_key(attempt, status, moment):
    """Total order of observations of one run or job; higher is newer."""
    return (attempt or 1, _STATUS_RANK.get(status, -1), moment or datetime.min)


def is_stale(stored_key, incoming_key):
    """True when the incoming observation is older than what is stored."""
    return stored_key is not None and incoming_key < stored_key


def duration_seconds(start, end):
    """Seconds between two datetimes, or 0 when either is missing or they are reversed."""
    if not start or not end or end < start:
        return 0.0
    return (end - start).total_seconds()
