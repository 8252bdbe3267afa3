"""CPU and memory of a monitored host, from its metrics endpoint or from psutil.

Two formats are read by :func:`parse_metrics`:

* JSON ``{"cpu_percent": 12.5, "memory_percent": 40.1}`` (either key may be
  missing, values are numbers between 0 and 100);
* the Prometheus text exposition of node_exporter. Memory is
  ``1 - MemAvailable / MemTotal`` (``MemFree + Buffers + Cached`` when the
  kernel has no ``MemAvailable``). CPU is a counter: ``node_cpu_seconds_total``
  summed over CPUs, busy share = ``1 - Δidle / Δtotal`` between two scrapes
  (``iowait`` counts as busy). The previous scrape is kept per key in a
  :class:`MetricsState`; the first scrape, or one after a counter reset
  (exporter restart), gives ``cpu=None``.

Anything else raises :class:`MetricsError` (a ``ValueError``) with a short
reason. :func:`local_host` measures the Odoo server itself with psutil.
"""

import json
import math
import re
import threading

import psutil


class MetricsError(ValueError):
    """The metrics answer is not JSON/Prometheus text we understand."""


_SAMPLE = re.compile(
    r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)"
    r"(?:\{(?P<labels>(?:[^\"}]|\"(?:[^\"\\]|\\.)*\")*)\})?"
    r"[ \t]+(?P<value>\S+)(?:[ \t]+-?\d+)?(?:[ \t]+#.*)?[ \t]*$"
)
_LABEL = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*\"((?:[^\"\\]|\\.)*)\"")
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


class MetricsState:
    """The previous CPU counters per key (thread-safe), so a second scrape gives a CPU percentage.

    Counters are ``(idle_seconds, total_seconds)``; :meth:`get` /
    :meth:`set` let a caller persist them between processes (e.g. in a JSON
    field of the target) and restore them before the next scrape.
    """

    def __init__(self):
        self._counters = {}
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            return self._counters.get(key)

    def set(self, key, counters):
        idle, total = counters
        with self._lock:
            self._counters[key] = (float(idle), float(total))

    def swap(self, key, counters):
        """Store ``counters`` for ``key`` and return the previous ones (or None)."""
        with self._lock:
            previous = self._counters.get(key)
            self._counters[key] = counters
        return previous

    def __len__(self):
        return len(self._counters)


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
    return (
        _number(cpu, "cpu_percent") if cpu is not None else None,
        _number(memory, "memory_percent") if memory is not None else None,
    )


def _parse_prometheus(text):
    """``({memory metric: value}, idle_seconds | None, total_seconds | None, samples seen)``."""
    memory, idle, total, samples = {}, 0.0, 0.0, 0
    cpu_seen = idle_seen = False
    for raw_line in text.splitlines():
        line = raw_line.strip()
        if not line or line.startswith("#"):
            continue
        match = _SAMPLE.match(line)
        if not match:
            continue
        try:
            value = float(match["value"])
        except ValueError:
            continue
        samples += 1
        name = match["name"]
        if name in _MEMORY_NAMES:
            memory[name] = value
        elif name == _CPU_NAME and math.isfinite(value):
            cpu_seen = True
            total += value
            labels = dict(_LABEL.findall(match["labels"] or ""))
            if labels.get("mode") == "idle":
                idle += value
                idle_seen = True
    if cpu_seen and not idle_seen:
        raise MetricsError('node_cpu_seconds_total has no mode="idle" series')
    return memory, (idle if cpu_seen else None), (total if cpu_seen else None), samples


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


def parse_metrics(body, content_type=None, state=None, key=None):
    """``(cpu_percent | None, memory_percent | None)`` from a metrics answer.

    ``state`` and ``key`` give node_exporter CPU its previous scrape; without
    a state, CPU from Prometheus text is always ``None``.
    """
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    if not isinstance(body, str) or not body.strip():
        raise MetricsError("the metrics answer is empty")
    kind = (content_type or "").split(";")[0].strip().lower()
    stripped = body.lstrip()
    if "json" in kind or stripped.startswith(("{", "[")):
        return _parse_json(body)
    memory, idle, total, samples = _parse_prometheus(body)
    if not samples:
        raise MetricsError("the metrics answer is neither JSON nor Prometheus text")
    if idle is None and "node_memory_MemTotal_bytes" not in memory:
        raise MetricsError("no node_exporter CPU or memory metrics in the answer")
    cpu = None
    if idle is not None and state is not None:
        cpu = cpu_percent(state.swap(key, (idle, total)), (idle, total))
    return cpu, _memory_percent(memory)


def local_host(interval=0.2):
    """``(cpu_percent, memory_percent)`` of this machine (the Odoo server), measured over ``interval`` s."""
    cpu = psutil.cpu_percent(interval=interval)
    memory = psutil.virtual_memory().percent
    return float(cpu), float(memory)
