"""Typed trouble for the scan engine, and the small JSON client the scans share.

Decides what a failed outside call *means* for a scan run: the service is
unreachable or broken (:class:`ServiceUnavailable`, retry later), it asks us
to slow down (:class:`RateLimited`, retry after ``retry_after`` seconds), it
answered something that is not what its protocol documents
(:class:`BadAnswer`), the thing asked for does not exist (:class:`NotFound`),
or the answer is bigger than we accept (:class:`TooLarge`). Every scan
function raises only :class:`ScanError` subclasses, so a cron records
``str(error)`` on the run, marks it failed (or partial, when the error carries
``partial`` results) and schedules the next try; no half result is returned
silently.

:class:`JsonClient` is the one place that talks ``requests`` to the package
indexes and OSV: explicit timeouts, bounded body size, retries of transient
failures through :class:`~.backoff.BackoffPolicy`, ``Retry-After`` honoured
only up to ``max_rate_wait`` (a cron never sleeps for minutes).
:func:`from_github` maps PyGithub / requests failures onto the same types.
"""

import json
import re
import time
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import quote

import requests
from github import GithubException

from .backoff import BackoffPolicy
from .secrets_mask import mask_secrets

DEFAULT_TIMEOUT = 15
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
USER_AGENT = "ops-autopilot-scans/1.0"
#: a short in-call retry only: the cron retries later anyway
DEFAULT_POLICY = BackoffPolicy(initial=0.5, base=2.0, max_delay=5.0, jitter=0.2, max_attempts=2)


class ScanError(Exception):
    """A scan step failed; ``str(error)`` is a secret-free reason to record on the run."""

    #: a short kind for the run's state field
    kind = "error"

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


class ServiceUnavailable(ScanError):
    kind = "unavailable"


class RateLimited(ScanError):
    kind = "rate_limited"


class BadAnswer(ScanError):
    kind = "bad_answer"


class NotFound(ScanError):
    kind = "not_found"


class Rejected(ScanError):
    """The service refused the request (4xx other than 404/429/rate limits)."""

    kind = "rejected"


class TooLarge(ScanError):
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


def from_github(exc, what="GitHub"):
    """Map a PyGithub / requests failure to a :class:`ScanError` (messages never carry the token)."""
    if isinstance(exc, ScanError):
        return exc
    if isinstance(exc, GithubException):
        message = ""
        if isinstance(exc.data, dict):
            # the server's own words: mask anything credential-shaped a proxy or server may echo back
            message = mask_secrets(str(exc.data.get("message") or ""))[0][:200]
        return classify_status(what, exc.status, exc.headers or {}, message)
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return classify_status(what, exc.response.status_code, exc.response.headers)
    if isinstance(exc, requests.exceptions.RetryError):
        # urllib3 keeps only "too many 403 error responses": the status, not the headers
        match = re.search(r"too many (\d{3}) error responses", str(exc))
        status = int(match.group(1)) if match else None
        if status in (403, 429):
            return RateLimited(what, f"rate limited, answered {status} until retries ran out", status=status)
        detail = f", last answer {status}" if status else ""
        return ServiceUnavailable(what, f"still failing after retries{detail}", status=status)
    if isinstance(exc, requests.Timeout):
        return ServiceUnavailable(what, "timed out")
    if isinstance(exc, (requests.RequestException, OSError)):
        return ServiceUnavailable(what, f"unreachable ({type(exc).__name__})")
    if isinstance(exc, (ValueError, KeyError, TypeError, AttributeError)):
        return BadAnswer(what, f"unexpected answer ({type(exc).__name__})")
    raise exc


def github_call(what, function, *args, **kwargs):
    """Run one PyGithub call and translate its failures into :class:`ScanError`."""
    try:
        return function(*args, **kwargs)
    except ScanError:
        raise
    except (GithubException, requests.RequestException, OSError) as exc:
        raise from_github(exc, what) from None


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


def quote_segment(value):
    """A URL path segment (package names may hold ``@`` and ``/``)."""
    return quote(str(value), safe="@")


class JsonClient:
    """GET/POST JSON against one base URL with timeouts, size cap, bounded retries and typed errors."""

    def __init__(
        self,
        service,
        base_url,
        timeout=DEFAULT_TIMEOUT,
        session=None,
        policy=DEFAULT_POLICY,
        sleep=time.sleep,
        max_rate_wait=0.0,
        max_bytes=DEFAULT_MAX_BYTES,
        headers=None,
    ):
        if not base_url:
            raise ValueError(f"{service} needs a base URL")
        self.service = service
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = session or requests.Session()
        self.policy = policy
        self.sleep = sleep
        self.max_rate_wait = max_rate_wait
        self.max_bytes = max_bytes
        self.headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})}

    def get(self, path, params=None):
        return self.request("GET", path, params=params)

    def post(self, path, payload):
        return self.request("POST", path, payload=payload)

    def request(self, method, path, params=None, payload=None):
        """The decoded JSON answer; retries transient failures, then raises a :class:`ScanError`."""
        attempt = 0
        while True:
            try:
                return self._once(method, path, params, payload)
            except (ServiceUnavailable, RateLimited) as error:
                wait = self._wait_before_retry(error, attempt)
                if wait is None:
                    raise
                attempt += 1
                self.sleep(wait)

    def _wait_before_retry(self, error, attempt):
        if not self.policy or not self.policy.can_retry(attempt):
            return None
        if isinstance(error, RateLimited):
            if error.retry_after is None or error.retry_after > self.max_rate_wait:
                return None
            return error.retry_after
        return self.policy.delay(attempt + 1)

    def _once(self, method, path, params, payload):
        url = f"{self.base_url}/{path.lstrip('/')}"
        try:
            response = self.session.request(
                method,
                url,
                params=params,
                json=payload,
                headers=self.headers,
                timeout=self.timeout,
                stream=True,
                allow_redirects=True,
            )
        except requests.Timeout:
            raise ServiceUnavailable(self.service, "timed out") from None
        except requests.RequestException as exc:
            raise ServiceUnavailable(self.service, f"unreachable ({type(exc).__name__})") from None
        with response:
            if response.status_code >= 400:
                raise classify_status(self.service, response.status_code, response.headers)
            try:
                body = read_capped(response.iter_content(65536), self.max_bytes, self.service)
            except requests.RequestException as exc:
                raise ServiceUnavailable(self.service, f"answer cut off ({type(exc).__name__})") from None
        try:
            return json.loads(body)
        except (UnicodeDecodeError, ValueError):
            raise BadAnswer(self.service, f"answered {response.status_code} with a body that is not JSON") from None
