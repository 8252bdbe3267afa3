"""Paging: PagerDuty Events API v2 and a generic JSON / Slack-style webhook.

:class:`PagerDutyEvents` sends ``trigger`` / ``acknowledge`` / ``resolve``
events in the Events v2 shape (``routing_key``, ``event_action``,
``dedup_key``, ``payload{summary, severity, source, timestamp,
custom_details}``); the incident's dedup key ties the three together, so a
repeated trigger updates the same PagerDuty alert. Our severities map to
PagerDuty's: low -> info, medium -> warning, high -> error, critical ->
critical (PagerDuty's own names are accepted as they are).

Every call returns a :class:`PageResult` and never raises for a network or
HTTP failure: ``ok`` is True only for PagerDuty's 202 (2xx for webhooks);
429, 5xx, timeouts and connection failures are ``retryable`` (with
``retry_after`` when the server says), 4xx answers are not (fix the
configuration). The routing key, the webhook URL's path and header values
never appear in ``detail``. :func:`retry_delay` says when to try a
retryable trigger again: a page lost to a PagerDuty hiccup would wake nobody.
"""

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlsplit

from ..common.backoff import BackoffPolicy
from ..common.masking import mask_secrets
from . import probes

EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
PD_SEVERITIES = ("critical", "error", "warning", "info")
SEVERITY_MAP = {"low": "info", "medium": "warning", "high": "error", "critical": "critical"}
SUMMARY_MAX = 1024
DEDUP_MAX = 255
MAX_ANSWER_BYTES = 64 * 1024
CLIENT = "Odoo ops_autopilot"
#: a retryable trigger is tried again after 60 s, doubling up to 15 min, at most this many times in all
MAX_TRIGGER_ATTEMPTS = 8
RETRY_BACKOFF = BackoffPolicy(initial=60, base=2, max_delay=900, max_attempts=MAX_TRIGGER_ATTEMPTS - 1)
#: the longest ``Retry-After`` honoured (a larger one is read as this)
MAX_RETRY_AFTER = 3600


def retry_delay(failed_attempts, retry_after=None):
    """Seconds before triggering again after ``failed_attempts`` retryable failures, or None to give up.

    The backoff (60, 120, 240, 480, 900, 900 ... s) or the server's
    ``Retry-After`` when it asks for longer; after
    :data:`MAX_TRIGGER_ATTEMPTS` tries in all, None
    (:meth:`~.backoff.BackoffPolicy.after_failure`).
    """
    return RETRY_BACKOFF.after_failure(failed_attempts, retry_after, MAX_RETRY_AFTER)


@dataclass(frozen=True)
class PageResult:
    ok: bool
    status_code: int | None
    detail: str
    retryable: bool = False
    dedup_key: str | None = None
    retry_after: float | None = None


def pd_severity(severity):
    """Our severity (or PagerDuty's) as a PagerDuty severity."""
    value = str(severity or "").lower()
    if value in PD_SEVERITIES:
        return value
    if value in SEVERITY_MAP:
        return SEVERITY_MAP[value]
    raise ValueError(f"unknown severity {severity!r}")


def _retry_after(headers):
    value = (headers or {}).get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _post(session, url, body, timeout, secrets, headers=None):
    """POST ``body`` as JSON; ``(status, parsed JSON or None, text, headers)`` or raises FetchError."""
    fetched = probes.fetch(
        session,
        "POST",
        url,
        timeout=timeout,
        max_bytes=MAX_ANSWER_BYTES,
        headers={"Content-Type": "application/json", "Accept": "application/json", **(headers or {})},
        json_body=body,
        follow_redirects=False,
        known_secrets=secrets,
    )
    text = fetched.body.decode("utf-8", errors="replace")
    try:
        data = json.loads(text) if text.strip() else None
    except ValueError:
        data = None
    return fetched.status_code, data, text, fetched.headers


def _safe(text, secrets):
    return mask_secrets(text or "", known=[s for s in secrets if s])[0][:500]


def _result(status, data, text, headers, secrets, dedup_key, any_2xx=False):
    retry_after = _retry_after(headers)
    if status == 202 or (any_2xx and 200 <= status < 300):
        key = data.get("dedup_key") if isinstance(data, dict) else None
        return PageResult(True, status, f"accepted (HTTP {status})", False, key or dedup_key, retry_after)
    message = ""
    if isinstance(data, dict):
        errors = data.get("errors")
        message = str(data.get("message") or data.get("status") or "")
        if isinstance(errors, list) and errors:
            message += ": " + "; ".join(str(e) for e in errors[:5])
    elif text:
        message = " ".join(text.split())[:200]
    retryable = status == 429 or status >= 500
    detail = f"HTTP {status}" + (f": {message}" if message else "")
    return PageResult(False, status, _safe(detail, secrets), retryable, dedup_key, retry_after)


class PagerDutyEvents:
    """A PagerDuty Events API v2 client (``url`` is a local server in tests)."""

    def __init__(self, url=EVENTS_URL, routing_key=None, timeout=10.0, session=None):
        if not routing_key:
            raise ValueError("PagerDuty needs a routing (integration) key")
        self.url = url or EVENTS_URL
        self.routing_key = routing_key
        self.timeout = timeout
        self.session = session

    def __repr__(self):
        return f"PagerDutyEvents(url={probes.redact_url(self.url)!r})"

    def _send(self, event):
        dedup_key = event.get("dedup_key")
        secrets = [self.routing_key, *probes.url_secrets(self.url)]
        try:
            status, data, text, headers = _post(
                self.session, self.url, {"routing_key": self.routing_key, **event}, self.timeout, secrets
            )
        except probes.FetchError as exc:
            return PageResult(False, None, _safe(f"PagerDuty unreachable: {exc}", secrets), True, dedup_key)
        return _result(status, data, text, headers, secrets, dedup_key)

    def trigger(self, dedup_key, summary, severity, source, custom_details=None, *, timestamp=None, client_url=None):
        """Open (or update) the alert ``dedup_key``."""
        payload = {
            "summary": " ".join(_safe_text(summary).split())[:SUMMARY_MAX] or "(no summary)",
            "severity": pd_severity(severity),
            "source": _safe_text(source)[:255] or "ops_autopilot",
            "timestamp": _iso(timestamp or datetime.now(timezone.utc)),
        }
        if custom_details:
            payload["custom_details"] = json.loads(json.dumps(custom_details, default=str))
        event = {"event_action": "trigger", "dedup_key": _key(dedup_key), "payload": payload, "client": CLIENT}
        if client_url:
            event["client_url"] = str(client_url)
        return self._send(event)

    def acknowledge(self, dedup_key):
        return self._send({"event_action": "acknowledge", "dedup_key": _key(dedup_key)})

    def resolve(self, dedup_key):
        return self._send({"event_action": "resolve", "dedup_key": _key(dedup_key)})


def _key(dedup_key):
    key = str(dedup_key or "").strip()
    if not key:
        raise ValueError("a page needs a dedup key")
    return key[:DEDUP_MAX]


def _safe_text(value):
    return mask_secrets(str(value or ""))[0]


def _iso(value):
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.isoformat()


class WebhookPager:
    """A generic paging webhook with the same three calls.

    ``style="json"`` posts ``{event_action, dedup_key, summary, severity,
    source, custom_details, timestamp}`` (Opsgenie/Alertmanager-style
    receivers, an ops agent); ``style="slack"`` posts ``{"text": ...}`` to a
    Slack/Mattermost incoming webhook. Any 2xx is success.
    """

    def __init__(self, url, style="json", timeout=10.0, session=None, headers=None):
        if style not in ("json", "slack"):
            raise ValueError("style is 'json' or 'slack'")
        if not url:
            raise ValueError("a webhook pager needs a URL")
        self.url, self.style, self.timeout, self.session = url, style, timeout, session
        self.headers = dict(headers or {})

    def __repr__(self):
        return f"WebhookPager(style={self.style!r})"

    def _send(self, event, text):
        path = urlsplit(self.url).path
        segments = [part for part in path.split("/") if len(part) >= 8] if self.style == "slack" else []
        secrets = [*probes.url_secrets(self.url), *segments, path]
        secrets += [str(v) for v in self.headers.values()]
        secrets = [s for s in secrets if len(s) >= 6]
        body = {"text": text} if self.style == "slack" else event
        try:
            status, data, answer, headers = _post(self.session, self.url, body, self.timeout, secrets, self.headers)
        except probes.FetchError as exc:
            return PageResult(False, None, _safe(f"webhook unreachable: {exc}", secrets), True, event["dedup_key"])
        return _result(status, data, answer, headers, secrets, event["dedup_key"], any_2xx=True)

    def trigger(self, dedup_key, summary, severity, source, custom_details=None, *, timestamp=None):
        summary_text = " ".join(_safe_text(summary).split())[:SUMMARY_MAX]
        event = {
            "event_action": "trigger",
            "dedup_key": _key(dedup_key),
            "summary": summary_text,
            "severity": pd_severity(severity),
            "source": _safe_text(source)[:255],
            "timestamp": _iso(timestamp or datetime.now(timezone.utc)),
            "custom_details": json.loads(json.dumps(custom_details or {}, default=str)),
        }
        text = f"[{event['severity'].upper()}] {summary_text} ({event['source']})"
        return self._send(event, text)

    def acknowledge(self, dedup_key):
        key = _key(dedup_key)
        return self._send({"event_action": "acknowledge", "dedup_key": key}, f"Acknowledged: {key}")

    def resolve(self, dedup_key):
        key = _key(dedup_key)
        return self._send({"event_action": "resolve", "dedup_key": key}, f"Resolved: {key}")
