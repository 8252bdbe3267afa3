"""The small JSON-over-HTTP client of the package indexes and OSV.

:class:`JsonClient` is the one place that talks ``requests`` to them:
explicit timeouts, bounded body size, retries of transient failures through
:class:`~.backoff.BackoffPolicy`, ``Retry-After`` honoured only up to
``max_rate_wait`` (a cron never sleeps for minutes), failures raised as
:mod:`.errors` types.
"""

import json
import time
from urllib.parse import quote

import requests

from .backoff import BackoffPolicy
from .errors import BadAnswer, RateLimited, ServiceUnavailable, classify_status, read_capped

DEFAULT_TIMEOUT = 15
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
USER_AGENT = "ops-autopilot-scans/1.0"
#: a short in-call retry only: the cron retries later anyway
DEFAULT_POLICY = BackoffPolicy(initial=0.5, base=2.0, max_delay=5.0, jitter=0.2, max_attempts=2)


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
        """The decoded JSON answer; retries transient failures, then raises a :class:`ServiceError`."""
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
