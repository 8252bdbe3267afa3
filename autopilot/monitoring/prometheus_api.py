"""Checks that ask a Prometheus server, over its HTTP API, for a service's own figures.

Ops teams already scrape their services with Prometheus: a target of this
kind runs one PromQL instant query per figure (``GET /api/v1/query``) and
turns the answers into a :class:`~.probes.Sample`: the service's error
ratio and p95 latency, the CPU and memory of its host. Each query is the
target's own text; the defaults (:data:`DEFAULT_QUERIES`) read what common
exporters expose:

* error ratio (%) from an application's ``http_requests_total`` counter,
  5xx in its ``code`` label (the Prometheus client libraries' convention);
* p95 latency (ms) from its ``http_request_duration_seconds`` histogram;
* CPU (%) from node_exporter's ``node_cpu_seconds_total`` (busy = not idle);
* memory (%) from node_exporter's ``MemAvailable`` / ``MemTotal``.

In a query, ``$selector`` stands for the target's label matchers (e.g.
``job="shop"``; a comma beside an empty one is dropped) and ``$window`` for
its rate window (default ``5m``).

A query that fails is a failed check with the reason (Prometheus' own
``errorType: error``, an HTTP status, a timeout, no series matching), never
a silent 0. A query whose answer is ``NaN`` (no requests in the window: 0 /
0) gives no figure and is noted, without failing the check. With several
series the highest value counts (the worst instance).
"""

import json
import math
import re
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from . import probes

DEFAULT_WINDOW = "5m"
DEFAULT_QUERIES = {
    "error_ratio": (
        '100 * sum(rate(http_requests_total{code=~"5..",$selector}[$window]))'
        " / sum(rate(http_requests_total{$selector}[$window]))"
    ),
    "p95_ms": (
        "1000 * histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{$selector}[$window])))"
    ),
    "cpu_percent": '100 * (1 - avg(rate(node_cpu_seconds_total{mode="idle",$selector}[$window])))',
    "memory_percent": (
        "100 * (1 - sum(node_memory_MemAvailable_bytes{$selector}) / sum(node_memory_MemTotal_bytes{$selector}))"
    ),
}
LABELS = {"error_ratio": "error ratio", "p95_ms": "p95 latency", "cpu_percent": "CPU", "memory_percent": "memory"}
MAX_ANSWER_BYTES = 1_048_576
_WINDOW = re.compile(r"^\d+(ms|s|m|h|d|w|y)$")


class QueryError(Exception):
    """A query that gave no usable answer; ``str()`` is short and secret-free."""


def render(query, selector="", window=DEFAULT_WINDOW):
    """``query`` with ``$selector`` and ``$window`` replaced (see the module docstring)."""
    selector = (selector or "").strip().strip(",").strip()
    window = (window or DEFAULT_WINDOW).strip()
    if not _WINDOW.match(window):
        raise ValueError(f"not a Prometheus duration: {window!r}")
    text = query.replace("$window", window)
    if not selector:
        text = re.sub(r",\s*\$selector|\$selector\s*,?", "", text)
    return text.replace("$selector", selector)


def _number(raw):
    value = float(raw)  # Prometheus sends sample values as strings: "1.5", "NaN", "+Inf"
    return None if math.isnan(value) else value


def parse_answer(status_code, body):
    """The value of an instant query's answer (``None`` for NaN); raises :class:`QueryError`."""
    try:
        answer = json.loads(body)
    except ValueError:
        raise QueryError(f"HTTP {status_code}, not a Prometheus API answer") from None
    if not isinstance(answer, dict) or "status" not in answer:
        raise QueryError(f"HTTP {status_code}, not a Prometheus API answer")
    if answer["status"] != "success":
        kind = answer.get("errorType") or "error"
        raise QueryError(f"{kind}: {str(answer.get('error') or 'no reason given')[:200]}")
    data = answer.get("data") or {}
    kind, result = data.get("resultType"), data.get("result")
    try:
        if kind == "scalar":
            return _number(result[1])
        if kind == "vector":
            if not result:
                raise QueryError("no data: no series matches the query")
            values = [_number(item["value"][1]) for item in result]
            finite = [v for v in values if v is not None]
            return max(finite) if finite else None
    except (TypeError, KeyError, IndexError, ValueError):
        raise QueryError("malformed answer") from None
    raise QueryError(f"the query gives a {kind}, not a number (an instant vector or a scalar)")


def instant_query(session, base_url, promql, timeout, headers=None):
    """Run ``promql`` at the server's current time; ``(value or None, elapsed ms)``; raises QueryError."""
    url = f"{base_url.rstrip('/')}/api/v1/query?{urlencode({'query': promql})}"
    try:
        fetched = probes.fetch(
            session,
            "GET",
            url,
            timeout=timeout,
            max_bytes=MAX_ANSWER_BYTES,
            headers={"Accept": "application/json", **(headers or {})},
        )
    except probes.FetchError as exc:
        raise QueryError(str(exc)) from None
    if fetched.truncated:
        raise QueryError("answer larger than 1 MiB")
    if fetched.status_code >= 500 and not fetched.body.lstrip().startswith(b"{"):
        raise QueryError(f"HTTP {fetched.status_code}")
    return parse_answer(fetched.status_code, fetched.body), fetched.elapsed_ms


@dataclass(frozen=True)
class PrometheusSpec:
    """What a Prometheus target asks: ``queries`` maps a Sample field to its (rendered) PromQL."""

    url: str
    queries: tuple  # ((field, promql), ...): empty queries are left out by the caller
    timeout: float = 10.0
    headers: tuple = ()

    def __post_init__(self):
        if not isinstance(self.url, str) or not self.url.startswith(("http://", "https://")):
            raise ValueError("the Prometheus URL must start with http:// or https://")
        if not self.queries:
            raise ValueError("a Prometheus target needs at least one query")
        unknown = [name for name, _query in self.queries if name not in LABELS]
        if unknown:
            raise ValueError(f"unknown figures: {', '.join(unknown)}")

    def check(self, session=None):
        """Run every query (each under the timeout); a :class:`~.probes.Sample`, never raises for the network."""
        checked_at = probes.utcnow()
        started = time.monotonic()
        values, failures, notes = {}, [], []
        for name, promql in self.queries:
            try:
                value, _elapsed = instant_query(session, self.url, promql, self.timeout, dict(self.headers))
            except QueryError as exc:
                failures.append(f"{LABELS[name]} query: {exc}")
                continue
            if value is None:
                notes.append(f"{LABELS[name]}: no data in the window (NaN)")
            elif math.isinf(value):
                notes.append(f"{LABELS[name]}: infinite")
            else:
                values[name] = round(value, 3)
        message = "; ".join(failures + notes) or None
        return probes.Sample(
            up=not failures,
            response_ms=round((time.monotonic() - started) * 1000.0, 3),
            error=probes.scrub(message, self.url, known=[v for _k, v in self.headers]) if message else None,
            checked_at=checked_at,
            **values,
        )
