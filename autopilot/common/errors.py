"""The error vocabulary of every call the engine makes to an outside service.

Decides what a failed call *means*: the service is unreachable or broken
(:class:`ServiceUnavailable`, retry later), it asks us to slow down
(:class:`RateLimited`, retry after ``retry_after`` seconds), it answered
something that is not what its protocol documents (:class:`BadAnswer`), the
thing asked for does not exist (:class:`NotFound`), it refused the request
(:class:`Rejected`), or the answer is bigger than we accept
(:class:`TooLarge`). Engine functions that call out raise only
:class:`ServiceError` subclasses, so a cron records ``str(error)`` on its
record, marks it failed (or partial, when the error carries ``partial``
results) and schedules the next try; no half result is returned silently.
"""

from datetime import datetime, timezone
from email.utils import parsedate_to_datetime


class ServiceError(Exception):
    """A call to an outside service failed; ``str(error)`` is a secret-free reason to record on the run."""

    #: a short kind for the run's state field
    kind = "error"
    #: for a refusal: the alternative sets of permissions the service said it would accept (GitHub's
    #: ``X-Accepted-GitHub-Permissions``), e.g. ``(("actions=write",),)``; empty when it named none
    permissions = ()

    def __init__(self, service, reason, status=None, retry_after=None, partial=None):
        super().__init__(f"{service}: {reason}"[:500])
        self.service = service
        self.reason = reason
        self.status = status
        self.retry_after = retry_after
        #: results gathered before the failure (the caller may record them as partial)
        self.partial = partial

    def with_partial(self, partial):
        """The same error carrying what was gathered before it happened."""
        self.partial = partial
        return self


class ServiceUnavailable(ServiceError):
    kind = "unavailable"


class RateLimited(ServiceError):
    kind = "rate_limited"


class BadAnswer(ServiceError):
    kind = "bad_answer"


class NotFound(ServiceError):
    kind = "not_found"


class Rejected(ServiceError):
    """The service refused the request (4xx other than 404/429/rate limits)."""

    kind = "rejected"


class TooLarge(ServiceError):
    kind = "too_large"


def retry_after_seconds(headers, now=None):
    """Seconds to wait from ``Retry-After`` (seconds or HTTP date) or ``X-RateLimit-Reset``; None if absent."""
    headers = {str(k).lower(): v for k, v in (headers or {}).items()}
    now = now or datetime.now(timezone.utc)
    value = str(headers.get("retry-after") or "").strip()
    if value:
        if value.isdigit():
            return float(value)
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            moment = None
        if moment is not None:
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=timezone.utc)
            return max(0.0, (moment - now).total_seconds())
    reset = str(headers.get("x-ratelimit-reset") or "").strip()
    if reset.isdigit() and str(headers.get("x-ratelimit-remaining", "")).strip() == "0":
        return max(0.0, int(reset) - now.timestamp())
    return None


def _is_rate_limit(status, headers):
    if status == 429:
        return True
    if status != 403:
        return False
    lowered = {str(k).lower(): v for k, v in (headers or {}).items()}
    return "retry-after" in lowered or str(lowered.get("x-ratelimit-remaining", "")).strip() == "0"


def classify_status(service, status, headers, detail=""):
    """The error an HTTP error status stands for."""
    detail = f" ({detail})" if detail else ""
    if _is_rate_limit(status, headers):
        wait = retry_after_seconds(headers)
        return RateLimited(service, f"rate limited, answered {status}{detail}", status=status, retry_after=wait)
    if status == 404:
        return NotFound(service, f"not found{detail}", status=status)
    if status >= 500:
        return ServiceUnavailable(service, f"answered {status}{detail}", status=status)
    return Rejected(service, f"answered {status}{detail}", status=status)


def read_capped(chunks, max_bytes, service, what="answer"):
    """Join a stream of byte chunks, failing with :class:`TooLarge` past ``max_bytes``."""
    buffer = bytearray()
    for chunk in chunks:
        if not chunk:
            continue
        buffer.extend(chunk)
        if len(buffer) > max_bytes:
            raise TooLarge(service, f"{what} larger than {max_bytes} bytes")
    return bytes(buffer)
