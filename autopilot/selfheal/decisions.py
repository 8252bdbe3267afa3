"""Self-healing decisions for failed CI runs: retry, flakiness, rollback, cache hits.

Decides, from facts the caller gathered (diagnoses, earlier attempts, the
repository's settings), what to do about a failed workflow run:

* :func:`decide_retry` — re-run the failed jobs, when and why not. A run is
  retried only when *every* failed job failed for a retryable cause (network
  timeouts, resource exhaustion, a cause a rule marks retryable, a failure
  known to be flaky): re-running next to a real bug only burns minutes. A
  transient cause counts only when its diagnosis is confident enough
  (calibrated confidence at least ``min_confidence``): a guessed timeout
  on a real bug would re-run it three times before anyone hears of it. The
  wait follows :func:`retry_policy` (exponential, base 2, capped at 300 s,
  jitter), at most ``max_retries`` times (3 by default). What is not retried
  is escalated (an incident, a GitHub issue);
* :func:`retry_outcome` — what the next attempt of a re-run run says
  (``healed`` when it passed);
* :func:`find_flaky` / :func:`flaky_score` — a job that failed and then
  passed on the same commit is flaky; the score is the share of recent
  occurrences that passed on a retry without a code change;
* :func:`decide_rollback` — a failed deployment workflow dispatches the
  rollback workflow with the last successful sha, never twice in a row for
  the same deployment, never for the rollback workflow itself;
* :func:`cache_summary` / :func:`cache_hit_rate` — cache restores of
  ``actions/cache`` and ``setup-*`` steps, for the cache-hit KPI.
"""

from dataclasses import dataclass, field
from datetime import datetime

from ..common.backoff import BackoffPolicy
from ..common.errors import RateLimited, ServiceUnavailable
from ..common.workflows import split_patterns, workflow_matches
from . import logs
from .rules import RETRYABLE_CATEGORIES

DEFAULT_MAX_RETRIES = 3
#: a transient cause (timeout, resource exhaustion, a retryable rule) is re-run only when its diagnosis'
#: calibrated confidence reaches this: below, it is as likely a misread real failure as a passing glitch
DEFAULT_RETRY_MIN_CONFIDENCE = 0.6
DEFAULT_INITIAL_DELAY = 30.0
BACKOFF_BASE = 2.0
MAX_DELAY = 300.0
JITTER = 0.2
FLAKY_WINDOW = 20
FAILED_CONCLUSIONS = frozenset({"failure", "timed_out", "startup_failure"})
#: a failure older than this (a backfill by the sync, a long outage) is diagnosed, never re-run or rolled back
MAX_ACTION_AGE = 6 * 3600
#: how long work waits after GitHub was unreachable (it is never dropped for that)
CALL_RETRY_POLICY = BackoffPolicy(initial=60.0, base=2.0, max_delay=3600.0, jitter=0.2, max_attempts=8)


def retry_policy(max_retries=DEFAULT_MAX_RETRIES, initial=DEFAULT_INITIAL_DELAY, jitter=JITTER):
    """The CI re-run policy: ``initial * 2 ** (n - 1)`` seconds before retry ``n``, capped at 300 s."""
    return BackoffPolicy(
        initial=initial, base=BACKOFF_BASE, max_delay=MAX_DELAY, jitter=jitter, max_attempts=max(0, int(max_retries))
    )


# ---------------------------------------------------------------------------
# GitHub trouble


def is_transient(error):
    """True for a GitHub failure worth trying again later (rate limit, 5xx, unreachable)."""
    return isinstance(error, RateLimited | ServiceUnavailable)


def call_retry_delay(error, attempts, policy=CALL_RETRY_POLICY, rng=None):
    """Seconds before calling GitHub again: its ``Retry-After`` when it gave one, else backoff on ``attempts``."""
    wait = getattr(error, "retry_after", None)
    if wait is not None:
        return max(1.0, float(wait))
    return float(policy.delay(max(1, attempts), rng))


# ---------------------------------------------------------------------------
# retries


@dataclass(frozen=True)
class JobFailure:
    """What the diagnosis of one failed job says, as far as retrying is concerned.

    ``retryable`` is the diagnosis' own verdict (the matching rule's flag, or
    the category's when the classifier alone decided); ``None`` means "no
    verdict": the category decides. A rule that says "not retryable" wins
    over a transient category (an exhausted account quota is
    ``resource_exhaustion`` but a re-run cannot help).
    """

    job_name: str
    category: str
    retryable: bool | None = None
    signature: str = ""
    flaky: bool = False
    quarantined: bool = False
    confidence: float | None = None

    @property
    def retry_reason(self):
        """Why this failure may be retried, or '' when it may not (whatever the confidence)."""
        return self.retry_reason_at(0.0)

    def retry_reason_at(self, min_confidence):
        """Why this failure may be retried when a diagnosed cause needs ``min_confidence``, or ''.

        The failure's own history (flaky, quarantined) needs no confidence; a
        transient category or a retryable rule does (``confidence`` None: not
        known, trusted as before).
        """
        if self.quarantined:
            return "quarantined flaky failure"
        if self.flaky:
            return "known flaky failure"
        if self.retryable is False:
            return ""
        if self.confidence is not None and self.confidence < min_confidence:
            return ""
        if self.category in RETRYABLE_CATEGORIES:
            return f"{self.category} is transient"
        if self.retryable:
            return "the matching rule says it is worth a retry"
        return ""


@dataclass(frozen=True)
class RetryDecision:
    """``retry`` with ``attempt`` (1-based retry number) after ``delay`` seconds, or why not.

    ``escalate`` lists the failures to report as unrecoverable (an incident,
    a GitHub issue): the non-retryable ones, or all of them once retries are
    exhausted or automatic retries are off.
    """

    retry: bool
    attempt: int
    delay: float
    reason: str
    exhausted: bool = False
    escalate: tuple = ()


def decide_retry(
    failures,
    retries_done,
    max_retries=DEFAULT_MAX_RETRIES,
    auto_retry=True,
    policy=None,
    rng=None,
    min_confidence=DEFAULT_RETRY_MIN_CONFIDENCE,
):
    """Decide whether to re-run the failed jobs of a run (see the module docstring)."""
    failures = tuple(failures)
    if not failures:
        return RetryDecision(False, 0, 0.0, "no diagnosed failure")
    blocking = tuple(f for f in failures if not f.retry_reason_at(min_confidence))
    if blocking:
        names = ", ".join(
            sorted(
                {
                    f"{f.job_name} ({f.category}"
                    + (
                        f", confidence {f.confidence:.2f} < {min_confidence:.2f})"
                        if f.retry_reason and f.confidence is not None
                        else ")"
                    )
                    for f in blocking
                }
            )
        )
        return RetryDecision(False, 0, 0.0, f"not retryable: {names}", escalate=blocking)
    if not auto_retry:
        return RetryDecision(False, 0, 0.0, "automatic retries are off for this repository", escalate=failures)
    policy = policy or retry_policy(max_retries)
    if not policy.can_retry(retries_done):
        return RetryDecision(
            False,
            retries_done,
            0.0,
            f"retries exhausted ({retries_done} of {policy.max_attempts})",
            exhausted=True,
            escalate=failures,
        )
    attempt = retries_done + 1
    reasons = "; ".join(sorted({f.retry_reason_at(min_confidence) for f in failures}))
    return RetryDecision(True, attempt, float(policy.delay(attempt, rng)), f"retry {attempt}: {reasons}")


def too_old_to_act(finished_at, now, max_age=MAX_ACTION_AGE):
    """True when a run finished more than ``max_age`` seconds before ``now`` (unknown end: not too old).

    Re-running or rolling back hours later acts on a world that moved on
    (newer commits, a deployment since): such failures are only diagnosed.
    """
    if finished_at is None:
        return False
    return (now - finished_at).total_seconds() > max_age


def retry_outcome(rerun_from_attempt, run_attempt, status, conclusion):
    """What a run says about the re-run started from attempt ``rerun_from_attempt``.

    ``pending`` while the next attempt has not completed, ``healed`` when it
    passed, ``failed`` when it failed again, ``stopped`` when it ended
    otherwise (cancelled, skipped...).
    """
    if run_attempt <= rerun_from_attempt or status != "completed":
        return "pending"
    if conclusion == "success":
        return "healed"
    if conclusion in FAILED_CONCLUSIONS:
        return "failed"
    return "stopped"


# ---------------------------------------------------------------------------
# flakiness


@dataclass(frozen=True)
class JobOutcome:
    """One completed attempt of a job. ``order`` sorts attempts in time (a timestamp or attempt number)."""

    job_name: str
    head_sha: str
    conclusion: str
    order: object = 0
    run_id: int = 0
    run_attempt: int = 1
    signature: str = ""


@dataclass(frozen=True)
class FlakyFinding:
    """A job that failed, then passed, on the same commit."""

    job_name: str
    head_sha: str
    signatures: tuple
    failures: int
    passes: int
    run_ids: tuple = field(default_factory=tuple)


def _key(outcome):
    order = outcome.order
    if isinstance(order, datetime):
        order = order.timestamp()
    return (order or 0, outcome.run_id, outcome.run_attempt)


def find_flaky(outcomes):
    """Jobs that failed and later passed on the same ``head_sha`` (the same code), one finding per pair."""
    groups = {}
    for outcome in outcomes:
        if outcome.head_sha and outcome.job_name:
            groups.setdefault((outcome.job_name, outcome.head_sha), []).append(outcome)
    findings = []
    for (name, sha), items in sorted(groups.items()):
        items.sort(key=_key)
        failed_before = []
        for outcome in items:
            if outcome.conclusion in FAILED_CONCLUSIONS:
                failed_before.append(outcome)
            elif outcome.conclusion == "success" and failed_before:
                findings.append(
                    FlakyFinding(
                        job_name=name,
                        head_sha=sha,
                        signatures=tuple(sorted({f.signature for f in failed_before if f.signature})),
                        failures=len(failed_before),
                        passes=sum(1 for o in items if o.conclusion == "success"),
                        run_ids=tuple(sorted({o.run_id for o in items if o.run_id})),
                    )
                )
                break
    return findings


def flaky_score(outcomes, window=FLAKY_WINDOW):
    """Per job name: the share of its last ``window`` commits with a failure that later passed.

    Only commits where the job failed at least once count (a job that always
    passes is not "0 % flaky", it is not in the answer).
    """
    per_job = {}
    for outcome in outcomes:
        if outcome.head_sha and outcome.job_name:
            per_job.setdefault(outcome.job_name, {}).setdefault(outcome.head_sha, []).append(outcome)
    flaky_pairs = {(f.job_name, f.head_sha) for f in find_flaky(outcomes)}
    scores = {}
    for name, by_sha in per_job.items():
        failed = [
            (max(_key(o) for o in items), sha)
            for sha, items in by_sha.items()
            if any(o.conclusion in FAILED_CONCLUSIONS for o in items)
        ]
        if not failed:
            continue
        recent = sorted(failed)[-window:]
        scores[name] = sum(1 for _order, sha in recent if (name, sha) in flaky_pairs) / len(recent)
    return scores


def signature_flaky_score(healed_flags, window=FLAKY_WINDOW):
    """Share of a failure signature's last ``window`` occurrences (oldest first) that passed on a retry."""
    recent = list(healed_flags)[-window:]
    return sum(1 for flag in recent if flag) / len(recent) if recent else 0.0


def quarantine_active(expires_at, now):
    """A quarantine holds until its expiry (none = until lifted by hand)."""
    return expires_at is None or expires_at > now


# ---------------------------------------------------------------------------
# rollback


@dataclass(frozen=True)
class RollbackDecision:
    rollback: bool
    reason: str
    workflow: str = ""
    sha: str = ""
    key: str = ""


def deployment_key(workflow_path, workflow_name, head_sha):
    """Identifies one deployment: a workflow deploying one commit (re-run attempts share it)."""
    return f"{workflow_path or workflow_name}@{head_sha}"


def decide_rollback(
    workflow_name,
    workflow_path,
    head_sha,
    conclusion,
    deployment_workflows,
    rollback_workflow,
    last_success_sha,
    last_rollback_key="",
    auto_rollback=True,
):
    """Dispatch the rollback workflow for a failed deployment? (see the module docstring)."""
    key = deployment_key(workflow_path, workflow_name, head_sha)
    if not auto_rollback:
        return RollbackDecision(False, "automatic rollback is off", key=key)
    if not workflow_matches(deployment_workflows, workflow_name, workflow_path):
        return RollbackDecision(False, "not a deployment workflow", key=key)
    if conclusion not in FAILED_CONCLUSIONS:
        return RollbackDecision(False, f"the deployment did not fail ({conclusion or 'no conclusion'})", key=key)
    if not rollback_workflow:
        return RollbackDecision(False, "no rollback workflow configured", key=key)
    if workflow_matches(rollback_workflow, workflow_name, workflow_path):
        return RollbackDecision(False, "the rollback workflow itself failed: never roll back a rollback", key=key)
    if last_rollback_key == key:
        return RollbackDecision(False, "this deployment was already rolled back", key=key)
    if not last_success_sha:
        return RollbackDecision(False, "no earlier successful deployment to roll back to", key=key)
    if last_success_sha == head_sha:
        return RollbackDecision(False, "the failed commit is the last successful one", key=key)
    return RollbackDecision(
        True,
        f"deployment of {head_sha[:12]} failed: roll back to {last_success_sha[:12]}",
        workflow=split_patterns(rollback_workflow)[0],
        sha=last_success_sha,
        key=key,
    )


# ---------------------------------------------------------------------------
# caches


def cache_summary(log_text):
    """Cache restores of one job log: ``{"hits", "misses", "hit_rate", "details"}`` (hit_rate None without data)."""
    stats = logs.cache_events(log_text if isinstance(log_text, list) else logs.clean_log(log_text))
    return {
        "hits": stats.hits,
        "misses": stats.misses,
        "hit_rate": stats.hit_rate,
        "details": [{"kind": e.kind, "key": e.key, "source": e.source} for e in stats.details],
    }


def cache_hit_rate(counts):
    """Overall hit rate of ``[(hits, misses), ...]``, or None when no cache was restored at all."""
    hits = sum(h for h, _m in counts)
    total = hits + sum(m for _h, m in counts)
    return hits / total if total else None
