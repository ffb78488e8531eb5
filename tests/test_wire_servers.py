"""mcp_push.wire against real HTTP server software: uvicorn (h11 and httptools), hypercorn and aiohttp, each in
its own thread and event loop on a pre-bound ephemeral socket, plus tests/test_wire.py's scripted raw-socket
server for what the real ones cannot be made to send (chunk extensions, trailers, 1xx, HTTP/1.0, a reset on reuse).

The servers run outside the test's event loop so that a test can stall its own loop while a server acts: that is
how the keep-alive race (the server closes an idle connection just as the client reuses it) is reproduced."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import select
import socket
import ssl
import struct
import threading
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import trustme

from mcp_push import http
from mcp_push.wire import MAX_HEAD, Wire
from tests.test_wire import Reply, Server

TEXT = b'{"message": "pushed", "padding": "' + b"abc" * 200 + b'"}'
REAL = ["uvicorn-h11", "uvicorn-httptools", "hypercorn", "aiohttp"]


@dataclass
class Answer:
    """What a route answers: `parts` go out as separate writes, chunked unless a Content-Length is given;
    `cut` drops the connection after them, before the response is complete."""

    status: int = 200
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    parts: list[bytes] = field(default_factory=list)
    cut: bool = False


def fixed(body: bytes, *headers: tuple[bytes, bytes]) -> Answer:
    return Answer(200, [(b"content-length", b"%d" % len(body)), *headers], [body] if body else [])


def pieces(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


ROUTES: dict[str, Answer] = {
    "/ok": fixed(b"ok", (b"content-type", b"text/plain")),
    "/stream": Answer(parts=[b"hello", b" ", b"world"]),
    "/204": Answer(status=204),
    "/304": Answer(status=304, headers=[(b"etag", b'"v1"')]),
    "/gzip": fixed(gzip.compress(TEXT), (b"content-encoding", b"gzip")),
    "/deflate": fixed(zlib.compress(TEXT), (b"content-encoding", b"deflate")),
    "/gzip-stream": Answer(headers=[(b"content-encoding", b"gzip")], parts=pieces(gzip.compress(TEXT), 100)),
    "/cut-length": Answer(headers=[(b"content-length", b"100")], parts=[b"x" * 10], cut=True),
    "/cut-chunked": Answer(parts=[b"x" * 10], cut=True),
    "/big-head": fixed(b"ok", (b"x-big", b"a" * (MAX_HEAD + 1024))),
}


class Cut(Exception):
    """Raised by an app mid-response: uvicorn and hypercorn drop the connection when their app fails after the head
    (the aiohttp handler closes its transport first)."""


# ---- the apps: one ASGI app for uvicorn and hypercorn, one aiohttp handler -------------------------------------------


async def asgi(
    scope: dict[str, Any], receive: Callable[[], Awaitable[Any]], send: Callable[[Any], Awaitable[None]]
) -> None:
    assert scope["type"] == "http"
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    answer = ROUTES.get(scope["path"]) or fixed(body)  # anything else echoes the request body
    peer = (b"x-peer", str(scope["client"][1]).encode())
    await send({"type": "http.response.start", "status": answer.status, "headers": [*answer.headers, peer]})
    for part in answer.parts:
        await send({"type": "http.response.body", "body": part, "more_body": True})
    if answer.cut:
        raise Cut
    await send({"type": "http.response.body", "body": b""})


async def aiohttp_handler(request: Any) -> Any:
    from aiohttp import web

    body = await request.read()
    answer = ROUTES.get(request.path) or fixed(body)
    headers = {k.decode(): v.decode() for k, v in answer.headers}
    headers["x-peer"] = str(request.transport.get_extra_info("peername")[1])
    if len(answer.parts) <= 1 and not answer.cut:
        headers.pop("content-length", None)  # aiohttp sets it from the body
        return web.Response(status=answer.status, headers=headers, body=b"".join(answer.parts))
    response = web.StreamResponse(status=answer.status, headers=headers)
    if "content-length" not in headers:
        response.enable_chunked_encoding()
    await response.prepare(request)
    for part in answer.parts if request.method != "HEAD" else []:  # aiohttp would send them after a HEAD's head
        await response.write(part)
    if answer.cut:
        request.transport.close()
        raise Cut
    await response.write_eof()
    return response


# ---- running a real server in a thread -------------------------------------------------------------------------------


async def _start(
    kind: str, sock: socket.socket, keep_alive: float, tls: ssl.SSLContext | None
) -> Callable[[], Coroutine[Any, Any, None]]:
    """Start `kind` serving on `sock` (already listening) in the running loop; returns its stop."""
    if kind.startswith("uvicorn"):
        import uvicorn

        assert tls is None
        config = uvicorn.Config(
            asgi,
            http=kind.split("-")[1],
            lifespan="off",
            log_level="critical",
            timeout_keep_alive=keep_alive,  # type: ignore[arg-type]
        )
        server = uvicorn.Server(config)
        task = asyncio.ensure_future(server.serve(sockets=[sock]))

        async def stop_uvicorn() -> None:
            server.should_exit = server.force_exit = True
            await task

        return stop_uvicorn
    if kind == "hypercorn":
        from hypercorn.asyncio import serve
        from hypercorn.config import Config

        assert tls is None
        config = Config()
        config.bind = [f"fd://{sock.detach()}"]
        config.keep_alive_timeout = keep_alive
        config.graceful_timeout = 0.1
        config.loglevel = "CRITICAL"
        stopping = asyncio.Event()
        task = asyncio.ensure_future(serve(asgi, config, shutdown_trigger=stopping.wait))  # type: ignore[arg-type]

        async def stop_hypercorn() -> None:
            stopping.set()
            await task

        return stop_hypercorn
    from aiohttp import web

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", aiohttp_handler)
    runner = web.AppRunner(app, keepalive_timeout=keep_alive, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    await web.SockSite(runner, sock, ssl_context=tls).start()
    return runner.cleanup


class Running:
    """A real server on its own thread and event loop, so it acts while the test's loop is stalled."""

    def __init__(self, kind: str, host: str = "127.0.0.1", keep_alive: float = 5.0, tls: ssl.SSLContext | None = None):
        # IPPROTO_TCP spelled out, as getaddrinfo would: asyncio sets TCP_NODELAY only on sockets that say so, and
        # without it the server's Nagle and the client's delayed ACK hold each small second write for 40 ms.
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.bind((host, 0))
        sock.listen(16)  # connections queue from now on, so no wait for the server to be ready
        self.port = sock.getsockname()[1]
        self.url = f"{'https' if tls else 'http'}://{f'[{host}]' if ':' in host else host}:{self.port}"
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=f"server-{kind}", daemon=True)
        self._thread.start()
        self._stop = self._call(_start(kind, sock, keep_alive, tls))

    def _call(self, work: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(timeout=5)

    def close(self) -> None:
        try:
            self._call(self._stop())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
            self._loop.close()


@contextlib.contextmanager
def running(kind: str, **options: Any) -> Iterator[Running]:
    server = Running(kind, **options)
    try:
        yield server
    finally:
        server.close()


_started: dict[str, Running] = {}


@pytest.fixture(scope="module", autouse=True)
def _stop_servers() -> Iterator[None]:
    yield
    while _started:
        _started.popitem()[1].close()


@pytest.fixture(params=REAL)
def real(request: pytest.FixtureRequest) -> Running:
    """One server of each kind for the whole module (default keep-alive), started on first use."""
    kind: str = request.param
    if kind not in _started:
        _started[kind] = Running(kind)
    return _started[kind]


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=Wire(http.tls_context), timeout=2) as c:
        yield c


@pytest.fixture
async def raw() -> AsyncIterator[Server]:
    s = Server()
    await s.start()
    yield s
    await s.close()


def peer(response: httpx.Response) -> str:
    """The client port the server saw: the same port means the same connection."""
    return response.headers["x-peer"]


# ---- bodies ----------------------------------------------------------------------------------------------------------


async def test_chunked_streaming_response(real: Running, client: httpx.AsyncClient) -> None:
    first = await client.get(real.url + "/stream")
    assert first.headers["transfer-encoding"] == "chunked" and first.text == "hello world"
    again = await client.get(real.url + "/ok")  # the terminating chunk was consumed exactly
    assert again.text == "ok" and peer(again) == peer(first)


async def test_chunk_extensions_and_trailers(raw: Server, client: httpx.AsyncClient) -> None:
    raw.replies.append(
        Reply(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum, X-Other\r\n\r\n"
            b'4;name="quoted;value";flag\r\nhell\r\n9 ; spaced=1\r\no, world!\r\n'
            b"0;last\r\nX-Checksum: 1234\r\nX-Other: two\r\n\r\n"
        )
    )
    assert (await client.get(raw.url)).text == "hello, world!"
    assert (await client.get(raw.url)).text == "ok" and raw.connections == 1


@pytest.mark.parametrize("path", ["/gzip", "/deflate", "/gzip-stream"])
async def test_compressed_bodies_are_decoded(real: Running, client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(real.url + path)
    assert response.content == TEXT and response.json()["message"] == "pushed"


async def test_request_body_is_echoed(real: Running, client: httpx.AsyncClient) -> None:
    payload = b"p" * 100_000  # several reads on both sides
    response = await client.post(real.url + "/echo", content=payload)
    assert response.content == payload


# ---- 1xx, and answers without a body ---------------------------------------------------------------------------------


async def test_expect_100_continue(real: Running, client: httpx.AsyncClient) -> None:
    """Each of these servers sends 100 Continue before its answer, though the body came with the head (hypercorn's
    with headers and no reason phrase)."""
    first = await client.post(real.url + "/echo", content=b"data", headers={"Expect": "100-continue"})
    assert first.status_code == 200 and first.content == b"data"
    again = await client.get(real.url + "/ok")
    assert again.text == "ok" and peer(again) == peer(first)


async def test_interim_responses(raw: Server, client: httpx.AsyncClient) -> None:
    raw.replies.append(
        Reply(
            b"HTTP/1.1 100 Continue\r\n\r\n"
            b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\n\r\n"
            b"HTTP/1.1 102 Processing\r\n\r\n"
            b"HTTP/1.1 201 Created\r\nContent-Length: 4\r\nLink: </style.css>; rel=preload\r\n\r\nmade"
        )
    )
    response = await client.post(raw.url, content=b"x")
    assert response.status_code == 201 and response.text == "made"
    assert response.headers["link"] == "</style.css>; rel=preload"  # the final answer's headers, not the hint's
    assert (await client.get(raw.url)).text == "ok" and raw.connections == 1


@pytest.mark.parametrize(("method", "path"), [("GET", "/204"), ("GET", "/304"), ("HEAD", "/ok"), ("HEAD", "/stream")])
async def test_bodyless_answers_keep_the_connection(
    real: Running, client: httpx.AsyncClient, method: str, path: str
) -> None:
    first = await client.request(method, real.url + path)
    assert first.content == b""
    again = await client.get(real.url + "/ok")
    assert again.text == "ok" and peer(again) == peer(first)


async def test_stray_body_after_head_is_not_taken_for_the_next_answer(raw: Server, client: httpx.AsyncClient) -> None:
    raw.replies.append(Reply(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"))  # a HEAD answered with a body
    assert (await client.head(raw.url)).content == b""
    assert (await client.get(raw.url)).text == "ok" and raw.connections == 2


# ---- HTTP/1.0 --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reply",
    [
        Reply(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nto the end", close=True),
        Reply(b"HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nto the end"),  # the server keeps the socket open
        Reply(b"HTTP/1.0 200 OK\r\nConnection: close\r\nContent-Length: 10\r\n\r\nto the end", close=True),
    ],
    ids=["close-delimited", "content-length", "content-length-then-close"],
)
async def test_http_1_0_answers(raw: Server, client: httpx.AsyncClient, reply: Reply) -> None:
    raw.replies.append(reply)
    response = await client.get(raw.url)
    assert response.text == "to the end" and response.http_version == "HTTP/1.0"
    assert (await client.get(raw.url)).text == "ok"
    assert raw.connections == 2  # an HTTP/1.0 connection is never reused


# ---- failures --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/cut-length", "/cut-chunked"])
async def test_server_closing_mid_body(real: Running, client: httpx.AsyncClient, path: str) -> None:
    with pytest.raises(httpx.RemoteProtocolError, match="in the middle of its response"):
        await client.get(real.url + path)
    assert (await client.get(real.url + "/ok")).text == "ok"


async def test_oversized_response_head(real: Running, client: httpx.AsyncClient) -> None:
    with pytest.raises(httpx.RemoteProtocolError, match="headers over 64 KiB"):
        await client.get(real.url + "/big-head")
    assert (await client.get(real.url + "/ok")).text == "ok"


# ---- the keep-alive race ---------------------------------------------------------------------------------------------


def idle_socket(client: httpx.AsyncClient) -> int:
    """The file descriptor of the client's one idle connection."""
    wire = client._transport
    assert isinstance(wire, Wire)
    (idle,) = [conn for conns in wire._idle.values() for conn in conns]
    assert idle.transport is not None
    return idle.transport.get_extra_info("socket").fileno()


def wait_for_fin(fd: int) -> None:
    """Block the test's event loop (on purpose) until the server's FIN (or reset) reaches the socket: the connection
    then looks idle and healthy to the client, which has not run its loop to hear of the close."""
    readable, _, _ = select.select([fd], [], [], 2)
    assert readable, "the server did not close its idle connection"


@pytest.mark.parametrize("kind", REAL)
async def test_reused_connection_the_server_just_closed(kind: str, client: httpx.AsyncClient) -> None:
    """The server's keep-alive timeout (50 ms) is far shorter than the client's idle expiry; the client reuses the
    connection in the window where the close is on the wire but not yet seen. The request goes out to a closed
    socket, the client reads the FIN (and the server's kernel answers with a reset), not a byte of a response: the
    transport sends once more, on a new connection."""
    with running(kind, keep_alive=0.05) as server:
        first = await client.get(server.url + "/ok")
        wait_for_fin(idle_socket(client))
        again = await client.get(server.url + "/ok")
        assert again.text == "ok" and peer(again) != peer(first)


async def test_reused_tls_connection_the_server_just_closed() -> None:
    ca = trustme.CA()
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(served)
    trusting = ssl.create_default_context()
    ca.configure_trust(trusting)
    with running("aiohttp", keep_alive=0.05, tls=served) as server:
        url = server.url.replace("127.0.0.1", "localhost")
        async with httpx.AsyncClient(transport=Wire(lambda: trusting), timeout=2) as client:
            first = await client.get(url + "/ok")
            wait_for_fin(idle_socket(client))
            again = await client.get(url + "/ok")
            assert again.text == "ok" and peer(again) != peer(first)


async def test_reused_connection_closed_as_the_request_arrives(raw: Server, client: httpx.AsyncClient) -> None:
    raw.replies += [Reply(), Reply(b"", close=True)]  # the second request, on the reused connection, meets a close
    assert (await client.get(raw.url)).text == "ok"
    assert (await client.get(raw.url + "/again")).text == "ok"
    assert raw.connections == 2 and [r.split(b" ")[1] for r in raw.requests] == [b"/", b"/again", b"/again"]


async def test_reused_connection_reset_while_idle(raw: Server, client: httpx.AsyncClient) -> None:
    """A reset (a crashed or restarted server, a middlebox dropping its state) rather than a FIN: the write or the
    first read fails with ECONNRESET."""
    assert (await client.get(raw.url)).text == "ok"
    for writer in list(raw._open.values()):
        writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()  # closes the socket on the next turn of the loop: with SO_LINGER 0, a reset
    await asyncio.sleep(0)
    wait_for_fin(idle_socket(client))
    assert (await client.get(raw.url + "/again")).text == "ok"
    assert raw.connections == 2


@pytest.mark.parametrize(
    ("replies", "error", "sent"),
    [
        ([Reply(b"", close=True)], httpx.RemoteProtocolError, 1),  # a fresh connection: the server may have acted
        (
            [Reply(), Reply(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\npart", close=True)],
            httpx.RemoteProtocolError,
            2,
        ),
        ([Reply(), Reply(b"HTTP/1.1 100 Continue\r\n\r\n", close=True)], httpx.RemoteProtocolError, 2),
        ([Reply(), Reply(b"", hang=True)], httpx.ReadTimeout, 2),  # silence is no proof the request was not taken
        ([Reply(), Reply(b"", close=True), Reply(b"", close=True)], httpx.RemoteProtocolError, 3),  # once only
    ],
    ids=["fresh-connection", "bytes-arrived", "interim-arrived", "timeout", "resent-once-only"],
)
async def test_no_resend_outside_that_case(
    raw: Server, replies: list[Reply], error: type[Exception], sent: int
) -> None:
    raw.replies += replies
    async with httpx.AsyncClient(transport=Wire(http.tls_context), timeout=0.3) as client:
        if len(replies) > 1:
            assert (await client.get(raw.url)).text == "ok"  # the connection is now a reused one
        with pytest.raises(error):
            await client.get(raw.url)
    assert len(raw.requests) == sent


# ---- addresses -------------------------------------------------------------------------------------------------------


def has_ipv6_loopback() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not has_ipv6_loopback(), reason="no IPv6 loopback (::1) on this machine")
@pytest.mark.parametrize("kind", REAL)
async def test_ipv6_loopback(kind: str, client: httpx.AsyncClient) -> None:
    with running(kind, host="::1") as server:
        first = await client.get(server.url + "/ok")
        again = await client.get(server.url + "/stream")
        assert first.text == "ok" and again.text == "hello world" and peer(again) == peer(first)
        assert first.request.headers["host"] == f"[::1]:{server.port}"
