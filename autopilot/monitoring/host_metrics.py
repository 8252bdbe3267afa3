"""CPU, memory and request metrics of a monitored service, from its metrics page or psutil.

Two formats are read by :func:`parse_metrics`, which returns a :class:`Reading`:

* JSON ``{"cpu_percent": 12.5, "memory_percent": 40.1}`` (either key may be
  missing, values are numbers between 0 and 100);
* the Prometheus text exposition, parsed by ``prometheus_client``'s own
  parser (``text_string_to_metric_families``):

  - node_exporter's host metrics. Memory is ``1 - MemAvailable / MemTotal``
    (``MemFree + Buffers + Cached`` when the kernel has no ``MemAvailable``).
    CPU is a counter: ``node_cpu_seconds_total`` summed over CPUs, busy
    share = ``1 - Δidle / Δtotal`` between two scrapes (``iowait`` counts
    as busy);
  - an application's own request metrics, named as Prometheus' naming
    guide and its client libraries do: the counter
    :data:`REQUESTS` (``http_requests_total``) with the status in a
    ``code``, ``status`` or ``status_code`` label (5xx = an error), and the
    histogram :data:`DURATION` (``http_request_duration_seconds``). Error
    ratio = Δ5xx / Δrequests between two scrapes (percent); p95 latency is
    interpolated in the Δ buckets as PromQL's ``histogram_quantile`` does.

  Counters only mean something between two scrapes: the previous one is kept
  per key in a :class:`MetricsState`; the first scrape, one after a counter
  reset (a restart), or one with no request since the previous scrape gives
  ``None`` for the rates (never a made-up 0).

Anything else raises :class:`MetricsError` (a ``ValueError``) with a short
reason. :func:`local_host` measures the Odoo server itself with psutil.
"""

import json
import math
import threading
from dataclasses import dataclass

import psutil
from prometheus_client.parser import text_string_to_metric_families


class MetricsError(ValueError):
    """The metrics answer is not JSON/Prometheus text we understand."""


_MEMORY_NAMES = frozenset(
    {
        "node_memory_MemAvailable_bytes",
        "node_memory_MemTotal_bytes",
        "node_memory_MemFree_bytes",
        "node_memory_Buffers_bytes",
        "node_memory_Cached_bytes",
    }
)
_CPU_NAME = "node_cpu_seconds_total"
#: the application's request counter and latency histogram (Prometheus' naming conventions)
REQUESTS = "http_requests_total"
DURATION = "http_request_duration_seconds"
_STATUS_LABELS = ("code", "status", "status_code")
QUANTILE = 0.95


@dataclass(frozen=True)
class Reading:
    """What one metrics page said; ``None`` where it says nothing (or a rate needs a second scrape)."""

    cpu_percent: float | None = None
    memory_percent: float | None = None
    error_ratio: float | None = None
    p95_ms: float | None = None


class MetricsState:
    """The previous scrape's counters per key (thread-safe), so a second scrape gives rates.

    A snapshot is a JSON-able dict: ``{"cpu": [idle, total], "requests":
    [total, errors], "buckets": [[le, cumulative count], ...]}`` (each part
    only when the page has it). :meth:`get` / :meth:`set` let a caller
    persist it between processes (e.g. in a JSON field of the target).
    """

    def __init__(self):
        self._snapshots = {}
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            return self._snapshots.get(key)

    def set(self, key, snapshot):
        if isinstance(snapshot, (list, tuple)):  # stored before request metrics were read: CPU counters
            snapshot = {"cpu": [float(snapshot[0]), float(snapshot[1])]}
        with self._lock:
            self._snapshots[key] = dict(snapshot or {})

    def swap(self, key, snapshot):
        """Store ``snapshot`` for ``key`` and return the previous one (or None)."""
        with self._lock:
            previous = self._snapshots.get(key)
            self._snapshots[key] = snapshot
        return previous

    def __len__(self):
        return len(self._snapshots)


def _number(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise MetricsError(f"{name} is not a number")
    value = float(value)
    if not math.isfinite(value) or not 0 <= value <= 100:
        raise MetricsError(f"{name} must be between 0 and 100")
    return value


def _parse_json(text):
    try:
        data = json.loads(text)
    except ValueError:
        raise MetricsError("the metrics answer is not valid JSON") from None
    if not isinstance(data, dict):
        raise MetricsError("the metrics JSON is not an object")
    cpu, memory = data.get("cpu_percent"), data.get("memory_percent")
    if cpu is None and memory is None:
        raise MetricsError("the metrics JSON has neither cpu_percent nor memory_percent")
    return Reading(
        cpu_percent=_number(cpu, "cpu_percent") if cpu is not None else None,
        memory_percent=_number(memory, "memory_percent") if memory is not None else None,
    )


def _samples(text):
    """Every sample of a Prometheus text page, through prometheus_client's parser."""
    try:
        return [sample for family in text_string_to_metric_families(text) for sample in family.samples]
    except (ValueError, TypeError, IndexError, KeyError):
        raise MetricsError("the metrics answer is neither JSON nor Prometheus text") from None


def _status(labels):
    return next((str(labels[name]) for name in _STATUS_LABELS if name in labels), "")


def _snapshot(samples):
    """``(memory values, snapshot of counters)`` of the samples we read."""
    memory, snapshot = {}, {}
    idle = total = 0.0
    cpu_seen = idle_seen = False
    requests = errors = 0.0
    buckets = {}
    for sample in samples:
        name, value = sample.name, float(sample.value)
        if not math.isfinite(value):
            continue
        if name in _MEMORY_NAMES:
            memory[name] = value
        elif name == _CPU_NAME:
            cpu_seen = True
            total += value
            if sample.labels.get("mode") == "idle":
                idle += value
                idle_seen = True
        elif name == REQUESTS:
            requests += value
            errors += value if _status(sample.labels).startswith("5") else 0.0
            snapshot["requests"] = True
        elif name == f"{DURATION}_bucket" and "le" in sample.labels:
            bound = float(sample.labels["le"])
            buckets[bound] = buckets.get(bound, 0.0) + value
    if cpu_seen and not idle_seen:
        raise MetricsError('node_cpu_seconds_total has no mode="idle" series')
    if cpu_seen:
        snapshot["cpu"] = [idle, total]
    if snapshot.pop("requests", False):
        snapshot["requests"] = [requests, errors]
    if buckets:
        snapshot["buckets"] = [["+Inf" if math.isinf(le) else le, count] for le, count in sorted(buckets.items())]
    return memory, snapshot


def _memory_percent(memory):
    total = memory.get("node_memory_MemTotal_bytes")
    if total is None:
        return None
    if not math.isfinite(total) or total <= 0:
        raise MetricsError("node_memory_MemTotal_bytes is not a positive number")
    available = memory.get("node_memory_MemAvailable_bytes")
    if available is None:
        parts = [memory.get(f"node_memory_{n}_bytes") for n in ("MemFree", "Buffers", "Cached")]
        if any(p is None for p in parts):
            return None
        available = sum(parts)
    if not math.isfinite(available) or available < 0:
        raise MetricsError("node_memory_MemAvailable_bytes is not a number")
    return round(min(100.0, max(0.0, (1.0 - available / total) * 100.0)), 3)


def cpu_percent(previous, current):
    """Busy CPU % between two ``(idle, total)`` counter readings, or None (first scrape, reset, no time)."""
    if previous is None or current is None:
        return None
    idle_delta, total_delta = current[0] - previous[0], current[1] - previous[1]
    if total_delta <= 0 or idle_delta < 0 or idle_delta > total_delta:
        return None
    return round((1.0 - idle_delta / total_delta) * 100.0, 3)


def error_ratio(previous, current):
    """5xx share (percent) of the requests between two ``(requests, errors)`` readings, or None."""
    if previous is None or current is None:
        return None
    requests, errors = current[0] - previous[0], current[1] - previous[1]
    if requests <= 0 or errors < 0 or errors > requests:
        return None  # no request since, or the counters were reset
    return round(errors * 100.0 / requests, 3)


def _bound(le):
    return math.inf if le == "+Inf" else float(le)


def quantile_ms(previous, current, q=QUANTILE):
    """The ``q`` quantile (ms) of the observations between two cumulative bucket readings, or None.

    Linear interpolation inside the bucket, as PromQL's ``histogram_quantile``:
    the lower bound of the first bucket is 0, and a rank in the ``+Inf``
    bucket gives the largest finite bound.
    """
    if previous is None or current is None:
        return None
    before = {_bound(le): count for le, count in previous}
    deltas = []
    for le, count in sorted(((_bound(le), count) for le, count in current), key=lambda item: item[0]):
        delta = count - before.get(le, 0.0)
        if delta < 0 or le not in before:
            return None  # reset, or the buckets changed
        deltas.append((le, delta))
    if not deltas or not math.isinf(deltas[-1][0]) or deltas[-1][1] <= 0:
        return None
    rank = q * deltas[-1][1]
    lower, below = 0.0, 0.0
    for le, cumulative in deltas:
        if cumulative >= rank:
            if math.isinf(le):
                return round(lower * 1000.0, 3)
            if cumulative == below:
                return round(le * 1000.0, 3)
            return round((lower + (le - lower) * (rank - below) / (cumulative - below)) * 1000.0, 3)
        lower, below = le, cumulative
    return None


def parse_metrics(body, content_type=None, state=None, key=None):
    """A :class:`Reading` of a metrics answer (JSON or Prometheus text).

    ``state`` and ``key`` give counters (CPU, requests, latency) their
    previous scrape; without a state, rates are always ``None``.
    """
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    if not isinstance(body, str) or not body.strip():
        raise MetricsError("the metrics answer is empty")
    kind = (content_type or "").split(";")[0].strip().lower()
    stripped = body.lstrip()
    if "json" in kind or stripped.startswith(("{", "[")):
        return _parse_json(body)
    samples = _samples(body)
    if not samples:
        raise MetricsError("the metrics answer is neither JSON nor Prometheus text")
    memory, snapshot = _snapshot(samples)
    if not snapshot and "node_memory_MemTotal_bytes" not in memory:
        raise MetricsError(f"no node_exporter CPU or memory metrics, nor {REQUESTS} or {DURATION}, in the answer")
    previous = (state.swap(key, snapshot) if state is not None else None) or {}
    return Reading(
        cpu_percent=cpu_percent(previous.get("cpu"), snapshot.get("cpu")),
        memory_percent=_memory_percent(memory),
        error_ratio=error_ratio(previous.get("requests"), snapshot.get("requests")),
        p95_ms=quantile_ms(previous.get("buckets"), snapshot.get("buckets")),
    )


def local_host(interval=0.2):
    """``(cpu_percent, memory_percent)`` of this machine (the Odoo server), measured over ``interval`` s."""
    cpu = psutil.cpu_percent(interval=interval)
    memory = psutil.virtual_memory().percent
    return float(cpu), float(memory)
