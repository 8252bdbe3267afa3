"""A tiny routed HTTP server on 127.0.0.1 for tests and benchmarks.

Test doubles of external services (GitHub, package indexes, probe targets)
are real HTTP servers built on this class: the product's real client
libraries talk to them over loopback, nothing is patched.
"""

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict
    headers: dict
    body: bytes
    params: dict = field(default_factory=dict)

    def json(self):
        return json.loads(self.body or b"null")

    def arg(self, name, default=None):
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class Response:
    status: int = 200
    body: object = None
    headers: dict = field(default_factory=dict)
    #: a deliberately broken answer (a test of the client's defences), not held to the service's contract
    off_contract: bool = False

    def encode(self):
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        self.headers.setdefault("Content-Type", "application/json; charset=utf-8")
        return json.dumps(self.body).encode()


class RoutedServer:
    """Register ``(method, regex) -> handler(request) -> Response`` and serve them."""

    def __init__(self):
        self._routes = []
        self._faults = []
        self._lock = threading.Lock()
        self.requests = []
        self._httpd = None
        self._thread = None
        #: seconds every routed answer waits (a slow service); fault answers do not wait for it
        self.answer_delay = 0.0
        self._in_flight = 0
        #: the most requests this server was answering at the same time
        self.max_in_flight = 0

    # -- set-up -----------------------------------------------------------
    def route(self, method, pattern, handler):
        self._routes.append((method, re.compile(f"^{pattern}$"), handler))

    def fail_next(self, count=1, status=500, body=None, headers=None, path_re=".*", delay=0.0, off_contract=False):
        """Answer the next ``count`` matching requests with an error (fault injection).

        ``off_contract``: the answer is one the real service would not give (garbage, a wrong shape) on purpose,
        to test the client's defences; fakes held to a published contract do not check it.
        """
        with self._lock:
            self._faults.append(
                {
                    "count": count,
                    "status": status,
                    "body": body if body is not None else {"message": "injected fault"},
                    "headers": headers or {},
                    "path": re.compile(path_re),
                    "delay": delay,
                    "off_contract": off_contract,
                }
            )

    def start(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # without it every loopback answer waits ~40 ms for a delayed ACK
            disable_nagle_algorithm = True

            def log_message(self, *args):  # keep test output clean
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
                payload = response.encode()
                try:
                    self.send_response(response.status)
                    for key, value in response.headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client gave up waiting (a timeout under test)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self):
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    # -- serving ------------------------------------------------------------
    def _take_fault(self, request):
        with self._lock:
            for fault in self._faults:
                if fault["count"] > 0 and fault["path"].search(request.path):
                    fault["count"] -= 1
                    return fault
        return None

    def dispatch(self, request):
        with self._lock:
            self.requests.append(request)
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            return self._answer(request)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _answer(self, request):
        fault = self._take_fault(request)
        if fault:
            if fault["delay"]:
                threading.Event().wait(fault["delay"])
            return Response(fault["status"], fault["body"], dict(fault["headers"]), fault["off_contract"])
        if self.answer_delay:
            threading.Event().wait(self.answer_delay)
        for method, pattern, handler in self._routes:
            match = pattern.match(request.path)
            if match and method == request.method:
                request.params = match.groupdict()
                try:
                    return handler(request)
                except LookupError as exc:
                    return Response(404, {"message": f"Not Found: {exc}"})
        return Response(404, {"message": "Not Found"})

    def calls(self, method=None, path_re=None):
        """Requests received, optionally filtered by method and path regex."""
        with self._lock:
            found = list(self.requests)
        if method:
            found = [r for r in found if r.method == method]
        if path_re:
            regex = re.compile(path_re)
            found = [r for r in found if regex.search(r.path)]
        return found
