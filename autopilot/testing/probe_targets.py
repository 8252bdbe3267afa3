"""Local HTTP targets for health probes: healthy, slow, failing, flapping, and hostile ones.

:class:`ProbeTargets` is a :class:`~.http_server.RoutedServer` whose
handlers may also take the raw connection (:class:`Raw`), to misbehave the
way real servers do::

    GET  /ok                      200 "OK: service healthy"     (every GET route also answers HEAD and POST)
    GET  /slow/<ms>               answers after <ms> milliseconds
    GET  /status/<code>           answers <code>
    GET  /flapping/<pattern>      U = 200, D = 500, cycling (counter per path and ?id=)
    GET  /redirect/<n>            n hops of 302 then /ok
    GET  /text                    200 with :attr:`ProbeTargets.text_body`
    GET  /trickle?interval=0.2    headers, then one body byte per interval, forever
    GET  /trickle_headers         the status line, then one header byte per interval
    GET  /huge                    an endless body in 64 KiB chunks (bytes sent in ``huge_sent``)
    GET  /reset                   reads the request, answers with a TCP RST
    GET  /hang                    accepts and never answers
    GET  /metrics/json            :attr:`ProbeTargets.metrics` as JSON
    GET  /metrics/prom            node_exporter text; :meth:`ProbeTargets.advance_cpu` moves the counters
    GET  /metrics/garbage         200 text that is neither
    POST /hook                    200 {"ok": true} (requests recorded)
    POST /hook/fail               500

Handlers that hold a connection (hang, trickle, huge) end when the client
goes away or the server stops.
"""

import contextlib
import json
import select
import socket
import struct
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from .http_server import Request, Response, RoutedServer


@dataclass
class Raw:
    """A handler result that writes to the connection itself: ``write(handler, stop_event)``."""

    write: object


def closed_port_url(path="/"):
    """A loopback URL nothing listens on (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


class StreamingRoutedServer(RoutedServer):
    """A RoutedServer whose handlers may return :class:`Raw` to drive the socket themselves."""

    def __init__(self):
        super().__init__()
        self.stopping = threading.Event()

    def start(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                request = Request(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                response = server.dispatch(request)
                if isinstance(response, Raw):
                    self.close_connection = True
                    # the client went away: nothing to answer
                    with contextlib.suppress(OSError):
                        response.write(self, server.stopping)
                    return
                # 1xx, 204 and 304 answers have no body (a stray one would poison a kept-alive connection)
                bodiless = response.status < 200 or response.status in (204, 304)
                payload = b"" if bodiless else response.encode()
                self.send_response(response.status)
                for key, value in response.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle

        self.stopping.clear()
        self._httpd = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self.stopping.set()
        return super().stop()


def _client_gone(sock, wait):
    """Wait up to ``wait`` seconds; True when the client closed its side (or the socket broke)."""
    try:
        readable, _w, _x = select.select([sock], [], [], wait)
        if readable:
            return sock.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):
        return True
    return False


def _hold(handler, stop, seconds=None):
    """Keep the connection open without writing until the client leaves, the server stops, or ``seconds``."""
    waited = 0.0
    while not stop.is_set() and (seconds is None or waited < seconds):
        if _client_gone(handler.connection, 0.05):
            return False
        waited += 0.05
    return not stop.is_set()


class ProbeTargets(StreamingRoutedServer):
    def __init__(self):
        super().__init__()
        self.text_body = "hello from the probe target"
        self.metrics = {"cpu_percent": 12.5, "memory_percent": 40.0}
        self.mem_total = 16 * 1024**3
        self.mem_available = 6 * 1024**3
        self.cpus = 2
        self._cpu = {cpu: {"idle": 1000.0, "user": 200.0, "system": 100.0, "iowait": 5.0} for cpu in range(2)}
        self._counters = {}
        self._counter_lock = threading.Lock()
        self.huge_sent = 0
        routes = (
            (r"/ok", self._ok),
            (r"/slow/(?P<ms>\d+)", self._slow),
            (r"/status/(?P<code>\d{3})", self._status),
            (r"/flapping/(?P<pattern>[UD]+)", self._flapping),
            (r"/redirect/(?P<n>\d+)", self._redirect),
            (r"/text", self._text),
            (r"/trickle", self._trickle),
            (r"/trickle_headers", self._trickle_headers),
            (r"/huge", self._huge),
            (r"/reset", self._reset),
            (r"/hang", self._hang),
            (r"/metrics/json", self._metrics_json),
            (r"/metrics/prom", self._metrics_prom),
            (
                r"/metrics/garbage",
                lambda r: Response(200, "this is not a metrics page", {"Content-Type": "text/plain"}),
            ),
        )
        for pattern, handler in routes:
            for method in ("GET", "HEAD", "POST"):
                self.route(method, pattern, handler)
        self.route("POST", r"/hook", lambda r: Response(200, {"ok": True, "received": r.json()}))
        self.route("POST", r"/hook/fail", lambda r: Response(500, {"message": "restart failed"}))

    # -- state helpers -------------------------------------------------------
    def advance_cpu(self, busy_seconds, idle_seconds):
        """Move every CPU's counters: ``busy_seconds`` of user time and ``idle_seconds`` idle."""
        for modes in self._cpu.values():
            modes["user"] += busy_seconds
            modes["idle"] += idle_seconds

    def reset_cpu(self):
        """Counters back near zero, as after an exporter or host restart."""
        for modes in self._cpu.values():
            for mode in modes:
                modes[mode] = 1.0

    def url_for(self, path):
        return f"{self.url}{path}"

    # -- handlers -----------------------------------------------------------------
    def _ok(self, request):
        return Response(200, "OK: service healthy", {"Content-Type": "text/plain; charset=utf-8"})

    def _slow(self, request):
        self.stopping.wait(int(request.params["ms"]) / 1000.0)
        return Response(200, "slow but healthy", {"Content-Type": "text/plain"})

    def _status(self, request):
        return Response(int(request.params["code"]), f"status {request.params['code']}", {"Content-Type": "text/plain"})

    def _flapping(self, request):
        pattern = request.params["pattern"]
        key = (request.path, request.arg("id", ""))
        with self._counter_lock:
            index = self._counters.get(key, 0)
            self._counters[key] = index + 1
        up = pattern[index % len(pattern)] == "U"
        return Response(200 if up else 500, "up" if up else "down", {"Content-Type": "text/plain"})

    def _redirect(self, request):
        hops = int(request.params["n"])
        target = f"/redirect/{hops - 1}" if hops > 1 else "/ok"
        return Response(302, b"", {"Location": target})

    def _text(self, request):
        return Response(200, self.text_body, {"Content-Type": "text/html; charset=utf-8"})

    def _trickle(self, request):
        interval = float(request.arg("interval", "0.2"))

        def write(handler, stop):
            handler.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000000\r\n\r\n")
            handler.wfile.flush()
            while _hold(handler, stop, interval):
                handler.wfile.write(b".")
                handler.wfile.flush()

        return Raw(write)

    def _trickle_headers(self, request):
        interval = float(request.arg("interval", "0.2"))

        def write(handler, stop):
            handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
            handler.wfile.flush()
            while _hold(handler, stop, interval):
                handler.wfile.write(b"X")
                handler.wfile.flush()

        return Raw(write)

    def _huge(self, request):
        chunk = b"x" * 65536

        def write(handler, stop):
            handler.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n")
            while not stop.is_set():
                handler.wfile.write(chunk)
                self.huge_sent += len(chunk)

        return Raw(write)

    def _reset(self, request):
        def write(handler, stop):
            handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            handler.connection.close()

        return Raw(write)

    def _hang(self, request):
        return Raw(_hold)

    def _metrics_json(self, request):
        return Response(200, json.dumps(self.metrics), {"Content-Type": "application/json"})

    def _metrics_prom(self, request):
        lines = [
            "# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.",
            "# TYPE node_cpu_seconds_total counter",
        ]
        for cpu, modes in sorted(self._cpu.items()):
            for mode, value in sorted(modes.items()):
                lines.append(f'node_cpu_seconds_total{{cpu="{cpu}",mode="{mode}"}} {value:.2f}')
        lines += [
            "# HELP node_memory_MemAvailable_bytes Memory information field MemAvailable_bytes.",
            "# TYPE node_memory_MemAvailable_bytes gauge",
            f"node_memory_MemAvailable_bytes {float(self.mem_available):e}",
            "# HELP node_memory_MemTotal_bytes Memory information field MemTotal_bytes.",
            "# TYPE node_memory_MemTotal_bytes gauge",
            f"node_memory_MemTotal_bytes {float(self.mem_total):e}",
            'node_filesystem_avail_bytes{device="/dev/sda1",fstype="ext4",mountpoint="/"} 1.2e+10',
        ]
        return Response(200, "\n".join(lines) + "\n", {"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})
