"""A lean HTTP/1.1 transport for httpx, on asyncio itself.

httpx stays the client (requests, responses, decoding, errors); this replaces only its default
transport, httpcore over anyio and h11, for direct connections. Why: a notification is a handful of small
requests, and httpcore's per-request work dominated mcp-push's CPU (docs/benchmarks.md: ~1.5 ms a
request at a 25-way fan-out, its pool scanning every connection with a `poll()` each on every request
start and end), plus ~80 ms of imports and a CA bundle load on every cold `send`. Here a connection is an
asyncio `Protocol`: the event loop tells it when the peer closes, so checking an idle connection costs
nothing, and pooling is a dict lookup per origin. Proxied clients keep httpx's own transport
(`mcp_push/http.py` decides), as do HTTP/2 and everything exotic; this speaks only what push services
answer with: HTTP/1.1 (or 1.0), Content-Length, chunked or close-delimited bodies.

Failures map onto httpx's exceptions the way httpcore's do, so `Channel.classify` reads them the same:
nothing sent (`ConnectError`, `ConnectTimeout`) versus maybe accepted (`ReadTimeout`, `ReadError`,
`RemoteProtocolError`). One failure never reaches the caller: a reused idle connection that the server closed
or reset as the request went out, before any byte of an answer, is the keep-alive race every client meets, and
the request goes once more, on a new connection. Everything is bounded: connect, write and read time (httpx's
`timeout`, for each of at most two attempts), header size, body size.
"""

from __future__ import annotations

import asyncio
import ssl
import time
import typing
from collections.abc import Callable

import httpx

from mcp_push.streams import BufferedProtocol

MAX_HEAD = 64 * 1024
MAX_BODY = 4 * 1024 * 1024  # push services answer with a few hundred bytes of JSON
KEEP_IDLE = 32  # idle connections kept per origin (several channels may share one self-hosted server)
EXPIRY = 5.0  # seconds an idle connection is trusted; servers commonly drop them after 5-75 s


class _Connection(BufferedProtocol):
    """One socket, serving one request at a time."""

    def __init__(self) -> None:
        super().__init__()
        self.received = 0  # bytes of the current response so far
        self.idle_since = 0.0

    def data_received(self, data: bytes) -> None:
        self.received += len(data)
        super().data_received(data)

    def usable(self, now: float) -> bool:
        return not self.closed and not self.buffer and now - self.idle_since < EXPIRY

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        if self.transport is not None:
            typing.cast(asyncio.Transport, self.transport).abort()

    async def write(self, data: bytes, timeout: float | None) -> None:
        assert self.transport is not None
        self.received = 0
        typing.cast(asyncio.Transport, self.transport).write(data)
        await self.drained(timeout, httpx.WriteTimeout)  # bounded wait while the kernel buffer is full
        if self.closed:
            raise httpx.WriteError(f"connection lost while sending{_because(self.error)}")

    async def more(self, timeout: float | None, until_close: bool = False) -> bool:
        """Wait for more bytes. The peer closing is a protocol error (as in httpcore), except for a
        body delimited by the close itself (`until_close`), where it means the body is complete."""
        if self.closed:
            if until_close and self.error is None:
                return False
            raise _disconnected(self.error, self.received > 0)
        await self.readable(timeout, httpx.ReadTimeout)
        return True


def _because(error: BaseException | None) -> str:
    return f": {error}" if error else ""


def _disconnected(error: BaseException | None, started: bool) -> Exception:
    if error is not None:
        return httpx.ReadError(f"connection lost{_because(error)}")
    if started:
        return httpx.RemoteProtocolError("server closed the connection in the middle of its response")
    return httpx.RemoteProtocolError("server disconnected without sending a response")


class Wire(httpx.AsyncBaseTransport):
    """HTTP/1.1 with keep-alive, for one process's direct (unproxied) requests.

    `tls` supplies the verifying context, only when the first https connection is made, so a send to
    plain-http channels never loads a CA bundle.
    """

    def __init__(self, tls: Callable[[], ssl.SSLContext]) -> None:
        self._tls = tls
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(f"unsupported URL scheme {url.scheme!r}")
        timeout = request.extensions.get("timeout", {})
        origin = (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))
        body = await request.aread()
        head = [b"%s %s HTTP/1.1\r\n" % (request.method.encode("ascii"), url.raw_path)]
        for name, value in request.headers.raw:
            if name.lower() not in (b"transfer-encoding", b"content-length"):
                head.append(b"%s: %s\r\n" % (name, value))
        if body or request.method not in ("GET", "HEAD", "DELETE", "OPTIONS"):
            head.append(b"Content-Length: %d\r\n" % len(body))
        head.append(b"\r\n")
        data = b"".join(head) + body

        idle = self._checkout(origin)
        if idle is not None:
            try:
                return await self._exchange(origin, idle, data, request.method, timeout)
            except (httpx.WriteError, httpx.ReadError, httpx.RemoteProtocolError):
                if not (idle.closed and idle.received == 0):
                    raise
                # The keep-alive race: the server closed (or reset) this idle connection as it was reused, its
                # FIN in flight while the request went out, and not a byte of an answer came back. A server
                # drops an idle connection without reading what arrives on it, so the request goes once more
                # on a new connection, as browsers do. Only here: a fresh connection's failure, an answer
                # begun, or a timeout may mean the request was taken, and is left to the caller.
        conn = await self._connect(origin, timeout.get("connect"))
        return await self._exchange(origin, conn, data, request.method, timeout)

    async def _exchange(
        self,
        origin: tuple[str, str, int],
        conn: _Connection,
        data: bytes,
        method: str,
        timeout: dict[str, float | None],
    ) -> httpx.Response:
        """One request and its response on `conn`, which then goes back to the pool if it may be reused."""
        try:
            await conn.write(data, timeout.get("write"))
            status, reason, version, headers, content, reusable = await _read_response(
                conn, method == "HEAD", timeout.get("read")
            )
        except BaseException:
            conn.abort()  # a half-read response (timeout, cancellation) leaves the socket unusable
            raise
        if reusable and not conn.closed:
            self._checkin(origin, conn)
        else:
            conn.close()
        return httpx.Response(
            status,
            headers=headers,
            stream=httpx.ByteStream(content),
            extensions={"http_version": version, "reason_phrase": reason},
        )

    def _checkout(self, origin: tuple[str, str, int]) -> _Connection | None:
        idle = self._idle.get(origin)
        now = time.monotonic()
        while idle:
            conn = idle.pop()
            if conn.usable(now):
                return conn
            conn.close()
        return None

    def _checkin(self, origin: tuple[str, str, int], conn: _Connection) -> None:
        idle = self._idle.setdefault(origin, [])
        if len(idle) >= KEEP_IDLE:
            conn.close()
            return
        conn.idle_since = time.monotonic()
        idle.append(conn)

    async def _connect(self, origin: tuple[str, str, int], timeout: float | None) -> _Connection:
        scheme, host, port = origin
        loop = asyncio.get_running_loop()
        context = self._tls() if scheme == "https" else None
        try:
            _, conn = await asyncio.wait_for(
                loop.create_connection(_Connection, host, port, ssl=context, server_hostname=host if context else None),
                timeout,
            )
        except (asyncio.TimeoutError, TimeoutError):  # ours, or the system's own (ETIMEDOUT)
            within = f" within {timeout:g} s" if timeout is not None else ""
            raise httpx.ConnectTimeout(f"could not connect to {host}:{port}{within}") from None
        except (OSError, ssl.SSLError) as exc:  # refused, unreachable, DNS, certificate
            raise httpx.ConnectError(f"{host}:{port}: {exc}") from exc
        return conn

    async def aclose(self) -> None:
        for idle in self._idle.values():
            for conn in idle:
                conn.close()
        self._idle.clear()


async def _read_response(
    conn: _Connection, head_only: bool, timeout: float | None
) -> tuple[int, bytes, bytes, list[tuple[bytes, bytes]], bytes, bool]:
    """Status, reason, HTTP version, headers, body and whether the connection may carry another request
    (RFC 9112 section 6.3 decides how the body is delimited)."""
    while True:
        status, reason, version, headers = await _read_head(conn, timeout)
        if not 100 <= status < 200 or status == 101:
            break  # 1xx interim answers (100 Continue, 103 Early Hints) precede the real one
    fields: dict[bytes, bytes] = {}
    for name, value in headers:
        key = name.lower()
        if key in fields and key == b"content-length" and fields[key] != value:
            raise httpx.RemoteProtocolError("conflicting Content-Length headers")
        fields[key] = value
    keep = version == b"HTTP/1.1" and b"close" not in fields.get(b"connection", b"").lower()
    if head_only or status in (204, 304) or 100 <= status < 200:
        return status, reason, version, headers, b"", keep
    if b"chunked" in fields.get(b"transfer-encoding", b"").lower():
        return status, reason, version, headers, await _read_chunked(conn, timeout), keep
    if b"content-length" in fields:
        try:
            length = int(fields[b"content-length"])
        except ValueError:
            raise httpx.RemoteProtocolError("invalid Content-Length header") from None
        if not 0 <= length <= MAX_BODY:
            raise httpx.RemoteProtocolError(f"response body of {length} bytes is over the {MAX_BODY}-byte limit")
        return status, reason, version, headers, await _read_exactly(conn, length, timeout), keep
    return status, reason, version, headers, await _read_to_close(conn, timeout), False


async def _read_head(conn: _Connection, timeout: float | None) -> tuple[int, bytes, bytes, list[tuple[bytes, bytes]]]:
    buffer = conn.buffer
    while (end := buffer.find(b"\r\n\r\n", 0, MAX_HEAD + 4)) < 0:
        if len(buffer) > MAX_HEAD:
            raise httpx.RemoteProtocolError("response headers over 64 KiB")
        await conn.more(timeout)
    lines = bytes(buffer[:end]).split(b"\r\n")
    del buffer[: end + 4]
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not (parts[1].isdigit() and len(parts[1]) == 3):
        raise httpx.RemoteProtocolError(f"not an HTTP/1.x status line: {lines[0][:80]!r}")
    headers = []
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip():
            raise httpx.RemoteProtocolError(f"malformed header line: {line[:80]!r}")
        headers.append((name, value.strip()))
    return int(parts[1]), parts[2] if len(parts) > 2 else b"", parts[0], headers


async def _read_exactly(conn: _Connection, length: int, timeout: float | None) -> bytes:
    while len(conn.buffer) < length:
        await conn.more(timeout)
    data = bytes(conn.buffer[:length])
    del conn.buffer[:length]
    return data


async def _read_line(conn: _Connection, timeout: float | None) -> bytes:
    while (end := conn.buffer.find(b"\r\n", 0, MAX_HEAD + 2)) < 0:
        if len(conn.buffer) > MAX_HEAD:
            raise httpx.RemoteProtocolError("chunk header over 64 KiB")
        await conn.more(timeout)
    line = bytes(conn.buffer[:end])
    del conn.buffer[: end + 2]
    return line


async def _read_chunked(conn: _Connection, timeout: float | None) -> bytes:
    body = bytearray()
    while True:
        size_text = (await _read_line(conn, timeout)).split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise httpx.RemoteProtocolError(f"invalid chunk size {size_text[:20]!r}") from None
        if size == 0:
            while await _read_line(conn, timeout):  # trailer fields, up to the blank line
                pass
            return bytes(body)
        if len(body) + size > MAX_BODY:
            raise httpx.RemoteProtocolError(f"response body over the {MAX_BODY}-byte limit")
        body += await _read_exactly(conn, size, timeout)
        if await _read_exactly(conn, 2, timeout) != b"\r\n":
            raise httpx.RemoteProtocolError("chunk not followed by CRLF")


async def _read_to_close(conn: _Connection, timeout: float | None) -> bytes:
    while await conn.more(timeout, until_close=True):
        if len(conn.buffer) > MAX_BODY:
            raise httpx.RemoteProtocolError(f"response body over the {MAX_BODY}-byte limit")
    data = bytes(conn.buffer)
    conn.buffer.clear()
    return data
