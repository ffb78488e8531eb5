"""The one shape both of mcp-push's own byte streams share: an asyncio Protocol whose incoming bytes
collect in a buffer for a single reader, with flow control on the way out.

Used by the HTTP transport (`mcp_push.wire`, a socket per connection) and the stdio transport
(`mcp_push.stdio`, stdin and stdout as pipes). Protocols rather than StreamReader/StreamWriter: the event
loop calls straight into them, so a closed peer is known at once and waiting costs one future, with a
timer on it instead of a task per wait (`asyncio.wait_for`). Stdlib only, so either user can import it.
"""

from __future__ import annotations

import asyncio


class BufferedProtocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.BaseTransport | None = None
        self.buffer = bytearray()
        self.closed = False  # the peer closed (EOF) or the connection was lost
        self.error: Exception | None = None  # why it was lost, if not a clean close
        self._readable: asyncio.Future[None] | None = None
        self._writable: asyncio.Future[None] | None = None  # set while the transport asks us to pause

    # ---- asyncio callbacks ------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        _settle(self._readable)

    def eof_received(self) -> bool:
        self.closed = True
        _settle(self._readable)
        return False  # let the transport close itself

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed, self.error = True, exc
        _settle(self._readable)
        _settle(self._writable)

    def pause_writing(self) -> None:
        self._writable = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        _settle(self._writable)
        self._writable = None

    # ---- for the reader and the writer ------------------------------------------------------------

    async def readable(self, timeout: float | None = None, error: type[Exception] = TimeoutError) -> None:
        """Until more bytes arrive or the peer closes; `error` after `timeout` seconds."""
        self._readable = asyncio.get_running_loop().create_future()
        try:
            await _within(self._readable, timeout, error)
        finally:
            self._readable = None

    async def drained(self, timeout: float | None = None, error: type[Exception] = TimeoutError) -> None:
        """Until the transport takes more writes (at once unless paused) or the connection is lost."""
        while (paused := self._writable) is not None and not self.closed:
            await _within(paused, timeout, error)


def _settle(future: asyncio.Future[None] | None) -> None:
    if future is not None and not future.done():
        future.set_result(None)


async def _within(future: asyncio.Future[None], timeout: float | None, error: type[Exception]) -> None:
    timer = None
    if timeout is not None:
        timer = asyncio.get_running_loop().call_later(timeout, _expire, future, error, timeout)
    try:
        await future
    finally:
        if timer is not None:
            timer.cancel()


def _expire(future: asyncio.Future[None], error: type[Exception], timeout: float) -> None:
    if not future.done():
        future.set_exception(error(f"timed out after {timeout:g} s"))
