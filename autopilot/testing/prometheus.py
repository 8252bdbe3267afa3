"""Real Prometheus and node_exporter for tests, on 127.0.0.1 free ports, with generated configuration.

Debian's ``prometheus`` and ``prometheus-node-exporter`` packages (the test
set-up, ``tools/devenv.py``, installs them); :func:`missing` says what is
absent so a test can skip with a clear message where they are not.

* :class:`PrometheusServer` scrapes the given ``{job: "host:port"}`` every
  ``scrape_interval`` (1 s by default), storage in a temporary folder.
* :class:`NodeExporter` runs node_exporter with its textfile collector only
  (``--collector.disable-defaults --collector.textfile``), so the host
  figures it exposes are the ones :class:`HostFeed` writes: the real metric
  names (``node_cpu_seconds_total`` per CPU and mode,
  ``node_memory_MemAvailable_bytes``, ``node_memory_MemTotal_bytes``), which
  the other collectors would otherwise own; the addon's default queries
  read them as they read a real host's.
* :class:`HostFeed` writes that file from a thread: CPU counters that grow
  with real time at the busy share the test sets, and memory gauges.

Everything waits for conditions with a deadline (:func:`wait_until`), never
for a fixed time.
"""

import contextlib
import json
import math
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

PROMETHEUS = ("prometheus",)
NODE_EXPORTER = ("prometheus-node-exporter", "node_exporter")
INSTALL_HINT = "install Debian's packages: apt-get install prometheus prometheus-node-exporter (or run `make test`)"


def _which(names):
    return next((path for name in names if (path := shutil.which(name))), None)


def missing():
    """Names of the binaries that are not installed (empty when both are)."""
    return [names[0] for names in (PROMETHEUS, NODE_EXPORTER) if not _which(names)]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition, timeout=60.0, step=0.2, what="condition"):
    """Call ``condition`` until it returns a true value (returned); TimeoutError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = condition()
        except Exception as exc:
            last_error, value = exc, None
        if value:
            return value
        time.sleep(step)
    raise TimeoutError(
        f"{what} not reached after {timeout:g} s" + (f" (last error: {last_error})" if last_error else "")
    )


def _get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as answer:
        return answer.status, answer.read()


class _Process:
    def __init__(self):
        self.process = None
        self.port = None
        self.folder = None
        self.log = None

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    @property
    def url(self):
        return f"http://{self.address}"

    def _spawn(self, command):
        self.log = open(Path(self.folder) / "process.log", "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT, cwd=self.folder)

    def _check_alive(self):
        if self.process.poll() is not None:
            output = Path(self.folder, "process.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{self.process.args[0]} exited with {self.process.returncode}: {output}")
        return True

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.log:
            self.log.close()
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)


class PrometheusServer(_Process):
    def __init__(self, jobs, scrape_interval="1s"):
        super().__init__()
        self.jobs = dict(jobs)
        self.scrape_interval = scrape_interval

    def start(self, timeout=60):
        binary = _which(PROMETHEUS)
        if not binary:
            raise RuntimeError(f"prometheus is not installed: {INSTALL_HINT}")
        self.folder = tempfile.mkdtemp(prefix="ops-prometheus-")
        self.port = free_port()
        config = {
            "global": {"scrape_interval": self.scrape_interval, "evaluation_interval": self.scrape_interval},
            "scrape_configs": [
                {"job_name": job, "scrape_interval": self.scrape_interval, "static_configs": [{"targets": [target]}]}
                for job, target in self.jobs.items()
            ],
        }
        path = Path(self.folder) / "prometheus.yml"
        path.write_text(json.dumps(config))  # JSON is YAML
        self._spawn(
            [
                binary,
                f"--config.file={path}",
                f"--storage.tsdb.path={Path(self.folder) / 'data'}",
                f"--web.listen-address={self.address}",
                "--log.level=warn",
            ]
        )
        wait_until(
            lambda: self._check_alive() and _get(f"{self.url}/-/ready")[0] == 200, timeout, what="Prometheus ready"
        )
        return self

    def query(self, promql):
        """The answer of an instant query, decoded (for tests to wait on)."""
        _status, body = _get(f"{self.url}/api/v1/query?{urllib.parse.urlencode({'query': promql})}")
        return json.loads(body)

    def value(self, promql):
        """The first value of an instant query, or None when it has none (yet)."""
        result = self.query(promql)["data"]["result"]
        if not result:
            return None
        value = float(result[0]["value"][1] if isinstance(result[0], dict) else result[1])
        return None if math.isnan(value) else value

    def wait_scraped(self, job, timeout=60):
        """Wait until ``job``'s target has been scraped successfully."""
        wait_until(lambda: self.value(f'up{{job="{job}"}}') == 1.0, timeout, what=f"{job} scraped")


class NodeExporter(_Process):
    def start(self, timeout=30):
        binary = _which(NODE_EXPORTER)
        if not binary:
            raise RuntimeError(f"node_exporter is not installed: {INSTALL_HINT}")
        self.folder = tempfile.mkdtemp(prefix="ops-node-exporter-")
        self.textfiles = Path(self.folder) / "textfile"
        self.textfiles.mkdir()
        self.port = free_port()
        self._spawn(
            [
                binary,
                f"--web.listen-address={self.address}",
                "--collector.disable-defaults",
                "--collector.textfile",
                f"--collector.textfile.directory={self.textfiles}",
            ]
        )
        wait_until(lambda: self._check_alive() and _get(f"{self.url}/metrics")[0] == 200, timeout, what="node_exporter")
        return self


class HostFeed:
    """Writes node_exporter's CPU and memory metrics into its textfile folder, a few times a second.

    ``busy`` (0-1) is the share of each CPU's time spent outside ``idle``
    from now on; ``memory_used`` (0-1) the share of memory not available.
    """

    def __init__(self, folder, cpus=2, mem_total=8 * 1024**3):
        self.path = Path(folder) / "host.prom"
        self.cpus = cpus
        self.mem_total = mem_total
        self.busy = 0.1
        self.memory_used = 0.3
        self._counters = {cpu: {"idle": 1000.0, "user": 100.0} for cpu in range(cpus)}
        self._last = time.monotonic()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = None

    def _advance(self):
        with self._lock:
            now = time.monotonic()
            elapsed, self._last = now - self._last, now
            for modes in self._counters.values():
                modes["idle"] += elapsed * (1.0 - self.busy)
                modes["user"] += elapsed * self.busy

    def set(self, busy=None, memory_used=None):
        self._advance()  # what passed so far was at the old shares
        if busy is not None:
            self.busy = busy
        if memory_used is not None:
            self.memory_used = memory_used
        self.write_file()

    def write_file(self):
        self._advance()
        lines = ["# TYPE node_cpu_seconds_total counter"]
        with self._lock:
            for cpu, modes in sorted(self._counters.items()):
                for mode, value in sorted(modes.items()):
                    lines.append(f'node_cpu_seconds_total{{cpu="{cpu}",mode="{mode}"}} {value:.3f}')
        available = self.mem_total * (1.0 - self.memory_used)
        lines += [
            "# TYPE node_memory_MemAvailable_bytes gauge",
            f"node_memory_MemAvailable_bytes {available:.0f}",
            "# TYPE node_memory_MemTotal_bytes gauge",
            f"node_memory_MemTotal_bytes {self.mem_total:.0f}",
        ]
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text("\n".join(lines) + "\n")
        os.replace(temporary, self.path)  # node_exporter never reads half a file

    def start(self, every=0.25):
        self.write_file()

        def run():
            while not self._stop.wait(every):
                with contextlib.suppress(OSError):
                    self.write_file()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
