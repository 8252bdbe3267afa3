"""The escalation ladder of an incident: auto-heal -> GitHub issue -> on-call -> page.

:func:`next_step` says which step comes next and when it is due, from the
last step taken. The caller takes every step that is due (``due_at <= now``),
records it as ``current`` and asks again, so one cron pass can climb several
steps; a step the caller cannot take (no repository for the issue, no
on-call user) is recorded as skipped and counts as taken.

Rules (a demanding on-call team's expectations):

* **Acknowledged stops climbing.** A human owns the incident: no further
  step, whatever the severity (``(None, None)``).
* **Severity caps the ladder.** ``low`` stops at the GitHub issue (a
  ticket, nobody is disturbed); ``medium`` and ``high`` go up to the
  on-call user (activity + email); only ``critical`` pages. Severity is read
  at every call, so an incident raised to critical later climbs on.
* **Delays are per step** (:data:`DEFAULT_DELAYS`: the wait after the
  previous step) and due times are counted from ``opened_at`` (the sum of
  the delays up to that step), so a late cron pass never pushes the whole
  ladder back. Defaults: auto-heal at once, GitHub issue after 10 min,
  on-call after 25 min, page after 40 min.
* **A failed heal shortens the wait.** ``remediation_failed`` (the attempt
  failed, or was refused by the safety policy) makes the GitHub issue due
  at once; with ``can_heal=False`` (no action configured) the auto-heal step
  is skipped and treated the same way.
* **Critical skips waiting.** For ``critical`` every step is due at most
  :data:`CRITICAL_MAX_WAIT` (5 min) after opening, the time auto-heal gets
  before someone is woken up; if the heal failed, every step is due at once.
* **Recurrence updates the issue, quietly.** :func:`issue_update_due` says
  when the one GitHub issue of an incident is rewritten with its new count
  and last-seen time: at most every :data:`ISSUE_UPDATE_MIN_SECONDS`, at
  once (with a comment) when the severity rose.
* **A GitHub outage never blocks the ladder.** :func:`issue_failure` says
  whether opening the issue failed for a passing reason (5xx, timeout,
  rate limits) or for good (404, bad credentials, 422); a passing failure
  leaves the issue pending and :func:`issue_retry_delay` (the backoff
  shared with paging) says when to try again, while the ladder climbs on
  to on-call and page on its own schedule.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType

from ..common import errors, markdown
from ..common.backoff import BackoffPolicy
from ..common.masking import mask_secrets
from ..github import rest_api
from .probes import redact_url

LADDER = ("auto_heal", "github_issue", "on_call", "page")
SEVERITIES = ("low", "medium", "high", "critical")
#: the highest step each severity may reach
MAX_STEP = MappingProxyType({"low": "github_issue", "medium": "on_call", "high": "on_call", "critical": "page"})
DEFAULT_DELAYS = MappingProxyType({"auto_heal": 0, "github_issue": 600, "on_call": 900, "page": 900})
CRITICAL_MAX_WAIT = 300
TITLE_MAX = 256
BODY_MAX = 60_000
BLOCK_MAX = 20_000


@dataclass(frozen=True)
class Step:
    name: str
    label: str
    description: str


STEPS = MappingProxyType(
    {
        "auto_heal": Step("auto_heal", "Auto-heal", "run the target's remediation policy"),
        "github_issue": Step("github_issue", "GitHub issue", "open (or update) one GitHub issue for the incident"),
        "on_call": Step("on_call", "Notify on-call", "activity and email to the target's on-call user"),
        "page": Step("page", "Page", "trigger the paging service (PagerDuty Events v2 or webhook)"),
    }
)


def _offset(step, delays):
    """Seconds from opening to ``step`` (sum of the per-step delays up to it)."""
    total = 0
    for name in LADDER[: LADDER.index(step) + 1]:
        value = delays.get(name, DEFAULT_DELAYS[name])
        total += max(0, int(value or 0))
    return total


def next_step(
    current: str | None,
    severity: str,
    opened_at: datetime,
    now: datetime,
    remediation_failed: bool,
    acknowledged: bool,
    delays: Mapping[str, int] = DEFAULT_DELAYS,
    *,
    can_heal: bool = True,
) -> tuple[str | None, datetime | None]:
    """``(step, due_at)`` of the next escalation step, or ``(None, None)`` when it stops here."""
    if current is not None and current not in LADDER:
        raise ValueError(f"unknown escalation step {current!r}")
    if severity not in SEVERITIES:
        raise ValueError(f"unknown severity {severity!r}")
    if acknowledged:
        return None, None
    index = LADDER.index(current) + 1 if current else 0
    if not can_heal:
        index, remediation_failed = max(index, 1), True
    if index >= len(LADDER) or index > LADDER.index(MAX_STEP[severity]):
        return None, None
    step = LADDER[index]
    offset = _offset(step, delays or DEFAULT_DELAYS)
    if severity == "critical":
        offset = min(offset, CRITICAL_MAX_WAIT)
    due = opened_at + timedelta(seconds=offset)
    heal_failed_shortcut = remediation_failed and (severity == "critical" or step == "github_issue")
    if heal_failed_shortcut and due > now:
        due = now
    return step, due


# ---------------------------------------------------------------------------
# keeping the GitHub issue up to date
# ---------------------------------------------------------------------------
#: the least time between two updates of an incident's GitHub issue for repeats of the same severity
ISSUE_UPDATE_MIN_SECONDS = 900


def issue_update_due(
    synced_count: int,
    count: int,
    synced_at: datetime | None,
    now: datetime,
    severity_raised: bool = False,
    min_interval: int = ISSUE_UPDATE_MIN_SECONDS,
) -> bool:
    """Should the incident's GitHub issue be rewritten with its latest facts (recurrence)?

    Only when the incident recurred since the issue was last written
    (``count > synced_count``), and then at once if its severity rose (the
    caller also comments, so watchers hear of it), else at most every
    ``min_interval`` seconds: a target failing every minute edits the issue
    a few times an hour, not sixty.
    """
    if count <= synced_count:
        return False
    if severity_raised or synced_at is None:
        return True
    return (now - synced_at).total_seconds() >= min_interval


# ---------------------------------------------------------------------------
# opening the GitHub issue: passing and permanent failures
# ---------------------------------------------------------------------------
#: a GitHub issue that failed for a passing reason is tried again after 60 s, doubling up to 15 min, 8 tries in all
ISSUE_RETRY_BACKOFF = BackoffPolicy(initial=60, base=2, max_delay=900, max_attempts=7)
#: the longest ``Retry-After`` (or rate-limit reset) honoured; a larger one is read as this
ISSUE_MAX_RETRY_AFTER = 3600
_PASSING_KINDS = (errors.ServiceUnavailable.kind, errors.RateLimited.kind, errors.BadAnswer.kind)


@dataclass(frozen=True)
class IssueFailure:
    """Why opening the GitHub issue failed: ``reason`` (secret-free), ``transient``, ``retry_after`` (s)."""

    reason: str
    transient: bool
    retry_after: float | None = None


def issue_failure(exc, known_secrets=()) -> IssueFailure:
    """Classify a failed PyGithub / requests call that was to open the incident's issue.

    Passing (retry later): GitHub 5xx, timeouts and connection failures,
    primary and secondary rate limits (403/429, ``Retry-After`` or the
    rate-limit reset read into ``retry_after``), a garbled answer. For good:
    404 (no such repository, or not visible to the token), 401 and other
    403s (bad credentials, no permission), 422 (refused). ``reason`` is masked
    of secret-shaped text and of ``known_secrets``.
    """
    error = rest_api.from_github(exc, "GitHub")
    transient = error.kind in _PASSING_KINDS
    if not transient and error.status == 403 and "rate limit" in str(error).lower():
        # a secondary rate limit may come without Retry-After: GitHub asks to wait a minute or more
        transient = True
    text = str(error)
    if error.status and str(error.status) not in text:
        text += f" (HTTP {error.status})"
    reason = mask_secrets(text, known=[s for s in known_secrets if s])[0][:500]
    return IssueFailure(reason, transient, error.retry_after if transient else None)


def issue_retry_delay(failed_attempts, retry_after=None):
    """Seconds before trying to open the issue again after ``failed_attempts`` passing failures, or None.

    60, 120, 240, 480, 900, 900 ... s, longer when GitHub's ``Retry-After``
    (or rate-limit reset) asks (at most :data:`ISSUE_MAX_RETRY_AFTER`); None
    after 8 tries in all: the failure stays recorded on the incident.
    """
    return ISSUE_RETRY_BACKOFF.after_failure(failed_attempts, retry_after, ISSUE_MAX_RETRY_AFTER)


# ---------------------------------------------------------------------------
# GitHub issue text
# ---------------------------------------------------------------------------
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _clean(value):
    text = "" if value is None else str(value)
    text = _CONTROL.sub(" ", text)
    return mask_secrets(text)[0]


def md_escape(value):
    """One line of untrusted text, safe as Markdown: specials escaped, no @mentions."""
    text = " ".join(_clean(value).split())
    return markdown.defuse_mentions(_MD_SPECIAL.sub(r"\\\1", text))


def code_block(value):
    """Untrusted multi-line text in a fence longer than any backtick run inside it."""
    text = _clean(value).replace("\r\n", "\n")
    if len(text) > BLOCK_MAX:
        text = text[:BLOCK_MAX] + "\n…(truncated)"
    return markdown.code_block(text)


def _when(value):
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S UTC")
    return str(value or "")


def github_issue_body(incident: Mapping) -> tuple[str, str]:
    """``(title, body)`` of the GitHub issue for ``incident`` (a plain dict), Markdown-safe, secrets masked.

    Keys read (all optional): ``reference``, ``name``, ``severity``,
    ``state``, ``source``, ``kind``, ``target``, ``url``, ``dedup_key``,
    ``first_seen``, ``last_seen``, ``count``, ``message``, ``error``,
    ``root_cause``, ``link`` (the Odoo record), ``remediation`` (a list of
    dicts with ``at``, ``action``, ``state``, ``detail``). URLs are shown
    without user info or token-like parameters. The body ends with a hidden
    ``<!-- ops-autopilot dedup_key=... -->`` marker to find the issue again.
    """
    reference = _clean(incident.get("reference")).strip()
    severity = _clean(incident.get("severity") or "unknown").strip()
    subject = incident.get("name") or incident.get("message") or incident.get("kind") or "incident"
    target = _clean(incident.get("target")).strip()
    title = " ".join(f"[{severity}] {reference + ' ' if reference else ''}{target + ': ' if target else ''}".split())
    title = f"{title} {' '.join(_clean(subject).split())}".strip()
    if len(title) > TITLE_MAX:
        title = title[: TITLE_MAX - 1] + "…"

    rows = [
        ("Reference", incident.get("reference")),
        ("Severity", incident.get("severity")),
        ("State", incident.get("state")),
        ("Source", incident.get("source")),
        ("Condition", incident.get("kind")),
        ("Target", incident.get("target")),
        ("URL", redact_url(incident["url"]) if incident.get("url") else None),
        ("First seen", _when(incident.get("first_seen")) if incident.get("first_seen") else None),
        ("Last seen", _when(incident.get("last_seen")) if incident.get("last_seen") else None),
        ("Occurrences", incident.get("count")),
    ]
    lines = ["Opened by **ops_autopilot** (Odoo).", "", "| | |", "|---|---|"]
    lines += [f"| {label} | {md_escape(value)} |" for label, value in rows if value not in (None, "")]
    for label, key in (("What happened", "message"), ("Last error", "error"), ("Root cause", "root_cause")):
        if incident.get(key):
            lines += ["", f"### {label}", "", code_block(incident[key])]
    remediation = incident.get("remediation") or ()
    if remediation:
        lines += ["", "### Remediation attempts", ""]
        for entry in list(remediation)[:50]:
            item = entry if isinstance(entry, Mapping) else {"detail": entry}
            parts = [_when(item.get("at")), item.get("action"), item.get("state"), item.get("detail")]
            lines.append("- " + " · ".join(md_escape(p) for p in parts if p))
    link = incident.get("link")
    if link and str(link).startswith(("http://", "https://")):
        lines += ["", f"[Open the incident in Odoo]({redact_url(link).replace(')', '%29')})"]
    body = "\n".join(lines)
    if len(body) > BODY_MAX:
        body = body[: BODY_MAX - 40] + "\n\n…(truncated)"
    key = re.sub(r"[^A-Za-z0-9:._/@+=-]", "_", str(incident.get("dedup_key") or ""))[:255]
    if key:
        body += f"\n\n<!-- ops-autopilot dedup_key={key} -->"
    return title, body
