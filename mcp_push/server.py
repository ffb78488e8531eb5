"""The MCP front door: FastMCP over stdio with `notify.send` and `notify.event`.

It parses, calls `dispatch`, and renders the report: structured (the `DeliveryReport`, with an
`outputSchema`) plus a short text. Clients disagree about dots in tool names, so the other spelling
is always accepted on call and `MCP_PUSH_TOOL_NAMES` chooses which one is listed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
import typing
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import datetime
from io import TextIOWrapper
from typing import IO, Annotated, Any

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp import types
from mcp.server.fastmcp import Context, FastMCP
from mcp.server.fastmcp.exceptions import ToolError
from mcp.shared.message import SessionMessage
from mcp.types import CallToolResult, LoggingLevel, TextContent, ToolAnnotations
from pydantic import BaseModel, Field, ValidationError
from pydantic_core import PydanticSerializationError

from mcp_push import __version__, http
from mcp_push.config import Config
from mcp_push.dispatch import UsageError, dispatch, redeliver
from mcp_push.models import (
    ChannelNames,
    Content,
    DeliveryReport,
    Event,
    EventData,
    EventKind,
    Notification,
    RunId,
    Title,
    explain,
)
from mcp_push.redact import redact

log = logging.getLogger("mcp_push")

WHEN = (
    "Call it when a long-running task has finished (success or failure) or when the user must act "
    "(approve, answer a question, fix something). Do not push routine progress, 'start' or 'update' "
    "events unless the user asked to follow progress. One push per outcome; never retry in a loop."
)
INSTRUCTIONS = (
    "mcp-push delivers push notifications to the user's phone, desktop and chat apps (Telegram, DingTalk, "
    f"e-mail, ntfy, ...), wherever the user configured. {WHEN} Keep the title short and specific; put the "
    "outcome and the next step in the content. The result reports delivery per channel."
)
SEND_DOC = f"Push a notification to the user. {WHEN}"
EVENT_DOC = (
    "Report a lifecycle event of a job (run_id) as a push notification: 'end' when it finished, 'error' "
    "when it failed, 'start'/'update' only if the user asked to follow progress. The title shows the "
    f"event and run_id at a glance; data is shown as key: value lines. {WHEN}"
)
ANNOTATIONS = ToolAnnotations(readOnlyHint=False, destructiveHint=False, idempotentHint=False, openWorldHint=True)
NAMES = {"send": ("notify.send", "notify_send"), "event": ("notify.event", "notify_event")}

# MCP's syslog-style levels, mapped onto Python's numbers for comparison.
LEVELS: dict[str, int] = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "notice": logging.INFO + 5,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
    "alert": logging.CRITICAL + 5,
    "emergency": logging.CRITICAL + 10,
}

Report = Annotated[CallToolResult, DeliveryReport]


def render(report: DeliveryReport) -> str:
    lines = [report.summary]
    for r in report.results:
        lines.append(f"✓ {r.name} ({r.elapsed_ms} ms)" if r.ok else f"✗ {r.name}: {r.error}")
    return "\n".join(lines)


def tool_result(report: DeliveryReport) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(type="text", text=redact(render(report)))],
        structuredContent=report.model_dump(mode="json"),
        isError=not report.delivered,
    )


def _not_alias_warning(record: logging.LogRecord) -> bool:
    """The SDK warns on every call to a name it did not list; notify_send/notify_event are such calls by
    design (see NAMES), so that warning is noise, once per call."""
    return "not listed, no validation" not in record.getMessage()


class Refused(Exception):
    """A call that cannot be served as asked; its text goes back to the agent as the whole error."""


def error_result(message: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=redact(message))], isError=True)


class PushServer(FastMCP):
    def __init__(self, config: Config) -> None:
        super().__init__("mcp-push", instructions=INSTRUCTIONS, log_level="WARNING", lifespan=self._lifespan)
        self._mcp_server.version = __version__
        self.config = config
        self.client_level = logging.WARNING
        listed = 0 if config.settings.MCP_PUSH_TOOL_NAMES == "dotted" else 1
        self.aliases = {names[1 - listed]: names[listed] for names in NAMES.values()}
        self.add_tool(self.send, NAMES["send"][listed], description=SEND_DOC, annotations=ANNOTATIONS)
        self.add_tool(self.event, NAMES["event"][listed], description=EVENT_DOC, annotations=ANNOTATIONS)
        self._mcp_server.set_logging_level()(self.set_client_level)
        self.resource(
            "mcp-push://channels",
            name="channels",
            mime_type="application/json",
            description=(
                "Every channel: configured or not, its variables (secrets masked) and any configuration problem."
            ),
        )(self.channels_resource)
        self.resource(
            "mcp-push://history",
            name="history",
            mime_type="application/json",
            description=("The 20 latest notifications with each channel's outcome and what is pending re-delivery."),
        )(self.history_resource)
        logging.getLogger("mcp.server.lowlevel.server").addFilter(_not_alias_warning)  # once: same function

    @asynccontextmanager
    async def _lifespan(self, _app: FastMCP) -> AsyncIterator[dict]:
        worker = asyncio.create_task(self._redeliver_pending())
        try:
            yield {}
        finally:
            worker.cancel()
            with suppress(asyncio.CancelledError):
                await worker

    async def _redeliver_pending(self) -> None:
        """Re-send what failed for a passing reason, so a notification sent offline arrives once the
        network is back. Runs for the life of the server; each pass claims only what is due."""
        settings = self.config.settings
        if not settings.MCP_PUSH_HISTORY:
            return
        while True:
            await asyncio.sleep(min(settings.MCP_PUSH_PENDING_BACKOFF, 30))
            if not self.config.channels:  # looked at only now: channels load after `initialize`
                return
            try:
                claims = await asyncio.to_thread(
                    self.config.store.claim, horizon_s=settings.MCP_PUSH_PENDING_HOURS * 3600
                )
                for claim in claims:
                    report = await redeliver(self.config, claim)
                    log.info("re-sent #%s: %s", claim.id, report.summary)
            except Exception as exc:  # noqa: BLE001 - keep trying on the next pass
                log.warning("re-delivery pass failed: %s", redact(str(exc)))

    async def channels_resource(self) -> str:
        from mcp_push.catalog import describe

        return json.dumps(describe(self.config), ensure_ascii=False, indent=2)

    async def history_resource(self) -> str:
        entries = await asyncio.to_thread(self.config.store.history, limit=20)
        return redact(json.dumps(entries, ensure_ascii=False, indent=2))

    async def set_client_level(self, level: LoggingLevel) -> None:
        self.client_level = LEVELS[level]

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> Any:
        name = self.aliases.get(name, name)
        tool = self._tool_manager.get_tool(name)
        if tool is None:  # quoted and cut short: the name is whatever the client sent, megabytes included
            listed = " and ".join(t.name for t in self._tool_manager.list_tools())
            return error_result(f"Unknown tool: {_brief(name)!r}; this server has {listed}")
        try:
            return await super().call_tool(name, arguments)
        except ToolError as exc:
            if isinstance(exc.__cause__, Refused):
                return error_result(str(exc.__cause__))
            if isinstance(exc.__cause__, ValidationError):  # `field: rule` lines, not pydantic's class names
                return error_result(f"Invalid arguments for {name}: {explain(exc.__cause__)}")
            # A bug, not bad input: the details go to stderr, the agent gets one line without internals.
            log.error("%s failed", name, exc_info=exc.__cause__)
            return error_result(f"{name} failed inside mcp-push; the details are in its log. Please report it.")

    async def send(self, title: Title, content: Content, ctx: Context, channels: ChannelNames = None) -> Report:
        return await self._deliver(Notification(title=title, content=content), channels, ctx)

    async def event(
        self,
        run_id: RunId,
        event: EventKind,
        message: Content,
        ctx: Context,
        data: EventData = None,
        timestamp: Annotated[datetime | None, Field(description="ISO 8601 time of the event; default now.")] = None,
        channels: ChannelNames = None,
    ) -> Report:
        note = Event(run_id=run_id, event=event, message=message, data=data, timestamp=timestamp).to_notification()
        return await self._deliver(note, channels, ctx)

    async def _deliver(self, note: Notification, channels: list[str] | None, ctx: Context) -> CallToolResult:
        try:
            report = await dispatch(self.config, note, channels, source="mcp", progress=self._progress(ctx))
        except UsageError as exc:
            raise Refused(str(exc)) from None
        for r in report.results:
            level = "info" if r.ok else "warning"
            text = f"{r.name}: delivered in {r.elapsed_ms} ms" if r.ok else f"{r.name}: {r.error}"
            await self._client_log(ctx, level, text)
        return tool_result(report)

    @staticmethod
    def _progress(ctx: Context):
        """One progress step per finished channel, sent only if the client asked (a progressToken)."""

        async def report(done: int, total: int, result) -> None:
            state = "delivered" if result.ok else f"failed: {result.error}"
            await ctx.report_progress(done, total, message=redact(f"{result.name} {state}"))

        return report

    async def _client_log(self, ctx: Context, level: LoggingLevel, text: str) -> None:
        """Send a log notification if the client's `logging/setLevel` lets this level through."""
        if LEVELS[level] >= self.client_level:
            await ctx.session.send_log_message(level=level, data=redact(text), logger="mcp-push")

    async def run_stdio_async(self) -> None:
        # Keep the real stdout for JSON-RPC alone; any stray print() anywhere lands on stderr instead.
        out = anyio.wrap_file(TextIOWrapper(sys.stdout.buffer, encoding="utf-8", errors="replace"))
        sys.stdout = sys.stderr
        # The session answers initialize itself; every other method needs a handler here.
        handled = {m for m, kind in REQUESTS.items() if kind in self._mcp_server.request_handlers} | {"initialize"}
        try:
            async with stdio_transport(sys.stdin.buffer, out, Gate(handled)) as (read_stream, write_stream):
                await self._mcp_server.run(read_stream, write_stream, self._mcp_server.create_initialization_options())
        finally:
            await http.aclose()


# The stdio transport. The SDK's own reader hands anything it cannot parse (bad JSON, params of the wrong
# type, a batch) to the session as an exception, which answers nothing (a client waiting on that id hangs)
# and logs the whole input with pydantic's text; it answers an unknown method or bad params with a bare
# -32602 "Invalid request parameters". This one answers every bad request itself with a specific JSON-RPC
# error (-32700, -32600, -32601, -32602), drops bad notifications and stray responses, and passes on only
# messages the session can take. It reads bytes and decodes them leniently: invalid UTF-8 becomes U+FFFD.

MAX_MESSAGE_BYTES = 4 * 1024 * 1024  # one line of JSON; the tools' own limits are far below this
MAX_DEPTH = 100  # nesting of arrays and objects, envelope included
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
ERROR_NAMES = {types.PARSE_ERROR: "Parse error", types.INVALID_REQUEST: "Invalid Request"}
ERROR_NAMES |= {types.METHOD_NOT_FOUND: "Method not found", types.INVALID_PARAMS: "Invalid params"}


def _methods(union: type[BaseModel]) -> dict[str, type[BaseModel]]:
    kinds = typing.get_args(union.model_fields["root"].annotation)
    return {typing.get_args(kind.model_fields["method"].annotation)[0]: kind for kind in kinds}


REQUESTS = _methods(types.ClientRequest)
NOTIFICATIONS = _methods(types.ClientNotification)
JSON_KINDS = {type(None): "null", bool: "a boolean", str: "a string"}


class Rejected(Exception):
    """A message that does not reach the session: answered with `reply`, or (notifications, responses) dropped."""

    def __init__(self, reply: dict[str, Any] | None, why: str = "") -> None:
        super().__init__(why or (reply or {}).get("error", {}).get("message", ""))
        self.reply = reply


def _brief(value: object, limit: int = 80) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[:limit] + "…"


def _shape_problem(value: object) -> str | None:
    """What the session could not take: nesting past MAX_DEPTH (walked without recursion), or an object key
    with a lone surrogate (the SDK cannot serialize one, and answers only a bare "Invalid request parameters")."""
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list) and level > MAX_DEPTH:
            return f"the message is nested deeper than {MAX_DEPTH} levels"
        if isinstance(item, dict):
            for key in item:
                if LONE_SURROGATE.search(key):
                    return f"the object key {key!r} contains an unpaired surrogate (invalid Unicode)"
            stack.extend((child, level + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, level + 1) for child in item)
    return None


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


class Gate:
    """Checks each incoming line; tracks the lifecycle and the requests the server itself sent."""

    def __init__(self, handled: set[str]) -> None:
        self.handled = handled
        self.initialized = False
        self.awaiting: set[str] = set()  # ids of requests sent to the client, so a response can be matched

    def sent(self, item: SessionMessage | dict[str, Any]) -> None:
        if isinstance(item, SessionMessage) and isinstance(item.message.root, types.JSONRPCRequest):
            self.awaiting.add(str(item.message.root.id))

    def admit(self, line: bytes | None) -> types.JSONRPCMessage:
        """The message to pass on, or `Rejected` with the error reply (if the sender may get one)."""
        if line is None:
            limit = MAX_MESSAGE_BYTES // (1024 * 1024)
            raise Rejected(self.error(None, types.INVALID_REQUEST, f"the message is larger than {limit} MiB"))
        text = line.decode("utf-8", errors="replace").strip(" \t\r\n")
        if not text:
            raise Rejected(None, "blank line")
        try:
            data = json.loads(text, parse_constant=_no_constant)
        except RecursionError:
            raise Rejected(self.error(None, types.PARSE_ERROR, f"nested deeper than {MAX_DEPTH} levels")) from None
        except ValueError as exc:  # JSONDecodeError, NaN, an integer of more than 4,300 digits
            raise Rejected(self.error(None, types.PARSE_ERROR, str(exc))) from None
        if isinstance(data, list):
            raise Rejected(self.error(None, types.INVALID_REQUEST, "batches are not supported; send one per line"))
        if not isinstance(data, dict):
            kind = JSON_KINDS.get(type(data), "a number")
            raise Rejected(self.error(None, types.INVALID_REQUEST, f"expected a JSON object, got {kind}"))
        return self._check(data)

    def _check(self, data: dict[str, Any]) -> types.JSONRPCMessage:
        raw_id = data.get("id")
        valid_id = isinstance(raw_id, str) or (isinstance(raw_id, int) and not isinstance(raw_id, bool))
        reply_id = raw_id if valid_id else None
        method = data.get("method")
        notification = "method" in data and "id" not in data
        response = "method" not in data and ("result" in data or "error" in data)

        def refuse(code: int, message: str) -> Rejected:
            if notification or response:  # JSON-RPC never answers these
                return Rejected(None, message)
            return Rejected(self.error(reply_id, code, message))

        if data.get("jsonrpc") != "2.0":
            raise refuse(types.INVALID_REQUEST, 'jsonrpc must be "2.0"')
        if "id" in data and not valid_id:
            raise refuse(types.INVALID_REQUEST, "id must be a string or an integer")
        if "method" not in data and not response:
            raise refuse(types.INVALID_REQUEST, "method is missing")
        if "method" in data and not isinstance(method, str):
            raise refuse(types.INVALID_REQUEST, "method must be a string")
        if data.get("params") is not None and not isinstance(data["params"], dict):
            raise refuse(types.INVALID_PARAMS, "params must be an object")
        if problem := _shape_problem(data):
            raise refuse(types.INVALID_REQUEST, _brief(problem, 200))

        if response:
            if str(raw_id) not in self.awaiting:
                raise Rejected(None, f"response to unknown request id {_brief(raw_id)}")
            self.awaiting.discard(str(raw_id))
        elif notification:
            kind = NOTIFICATIONS.get(method)
            if kind is None:
                raise Rejected(None, f"unknown notification {_brief(method)}")
            try:
                kind.model_validate({"method": method, "params": data.get("params")})
            except ValidationError as exc:
                raise Rejected(None, f"invalid {method}: {explain(exc)}") from None
            if method == "notifications/initialized":
                self.initialized = True
            elif not self.initialized:
                raise Rejected(None, f"{method} before initialization")
        else:
            kind = REQUESTS.get(method) if method in self.handled else None
            if kind is None:
                raise refuse(types.METHOD_NOT_FOUND, _brief(method))
            params = {"params": data["params"]} if data.get("params") is not None else {}
            try:
                kind.model_validate({"method": method, **params})
            except ValidationError as exc:
                # pydantic names the params class ("or instance of CallToolRequestParams"); the client needs the rule.
                problem = re.sub(r" or instance of \w+", "", explain(exc))
                raise refuse(types.INVALID_PARAMS, f"{method}: {problem}") from None
            if method == "initialize":
                self.initialized = True
            elif method != "ping" and not self.initialized:
                raise refuse(types.INVALID_REQUEST, f"{method} before initialize; send initialize first")
        try:
            return types.JSONRPCMessage.model_validate(data)
        except ValidationError as exc:  # pragma: no cover - the checks above cover the envelope
            raise refuse(types.INVALID_REQUEST, explain(exc)) from None

    @staticmethod
    def error(reply_id: str | int | None, code: int, message: str) -> dict[str, Any]:
        text = f"{ERROR_NAMES[code]}: {message}"
        return {"jsonrpc": "2.0", "id": reply_id, "error": {"code": code, "message": text}}


Streams = tuple[MemoryObjectReceiveStream[SessionMessage | Exception], MemoryObjectSendStream[SessionMessage]]


def json_line(item: SessionMessage | dict[str, Any]) -> str:
    """One line of JSON for stdout; text the client sent back with a lone surrogate gets U+FFFD there."""
    if isinstance(item, SessionMessage):
        try:
            return item.message.model_dump_json(by_alias=True, exclude_none=True) + "\n"
        except PydanticSerializationError:  # lone surrogates cannot be encoded as UTF-8
            item = item.message.model_dump(mode="json", by_alias=True, exclude_none=True)
    return LONE_SURROGATE.sub("\ufffd", json.dumps(item, ensure_ascii=False, separators=(",", ":"))) + "\n"


async def read_lines(stdin: IO[bytes]) -> AsyncIterator[bytes | None]:
    """Lines as bytes until EOF; None for a line over MAX_MESSAGE_BYTES, which is skipped without keeping it."""
    while line := await anyio.to_thread.run_sync(stdin.readline, MAX_MESSAGE_BYTES + 1):
        if len(line) > MAX_MESSAGE_BYTES and not line.endswith(b"\n"):
            while (rest := await anyio.to_thread.run_sync(stdin.readline, 1024 * 1024)) and not rest.endswith(b"\n"):
                pass
            yield None
        else:
            yield line


@asynccontextmanager
async def stdio_transport(stdin: IO[bytes], stdout: anyio.AsyncFile[str], gate: Gate) -> AsyncIterator[Streams]:
    to_session, from_client = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    to_client, from_server = anyio.create_memory_object_stream[SessionMessage | dict[str, Any]](0)
    replies = to_client.clone()

    async def read() -> None:
        async with to_session, replies:
            async for line in read_lines(stdin):
                try:
                    message = gate.admit(line)
                except Rejected as exc:
                    log.debug("stdin: %s", _brief(str(exc), 200))
                    if exc.reply is not None:
                        await replies.send(exc.reply)
                    continue
                await to_session.send(SessionMessage(message))

    async def write() -> None:
        async with from_server:
            async for item in from_server:
                gate.sent(item)
                await stdout.write(json_line(item))
                await stdout.flush()

    async with anyio.create_task_group() as tg:
        tg.start_soon(read)
        tg.start_soon(write)
        yield from_client, to_client  # type: ignore[misc]


def serve(config: Config) -> None:
    PushServer(config).run("stdio")
