"""A local HTTP server that records every request and answers as a test scripts it.

Channel tests send real HTTP over a real socket to it. For services with a fixed production host, the
`RedirectTransport` sends the request here while its Host header keeps the production host, so a test
can still assert the exact production URL (`Recorded.url`).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from mcp_push import http
from mcp_push.wire import Wire

SCHEME_HEADER = "X-Test-Original-Scheme"


@dataclass
class Recorded:
    method: str
    target: str  # path and query as sent
    headers: dict[str, str]  # names lower-cased
    body: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def raw_query(self) -> str:
        return urlsplit(self.target).query

    @property
    def query(self) -> dict[str, str]:
        """Decoded query, one value per name (the last); use `query_all` for repeated names."""
        return {k: v[-1] for k, v in self.query_all.items()}

    @property
    def query_all(self) -> dict[str, list[str]]:
        return parse_qs(self.raw_query, keep_blank_values=True)

    @property
    def url(self) -> str:
        """scheme://host/path as the client meant it, before any test redirect; no query."""
        scheme = self.headers.get(SCHEME_HEADER.lower(), "http")
        return f"{scheme}://{self.headers['host']}{self.path}"

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(self.text, keep_blank_values=True).items()}


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


def reply(status: int = 200, json_body: Any = None, text: str | None = None, delay: float = 0.0, headers=None) -> Reply:
    if json_body is not None:
        return Reply(
            status, json.dumps(json_body).encode(), {"Content-Type": "application/json", **(headers or {})}, delay
        )
    return Reply(status, (text or "").encode(), {"Content-Type": "text/plain; charset=utf-8", **(headers or {})}, delay)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # socketserver's default backlog of 5 resets connections in a 25-channel fan-out


class Recorder:
    """Records requests; answers with the reply set for the path (or the default), in order if a list."""

    def __init__(self, port: int = 0) -> None:
        self.requests: list[Recorded] = []
        self.times: list[float] = []  # monotonic arrival time of each request
        self._default: Reply | Callable[[Recorded], Reply] = reply(200, {"ok": True})
        self._routes: dict[str, list[Reply] | Reply | Callable[[Recorded], Reply]] = {}
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", port), _make_handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def respond(self, answer: Reply | list[Reply] | Callable[[Recorded], Reply], path: str | None = None) -> None:
        """Set the answer for `path` (any path when None); a list is used up in order, the last repeats."""
        with self._lock:
            if path is None:
                self._default = answer  # type: ignore[assignment]
            else:
                self._routes[path] = list(answer) if isinstance(answer, list) else answer

    def _answer(self, request: Recorded) -> Reply:
        with self._lock:
            answer = self._routes.get(request.path, self._default)
            if isinstance(answer, list):
                answer = answer.pop(0) if len(answer) > 1 else answer[0]
        return answer(request) if callable(answer) else answer

    @property
    def last(self) -> Recorded:
        assert self.requests, "the recorder received no request"
        return self.requests[-1]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _make_handler(recorder: Recorder) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = Recorded(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            recorder.requests.append(request)
            recorder.times.append(time.monotonic())
            answer = recorder._answer(request)
            if answer.delay:
                time.sleep(answer.delay)
            try:
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up first (a timeout test)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


class RedirectTransport(httpx.AsyncBaseTransport):
    """Sends every request to the recorder; the Host header (set from the original URL) stays."""

    def __init__(self, port: int) -> None:
        self._inner = Wire(http.tls_context)  # production's own transport, so the tests exercise it
        self._port = port

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.headers[SCHEME_HEADER] = request.url.scheme
        request.url = request.url.copy_with(scheme="http", host="127.0.0.1", port=self._port)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()
