"""The webhook gate: decide, from headers and raw body, whether a delivery is let in.

The gate is pure: it is handed a ``secrets_for(full_name, organization)``
callable that returns the candidate ``(key, secret)`` pairs of the
repositories the payload names, and answers with a :class:`Rejected` (status
code and reason, nothing to store) or an :class:`Accepted` (what to store).
Duplicate detection needs the database, so it stays with the caller.

Status codes (documented in docs/webhook.md):

=====  ==============================================================
413    body over ``MAX_BODY`` bytes (25 MiB, GitHub's own cap)
400    missing ``X-GitHub-Event``/``X-GitHub-Delivery``, body not
       UTF-8 JSON (or a form without ``payload``), not a JSON object,
       malformed routing fields, no repository or organization
401    missing ``X-Hub-Signature-256``, or it does not verify with the
       secret of the repository named in the payload
404    repository (or organization) not configured
202    accepted: stored, processed later by a cron (``ignored`` state
       for events that are not handled)
200    ``ping`` (hook verified) or a redelivery already stored
=====  ==============================================================
"""

import json
import re
from dataclasses import dataclass
from urllib.parse import parse_qs

from ..github import events, signature

MAX_BODY = 25 * 1024 * 1024

_GUID_RE = re.compile(r"^[A-Za-z0-9-]{1,64}$")
_EVENT_RE = re.compile(r"^[a-z0-9_]{1,64}$")


@dataclass(frozen=True)
class Rejected:
    status: int
    reason: str


@dataclass(frozen=True)
class Accepted:
    guid: str
    event: str
    action: str
    envelope: events.Envelope
    payload_text: str
    #: keys (as given by ``secrets_for``) whose secret verified the signature
    matches: tuple
    hook_id: int = 0

    @property
    def handled(self):
        return self.event in events.HANDLED_EVENTS


def _header(headers, name):
    value = headers.get(name)
    if value is None:
        value = headers.get(name.lower())
    return value.strip() if isinstance(value, str) else ""


def decode_body(body, content_type):
    """Return ``(payload_text, payload)`` or raise ``ValueError`` with a reason."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("body is not UTF-8") from None
    mimetype = (content_type or "").split(";")[0].strip().lower()
    if mimetype == "application/x-www-form-urlencoded":
        values = parse_qs(text, keep_blank_values=True).get("payload")
        if not values:
            raise ValueError("form body without a 'payload' field")
        text = values[0]
    try:
        payload = json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    except ValueError as exc:
        raise ValueError(f"malformed JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise ValueError(f"payload is a JSON {type(payload).__name__}, expected an object")
    return text, payload


def evaluate(headers, body, content_type, secrets_for):
    """Apply the gate's checks in order; see the module docstring for the codes."""
    if len(body) > MAX_BODY:
        return Rejected(413, f"body larger than {MAX_BODY} bytes")
    event = _header(headers, "X-GitHub-Event")
    guid = _header(headers, "X-GitHub-Delivery")
    if not event or not _EVENT_RE.match(event):
        return Rejected(400, "missing or invalid X-GitHub-Event header")
    if not guid or not _GUID_RE.match(guid):
        return Rejected(400, "missing or invalid X-GitHub-Delivery header")
    header_signature = _header(headers, "X-Hub-Signature-256")
    if not header_signature:
        return Rejected(401, "missing X-Hub-Signature-256 header (set a secret on the hook)")
    try:
        payload_text, payload = decode_body(body, content_type)
        envelope = events.parse_envelope(event, payload)
        if event == "ping":
            events.parse_ping(payload)  # a ping is recorded at once, not by the cron: check it here
    except ValueError as exc:  # PayloadError is a ValueError
        return Rejected(400, str(exc))
    if envelope.repository is None and not envelope.organization:
        return Rejected(400, "payload names neither a repository nor an organization")
    full_name = envelope.repository.full_name if envelope.repository else ""
    candidates = secrets_for(full_name, envelope.organization)
    if not candidates:
        return Rejected(404, f"repository {full_name or envelope.organization!r} is not configured")
    if not any(secret for _key, secret in candidates):
        return Rejected(401, "no webhook secret is configured in Odoo for this repository")
    matches = tuple(key for key, secret in candidates if signature.verify(secret, body, header_signature))
    if not matches:
        return Rejected(401, "signature does not match the repository's webhook secret")
    hook_header = _header(headers, "X-GitHub-Hook-ID")
    return Accepted(
        guid=guid,
        event=event,
        action=envelope.action,
        envelope=envelope,
        payload_text=payload_text,
        matches=matches,
        hook_id=int(hook_header) if hook_header.isascii() and hook_header.isdigit() and len(hook_header) < 19 else 0,
    )
