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
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..common.backoff import BackoffPolicy
from ..github import events, rest_api

#: GitHub's status states (``waiting``: for a protection rule's approval)
STATES = ("pending", "queued", "waiting", "in_progress", "success", "failure", "error", "inactive")
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


# ----------------------------------------------------------------------
# states: out-of-order and redelivered statuses change nothing twice
# ----------------------------------------------------------------------
UNKNOWN = "unknown"
#: GitHub's ``waiting`` (for a protection rule's approval) is a kind of queued
_STATE_RANK = {
    "pending": 0,
    "queued": 1,
    "waiting": 1,
    "in_progress": 2,
    "success": 3,
    "failure": 3,
    "error": 3,
    "inactive": 4,
}


def known_state(value):
    """GitHub's status state, or ``unknown`` for one this version does not know (recorded, never applied)."""
    return value if value in _STATE_RANK else UNKNOWN


def progress_key(state, created_at, status_id):
    """Total order of the statuses of one deployment; higher is newer.

    The state's rank comes first, as for runs: a finished deployment does not
    go back to ``in_progress`` because a status says so later. Among statuses
    of the same rank GitHub's creation time and then its id (which grows)
    decide.
    """
    return (_STATE_RANK.get(state, -1), created_at or datetime.min, status_id or 0)


@dataclass(frozen=True)
class Progress:
    """What a deployment's statuses so far say: its state, first success, first end, last applied status."""

    state: str = "pending"
    succeeded_at: datetime | None = None
    finished_at: datetime | None = None
    key: tuple | None = None


def _earliest(current, moment):
    if moment is None:
        return current
    return moment if current is None or moment < current else current


def apply_status(progress, state, created_at, status_id):
    """``(new progress, applied)`` after one more status, whatever the order statuses arrive in.

    A status not newer than the last applied one (a late ``in_progress``
    after ``success``, a redelivery) is not applied: the state stays. The
    first success and first end are the earliest such statuses received, so
    they do not depend on the order either. An unknown state is never applied.
    """
    state = known_state(state)
    if state == UNKNOWN:
        return progress, False
    succeeded_at = _earliest(progress.succeeded_at, created_at) if state == "success" else progress.succeeded_at
    finished_at = _earliest(progress.finished_at, created_at) if state in TERMINAL_STATES else progress.finished_at
    key = progress_key(state, created_at, status_id)
    applied = progress.key is None or key > progress.key
    return (
        Progress(
            state=state if applied else progress.state,
            succeeded_at=succeeded_at,
            finished_at=finished_at,
            key=key if applied else progress.key,
        ),
        applied,
    )


def state_of_run(status, conclusion):
    """The deployment state a deploying workflow run stands for, or None when it deployed nothing.

    A completed run that succeeded deployed; one that failed (failure,
    timed out, startup failure) is a failed deployment; a cancelled or
    skipped run deployed nothing.
    """
    if status != "completed":
        return None
    if conclusion == "success":
        return "success"
    if conclusion in ("failure", "timed_out", "startup_failure"):
        return "failure"
    return None


# ----------------------------------------------------------------------
# environments in promotion order
# ----------------------------------------------------------------------
def promotion_order(environments, key=lambda env: (env.sequence, env.name)):
    """``[(environment, the one before it or None)]``, lowest sequence first (staging → production)."""
    ordered = sorted(environments, key=key)
    return list(zip(ordered, [None, *ordered[:-1]], strict=True))


# ----------------------------------------------------------------------
# rollbacks
# ----------------------------------------------------------------------
@dataclass(frozen=True)
class Deployed:
    """A deployment of one environment as the rules need it (``ref``: whatever identifies it to the caller)."""

    ref: object
    sha: str
    state: str
    created_at: datetime | None
    succeeded: bool = False


@dataclass(frozen=True)
class RollbackVerdict:
    is_rollback: bool
    rollback_of: object = None
    reason: str = ""


def detect_rollback(sha, earlier, by_rollback_workflow=False):
    """Is a deployment of ``sha`` a rollback? ``earlier``: the environment's deployments before it, oldest first.

    It is one when the rollback workflow made it (the addon's rollback, or the
    repository's ``ci_rollback_workflow``), or when it deploys a commit the
    environment ran successfully before, right after a deployment that failed.
    ``rollback_of`` is the failed deployment it undoes (the last one before it
    that failed, or None when the rollback workflow was run without a failure).
    """
    earlier = list(earlier)
    last = earlier[-1] if earlier else None
    failed = last if last and last.state in FAILED_STATES else None
    if by_rollback_workflow:
        undone = failed or next((d for d in reversed(earlier) if d.state in FAILED_STATES), None)
        return RollbackVerdict(True, undone.ref if undone else None, "made by the rollback workflow")
    if failed is None or failed.sha == sha:
        return RollbackVerdict(False)
    if any(d.succeeded and d.sha == sha for d in earlier[:-1]):
        return RollbackVerdict(True, failed.ref, "puts back a commit that ran here before, after a failed deployment")
    return RollbackVerdict(False)


# ----------------------------------------------------------------------
# what waits to be promoted
# ----------------------------------------------------------------------
@dataclass(frozen=True)
class Brought:
    """A successful deployment of the environment before, with the commits it brought (oldest first)."""

    sha: str
    commits_state: str
    commits: tuple = ()


@dataclass(frozen=True)
class Waiting:
    """Commits the environment before runs that this one does not.

    ``known`` False: cannot be told without guessing (``reason`` says why);
    ``complete`` False: at least these (a compare was capped).
    """

    known: bool
    commits: tuple = ()
    complete: bool = True
    reason: str = ""


def waiting_to_promote(upstream, downstream_sha):
    """What waits in the environment before (``upstream``: its successful deployments, oldest first).

    The commits brought by the upstream deployments made after the one of the
    commit this environment runs (``downstream_sha``). Unknown when this
    environment runs a commit the one before never deployed, or when one of
    those deployments has not been compared (or its compare failed).
    """
    upstream = list(upstream)
    if not upstream:
        return Waiting(True, reason="nothing deployed before this environment")
    if upstream[-1].sha == downstream_sha:
        return Waiting(True)
    if not downstream_sha:
        return Waiting(False, reason="nothing deployed to this environment yet")
    index = next((i for i in range(len(upstream) - 1, -1, -1) if upstream[i].sha == downstream_sha), None)
    if index is None:
        return Waiting(False, reason="this environment runs a commit the one before never deployed")
    commits, seen, complete = [], set(), True
    for deployed in upstream[index + 1 :]:
        if deployed.commits_state not in ("done", "too_many"):
            return Waiting(
                False, reason="not compared yet" if deployed.commits_state == "pending" else "compare failed"
            )
        complete = complete and deployed.commits_state == "done"
        for commit in deployed.commits:
            key = getattr(commit, "sha", commit)
            if key not in seen:
                seen.add(key)
                commits.append(commit)
    return Waiting(True, tuple(commits), complete)


# ----------------------------------------------------------------------
# the run that deployed
# ----------------------------------------------------------------------
#: a run counts as the one that made a deployment when it ran around its creation, this much leeway
RUN_MATCH_SLACK = timedelta(minutes=2)


@dataclass(frozen=True)
class RunCandidate:
    ref: object
    head_sha: str
    started_at: datetime | None
    finished_at: datetime | None
    deploys: bool = False  # a workflow named as deploying (environment patterns or the repository's)


def pick_run(sha, created_at, candidates):
    """The run that made a deployment of ``sha`` created at ``created_at``, or None when none or several fit.

    A run of the same commit that was running when the deployment was
    created (a few minutes' leeway either side); among several, the ones of
    deploying workflows; still several: none, rather than a guess.
    """
    if not created_at:
        return None
    fitting = [
        run
        for run in candidates
        if run.head_sha == sha
        and run.started_at
        and run.started_at - RUN_MATCH_SLACK <= created_at
        and (run.finished_at is None or created_at <= run.finished_at + RUN_MATCH_SLACK)
    ]
    if len(fitting) > 1:
        fitting = [run for run in fitting if run.deploys]
    return fitting[0].ref if len(fitting) == 1 else None


# ----------------------------------------------------------------------
# the commits a deployment brought: GitHub's compare with the previous one
# ----------------------------------------------------------------------
#: ``Fix login (#123)`` (squash merge) and ``Merge pull request #123 from ...`` (merge commit)
_PR_IN_MESSAGE = re.compile(r"\(#(\d{1,9})\)\s*$|^Merge pull request #(\d{1,9})\b")
#: commits asked per page of a compare (GitHub allows up to 100 here)
COMPARE_PAGE_SIZE = 100


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    message: str  # the first line
    author: str
    committed_at: datetime | None  # the author date
    pull_request_numbers: tuple = ()
    html_url: str = ""


@dataclass(frozen=True)
class Compared:
    """The commits ``base...head`` brings, oldest first; ``too_many``: more than the cap, the oldest kept."""

    commits: tuple
    too_many: bool = False

    @property
    def commits_state(self):
        return "too_many" if self.too_many else "done"


def pull_request_numbers(message):
    """PR numbers GitHub writes in a merge's message (squash ``(#12)`` or ``Merge pull request #12``)."""
    first = (message or "").split("\n", 1)[0]
    match = _PR_IN_MESSAGE.search(first)
    return (int(match.group(1) or match.group(2)),) if match else ()


def _commit_info(commit):
    """A PyGithub commit (of a compare) as the product stores it; only the compare's own data, no extra call."""
    raw = commit.raw_data
    detail = raw.get("commit") or {}
    message = str(detail.get("message") or "")
    person = detail.get("author") or {}
    login = (raw.get("author") or {}).get("login") if isinstance(raw.get("author"), dict) else None
    moment = person.get("date")
    return CommitInfo(
        sha=str(raw.get("sha") or "")[:64],
        message=message.split("\n", 1)[0][:1024],
        author=str(login or person.get("name") or "")[:255],
        committed_at=events.parse_timestamp(moment, "commit.author.date") if moment else None,
        pull_request_numbers=pull_request_numbers(message),
        html_url=str(raw.get("html_url") or "")[:2048],
    )


def compare(client, full_name, base, head, cap=MAX_COMMITS, per_page=COMPARE_PAGE_SIZE):
    """What ``head`` brings over ``base`` (``GET /repos/{o}/{r}/compare/{base}...{head}``, paged).

    At most ``cap`` commits are read (the oldest: where a change started);
    one more tells that there were more. GitHub's failures come out as
    :class:`autopilot.common.errors.ServiceError` (the client's timeout holds
    on every page).
    """
    if base == head:
        return Compared(())
    try:
        repo = client.withLazy(True).get_repo(full_name)  # no GET of the repository itself
        comparison = repo.compare(base, head, comparison_commits_per_page=per_page)
        commits = []
        for commit in comparison.commits:
            if len(commits) == cap:
                return Compared(tuple(commits), too_many=True)
            commits.append(_commit_info(commit))
    except rest_api.TRANSIENT_ERRORS as exc:
        raise rest_api.from_github(exc, "GitHub compare") from None
    return Compared(tuple(commits))


#: a compare GitHub could not answer is tried again 1, 4, 16, 64 min and ~4 h later, then marked failed
COMPARE_RETRY = BackoffPolicy(initial=60, base=4, max_delay=4 * 3600, max_attempts=5)


class NoToken(Exception):
    """The repository has no API token: GitHub cannot be asked (not retried until a manager acts)."""
