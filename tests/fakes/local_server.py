"""A real HTTP server on loopback that tests script to answer like arXiv, Hugging Face
or GitHub, including their failures, and that records every request it receives."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from pipeline.http_session import PoliteSession


@dataclass(frozen=True)
class Request:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    at: float
    method: str = "GET"
    body: bytes = b""

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


@dataclass
class Reply:
    status: int = 200
    body: str | bytes = ""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/plain; charset=utf-8"
    delay_s: float = 0.0
    trickle_s: float = 0.0  # wait between bytes of the body: a server that trickles


Handler = Callable[[Request], Reply]


class LocalServer:
    """Routes a path to a handler; `queue(path, *replies)` serves scripted replies first
    (e.g. a 503 then a normal answer) before falling back to the handler."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self._routes: dict[str, Handler] = {}
        self._prefixes: dict[str, Handler] = {}
        self._queued: dict[str, list[Reply]] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def route(self, path: str, handler: Handler) -> None:
        self._routes[path] = handler

    def route_prefix(self, prefix: str, handler: Handler) -> None:
        """`handler` answers every path under `prefix` that has no route of its own."""
        self._prefixes[prefix] = handler

    def queue(self, path: str, *replies: Reply) -> None:
        with self._lock:
            self._queued.setdefault(path, []).extend(replies)

    def requests_to(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    def start(self) -> LocalServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _reply_for(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            queued = self._queued.get(request.path)
            if queued:
                return queued.pop(0)
        handler = self._routes.get(request.path) or next(
            (h for p, h in self._prefixes.items() if request.path.startswith(p)), None
        )
        if handler is None:
            return Reply(404, f"no route for {request.path}")
        return handler(request)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.do_GET()

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(
                    path=parts.path,
                    query=parse_qs(parts.query, keep_blank_values=True),
                    headers=dict(self.headers.items()),
                    at=time.monotonic(),
                    method=self.command,
                    body=self.rfile.read(length) if length else b"",
                )
                reply = server._reply_for(request)
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                body = reply.body.encode() if isinstance(reply.body, str) else reply.body
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type)
                    self.send_header("Content-Length", str(len(body)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    if not reply.trickle_s:
                        self.wfile.write(body)
                    for index in range(len(body) if reply.trickle_s else 0):
                        self.wfile.write(body[index : index + 1])
                        self.wfile.flush()
                        time.sleep(reply.trickle_s)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (e.g. its timeout), as real clients do

            def log_message(self, *args: object) -> None:
                pass

        return _Handler


def quick_session(**overrides: object) -> PoliteSession:
    """A polite client with test-sized waits (override any field), identified as a test."""
    options: dict[str, object] = {
        "user_agent": "papers-warehouse-test (+mailto:test@example.org)",
        "min_interval_s": 0.05,
        "timeout_s": 0.5,
        "max_retries": 3,
        "backoff_base_s": 0.01,
        "max_backoff_s": 2.0,
    }
    options.update(overrides)
    return PoliteSession(**options)  # type: ignore[arg-type]
