"""mcp_push.wire against a scripted raw-socket server: what it sends, how it delimits bodies, when it reuses
a connection, and which httpx exception each failure becomes (Channel.classify depends on the mapping)."""

from __future__ import annotations

import asyncio
import gzip
import socket
import ssl
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
import trustme

from mcp_push import http
from mcp_push.wire import MAX_BODY, MAX_HEAD, Wire

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


@dataclass
class Reply:
    data: bytes = OK
    close: bool = False  # close the connection after writing `data`
    hang: bool = False  # write `data`, then never answer; wait for the client to give up


class Server:
    """Answers each request with the next scripted Reply (then OK), on 127.0.0.1; counts connections."""

    def __init__(self, context: ssl.SSLContext | None = None) -> None:
        self.context = context
        self.replies: list[Reply] = []
        self.requests: list[bytes] = []  # raw head + body, as received
        self.connections = 0
        self.ended = asyncio.Event()  # set when the server closes a connection itself
        self._open: dict[asyncio.Task[None], asyncio.StreamWriter] = {}
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self.context)
        self.port = self._server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self._open[task] = writer
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                self.requests.append(head + await reader.readexactly(length))
                reply = self.replies.pop(0) if self.replies else Reply()
                writer.write(reply.data)
                await writer.drain()
                if reply.hang:
                    while await reader.read(65536):
                        pass
                    return
                if reply.close:
                    writer.close()
                    await writer.wait_closed()
                    self.ended.set()
                    return
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass  # the client closed or aborted
        finally:
            writer.close()
            self._open.pop(task, None)

    async def close(self) -> None:
        assert self._server is not None
        self._server.close()
        # Aborting the sockets ends the handlers normally (a cancelled handler task is logged as an error).
        for writer in self._open.values():
            writer.transport.abort()
        if self._open:
            await asyncio.wait(list(self._open), timeout=2)
        await self._server.wait_closed()


def no_tls() -> ssl.SSLContext:
    raise AssertionError("the TLS context was built for a plain-http request")


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    s = Server()
    await s.start()
    yield s
    await s.close()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=Wire(no_tls), timeout=5) as c:
        yield c


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- the request on the wire ------------------------------------------------------------------------


async def test_request_line_headers_and_body(server: Server, client: httpx.AsyncClient) -> None:
    response = await client.post(server.url + "/p?q=1", json={"a": "é"})
    assert response.status_code == 200 and response.text == "ok"
    head, body = server.requests[0].split(b"\r\n\r\n", 1)
    lines = head.split(b"\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(b":") for line in lines[1:])}
    assert lines[0] == b"POST /p?q=1 HTTP/1.1"
    assert headers[b"host"] == f"127.0.0.1:{server.port}".encode()
    assert headers[b"content-type"] == b"application/json"
    assert body == '{"a":"é"}'.encode() and headers[b"content-length"] == str(len(body)).encode()
    assert b"transfer-encoding" not in headers


async def test_streamed_request_body_is_sent_with_content_length(server: Server, client: httpx.AsyncClient) -> None:
    async def parts() -> AsyncIterator[bytes]:
        yield b"hello "
        yield b"world"

    await client.post(server.url + "/s", content=parts())  # httpx would send this chunked
    head, body = server.requests[0].split(b"\r\n\r\n", 1)
    assert body == b"hello world"
    assert b"\r\ncontent-length: 11" in head.lower() and b"transfer-encoding" not in head.lower()


# ---- response bodies ----------------------------------------------------------------------------------


async def test_chunked_body_with_extensions_and_trailer(server: Server, client: httpx.AsyncClient) -> None:
    server.replies.append(
        Reply(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"
        )
    )
    assert (await client.get(server.url)).text == "hello world"
    # The trailer was consumed exactly: the same connection carries the next exchange.
    assert (await client.get(server.url)).text == "ok" and server.connections == 1


async def test_close_delimited_body(server: Server, client: httpx.AsyncClient) -> None:
    server.replies.append(Reply(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end", close=True))
    assert (await client.get(server.url)).text == "until the end"
    assert (await client.get(server.url)).text == "ok" and server.connections == 2


async def test_gzip_body_is_decoded(server: Server, client: httpx.AsyncClient) -> None:
    packed = gzip.compress(b'{"ok": true}')
    server.replies.append(
        Reply(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s" % (len(packed), packed))
    )
    assert (await client.get(server.url)).json() == {"ok": True}


# ---- keep-alive --------------------------------------------------------------------------------------


async def test_sequential_requests_share_one_connection(server: Server, client: httpx.AsyncClient) -> None:
    for _ in range(3):
        assert (await client.get(server.url)).text == "ok"
    assert server.connections == 1


@pytest.mark.parametrize(
    "first",
    [
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
    ],
    ids=["connection-close", "http-1.0"],
)
async def test_no_reuse_when_the_response_says_so(server: Server, client: httpx.AsyncClient, first: bytes) -> None:
    server.replies.append(Reply(first))  # the server itself keeps the socket open: the client must not reuse it
    assert (await client.get(server.url)).text == "ok"
    assert (await client.get(server.url)).text == "ok"
    assert server.connections == 2


async def test_idle_connection_closed_by_server_is_replaced(server: Server, client: httpx.AsyncClient) -> None:
    server.replies.append(Reply(close=True))  # keep-alive response, then the server drops the socket
    assert (await client.get(server.url)).text == "ok"
    await server.ended.wait()
    await asyncio.sleep(0.05)  # the FIN reaches the idle connection's protocol
    assert (await client.get(server.url)).text == "ok"
    assert server.connections == 2


async def test_interim_100_continue_is_skipped(server: Server, client: httpx.AsyncClient) -> None:
    server.replies.append(Reply(b"HTTP/1.1 100 Continue\r\n\r\n" + OK))
    response = await client.post(server.url, content=b"x")
    assert response.status_code == 200 and response.text == "ok"
    assert (await client.get(server.url)).text == "ok" and server.connections == 1


@pytest.mark.parametrize(
    ("method", "head"),
    [
        ("HEAD", b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"),
        ("GET", b"HTTP/1.1 204 No Content\r\n\r\n"),
        ("GET", b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n"),
    ],
    ids=["head", "204", "304"],
)
async def test_bodyless_responses(server: Server, client: httpx.AsyncClient, method: str, head: bytes) -> None:
    server.replies.append(Reply(head))
    response = await client.request(method, server.url)
    assert response.content == b""
    assert (await client.get(server.url)).text == "ok" and server.connections == 1


# ---- failures ------------------------------------------------------------------------------------------


async def test_connection_refused_is_connect_error(client: httpx.AsyncClient) -> None:
    with pytest.raises(httpx.ConnectError):
        await client.get(f"http://127.0.0.1:{free_port()}/")


async def test_silent_server_is_read_timeout_and_its_connection_is_dropped(server: Server) -> None:
    server.replies.append(Reply(b"", hang=True))
    async with httpx.AsyncClient(transport=Wire(no_tls), timeout=0.3) as client:
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            await client.get(server.url)
        assert time.monotonic() - started < 2
        assert (await client.get(server.url)).text == "ok"
    assert server.connections == 2


async def test_server_closing_without_answer(server: Server, client: httpx.AsyncClient) -> None:
    server.replies.append(Reply(b"", close=True))
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        await client.get(server.url)


@pytest.mark.parametrize(
    "data",
    [
        b"SPDY/3 200 OK\r\n\r\n",
        b"HTTP/1.1 2000 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (MAX_BODY + 1),
        b"HTTP/1.1 200 OK\r\nContent-Length: 999999999\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * (MAX_HEAD + 1024),  # no end of head in sight
    ],
    ids=["not-http", "status-digits", "header-line", "over-max-body", "huge-length", "chunk-size", "endless-head"],
)
async def test_malformed_or_oversize_response(server: Server, client: httpx.AsyncClient, data: bytes) -> None:
    server.replies.append(Reply(data, hang=True))  # a hang would surface as ReadTimeout, not as the error
    with pytest.raises(httpx.RemoteProtocolError):
        await client.get(server.url)


async def test_complete_head_over_64_kib(server: Server, client: httpx.AsyncClient) -> None:
    """The limit holds even when the end of the head arrives in the same read that crosses it."""
    big = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Big: " + b"a" * (MAX_HEAD + 1024) + b"\r\n\r\n"
    server.replies.append(Reply(big, hang=True))
    with pytest.raises(httpx.RemoteProtocolError):
        await client.get(server.url)


# ---- TLS -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
async def tls_server(ca: trustme.CA) -> AsyncIterator[tuple[Server, list[str | None]]]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(context)
    names: list[str | None] = []

    def record(_sock: ssl.SSLObject, name: str | None, _context: ssl.SSLContext) -> None:
        names.append(name)

    context.sni_callback = record  # type: ignore[assignment]
    s = Server(context)
    await s.start()
    yield s, names
    await s.close()


@pytest.fixture
def trusting(ca: trustme.CA) -> Iterator[ssl.SSLContext]:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    yield context


async def test_https_with_a_trusted_ca(tls_server: tuple[Server, list[str | None]], trusting: ssl.SSLContext) -> None:
    server, names = tls_server
    async with httpx.AsyncClient(transport=Wire(lambda: trusting), timeout=5) as client:
        assert (await client.get(f"https://localhost:{server.port}/")).text == "ok"
        assert (await client.get(f"https://localhost:{server.port}/")).text == "ok"
    assert names == ["localhost"] and server.connections == 1


async def test_https_untrusted_or_wrong_name_is_connect_error(
    tls_server: tuple[Server, list[str | None]], trusting: ssl.SSLContext
) -> None:
    server, _ = tls_server
    async with httpx.AsyncClient(transport=Wire(ssl.create_default_context), timeout=5) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"https://localhost:{server.port}/")
    async with httpx.AsyncClient(transport=Wire(lambda: trusting), timeout=5) as client:
        with pytest.raises(httpx.ConnectError):  # the certificate names localhost, not 127.0.0.1
            await client.get(f"https://127.0.0.1:{server.port}/")


# ---- mcp_push.http chooses the transport -----------------------------------------------------------------


@pytest.fixture
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)
    monkeypatch.setattr(http, "transport", None)  # no test redirect: production's choice


@pytest.mark.usefixtures("no_proxy_env")
async def test_direct_client_uses_wire(server: Server) -> None:
    client = http.client()
    assert isinstance(client._transport, Wire)
    assert (await client.get(server.url)).text == "ok"
    await http.aclose()
    assert client.is_closed


@pytest.mark.usefixtures("no_proxy_env")
async def test_proxied_clients_keep_httpx_transport(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    # The proxy is the local server: it sees the absolute-form request, so nothing leaves the machine.
    proxied = http.client(proxy=server.url)
    assert not isinstance(proxied._transport, Wire)
    assert (await proxied.get("http://push.invalid/x")).text == "ok"
    assert server.requests[0].startswith(b"GET http://push.invalid/x HTTP/1.1\r\n")
    await http.aclose()

    monkeypatch.setenv("HTTPS_PROXY", server.url)
    from_env = http.client()
    assert not isinstance(from_env._transport, Wire)
    await http.aclose()
