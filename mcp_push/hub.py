"""The hub: `mcp-push serve --http`, one place that owns the channels and the history for every machine.

One ASGI app on the HTTP stack the `mcp` package brings (Starlette, uvicorn): `/mcp` is the stdio server's
tools and resources over streamable HTTP; `/v1/notify`, `/v1/event` and `/v1/ask` are the same front doors
for scripts (answered with the CLI's `--json` reports); `/v1/history`, `/v1/channels` and `/metrics`
(Prometheus) read; `/healthz` says only that it runs; `/v1/answer/<token>` is the page an approval link
opens. Every route goes through the one `dispatch` or `ask`, so a report is the same whichever door.

What a server on a network needs, `Guard` does before any route runs:
- every route but `/healthz` and the answer pages needs `Authorization: Bearer <token>`, compared in
  constant time (401 with `WWW-Authenticate`); a token in a query string counts for nothing. An answer
  page's own credential is its signed, single-use token, since a phone has no API token.
- a per-token rate limit (429 with `Retry-After`); bodies over 1 MiB are 413, a body that stalls is 408.
- on a loopback address the Host must be a loopback name (DNS rebinding), and `/mcp` refuses a browser
  Origin that is not the hub's own, as the MCP spec asks of local servers.
`GuardedH11` adds what uvicorn does not do by itself: a client that is slow to send its request head is
dropped, and an oversized head is 431. uvicorn caps the open connections (`limit_concurrency`, 503 past it)
and drops idle keep-alive connections. Access logs are off: a path can hold an answer token.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import ipaddress
import json
import logging
import math
import os
import secrets
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import h11
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from channels.base import Reply
from mcp_push import answers, http
from mcp_push.ask import ANSWER_PATH, LINK, Prompt, ask, prompt_for
from mcp_push.config import Config, ConfigError
from mcp_push.dispatch import UsageError, dispatch
from mcp_push.metrics import CONTENT_TYPE, Metrics
from mcp_push.models import (
    Ask,
    AskTimeout,
    ChannelNames,
    Content,
    Event,
    EventData,
    EventKind,
    Notification,
    Options,
    QuestionText,
    RunId,
    Title,
    explain,
)
from mcp_push.redact import redact, register

log = logging.getLogger("mcp_push.hub")

MAX_BODY = 1024 * 1024
MAX_HEAD = 16 * 1024  # request line and headers
HEAD_S = 10.0  # to send a request head, once connected or between requests
BODY_S = 10.0  # the longest pause inside a request body
IDLE_S = 5.0  # an idle keep-alive connection
TOKEN_FILE = "api-token"
OPEN = ("/healthz",)  # no token needed; the answer pages neither (their token is in the path)


# ---- the API token ------------------------------------------------------------------------------------


def api_tokens(config: Config) -> tuple[list[str], str | None]:
    """The tokens the hub accepts, and the one it has just made (to show once), if it had to make one:
    MCP_PUSH_API_TOKENS, else a token kept 0600 in the state directory."""
    configured = config.settings.api_tokens
    if configured:
        return configured, None
    path = config.settings.state_dir / TOKEN_FILE
    try:
        return [path.read_text(encoding="utf-8").strip()], None
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    token = f"mph_{secrets.token_urlsafe(32)}"
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:  # another hub made one this instant
        return [path.read_text(encoding="utf-8").strip()], None
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(token + "\n")
    return [token], token


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


# ---- the limits and checks every request passes -------------------------------------------------------


class RateLimit:
    """A token bucket per API token: `per_minute` requests a minute, bursts up to a minute's worth."""

    def __init__(self, per_minute: int) -> None:
        self.rate = per_minute / 60
        self.capacity = float(per_minute)
        self._buckets: dict[bytes, tuple[float, float]] = {}

    def wait(self, who: bytes) -> float:
        """0 to go ahead (and count it), else the seconds until the next request is allowed."""
        now = time.monotonic()
        level, since = self._buckets.get(who, (self.capacity, now))
        level = min(self.capacity, level + (now - since) * self.rate)
        if level < 1:
            self._buckets[who] = (level, now)
            return (1 - level) / self.rate
        self._buckets[who] = (level - 1, now)
        return 0.0


def problem(status: int, message: str, **headers: str) -> JSONResponse:
    return JSONResponse({"error": redact(message)}, status_code=status, headers=headers)


class Guard:
    """Authentication, rate limit, body limits and Host/Origin checks, around the whole app."""

    def __init__(self, app: ASGIApp, hub: Hub) -> None:
        self.app = app
        self.hub = hub

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        path: str = scope["path"]
        head = (
            len(scope.get("raw_path") or b"")
            + len(scope["query_string"])
            + sum(len(name) + len(value) + 4 for name, value in scope["headers"])
        )
        refusal = problem(431, "the request head is too large") if head > MAX_HEAD else self._refusal(headers, path)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.app(scope, _bounded(receive, headers), send)

    def _refusal(self, headers: Headers, path: str) -> Response | None:
        hub = self.hub
        if hub.hosts is not None and headers.get("host", "").lower() not in hub.hosts:
            return problem(421, "this hub answers to its loopback address only (Host header)")
        length = headers.get("content-length")
        if length is not None and not length.isdigit():
            return problem(400, "Content-Length must be a number")
        if length is not None and int(length) > MAX_BODY:
            return problem(413, f"the body is over the limit of {MAX_BODY // 1024} KiB")
        if path in OPEN or path.startswith(ANSWER_PATH):
            return None
        scheme, _, token = headers.get("authorization", "").partition(" ")
        token = token.strip()
        who = _digest(token)
        valid = False
        for known in hub.digests:  # every one compared, so the time says nothing about which matched
            valid |= hmac.compare_digest(who, known)
        if scheme.lower() != "bearer" or not token or not valid:
            challenge = {"WWW-Authenticate": 'Bearer realm="mcp-push"' + (', error="invalid_token"' if token else "")}
            return problem(401, "a valid API token is needed: Authorization: Bearer <token>", **challenge)
        wait = hub.limit.wait(who)
        if wait:
            return problem(429, "too many requests for this token; slow down", **{"Retry-After": str(math.ceil(wait))})
        origin = headers.get("origin")
        if path.startswith("/mcp") and origin is not None and origin.rstrip("/").lower() not in hub.origins:
            return problem(403, "this Origin may not use the MCP endpoint (DNS rebinding protection)")
        return None


def _bounded(receive: Receive, headers: Headers) -> Receive:
    """The request body as it arrives, at most MAX_BODY bytes, with no pause longer than BODY_S."""
    seen = 0

    async def bounded() -> Message:
        nonlocal seen
        try:
            message = await asyncio.wait_for(receive(), BODY_S)
        except asyncio.TimeoutError:
            raise HTTPException(408, f"the body stalled for {BODY_S:g} s") from None
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > MAX_BODY:
                raise HTTPException(413, f"the body is over the limit of {MAX_BODY // 1024} KiB")
        return message

    return bounded


class GuardedH11(H11Protocol):
    """uvicorn's h11 protocol, plus: a request head must arrive within HEAD_S (uvicorn waits forever for a
    connection's first request, and for one begun but never finished), and an oversized head gets 431
    (uvicorn answers every protocol error with 400)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_timer: asyncio.TimerHandle | None = self.loop.call_later(HEAD_S, self._too_slow)
        self._error: h11.RemoteProtocolError | None = None
        parse = self.conn.next_event

        def next_event() -> Any:
            try:
                return parse()
            except h11.RemoteProtocolError as exc:
                self._error = exc
                raise

        self.conn.next_event = next_event  # type: ignore[method-assign]

    def data_received(self, data: bytes) -> None:
        idle = self.cycle is None or self.cycle.response_complete
        if idle and self._head_timer is None:
            self._head_timer = self.loop.call_later(HEAD_S, self._too_slow)
        super().data_received(data)
        if self.cycle is not None and not self.cycle.response_complete and self._head_timer is not None:
            self._head_timer.cancel()  # the head is in; the body has its own limit (BODY_S)
            self._head_timer = None

    def connection_lost(self, exc: Exception | None) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        super().connection_lost(exc)

    def _too_slow(self) -> None:
        self._head_timer = None
        if self.cycle is None or self.cycle.response_complete:
            self.transport.close()

    def send_400_response(self, msg: str) -> None:
        if self._error is None or self._error.error_status_hint != 431:
            super().send_400_response(msg)
            return
        headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close")]
        for event in (
            h11.Response(status_code=431, headers=headers, reason=b"Request Header Fields Too Large"),
            h11.Data(data=b"Request header fields too large"),
            h11.EndOfMessage(),
        ):
            self.transport.write(self.conn.send(event))
        self.transport.close()


# ---- the request bodies --------------------------------------------------------------------------------


class NotifyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    content: Content
    channels: ChannelNames = None
    run_id: RunId | None = None
    event: EventKind | None = None


class EventBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    run_id: RunId
    event: EventKind
    message: Content
    data: EventData = None
    timestamp: Any = None
    channels: ChannelNames = None


class AskBody(BaseModel):
    """A question as `notify.ask` takes it; a forwarding mcp-push also says how the outcome reads."""

    model_config = ConfigDict(extra="forbid")

    question: QuestionText
    options: Options = Field(default_factory=lambda: ["Yes", "No"])
    timeout_seconds: AskTimeout = None
    title: Title | None = None
    channels: ChannelNames = None
    verdicts: list[str] = Field(default_factory=list, max_length=4)
    expired: str | None = Field(None, max_length=200)
    elsewhere: str | None = Field(None, max_length=200)
    fallback: bool = True


# ---- the hub -------------------------------------------------------------------------------------------


class Hub:
    def __init__(self, config: Config, *, host: str = "127.0.0.1", port: int = 8765, tokens: list[str]) -> None:
        from mcp.server.transport_security import TransportSecuritySettings

        from mcp_push.server import PushServer

        self.config = config
        self.metrics = Metrics(config.store)
        config.watchers.append(self.metrics)
        self.digests = [_digest(t) for t in tokens]
        self.limit = RateLimit(config.settings.MCP_PUSH_API_RATE)
        self.collector = answers.Collector(config.store, answers.load_key(config.settings.state_dir))
        public = urlsplit(config.settings.MCP_PUSH_PUBLIC_URL) if config.settings.MCP_PUSH_PUBLIC_URL else None
        names = ["127.0.0.1", "localhost", "[::1]"]
        self.hosts: set[str] | None = None
        if loopback(host):  # DNS rebinding: a page that names us by another host gets nowhere
            self.hosts = {f"{n}:{port}" for n in names} | ({public.netloc.lower()} if public else set())
        self.origins = {f"{s}://{n}:{port}" for s in ("http", "https") for n in names}
        if public:
            self.origins.add(f"{public.scheme}://{public.netloc}".lower())
        # Sessions share the one re-delivery worker the hub runs; the Guard already checked Host and Origin.
        self.server = PushServer(config, redeliver=False)
        self.server.settings.transport_security = TransportSecuritySettings(enable_dns_rebinding_protection=False)

    def app(self) -> ASGIApp:
        mcp_routes = self.server.streamable_http_app().routes
        routes = [
            *mcp_routes,
            Route("/healthz", self.healthz, methods=["GET"]),
            Route("/metrics", self.metrics_page, methods=["GET"]),
            Route("/v1/notify", self.notify, methods=["POST"]),
            Route("/v1/event", self.event, methods=["POST"]),
            Route("/v1/ask", self.ask, methods=["POST"]),
            Route("/v1/history", self.history, methods=["GET"]),
            Route("/v1/channels", self.channels, methods=["GET"]),
            Route(f"{ANSWER_PATH}{{token}}", self.answer_page, methods=["GET", "POST"]),
        ]
        handlers = {HTTPException: self._http_error, ClientDisconnect: self._gone, Exception: self._crash}
        app = Starlette(routes=routes, lifespan=self._lifespan, exception_handlers=handlers)  # type: ignore[arg-type]
        return Guard(app, self)

    @asynccontextmanager
    async def _lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        from mcp_push.handoff import Listener

        workers = [self.server.redeliver_pending(), Listener(self.config).run()]
        tasks = [asyncio.ensure_future(worker) for worker in workers]
        try:
            async with self.server.session_manager.run():
                yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await http.aclose()

    # ---- errors ------------------------------------------------------------------------------------

    async def _http_error(self, request: Request, exc: HTTPException) -> Response:
        text = {404: "no such route", 405: f"{request.method} is not allowed here"}.get(exc.status_code, exc.detail)
        return problem(exc.status_code, str(text), **(exc.headers or {}))

    async def _gone(self, request: Request, exc: Exception) -> Response:
        """The client left, or its body broke off (bad chunking): uvicorn has answered it, if anyone."""
        log.debug("%s %s: the client left before its body was in", request.method, request.url.path)
        return Response(status_code=400)

    async def _crash(self, request: Request, exc: Exception) -> Response:
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return problem(500, "the hub failed inside; the details are in its log")

    # ---- routes ------------------------------------------------------------------------------------

    async def healthz(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def metrics_page(self, request: Request) -> Response:
        return Response(await asyncio.to_thread(self.metrics.text), media_type=CONTENT_TYPE)

    async def notify(self, request: Request) -> Response:
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind == "application/json":
            body = await _model(request, NotifyBody)
            note = Notification(title=body.title, content=body.content, run_id=body.run_id, event=body.event)
            channels = body.channels
        else:  # ntfy-style: the body is the message, the title in a header
            raw = await request.body()
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                return problem(400, "the body is not UTF-8 text")
            title = _header_text(request.headers.get("title") or request.headers.get("x-title") or "mcp-push")
            channels = [c for c in (request.headers.get("x-channels") or "").split(",") if c.strip()] or None
            note = _valid(lambda: Notification(title=title, content=text))
        return await self._deliver(note, channels)

    async def event(self, request: Request) -> Response:
        body = await _model(request, EventBody)
        fields = body.model_dump(exclude={"channels"})
        note = _valid(lambda: Event(**fields).to_notification())
        return await self._deliver(note, body.channels)

    async def _deliver(self, note: Notification, channels: list[str] | None) -> Response:
        try:
            report = await dispatch(self.config, note, channels, source="http")
        except UsageError as exc:
            return problem(400, str(exc))
        status = 502 if report.status == "failed" else 200
        return Response(redact(report.model_dump_json()), status_code=status, media_type="application/json")

    async def ask(self, request: Request) -> Response:
        body = await _model(request, AskBody)
        fields = {"question": body.question, "options": body.options, "timeout_seconds": body.timeout_seconds}
        request_ask = _valid(lambda: Ask(**fields, title=body.title))
        prompt = prompt_for(request_ask, self.config.settings)
        extra: dict[str, Any] = {"verdicts": tuple(body.verdicts)}
        if body.expired:
            extra["expired"] = body.expired
        if body.elsewhere:
            extra["fallback"] = body.elsewhere
        prompt = Prompt(prompt.note, prompt.choices, prompt.timeout, **extra)
        try:
            result = await ask(self.config, prompt, channels=body.channels, source="http", fallback=body.fallback)
        except UsageError as exc:
            return problem(400, str(exc))
        return Response(redact(result.model_dump_json(exclude_none=True)), media_type="application/json")

    async def history(self, request: Request) -> Response:
        query = request.query_params
        try:
            limit = int(query.get("limit", "20"))
        except ValueError:
            return problem(400, "limit must be a whole number")
        if not 1 <= limit <= 500:
            return problem(400, "limit must be between 1 and 500")
        failed = query.get("failed", "").lower() in ("1", "true", "yes")
        entries = await asyncio.to_thread(
            self.config.store.history, limit=limit, failed=failed, run_id=query.get("run"), channel=query.get("channel")
        )
        return Response(redact(json.dumps(entries, ensure_ascii=False)), media_type="application/json")

    async def channels(self, request: Request) -> Response:
        from mcp_push.catalog import describe

        return JSONResponse(await asyncio.to_thread(describe, self.config))

    async def answer_page(self, request: Request) -> Response:
        """GET shows the question and its choices and changes nothing (chat apps and mail scanners fetch
        links); the page's form POSTs the answer. Plain HTML, no script."""
        token = request.path_params["token"]
        found = await self.collector.peek(token)
        if found is None:
            return _page(404, "Not an answer link", "<p>This link is not a valid answer, or its question is gone.</p>")
        row, index = found
        if request.method == "POST":
            client = request.client.host if request.client else "somewhere"
            reply = Reply(token, frozenset([LINK]), sender=f"an answer page, from {client}")
            taken, line = await self.collector.judge(LINK, reply)
            if taken:
                recorded = f"<p class=done>Recorded: <b>{html.escape(row['choices'][index])}</b>.</p>"
                return _page(200, "Answer recorded", recorded)
            return _page(409, "Not accepted", f"<p>{html.escape(line)}</p>")
        note = await self.config.store.run(self.config.store.note, row["notification_id"]) or {}
        title, content = note.get("title", "Question"), note.get("content", "")
        head = f"<h1>{html.escape(title)}</h1><pre>{html.escape(content)}</pre>"
        if row["status"] != "waiting" or row["expires"] < time.time():
            closed = f"answered “{row['answer']}”" if row["status"] == "answered" else "no longer waiting for an answer"
            return _page(410, title, f"{head}<p>This question is {html.escape(closed)}.</p>")
        forms = []
        for i, choice in sorted(enumerate(row["choices"]), key=lambda pair: pair[0] != index):
            link = answers.sign(self.collector.key, row["id"], i, choice, row["expires"])
            mark = " class=picked" if i == index else ""
            forms.append(
                f'<form method=post action="{ANSWER_PATH}{link}"><button{mark} type=submit>'
                f"{html.escape(choice)}</button></form>"
            )
        return _page(200, title, f"{head}<p>Your answer:</p>{''.join(forms)}")


async def _model(request: Request, model: type[BaseModel]) -> Any:
    raw = await request.body()
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise HTTPException(400, f"the body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise HTTPException(400, "the body must be a JSON object")
    return _valid(lambda: model.model_validate(data))


def _valid(build: Callable[[], Any]) -> Any:
    try:
        return build()
    except ValidationError as exc:
        raise HTTPException(400, f"invalid input: {explain(exc)}") from None
    except (TypeError, ValueError) as exc:
        raise HTTPException(400, f"invalid input: {exc}") from None


def _header_text(value: str) -> str:
    """HTTP headers arrive as Latin-1; a client that sent UTF-8 bytes (curl does) meant UTF-8."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


PAGE = """<!doctype html><html lang=en><head><meta charset=utf-8>
<meta name=viewport content="width=device-width,initial-scale=1"><title>{title} · mcp-push</title>
<style>body{{font:17px/1.45 system-ui,sans-serif;max-width:34em;margin:1.5em auto;padding:0 1em}}
pre{{white-space:pre-wrap;background:#f4f4f4;padding:.75em;border-radius:6px}}
button{{font-size:1.1em;width:100%;padding:.8em;margin:.3em 0;border-radius:8px;border:1px solid #888;background:#fff}}
button.picked{{background:#1a73e8;color:#fff;border-color:#1a73e8}}.done{{font-size:1.3em}}</style></head>
<body>{body}</body></html>"""
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _page(status: int, title: str, body: str) -> HTMLResponse:
    return HTMLResponse(PAGE.format(title=html.escape(title), body=body), status_code=status, headers=PAGE_HEADERS)


# ---- running it ----------------------------------------------------------------------------------------


def build(
    config: Config,
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    tls_cert: Path | None = None,
    tls_key: Path | None = None,
) -> Any:
    """The hub as a `uvicorn.Server`, its API token made (and shown once) if none is configured."""
    import uvicorn

    if not loopback(host) and not config.settings.api_tokens:
        raise ConfigError(
            f"listening on {host} needs MCP_PUSH_API_TOKENS set: a hub other machines can reach must not rely on a "
            "generated token nobody chose"
        )
    if bool(tls_cert) != bool(tls_key):
        raise ConfigError("--tls-cert and --tls-key go together")
    tokens, made = api_tokens(config)
    register(*tokens)
    scheme = "https" if tls_cert else "http"
    if made:  # shown once, to the person starting the hub; never logged
        print(
            f"mcp-push hub: made an API token and kept it in {config.settings.state_dir / TOKEN_FILE} (0600):\n"
            f"    {made}\nSend it as `Authorization: Bearer <token>`; on another machine set "
            f"MCP_PUSH_SERVER={scheme}://<this host>:{port} and MCP_PUSH_API_TOKEN=<token>.",
            file=sys.stderr,
            flush=True,
        )
    hub = Hub(config, host=host, port=port, tokens=tokens)
    return uvicorn.Server(
        uvicorn.Config(
            hub.app(),
            host=host,
            port=port,
            http=GuardedH11,
            lifespan="on",
            access_log=False,
            log_config=None,
            ssl_certfile=str(tls_cert) if tls_cert else None,
            ssl_keyfile=str(tls_key) if tls_key else None,
            limit_concurrency=config.settings.MCP_PUSH_API_CONNECTIONS,
            timeout_keep_alive=int(IDLE_S),
            timeout_graceful_shutdown=30,
            h11_max_incomplete_event_size=MAX_HEAD,
            server_header=False,
        )
    )


def serve_http(config: Config, **where: Any) -> None:
    """Run the hub until SIGINT/SIGTERM: in-flight requests finish, pending deliveries stay pending."""
    server = build(config, **where)
    log.info("mcp-push hub on %s:%s", server.config.host, server.config.port)
    server.run()
