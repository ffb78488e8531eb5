"""The MCP front door: FastMCP over stdio with `notify.send`, `notify.event` and `notify.ask`.

It parses, calls `dispatch`, and renders the report: structured (the `DeliveryReport`, with an
`outputSchema`) plus a short text. Clients disagree about dots in tool names, so the other spelling
is always accepted on call and `MCP_PUSH_TOOL_NAMES` chooses which one is listed: by default, per session,
from the name the client gave in `initialize`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any

from mcp.server.fastmcp import Context, FastMCP
from mcp.server.fastmcp.exceptions import ToolError
from mcp.types import CallToolResult, Implementation, LoggingLevel, TextContent, ToolAnnotations
from mcp.types import Tool as MCPTool
from pydantic import Field, ValidationError

from mcp_push import __version__, http
from mcp_push.config import Config
from mcp_push.dispatch import UsageError, dispatch, redeliver
from mcp_push.models import (
    Ask,
    AskResult,
    AskTimeout,
    ChannelNames,
    Content,
    DeliveryReport,
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
from mcp_push.redact import redact
from mcp_push.stdio import REQUESTS, Gate, brief, stdio_transport

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
ASK_DOC = (
    "Ask the user a question with 2-4 short answers, pushed to their phone with one button per answer, and "
    "wait for the answer (up to timeout_seconds). Use it only when you are blocked on a human decision and the "
    "user may be away from the terminal; otherwise ask in the conversation. The result says which answer was "
    "picked, or that none came in time (then go on without it or ask in the conversation), or that no channel "
    "can carry answers."
)
ANNOTATIONS = ToolAnnotations(readOnlyHint=False, destructiveHint=False, idempotentHint=False, openWorldHint=True)
NAMES = {
    "send": ("notify.send", "notify_send"),
    "event": ("notify.event", "notify_event"),
    "ask": ("notify.ask", "notify_ask"),
}
# `clientInfo.name` of the clients known to take a dot in a tool name; any other client, or one that gives no
# name, might pass the names on to a model API that allows only ^[a-zA-Z0-9_-]+$ and fail on every tool. The
# MCP Inspector has named itself "mcp-inspector" (web UI until mid-2025, and v2), "inspector-client" (v1 web
# UI since), "inspector" or "inspector-cli" (its CLI) and "inspector-tui".
DOTTED_CLIENTS = frozenset(
    {"claude-code", "mcp-inspector", "inspector-client", "inspector", "inspector-cli", "inspector-tui"}
)
# mcp-remote, the stdio-to-HTTP bridge, renames the client it carries "claude-code (via mcp-remote 0.1.29)".
VIA_PROXY = re.compile(r"\s*\(via [^()]*\)\s*$")

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
AskReport = Annotated[CallToolResult, AskResult]


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
    """The SDK warns on every call to a name it did not list; a call to the spelling this session was not
    shown is such a call by design (see NAMES), so that warning is noise, once per call."""
    return "not listed, no validation" not in record.getMessage()


class Refused(Exception):
    """A call that cannot be served as asked; its text goes back to the agent as the whole error."""


def error_result(message: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=redact(message))], isError=True)


class PushServer(FastMCP):
    def __init__(self, config: Config, *, redeliver: bool = True, handoff: bool = False) -> None:
        """`redeliver`: each session's lifespan re-sends pending deliveries (stdio: one session, the whole
        server); the hub serves many sessions and runs `redeliver_pending` once itself. `handoff`: the session
        also takes local sends handed to it (`mcp_push.handoff`)."""
        super().__init__("mcp-push", instructions=INSTRUCTIONS, log_level="WARNING", lifespan=self._lifespan)
        self._mcp_server.version = __version__
        self.config = config
        self.redeliver = redeliver
        self.handoff = handoff
        self.client_level = logging.WARNING
        self._asking: set[asyncio.Future[AskResult]] = set()
        # Registered once, dotted; `list_tools` renames them per session and `call_tool` maps the other spelling.
        self.aliases = {underscore: dotted for dotted, underscore in NAMES.values()}
        self.underscored = dict(NAMES.values())
        self.add_tool(self.send, NAMES["send"][0], description=SEND_DOC, annotations=ANNOTATIONS)
        self.add_tool(self.event, NAMES["event"][0], description=EVENT_DOC, annotations=ANNOTATIONS)
        self.add_tool(self.ask, NAMES["ask"][0], description=ASK_DOC, annotations=ANNOTATIONS)
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
        from mcp_push.handoff import Listener

        workers = [asyncio.create_task(self.redeliver_pending())] if self.redeliver else []
        if self.handoff:
            workers.append(asyncio.create_task(Listener(self.config).run()))
        try:
            yield {}
        finally:
            if "mcp_push.ask" in sys.modules:  # a question withdrawn at exit: its messages say so first
                await sys.modules["mcp_push.ask"].finish_background()
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)

    async def redeliver_pending(self) -> None:
        """Re-send what failed for a passing reason, so a notification sent offline arrives once the
        network is back. Runs for the life of the server; each pass claims only what is due."""
        settings = self.config.settings
        if not settings.MCP_PUSH_HISTORY:
            return
        while True:
            await asyncio.sleep(min(settings.MCP_PUSH_PENDING_BACKOFF, 30))
            if not (self.config.channels or settings.MCP_PUSH_SERVER):  # looked at only now: they load late
                return
            try:
                from mcp_push.routing import send_digest

                await send_digest(self.config)  # what quiet hours held, once they are over
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

    def lists_dotted(self, client: Implementation | None) -> bool:
        """Dots only where they are known to work: a client that rejects them loses every tool, while
        underscores work everywhere."""
        mode = self.config.settings.MCP_PUSH_TOOL_NAMES
        if mode != "auto":
            return mode == "dotted"
        name = VIA_PROXY.sub("", client.name).strip().lower() if client is not None else ""
        return name in DOTTED_CLIENTS

    def session_client(self) -> Implementation | None:
        """The client of the session whose request is being handled: the SDK keeps each session's `initialize`
        params on its `ServerSession` and the current request's context in a context variable, so one hub
        serving many sessions answers each by its own client. None outside a request or before `initialize`
        (a stateless HTTP request)."""
        try:
            params = self._mcp_server.request_context.session.client_params
        except LookupError:
            return None
        return params.clientInfo if params is not None else None

    async def list_tools(self) -> list[MCPTool]:
        tools = await super().list_tools()
        if self.lists_dotted(self.session_client()):
            return tools
        return [tool.model_copy(update={"name": self.underscored.get(tool.name, tool.name)}) for tool in tools]

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> Any:
        name = self.aliases.get(name, name)
        tool = self._tool_manager.get_tool(name)
        if tool is None:  # quoted and cut short: the name is whatever the client sent, megabytes included
            *others, last = [t.name for t in self._tool_manager.list_tools()]
            listed = f"{', '.join(others)} and {last}"
            return error_result(f"Unknown tool: {brief(name)!r}; this server has {listed}")
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

    async def ask(
        self,
        question: QuestionText,
        ctx: Context,
        options: Options = ["Yes", "No"],  # noqa: B006 - pydantic copies defaults; the schema shows this one
        timeout_seconds: AskTimeout = None,
        channels: ChannelNames = None,
    ) -> AskReport:
        from mcp_push.ask import ask, prompt_for

        request = Ask(question=question, options=options, timeout_seconds=timeout_seconds)
        outcome: asyncio.Future[AskResult] = asyncio.get_running_loop().create_future()

        async def progress(done: float, total: float, message: str) -> None:
            await ctx.report_progress(done, total, message=redact(message))

        # Its own task: the client's cancellation stops the wait at once, and the question's messages are still
        # updated to say so; the result returns when the answer is known, before those updates.
        asking = asyncio.ensure_future(
            ask(
                self.config,
                prompt_for(request, self.config.settings),
                channels=channels,
                source="mcp",
                progress=progress,
                on_outcome=lambda result: outcome.done() or outcome.set_result(result),
            )
        )
        self._asking.add(asking)  # held until it has updated the messages, after the result went back
        asking.add_done_callback(self._asking.discard)
        try:
            await asyncio.wait({asking, outcome}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            asking.cancel()
            raise
        if not outcome.done():  # ask ended without an outcome: bad channel names, or a bug
            try:
                result = asking.result()
            except UsageError as exc:
                raise Refused(str(exc)) from None
        else:
            result = outcome.result()
        return CallToolResult(
            content=[TextContent(type="text", text=redact(result.summary))],
            structuredContent=result.model_dump(mode="json", exclude_none=True),
            isError=result.reason == "not_delivered",
        )

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
        out = sys.stdout.buffer
        sys.stdout = sys.stderr
        # The session answers initialize itself; every other method needs a handler here.
        handled = {m for m, kind in REQUESTS.items() if kind in self._mcp_server.request_handlers} | {"initialize"}
        try:
            async with stdio_transport(sys.stdin.buffer, out, Gate(handled)) as (read_stream, write_stream):
                await self._mcp_server.run(read_stream, write_stream, self._mcp_server.create_initialization_options())
        finally:
            await http.aclose()


def serve(config: Config) -> None:
    PushServer(config, handoff=True).run("stdio")
