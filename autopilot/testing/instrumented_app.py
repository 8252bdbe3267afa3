"""A small HTTP service instrumented with prometheus_client, whose error rate and latency a test sets.

``GET /work`` answers after :attr:`InstrumentedApp.latency` seconds (really
waited) and answers 500 for a share :attr:`InstrumentedApp.error_share` of
the requests (deterministically: every n-th); each request is counted in
``http_requests_total{method, code}`` and observed in the histogram
``http_request_duration_seconds``, as the Prometheus client libraries'
conventions name them. ``GET /metrics`` is the exposition of that
registry. :meth:`InstrumentedApp.start_traffic` sends requests without a
pause from a few client threads, so the counters move as real traffic would.
"""

import contextlib
import threading
import time
from http.client import HTTPConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64


class InstrumentedApp:
    def __init__(self):
        self.latency = 0.01
        self.error_share = 0.0
        self.registry = CollectorRegistry()
        self.requests = Counter("http_requests", "Requests served.", ["method", "code"], registry=self.registry)
        self.duration = Histogram(
            "http_request_duration_seconds", "Time to answer a request.", ["method"], registry=self.registry
        )
        self._served = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._clients = []
        self._httpd = None

    @property
    def url(self):
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def served(self):
        """Requests to ``/work`` answered so far."""
        with self._lock:
            return self._served

    @property
    def address(self):
        host, port = self._httpd.server_address[:2]
        return f"{host}:{port}"

    def _fails(self):
        with self._lock:
            self._served += 1
            served = self._served
        share = self.error_share
        return share > 0 and int(served * share) != int((served - 1) * share)

    def start(self):
        app = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _send(self, status, body, content_type="text/plain"):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if self.path == "/metrics":
                    self._send(200, generate_latest(app.registry), CONTENT_TYPE_LATEST)
                    return
                started = time.monotonic()
                app._stop.wait(app.latency)
                status = 500 if app._fails() else 200
                app.requests.labels("GET", str(status)).inc()
                app.duration.labels("GET").observe(time.monotonic() - started)
                self._send(status, b"failed" if status == 500 else b"done")

        self._stop.clear()
        self._httpd = _Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def start_traffic(self, clients=8):
        """``clients`` threads sending ``GET /work`` one after another until :meth:`stop`."""
        for _index in range(clients):
            thread = threading.Thread(target=self._client, daemon=True)
            thread.start()
            self._clients.append(thread)
        return self

    def _client(self):
        host, port = self._httpd.server_address[:2]
        while not self._stop.is_set():
            conn = HTTPConnection(host, port, timeout=30)
            with contextlib.suppress(OSError):
                conn.request("GET", "/work")
                conn.getresponse().read()
            conn.close()

    def stop(self):
        self._stop.set()
        for thread in self._clients:
            thread.join(timeout=40)
        self._clients = []
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
