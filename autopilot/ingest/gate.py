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

Every :class:`Rejected` also carries a stable ``code`` (one of
:data:`REFUSAL_CODES`) and the repositories the request *claims* to be
for, so that a refusal can be shown on the repository it names. That claim
is read from an unauthenticated body: it says where to show the refusal,
never that the repository sent it.
"""

import json
import re
from dataclasses import dataclass
from urllib.parse import parse_qs

from ..github import events, signature

MAX_BODY = 25 * 1024 * 1024

_GUID_RE = re.compile(r"^[A-Za-z0-9-]{1,64}$")
_EVENT_RE = re.compile(r"^[a-z0-9_]{1,64}$")
_JSON_TYPES = ("application/json", "application/x-www-form-urlencoded")
#: repositories a refusal is shown on at most (an organization-wide claim names every repository of the owner)
MAX_CLAIMED = 10

#: why a delivery was refused, in the order the gate checks
TOO_LARGE = "too_large"
BAD_EVENT = "bad_event"
BAD_GUID = "bad_guid"
NO_SIGNATURE = "no_signature"
CONTENT_TYPE = "content_type"
MALFORMED = "malformed"
UNKNOWN_REPOSITORY = "unknown_repository"
NO_SECRET = "no_secret"
BAD_SIGNATURE = "bad_signature"
REFUSAL_CODES = (
    TOO_LARGE,
    BAD_EVENT,
    BAD_GUID,
    NO_SIGNATURE,
    CONTENT_TYPE,
    MALFORMED,
    UNKNOWN_REPOSITORY,
    NO_SECRET,
    BAD_SIGNATURE,
)


@dataclass(frozen=True)
class Rejected:
    status: int
    reason: str
    #: one of :data:`REFUSAL_CODES`
    code: str = MALFORMED
    #: keys (as given by ``secrets_for``) of the repositories the unauthenticated payload names, at most MAX_CLAIMED
    claimed: tuple = ()
    #: the owner/name (or organization) the payload names, when no configured repository has it
    claimed_name: str = ""


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


def _undecodable(content_type):
    """The refusal code of a body that does not decode: its content type's fault when GitHub never sends that type."""
    mimetype = (content_type or "").split(";")[0].strip().lower()
    return MALFORMED if mimetype in _JSON_TYPES else CONTENT_TYPE


def claim(body, content_type, secrets_for):
    """``(keys, name)``: the configured repositories an unauthenticated body names, or the name it gives.

    Only to show a refusal where its owner looks; never a proof of origin.
    ``((), "")`` when the body names nothing readable.
    """
    try:
        envelope = events.parse_envelope("", decode_body(body, content_type)[1])
    except ValueError:
        return (), ""
    if envelope.repository is None and not envelope.organization:
        return (), ""
    _candidates, claimed, claimed_name = _configured(envelope, secrets_for)
    return claimed, claimed_name


def _configured(envelope, secrets_for):
    """``(candidates, claimed, claimed_name)`` of the repository or organization an envelope names.

    ``candidates`` are the configured ``(key, secret)`` pairs; ``claimed`` their
    keys (at most MAX_CLAIMED); ``claimed_name`` the name given, cut to 100
    characters, when nothing configured has it.
    """
    full_name = envelope.repository.full_name if envelope.repository else ""
    candidates = secrets_for(full_name, envelope.organization)
    if not candidates:
        return candidates, (), (full_name or envelope.organization)[:100]
    return candidates, tuple(key for key, _secret in candidates[:MAX_CLAIMED]), ""


def evaluate(headers, body, content_type, secrets_for):
    """Apply the gate's checks in order; see the module docstring for the codes.

    A refusal decided before the body is read (headers) still says which
    repository the body names, when it names one: a hook without a secret
    is the most common set-up mistake, and its owner looks for it there.
    """
    verdict = _evaluate(headers, body, content_type, secrets_for)
    if isinstance(verdict, Rejected) and verdict.code in (BAD_EVENT, BAD_GUID, NO_SIGNATURE):
        claimed, claimed_name = claim(body, content_type, secrets_for)
        verdict = Rejected(verdict.status, verdict.reason, verdict.code, claimed, claimed_name)
    return verdict


def _evaluate(headers, body, content_type, secrets_for):
    if len(body) > MAX_BODY:
        return Rejected(413, f"body larger than {MAX_BODY} bytes", TOO_LARGE)
    event = _header(headers, "X-GitHub-Event")
    guid = _header(headers, "X-GitHub-Delivery")
    if not event or not _EVENT_RE.match(event):
        return Rejected(400, "missing or invalid X-GitHub-Event header", BAD_EVENT)
    if not guid or not _GUID_RE.match(guid):
        return Rejected(400, "missing or invalid X-GitHub-Delivery header", BAD_GUID)
    header_signature = _header(headers, "X-Hub-Signature-256")
    if not header_signature:
        return Rejected(401, "missing X-Hub-Signature-256 header (set a secret on the hook)", NO_SIGNATURE)
    try:
        payload_text, payload = decode_body(body, content_type)
    except ValueError as exc:
        return Rejected(400, str(exc), _undecodable(content_type))
    try:
        envelope = events.parse_envelope(event, payload)
        if event == "ping":
            events.parse_ping(payload)  # a ping is recorded at once, not by the cron: check it here
    except ValueError as exc:  # PayloadError is a ValueError
        return Rejected(400, str(exc), MALFORMED)
    if envelope.repository is None and not envelope.organization:
        return Rejected(400, "payload names neither a repository nor an organization", MALFORMED)
    candidates, claimed, claimed_name = _configured(envelope, secrets_for)
    if not candidates:
        name = (envelope.repository.full_name if envelope.repository else "") or envelope.organization
        return Rejected(404, f"repository {name!r} is not configured", UNKNOWN_REPOSITORY, (), claimed_name)
    if not any(secret for _key, secret in candidates):
        return Rejected(401, "no webhook secret is configured in Odoo for this repository", NO_SECRET, claimed)
    matches = tuple(key for key, secret in candidates if signature.verify(secret, body, header_signature))
    if not matches:
        return Rejected(401, "signature does not match the repository's webhook secret", BAD_SIGNATURE, claimed)
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
