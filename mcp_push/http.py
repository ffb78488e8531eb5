"""The process's pooled HTTP client: one per event loop (plus one per channel proxy), one TLS context.

Reusing the client keeps connections warm across calls in a long-running server. Direct requests go
through `mcp_push.wire`, a lean HTTP/1.1 transport whose pool is a dict per origin (httpcore's pool
scanned every connection on each request start and end: ~90 ms of CPU per 25-channel fan-out through one
client, docs/benchmarks.md). When a proxy is in play, from a channel's setting or the standard
HTTP(S)_PROXY / ALL_PROXY / NO_PROXY variables, httpx's own transport does the work, proxy rules included.
A streamed response (ntfy's subscription, which stays open) also takes httpx's own transport: `wire`
reads a body whole. The TLS context, the costly part (loading the CA bundle), is built once, on the first
https connection.
httpx is imported on first use, so a send that only reaches the console or the inbox never loads it.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from mcp_push import __version__

if TYPE_CHECKING:
    import httpx

USER_AGENT = f"mcp-push/{__version__}"

# Tests install a transport that sends every request to a local recording server while the Host
# header keeps the production host; production code never sets it.
transport: httpx.AsyncBaseTransport | None = None

T = TypeVar("T")

_clients: dict[tuple[int, str | None, bool], httpx.AsyncClient] = {}
_tls: ssl.SSLContext | None = None


def tls_context() -> ssl.SSLContext:
    """The verifying context every client shares (system store, or SSL_CERT_FILE / SSL_CERT_DIR)."""
    global _tls
    if _tls is None:
        import httpx

        _tls = httpx.create_ssl_context()
    return _tls


def client(proxy: str | None = None, *, stream: bool = False) -> httpx.AsyncClient:
    """The pooled client for the running event loop (and `proxy`, a channel's own proxy URL); `stream` for
    responses read as they arrive (`client.stream(...)`)."""
    key = (id(asyncio.get_running_loop()), proxy, stream)
    found = _clients.get(key)
    if found is None or found.is_closed:
        import httpx

        # httpx applies the proxy variables only with its own transport, so a proxied client keeps that.
        direct = proxy is None and not _environment_proxies() and not stream
        if transport is not None or not direct:
            chosen = transport
        else:
            from mcp_push.wire import Wire

            chosen = Wire(tls_context)
        found = httpx.AsyncClient(
            headers={"User-Agent": USER_AGENT},
            proxy=proxy,
            verify=True if direct else tls_context(),  # direct: Wire asks for the context on its first https use
            transport=chosen,
            follow_redirects=False,
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
        )
        _clients[key] = found
    return found


def _environment_proxies() -> bool:
    from urllib.request import getproxies

    return any(key != "no" for key in getproxies())


async def aclose() -> None:
    """Close the current loop's clients (end of a CLI run, server shutdown, test teardown)."""
    loop = id(asyncio.get_running_loop())
    for key in [k for k in _clients if k[0] == loop]:
        client = _clients.pop(key)
        if transport is None:  # a test's shared transport is closed by the test, once
            await client.aclose()


def run(work: Coroutine[Any, Any, T]) -> T:
    """Run a one-shot command's async work (a CLI send, a retry, a hook) and close its clients on the
    same event loop, so no connection outlives the loop it belongs to."""

    async def closing() -> T:
        try:
            return await work
        finally:
            await aclose()

    return asyncio.run(closing())
