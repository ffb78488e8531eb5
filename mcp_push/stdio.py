"""mcp-push's own stdio transport for the MCP session.

The SDK's own reader hands anything it cannot parse (bad JSON, params of the wrong type, a batch) to the
session as an exception, which answers nothing (a client waiting on that id hangs) and logs the whole input
with pydantic's text; it answers an unknown method or bad params with a bare -32602 "Invalid request
parameters". This one answers every bad request itself with a specific JSON-RPC error (-32700, -32600,
-32601, -32602), drops bad notifications and stray responses, and passes on only messages the session can
take. It reads bytes and decodes them leniently: invalid UTF-8 becomes U+FFFD. At EOF it keeps the session
open until every request it passed on is answered and written out (see `InFlight`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import stat
import sys
import typing
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import IO, Any

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp import types
from mcp.shared.message import SessionMessage
from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticSerializationError

from mcp_push.models import explain
from mcp_push.streams import BufferedProtocol

log = logging.getLogger("mcp_push")

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


def brief(value: object, limit: int = 80) -> str:
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
            raise refuse(types.INVALID_REQUEST, brief(problem, 200))

        if response:
            if str(raw_id) not in self.awaiting:
                raise Rejected(None, f"response to unknown request id {brief(raw_id)}")
            self.awaiting.discard(str(raw_id))
        elif notification:
            kind = NOTIFICATIONS.get(method)
            if kind is None:
                raise Rejected(None, f"unknown notification {brief(method)}")
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
                raise refuse(types.METHOD_NOT_FOUND, brief(method))
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
    pipe = await _Pipe.open(stdin, write=False)
    if pipe is not None:
        try:
            while (line := await pipe.readline()) != b"":
                yield line
        finally:
            pipe.close()
        return
    while line := await anyio.to_thread.run_sync(stdin.readline, MAX_MESSAGE_BYTES + 1):
        if len(line) > MAX_MESSAGE_BYTES and not line.endswith(b"\n"):
            while (rest := await anyio.to_thread.run_sync(stdin.readline, 1024 * 1024)) and not rest.endswith(b"\n"):
                pass
            yield None
        else:
            yield line


class _Pipe(BufferedProtocol):
    """stdin or stdout as an asyncio pipe, when it is one (as an MCP client starts us): no worker-thread
    hand-off per message, which cost more CPU than mcp-push's own work on a small call. Files and
    terminals keep the blocking path, since making them non-blocking would leak to other processes."""

    def __init__(self) -> None:
        super().__init__()
        self.skipping = False  # inside a line over the limit, dropping it
        self._fd = -1

    @classmethod
    async def open(cls, stream: IO[bytes], write: bool) -> _Pipe | None:
        if sys.platform == "win32":  # asyncio's Windows loops take no plain pipe descriptors
            return None
        try:
            fd = stream.fileno()
            kind = os.fstat(fd).st_mode
        except (AttributeError, OSError, ValueError):  # io.BytesIO and the like
            return None
        if not (stat.S_ISFIFO(kind) or stat.S_ISSOCK(kind)):
            return None
        loop = asyncio.get_running_loop()
        pipe = cls()
        # A duplicate, so that closing the transport leaves the process's fd 0/1 open.
        pipe._fd = os.dup(fd)
        file = os.fdopen(pipe._fd, "wb" if write else "rb", buffering=0)
        connect = loop.connect_write_pipe if write else loop.connect_read_pipe
        await connect(lambda: pipe, file)
        return pipe

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if len(self.buffer) > 2 * MAX_MESSAGE_BYTES:  # the reader is behind: stop reading for now
            typing.cast(asyncio.ReadTransport, self.transport).pause_reading()

    async def readline(self) -> bytes | None:
        """The next line with its newline (the last may lack one); b"" at EOF; None for a line over the
        limit, dropped as it streams in so that it never sits in memory whole."""
        while True:
            end = self.buffer.find(b"\n")
            if self.skipping:
                if end < 0:
                    self.buffer.clear()
                else:
                    del self.buffer[: end + 1]
                    self.skipping = False
                    return None
            elif end >= 0:
                if end > MAX_MESSAGE_BYTES:
                    del self.buffer[: end + 1]
                    return None
                line = bytes(self.buffer[: end + 1])
                del self.buffer[: end + 1]
                return line
            elif len(self.buffer) > MAX_MESSAGE_BYTES:
                self.buffer.clear()
                self.skipping = True
                continue
            if self.closed:
                line, self.skipping = bytes(self.buffer), False
                self.buffer.clear()
                return line
            typing.cast(asyncio.ReadTransport, self.transport).resume_reading()
            await self.readable()

    async def write(self, data: bytes) -> None:
        if self.closed:
            raise BrokenPipeError(f"stdout is closed{f': {self.error}' if self.error else ''}")
        typing.cast(asyncio.WriteTransport, self.transport).write(data)
        await self.drained()  # while the client reads slower than we write

    async def flush(self) -> None:
        """Until every byte written is in the pipe, or its reader has left: the transport keeps what the pipe
        did not take at once, and the event loop drops that when the server exits."""
        transport = typing.cast(asyncio.WriteTransport, self.transport)
        if self.closed or not transport.get_write_buffer_size():
            return
        transport.close()  # connection_lost comes once the buffer is written out
        while not self.closed:
            await self.readable()  # also woken by connection_lost

    def close(self) -> None:
        with suppress(OSError):
            os.set_blocking(self._fd, True)  # the flag is shared with whoever else holds the pipe
        if self.transport is not None:
            self.transport.close()


class InFlight:
    """The requests passed to the session and not answered yet, so that at EOF the transport can hold the
    session open until they are: the SDK's server cancels every handler still running once its read stream
    ends, which would drop the answers of a client that writes its requests and closes stdin at once."""

    def __init__(self) -> None:
        self.pending: Counter[types.RequestId] = Counter()  # a multiset: a client may reuse an id
        self._changed = anyio.Event()

    def asked(self, message: types.JSONRPCMessage) -> None:
        if isinstance(message.root, types.JSONRPCRequest):
            self.pending[message.root.id] += 1

    def answered(self, item: SessionMessage | dict[str, Any]) -> None:
        if not isinstance(item, SessionMessage):  # the gate's own error replies: never passed to the session
            return
        root = item.message.root
        if isinstance(root, types.JSONRPCResponse | types.JSONRPCError) and self.pending[root.id] > 0:
            self.pending[root.id] -= 1
            if not self.pending[root.id]:
                del self.pending[root.id]
        elif not isinstance(root, types.JSONRPCRequest):  # a request to the client: it may need an answer
            return
        self._changed.set()
        self._changed = anyio.Event()

    def next_change(self) -> anyio.Event:
        """Set at the next answer; taken before a check that may yield, so that no change is missed."""
        return self._changed


def _connection_closed(request_id: str) -> SessionMessage:
    """The answer a request to the client gets once stdin is closed, as the SDK gives it when its transport
    closes: a handler waiting on one (sampling, elicitation, roots) then ends instead of holding the exit."""
    error = types.ErrorData(code=types.CONNECTION_CLOSED, message="Connection closed: stdin reached EOF")
    return SessionMessage(types.JSONRPCMessage(types.JSONRPCError(jsonrpc="2.0", id=request_id, error=error)))


@asynccontextmanager
async def stdio_transport(stdin: IO[bytes], stdout: IO[bytes], gate: Gate) -> AsyncIterator[Streams]:
    to_session, from_client = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    to_client, from_server = anyio.create_memory_object_stream[SessionMessage | dict[str, Any]](0)
    replies = to_client.clone()
    in_flight = InFlight()
    reading = anyio.CancelScope()

    async def read() -> None:
        with reading:
            async with to_session, replies:
                async for line in read_lines(stdin):
                    try:
                        message = gate.admit(line)
                    except Rejected as exc:
                        log.debug("stdin: %s", brief(str(exc), 200))
                        if exc.reply is not None:
                            await replies.send(exc.reply)
                        continue
                    in_flight.asked(message)
                    await to_session.send(SessionMessage(message))
                # EOF: the session ends when to_session closes, so it stays open until every request has its answer.
                # A long one (notify.ask waiting for a human) keeps the server until it ends; nothing new can come in.
                while in_flight.pending:
                    change = in_flight.next_change()
                    for request_id in sorted(gate.awaiting):
                        gate.awaiting.discard(request_id)
                        await to_session.send(_connection_closed(request_id))
                    await change.wait()

    async def write() -> None:
        pipe = await _Pipe.open(stdout, write=True)

        def blocking(data: bytes) -> None:
            stdout.write(data)
            stdout.flush()

        try:
            async with from_server:
                async for item in from_server:
                    gate.sent(item)
                    data = json_line(item).encode("utf-8", "replace")
                    await (pipe.write(data) if pipe else anyio.to_thread.run_sync(blocking, data))
                    in_flight.answered(item)  # once written: the answer is out before the session may end
            if pipe is not None:
                await pipe.flush()
        finally:
            if pipe is not None:
                pipe.close()

    async with anyio.create_task_group() as tg:
        tg.start_soon(read)
        tg.start_soon(write)
        yield from_client, to_client  # type: ignore[misc]
        # The session is over. At EOF the reader is done already; if the session ended on its own (its receive
        # loop failed), nothing read now could be answered, and waiting for stdin would keep the process.
        reading.cancel()
