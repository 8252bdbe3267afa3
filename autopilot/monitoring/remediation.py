"""Auto-remediation: may we act now (safety policy), what to do (seed actions), and the executors.

:func:`decide` answers "may an automatic action run for this target now?"
from the policy and the target's previous attempts (oldest or newest first,
any order). Rules, checked together; ``not_before`` is the earliest time
every blocking rule is lifted:

1. ``action == "none"``: never (nothing configured).
2. In flight: an attempt with ``succeeded=None`` in the last
   ``cooldown_seconds`` blocks until it ends (a crashed attempt stops
   blocking after the cooldown).
3. Rate limit: at most ``max_attempts_per_hour`` attempts in any sliding
   hour (pending ones count).
4. Cooldown: ``cooldown_seconds`` after the last attempt, whatever its
   outcome.
5. Backoff: after ``n`` consecutive failed attempts the wait since the last
   one is ``min(max_delay_seconds, cooldown_seconds * backoff_base ** (n-1))``
   (:class:`~.backoff.BackoffPolicy`, the product's one retry policy); with
   the defaults 300 s, 600 s, 1200 s ... 3600 s.
6. Circuit breaker: ``breaker_failures`` consecutive failures open the
   circuit: automatic attempts stop. ``max_delay_seconds`` after the last
   failure it is *half-open*: one trial attempt is allowed; if it fails
   the circuit opens again for another ``max_delay_seconds``, a success
   closes it (the failure run is over).

When allowed, ``requires_approval`` tells the caller to queue the action
for a manager instead of running it, and ``dry_run`` to record what would
run without running it (a global dry-run switch is
``dataclasses.replace(policy, dry_run=True)``). Only attempts that really
ran are passed back as :class:`Attempt` (not dry runs, not actions still
awaiting approval).

:data:`SEED_ACTIONS` maps each alert kind to the ordered actions of the
seed; every action is followed by a verification probe of the target
(the caller's next check). Executors: :func:`run_http_hook` (POST JSON to an
ops agent / Rundeck / StackStorm webhook) and :func:`run_github_dispatch`
(a ``workflow_dispatch`` through PyGithub). Their :class:`Outcome` never
holds request headers, tokens, or secrets of the URL.
"""

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType

from ..common.backoff import BackoffPolicy
from ..common.errors import ServiceError
from ..common.masking import mask_secrets
from ..github import rest_api
from ..github.dispatch import dispatch_workflow
from . import probes

ACTIONS = ("http_hook", "github_dispatch", "none")
HOUR = timedelta(hours=1)
MAX_RESPONSE_CHARS = 2000
MAX_RESPONSE_BYTES = 64 * 1024


@dataclass(frozen=True)
class Policy:
    action: str = "none"
    max_attempts_per_hour: int = 3
    cooldown_seconds: int = 300
    backoff_base: float = 2
    max_delay_seconds: int = 3600
    breaker_failures: int = 3
    dry_run: bool = False
    requires_approval: bool = False

    def __post_init__(self):
        if self.action not in ACTIONS:
            raise ValueError(f"action is one of {', '.join(ACTIONS)}")
        if self.max_attempts_per_hour < 0 or self.cooldown_seconds < 0 or self.breaker_failures < 1:
            raise ValueError("limits cannot be negative and the breaker needs at least one failure")
        if self.backoff_base < 1 or self.max_delay_seconds <= 0:
            raise ValueError("backoff_base >= 1 and max_delay_seconds > 0")

    def backoff(self):
        return BackoffPolicy(
            initial=max(self.cooldown_seconds, 1), base=self.backoff_base, max_delay=self.max_delay_seconds
        )


@dataclass(frozen=True)
class Attempt:
    at: datetime
    #: True succeeded, False failed, None still running
    succeeded: bool | None


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    not_before: datetime | None
    requires_approval: bool
    dry_run: bool
    #: "closed", "open" or "half_open"
    breaker: str = "closed"


def _failure_run(attempts):
    """Consecutive failed attempts at the end (running attempts are skipped)."""
    run = []
    for attempt in reversed(attempts):
        if attempt.succeeded is None:
            continue
        if attempt.succeeded:
            break
        run.append(attempt)
    return run[::-1]


def decide(policy: Policy, attempts: Sequence[Attempt], now: datetime) -> Decision:
    """May an automatic action run now? (rules in the module docstring)"""
    if policy.action == "none":
        return Decision(False, "no remediation action configured", None, False, False)
    if policy.max_attempts_per_hour == 0:
        return Decision(False, "automatic attempts are disabled (0 per hour)", None, False, False)
    past = sorted((a for a in attempts if a.at <= now), key=lambda a: a.at)
    cooldown = timedelta(seconds=policy.cooldown_seconds)
    blocks = []  # (not_before, reason)

    running = [a for a in past if a.succeeded is None and a.at + cooldown > now]
    if running:
        blocks.append((running[-1].at + cooldown, "an attempt is still running"))

    recent = [a for a in past if a.at > now - HOUR]
    if len(recent) >= policy.max_attempts_per_hour:
        frees = recent[len(recent) - policy.max_attempts_per_hour].at + HOUR
        blocks.append((frees, f"rate limit: {len(recent)} attempts in the last hour"))

    if past and past[-1].at + cooldown > now:
        blocks.append((past[-1].at + cooldown, f"cooldown of {policy.cooldown_seconds} s after the last attempt"))

    failures = _failure_run(past)
    breaker = "closed"
    if failures:
        last = failures[-1].at
        if len(failures) >= policy.breaker_failures:
            reopen = last + timedelta(seconds=policy.max_delay_seconds)
            if reopen > now:
                breaker = "open"
                blocks.append((reopen, f"circuit open after {len(failures)} consecutive failed attempts"))
            else:
                breaker = "half_open"
        else:
            wait = timedelta(seconds=policy.backoff().delay(len(failures)))
            if last + wait > now:
                blocks.append((last + wait, f"backoff after {len(failures)} failed attempt(s)"))

    if blocks:
        not_before = max(at for at, _reason in blocks)
        reason = "; ".join(reason for _at, reason in blocks)
        return Decision(False, reason, not_before, False, False, breaker)
    reason = "circuit half-open: one trial attempt" if breaker == "half_open" else "allowed"
    if policy.requires_approval:
        reason += " (needs a manager's approval)"
    if policy.dry_run:
        reason += " (dry run)"
    return Decision(True, reason, None, policy.requires_approval, policy.dry_run, breaker)


# ---------------------------------------------------------------------------
# seed actions
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class SeedAction:
    """One suggested action: ``executor`` is "http_hook", "github_dispatch", "odoo" or "verify"."""

    name: str
    label: str
    executor: str
    payload: Mapping
    destructive: bool = False


_RESTART = SeedAction(
    "restart_service", "Restart the service", "http_hook", MappingProxyType({"action": "restart"}), True
)
_VERIFY = SeedAction("health_check", "Check the target again", "verify", MappingProxyType({}))
_CLEAR_CACHES = SeedAction("clear_caches", "Clear caches", "http_hook", MappingProxyType({"action": "clear_caches"}))
_SCALE = SeedAction("scale_up", "Scale resources up", "http_hook", MappingProxyType({"action": "scale_up"}))

#: The seed's mapping, condition kind -> ordered actions: service down -> restart + health check;
#: high CPU -> restart; high memory -> clear caches; slow answers -> scale up; intermittent errors
#: -> restart + health check. Restarts are destructive (need approval when the policy asks for it).
SEED_ACTIONS = MappingProxyType(
    {
        "down": (_RESTART, _VERIFY),
        "cpu": (_RESTART, _VERIFY),
        "memory": (_CLEAR_CACHES, _VERIFY),
        "slow": (_SCALE, _VERIFY),
        "error_rate": (_RESTART, _VERIFY),
    }
)


# ---------------------------------------------------------------------------
# executors
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    succeeded: bool
    status_code: int | None
    detail: str
    duration_ms: float | None = None
    #: what was sent (method, redacted URL, JSON payload), secrets masked
    request: str = ""
    #: the start of the answer's body, secrets masked
    response: str = ""


def _safe(text, known=()):
    return mask_secrets(text or "", known=[k for k in known if k])[0]


def run_http_hook(url, method="POST", payload=None, headers=None, timeout=10.0, session=None):
    """Send ``payload`` as JSON to ``url``; 2xx is success. Redirects are not followed for a hook."""
    known = [str(v) for v in (headers or {}).values() if v]
    payload_text = json.dumps(payload, sort_keys=True, default=str) if payload is not None else ""
    request = _safe(f"{method.upper()} {probes.redact_url(url)}\n{payload_text}".strip(), known)
    started = time.monotonic()
    try:
        fetched = probes.fetch(
            session,
            method,
            url,
            timeout=timeout,
            max_bytes=MAX_RESPONSE_BYTES,
            headers={"Content-Type": "application/json", "Accept": "application/json", **(headers or {})},
            json_body=payload,
            follow_redirects=False,
            known_secrets=known,
        )
    except probes.FetchError as exc:
        duration = (time.monotonic() - started) * 1000.0
        return Outcome(False, None, f"hook failed: {exc}", round(duration, 3), request)
    text = fetched.body.decode("utf-8", errors="replace")[:MAX_RESPONSE_CHARS]
    response = _safe(text.replace(url, probes.redact_url(url)), [*known, *probes.url_secrets(url)])
    ok = 200 <= fetched.status_code < 300
    detail = f"hook answered HTTP {fetched.status_code}" + ("" if ok else " (failure)")
    return Outcome(ok, fetched.status_code, detail, round(fetched.elapsed_ms, 3), request, response)


def run_github_dispatch(api_url, token, full_name, workflow_file, ref, inputs=None, timeout=15):
    """Start ``workflow_file`` on ``ref`` with ``inputs`` (``workflow_dispatch``, PyGithub)."""
    clean_inputs = dict(inputs or {})
    request = _safe(
        f"workflow_dispatch {full_name} {workflow_file} ref={ref} inputs={json.dumps(clean_inputs, default=str)}",
        [token],
    )
    started = time.monotonic()
    try:
        client = rest_api.connect(api_url, token, timeout=timeout, retries=1)
        dispatch_workflow(client, full_name, workflow_file, ref, clean_inputs)
    except ServiceError as exc:
        duration = round((time.monotonic() - started) * 1000.0, 3)
        return Outcome(False, exc.status, _safe(str(exc), [token]), duration, request)
    except ValueError as exc:
        duration = round((time.monotonic() - started) * 1000.0, 3)
        return Outcome(False, None, _safe(f"invalid dispatch: {exc}", [token]), duration, request)
    duration = round((time.monotonic() - started) * 1000.0, 3)
    detail = f"workflow {workflow_file} dispatched on {ref}"
    return Outcome(True, 204, _safe(detail, [token]), duration, request)
