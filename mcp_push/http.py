"""The process's pooled HTTP clients: one per channel (and event loop), all sharing one TLS context.

Reusing a client keeps connections warm across calls in a long-running server. One pool *per channel*
rather than one for the process: httpcore's pool walks every connection it holds each time a request
starts or ends, so a single pool serving a 25-way fan-out spends most of its CPU there (measured in
docs/benchmarks.md: ~90 ms per dispatch shared, ~30 ms split). The TLS context, the costly part of a client
(loading the CA bundle), is built once and shared. httpx is imported on first use, so a send that only
reaches the console or the inbox never loads it.
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

_clients: dict[tuple[int, str, str | None], httpx.AsyncClient] = {}
_tls: ssl.SSLContext | None = None


def tls_context() -> ssl.SSLContext:
    """The verifying context every client shares (system store, or SSL_CERT_FILE / SSL_CERT_DIR)."""
    global _tls
    if _tls is None:
        import httpx

        _tls = httpx.create_ssl_context()
    return _tls


def client(owner: str = "", proxy: str | None = None) -> httpx.AsyncClient:
    """The pooled client of `owner` (a channel name) for the running event loop."""
    import httpx

    key = (id(asyncio.get_running_loop()), owner, proxy)
    found = _clients.get(key)
    if found is None or found.is_closed:
        found = httpx.AsyncClient(
            headers={"User-Agent": USER_AGENT},
            # A proxy named by the channel wins; otherwise httpx honours HTTP(S)_PROXY / NO_PROXY.
            proxy=proxy,
            verify=tls_context(),
            transport=transport,
            follow_redirects=False,
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
        )
        _clients[key] = found
    return found


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
