"""HTTP health probes with a hard deadline, a capped body read and secret-free errors.

:func:`probe` checks one target and returns a :class:`Sample`;
:func:`probe_many` checks many at once on a bounded thread pool.

Guarantees a monitoring cron can rely on:

* **Total deadline.** ``ProbeSpec.timeout`` bounds the whole check: connect,
  TLS, waiting for the answer, redirects and reading the body. Socket
  timeouts alone only bound each ``recv``; a server trickling one byte a
  second would keep a plain ``requests`` call alive forever. Sessions made
  by :func:`new_session` (the default of :func:`probe` and
  :func:`probe_many`) carry a :class:`DeadlineAdapter`: a watchdog thread
  shuts the socket down when the deadline passes, whatever phase the
  request is in. With a caller's own session the connection is watched
  from the moment the answer's headers arrive (before that, the remaining
  time is the socket timeout of each read).
* **Bounded memory.** The body is streamed and at most
  ``ProbeSpec.max_body_bytes`` are kept (``Accept-Encoding: identity`` is
  asked for); the rest is never read. Redirects (at most
  :data:`MAX_REDIRECTS`) are followed by hand so no intermediate body is
  ever read whole.
* **Clear errors, no secrets.** Connection refused, reset, DNS and TLS
  failures, timeouts and bad answers become a short sentence; user info and
  token-like query parameters of the URL never appear in it
  (:func:`redact_url`, :func:`~..common.masking.mask_secrets`).

``Sample.response_ms`` is the time from the start of the check to the end
of the (capped) body read, so a slow body counts as a slow answer. With a
:func:`new_session` session every check (and every redirect hop) opens its
own connection: the time always includes connecting, and a kept-alive
socket the server closed meanwhile never fails a check.
``Sample.checked_at`` is when the check started, naive UTC like Odoo's
``Datetime`` fields. A metrics URL (:mod:`.host_metrics`) is fetched after
the main check with its own deadline of ``timeout`` seconds, so a probe with
a metrics URL takes at most ``2 * timeout``. It gives CPU and memory (JSON,
node_exporter) and the service's own error ratio and p95 latency (its
request counters and histogram, as rates between two scrapes). A failed
scrape fails the check: ``up`` is False and ``error`` says why
(``"metrics: ..."``); the figures stay ``None``, never a silent 0.
"""

import contextlib
import heapq
import http.client
import itertools
import logging
import os
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Hashable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from ..common.masking import mask_secrets
from . import host_metrics

_logger = logging.getLogger(__name__)

USER_AGENT = "ops-autopilot-probe/1.0"
MAX_REDIRECTS = 5
CHUNK_BYTES = 16 * 1024
MAX_ERROR_CHARS = 300
_REDIRECTS = (301, 302, 303, 307, 308)
_SENSITIVE_PARAM = re.compile(
    r"(?i)(token|key|secret|pass|pwd|auth|sig|signature|session|sid|code|credential|jwt|bearer|hash)"
)


def utcnow():
    """Now as naive UTC (Odoo's ``Datetime`` convention)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


# ---------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ProbeSpec:
    """What to check and what counts as healthy.

    ``expected_statuses`` empty means "any status below 400".
    ``expected_text`` is searched (case-sensitive) in the first
    ``max_body_bytes`` of the body. ``timeout`` is the total deadline in
    seconds. ``follow_redirects`` follows at most :data:`MAX_REDIRECTS` hops.
    """

    url: str
    method: str = "GET"
    expected_statuses: tuple = (200,)
    expected_text: str | None = None
    timeout: float = 10.0
    max_body_bytes: int = 1_048_576
    metrics_url: str | None = None
    headers: Mapping[str, str] | None = None
    follow_redirects: bool = True

    def __post_init__(self):
        if not isinstance(self.url, str) or not self.url.strip():
            raise ValueError("a probe needs a URL")
        if not self.timeout or self.timeout <= 0:
            raise ValueError("a probe timeout must be positive")
        if self.max_body_bytes < 0:
            raise ValueError("max_body_bytes cannot be negative")
        statuses = self.expected_statuses
        if isinstance(statuses, str):
            statuses = parse_statuses(statuses)
        object.__setattr__(self, "expected_statuses", tuple(int(s) for s in statuses or ()))
        object.__setattr__(self, "method", (self.method or "GET").upper())
        object.__setattr__(self, "url", self.url.strip())

    def accepts(self, status_code):
        if not self.expected_statuses:
            return status_code < 400
        return status_code in self.expected_statuses


@dataclass(frozen=True)
class Sample:
    """One check of one target (what ``ops.health.sample`` stores)."""

    up: bool
    status_code: int | None = None
    response_ms: float | None = None
    error: str | None = None
    cpu_percent: float | None = None
    memory_percent: float | None = None
    checked_at: datetime = field(default_factory=utcnow)
    #: share of the service's own requests that failed (percent), from its metrics
    error_ratio: float | None = None
    #: the service's own 95th percentile latency (ms), from its metrics
    p95_ms: float | None = None


def parse_statuses(text):
    """``"200, 204, 300-399"`` -> ``(200, 204, 300, ..., 399)``; raises ValueError on anything else."""
    statuses = []
    for part in re.split(r"[,\s]+", str(text or "").strip()):
        if not part:
            continue
        low, sep, high = part.partition("-")
        try:
            first, last = int(low), int(high if sep else low)
        except ValueError:
            raise ValueError(f"not a status code or range: {part!r}") from None
        if not 100 <= first <= last <= 599:
            raise ValueError(f"status codes are between 100 and 599: {part!r}")
        statuses.extend(range(first, last + 1))
    return tuple(dict.fromkeys(statuses))


def redact_url(url):
    """``url`` without user info, fragment, or the values of token-like query parameters."""
    try:
        parts = urlsplit(str(url))
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<invalid URL>"
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port else host
    query = urlencode(
        [
            (name, "REDACTED" if _SENSITIVE_PARAM.search(name) else value)
            for name, value in parse_qsl(parts.query, keep_blank_values=True)
        ]
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def url_secrets(*urls):
    """Strings of ``urls`` that must never be shown: passwords, user names, sensitive query values."""
    secrets = []
    for url in urls:
        if not url:
            continue
        try:
            parts = urlsplit(str(url))
        except ValueError:
            continue
        secrets.extend(s for s in (parts.username, parts.password) if s)
        secrets.extend(v for k, v in parse_qsl(parts.query, keep_blank_values=True) if v and _SENSITIVE_PARAM.search(k))
        secrets.append(str(url))
    return secrets


def scrub(text, *urls, known=()):
    """``text`` made safe to store: raw URLs redacted, their secrets and ``known`` values masked, capped."""
    if not text:
        return text
    for url in urls:
        if url:
            text = text.replace(str(url), redact_url(url))
    text, _count = mask_secrets(text, known=[*url_secrets(*urls), *known])
    return text[:MAX_ERROR_CHARS]


# ---------------------------------------------------------------------------
# the deadline watchdog
# ---------------------------------------------------------------------------
class _Scope:
    """One deadline and the connections used under it (one per thread at a time)."""

    def __init__(self, deadline):
        self.deadline = deadline
        self.expired = False
        self.done = False
        self._conns = []
        self._lock = threading.Lock()

    def watch(self, conn):
        if conn is None:
            return
        with self._lock:
            if not self.done:
                self._conns.append(conn)
        if self.expired:
            _shutdown(conn)

    def expire(self):
        # under the lock: once close() has returned, no socket is shut down any more. A connection
        # object outlives its socket (urllib3 pools it and reconnects it for the next check), so a
        # shutdown running late would cut whatever socket the object holds by then: another check's.
        with self._lock:
            if self.done:
                return
            self.expired = True
            for conn in self._conns:
                _shutdown(conn)

    def drop_connections(self):
        """Close the sockets used so far under this scope (see :meth:`_Deadline.__exit__`)."""
        with self._lock:
            conns, self._conns = self._conns, []
        for conn in {id(c): c for c in conns}.values():
            with contextlib.suppress(Exception):
                conn.close()

    def close(self):
        with self._lock:
            self.done = True


def _shutdown(conn):
    sock = getattr(conn, "sock", None)
    if sock is None:
        return
    # the plain socket call: SSLSocket.shutdown would drop its SSL object under the reading thread;
    # an already closed socket needs nothing more
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _Watchdog:
    """A single daemon thread expiring scopes at their deadline (restarted after a fork)."""

    def __init__(self):
        self._reset()

    def _reset(self):
        self._pid = os.getpid()
        self._cond = threading.Condition()
        self._heap = []
        self._seq = itertools.count()
        self._thread = None

    def arm(self, scope):
        if self._pid != os.getpid():
            self._reset()
        with self._cond:
            heapq.heappush(self._heap, (scope.deadline, next(self._seq), scope))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="probe-deadlines", daemon=True)
                self._thread.start()
            self._cond.notify()

    def _run(self):
        while True:
            with self._cond:
                while self._heap and self._heap[0][2].done:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait(30)
                    if not self._heap:
                        self._thread = None
                        return
                    continue
                wait = self._heap[0][0] - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                scope = heapq.heappop(self._heap)[2]
            scope.expire()


_WATCHDOG = _Watchdog()
_local = threading.local()


class _WatchedMixin:
    """Connections that register with the current thread's deadline scope before any I/O."""

    def _watch(self):
        scope = getattr(_local, "scope", None)
        if scope is not None:
            scope.watch(self)

    def connect(self):
        self._watch()
        return super().connect()

    def request(self, *args, **kwargs):
        self._watch()
        return super().request(*args, **kwargs)


class _WatchedHTTPConnection(_WatchedMixin, urllib3.connection.HTTPConnection):
    pass


class _WatchedHTTPSConnection(_WatchedMixin, urllib3.connection.HTTPSConnection):
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class DeadlineAdapter(HTTPAdapter):
    """A requests adapter whose connections the probe watchdog can cut at the deadline."""

    def init_poolmanager(self, *args, **kwargs):
        result = super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}
        return result


def new_session(pool_size=10):
    """A ``requests.Session`` with :class:`DeadlineAdapter` mounted for http and https."""
    session = requests.Session()
    adapter = DeadlineAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session


class _Deadline:
    """Context manager: arm the watchdog for ``seconds`` on this thread."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.scope = _Scope(time.monotonic() + seconds)
        self._previous = None

    def remaining(self):
        return self.scope.deadline - time.monotonic()

    def passed(self):
        return self.scope.expired or self.remaining() <= 0

    def __enter__(self):
        self._previous = getattr(_local, "scope", None)
        _local.scope = self.scope
        _WATCHDOG.arm(self.scope)
        return self

    def __exit__(self, *exc):
        _local.scope = self._previous
        self.scope.close()
        # urllib3 pools a connection as soon as its body is read (at once for an empty body): closing
        # the sockets means the pool can only reconnect, so every check opens its own connection
        self.scope.drop_connections()


# ---------------------------------------------------------------------------
# one HTTP exchange
# ---------------------------------------------------------------------------
class FetchError(Exception):
    """A request that produced no usable answer; ``str()`` is short and secret-free."""


@dataclass(frozen=True)
class Fetched:
    status_code: int
    body: bytes
    content_type: str | None
    encoding: str | None
    truncated: bool
    elapsed_ms: float
    headers: Mapping[str, str] = field(default_factory=dict)


def _fmt_seconds(seconds):
    return f"{seconds:g}s"


def _exception_chain(exc):
    seen, stack = set(), [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        stack.extend((current.__cause__, current.__context__))
        stack.extend(arg for arg in getattr(current, "args", ()) if isinstance(arg, BaseException))
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            stack.append(reason)


def _tls_reason(error):
    reason = getattr(error, "verify_message", None) or getattr(error, "reason", None)
    if not reason or not isinstance(reason, str):
        return "handshake failed"
    return reason.replace("_", " ").lower()


def describe_exception(exc, url=None, timeout=None):
    """A short, secret-free sentence for a failed request (connection refused, DNS, TLS, timeouts...)."""
    chain = list(_exception_chain(exc))

    def has(*types):
        return next((e for e in chain if isinstance(e, types)), None)

    host = None
    if url:
        try:
            host = urlsplit(str(url)).hostname
        except ValueError:
            host = None
    waited = f" after {_fmt_seconds(timeout)}" if timeout else ""
    if has(requests.exceptions.InvalidURL, requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema):
        return "invalid URL"
    if has(urllib3.exceptions.LocationParseError, requests.exceptions.InvalidHeader):
        return "invalid URL or header"
    tls = has(ssl.SSLError, requests.exceptions.SSLError)
    if tls:
        inner = has(ssl.SSLError) or tls
        return f"TLS error: {_tls_reason(inner)}"
    if has(socket.gaierror):
        return f"DNS lookup failed for {host}" if host else "DNS lookup failed"
    if has(ConnectionRefusedError):
        return "connection refused"
    if has(ConnectionResetError):
        return "connection reset by peer"
    if has(requests.exceptions.ConnectTimeout, urllib3.exceptions.ConnectTimeoutError):
        return f"connection timed out{waited}"
    if has(requests.exceptions.ReadTimeout, urllib3.exceptions.ReadTimeoutError, socket.timeout):
        return f"no answer{waited}"
    if has(http.client.RemoteDisconnected):
        return "connection closed without an answer"
    if has(requests.exceptions.TooManyRedirects):
        return "too many redirects"
    if has(requests.exceptions.ContentDecodingError):
        return "could not decode the answer (content encoding)"
    if has(
        requests.exceptions.ChunkedEncodingError,
        urllib3.exceptions.ProtocolError,
        http.client.IncompleteRead,
        BrokenPipeError,
    ):
        return "connection broken while reading the answer"
    os_error = next((e for e in chain if isinstance(e, OSError) and not isinstance(e, requests.RequestException)), None)
    if os_error is not None:
        name = os.strerror(os_error.errno).lower() if getattr(os_error, "errno", None) else type(os_error).__name__
        return f"connection failed: {name}"
    return f"request failed: {type(exc).__name__}"


def _read_capped(response, max_bytes, deadline):
    """Up to ``max_bytes`` of the body; the rest is left unread. Returns (bytes, truncated)."""
    buffer = bytearray()
    if max_bytes == 0:
        return b"", True
    for chunk in response.iter_content(chunk_size=CHUNK_BYTES):
        if chunk:
            room = max_bytes - len(buffer)
            buffer.extend(chunk[:room])
            if len(chunk) >= room:
                return bytes(buffer), True
        if deadline.passed():
            raise TimeoutError("deadline")
    return bytes(buffer), False


def _discard(response, connection):
    """Close the answer and its connection (see :meth:`_Deadline.__exit__`)."""
    response.close()
    if connection is not None:
        with contextlib.suppress(Exception):
            connection.close()


def _same_origin(first, second):
    try:
        a, b = urlsplit(first), urlsplit(second)
        return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)
    except ValueError:
        return False


def fetch(
    session,
    method,
    url,
    *,
    timeout,
    max_bytes,
    headers=None,
    json_body=None,
    follow_redirects=True,
    known_secrets=(),
):
    """One request under a total deadline of ``timeout`` seconds, body capped at ``max_bytes``.

    Returns :class:`Fetched`; raises :class:`FetchError` with a short,
    secret-free message. Redirects are followed by hand (no redirect body is
    read); credentials are dropped when a redirect leaves the origin.
    """
    session = session if session is not None else _default_session()
    request_headers = {"Accept-Encoding": "identity", "User-Agent": USER_AGENT}
    request_headers.update(headers or {})
    secrets = [*known_secrets, *(str(v) for v in (headers or {}).values() if v and len(str(v)) >= 6)]
    started = time.monotonic()
    current_url, current_method, body = url, method.upper(), json_body
    response = connection = None
    with _Deadline(timeout) as deadline:
        try:
            for _hop in range(MAX_REDIRECTS + 1):
                remaining = deadline.remaining()
                if remaining <= 0:
                    raise TimeoutError("deadline")
                response = session.request(
                    current_method,
                    current_url,
                    headers=request_headers,
                    json=body,
                    timeout=(remaining, remaining),
                    stream=True,
                    allow_redirects=False,
                )
                connection = getattr(response.raw, "connection", None)
                # a caller's own session has no watched connections: watch this one for the body
                deadline.scope.watch(connection)
                location = response.headers.get("Location")
                if not (follow_redirects and response.status_code in _REDIRECTS and location):
                    break
                _discard(response, connection)
                deadline.scope.drop_connections()
                next_url = urljoin(current_url, location)
                if urlsplit(next_url).scheme not in ("http", "https"):
                    raise FetchError("redirected to a non-HTTP URL")
                if not _same_origin(current_url, next_url):
                    for name in ("Authorization", "Cookie", "Proxy-Authorization"):
                        request_headers.pop(name, None)
                if response.status_code == 303 or (
                    response.status_code in (301, 302) and current_method not in ("GET", "HEAD")
                ):
                    current_method, body = ("HEAD" if current_method == "HEAD" else "GET"), None
                current_url = next_url
            else:
                raise FetchError(f"more than {MAX_REDIRECTS} redirects")
            content, truncated = (
                (b"", False) if current_method == "HEAD" else _read_capped(response, max_bytes, deadline)
            )
            if deadline.scope.expired:
                # the watchdog cut the connection: whatever was parsed is incomplete
                raise TimeoutError("deadline")
            return Fetched(
                status_code=response.status_code,
                body=content,
                content_type=response.headers.get("Content-Type"),
                encoding=response.encoding,
                truncated=truncated,
                elapsed_ms=(time.monotonic() - started) * 1000.0,
                headers=dict(response.headers),
            )
        except FetchError as exc:
            raise FetchError(scrub(str(exc), url, current_url, known=secrets)) from None
        except Exception as exc:
            if deadline.passed() or (isinstance(exc, TimeoutError) and str(exc) == "deadline"):
                message = f"timed out after {_fmt_seconds(timeout)}"
            else:
                message = describe_exception(exc, current_url, timeout)
            raise FetchError(scrub(message, url, current_url, known=secrets)) from None
        finally:
            if response is not None:
                _discard(response, connection)


_session_local = threading.local()


def _default_session():
    """A per-thread session with the deadline adapter (probes reuse connections per thread)."""
    session = getattr(_session_local, "session", None)
    if session is None or getattr(_session_local, "pid", None) != os.getpid():
        session = _session_local.session = new_session()
        _session_local.pid = os.getpid()
    return session


# ---------------------------------------------------------------------------
# probes
# ---------------------------------------------------------------------------
def _decode(fetched):
    encoding = fetched.encoding or "utf-8"
    try:
        return fetched.body.decode(encoding, errors="replace")
    except LookupError:
        return fetched.body.decode("utf-8", errors="replace")


def _metrics(spec, session, metrics_state, metrics_key):
    """``(host_metrics.Reading, failure)`` from ``spec.metrics_url``; ``failure`` says why the scrape failed."""
    # the target's headers (credentials) go to the metrics URL only on the same origin
    headers = dict(spec.headers or {}) if _same_origin(spec.url, spec.metrics_url) else {}
    try:
        fetched = fetch(
            session,
            "GET",
            spec.metrics_url,
            timeout=spec.timeout,
            max_bytes=spec.max_body_bytes,
            headers=headers,
        )
    except FetchError as exc:
        return host_metrics.Reading(), f"metrics: {exc}"
    if fetched.status_code >= 400:
        return host_metrics.Reading(), f"metrics: HTTP {fetched.status_code}"
    try:
        reading = host_metrics.parse_metrics(
            fetched.body,
            fetched.content_type,
            state=metrics_state,
            key=metrics_key if metrics_key is not None else spec.metrics_url,
        )
    except host_metrics.MetricsError as exc:
        return host_metrics.Reading(), scrub(f"metrics: {exc}", spec.metrics_url)
    return reading, None


def probe(spec, session=None, *, metrics_state=None, metrics_key=None):
    """Check ``spec`` once and return a :class:`Sample` (never raises for a network failure).

    ``metrics_state`` (:class:`~.host_metrics.MetricsState`) keeps the
    previous node_exporter scrape per ``metrics_key`` (default: the
    metrics URL) so CPU can be computed from two scrapes.
    """
    checked_at = utcnow()
    up, status_code, response_ms, error = False, None, None, None
    try:
        fetched = fetch(
            session,
            spec.method,
            spec.url,
            timeout=spec.timeout,
            max_bytes=spec.max_body_bytes,
            headers=spec.headers,
            follow_redirects=spec.follow_redirects,
        )
    except FetchError as exc:
        error = str(exc)
    else:
        status_code, response_ms = fetched.status_code, round(fetched.elapsed_ms, 3)
        reason = http.client.responses.get(status_code, "")
        if not spec.accepts(status_code):
            error = f"unexpected status {status_code} {reason}".strip()
        elif spec.expected_text and spec.expected_text not in _decode(fetched):
            where = f"the first {spec.max_body_bytes} bytes of " if fetched.truncated else ""
            error = f"expected text not found in {where}the answer"
        else:
            up = True
    reading = host_metrics.Reading()
    if spec.metrics_url:
        reading, failure = _metrics(spec, session, metrics_state, metrics_key)
        if failure:
            up, error = False, f"{error}; {failure}" if error else failure
    return Sample(
        up=up,
        status_code=status_code,
        response_ms=response_ms,
        error=scrub(error, spec.url, spec.metrics_url) if error else None,
        cpu_percent=reading.cpu_percent,
        memory_percent=reading.memory_percent,
        checked_at=checked_at,
        error_ratio=reading.error_ratio,
        p95_ms=reading.p95_ms,
    )


def probe_many(
    specs: Mapping[Hashable, ProbeSpec],
    max_workers: int = 8,
    session_factory: Callable[[], requests.Session] | None = None,
    *,
    metrics_state=None,
):
    """Probe every spec on a pool of ``max_workers`` threads; ``{key: Sample}`` for every key.

    Each worker thread uses one session from ``session_factory`` (default
    :func:`new_session`), closed at the end. Every probe is bounded by its
    own deadline, so a hanging target holds one worker for at most its
    timeout (twice with a metrics URL). An unexpected exception in one probe
    becomes that key's down sample; the others are unaffected.
    """
    if not specs:
        return {}
    factory = session_factory or new_session
    sessions, sessions_lock = [], threading.Lock()
    local = threading.local()

    def session_for_thread():
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = factory()
            with sessions_lock:
                sessions.append(session)
        return session

    def run(key, spec):
        started = utcnow()
        try:
            check = getattr(spec, "check", None)  # other kinds of checks (Prometheus queries) bring their own
            if check is not None:
                return check(session_for_thread())
            return probe(spec, session_for_thread(), metrics_state=metrics_state, metrics_key=key)
        except Exception as exc:
            _logger.exception("probe of %s failed unexpectedly", redact_url(getattr(spec, "url", "")))
            message = f"probe failed: {type(exc).__name__}"
            return Sample(up=False, error=message, checked_at=started)

    workers = max(1, min(int(max_workers), len(specs)))
    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="probe") as pool:
            futures = {key: pool.submit(run, key, spec) for key, spec in specs.items()}
            return {key: future.result() for key, future in futures.items()}
    finally:
        for session in sessions:
            session.close()
