"""The process's pooled HTTP clients: one per event loop (and per channel proxy, where a channel has one).

Reusing one client keeps connections warm across a fan-out and across calls in a long-running server.
httpx is imported on first use, so a send that only reaches the console or the inbox never loads it.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from mcp_push import __version__

if TYPE_CHECKING:
    import httpx

USER_AGENT = f"mcp-push/{__version__}"

# Tests install a transport that sends every request to a local recording server while the Host
# header keeps the production host; production code never sets it.
transport: httpx.AsyncBaseTransport | None = None

_clients: dict[tuple[int, str | None], httpx.AsyncClient] = {}


def client(proxy: str | None = None) -> httpx.AsyncClient:
    import httpx

    loop = id(asyncio.get_running_loop())
    key = (loop, proxy)
    found = _clients.get(key)
    if found is None or found.is_closed:
        found = httpx.AsyncClient(
            headers={"User-Agent": USER_AGENT},
            # A proxy named by the channel wins; otherwise httpx honours HTTP(S)_PROXY / NO_PROXY.
            proxy=proxy,
            transport=transport,
            follow_redirects=False,
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=50),
        )
        _clients[key] = found
    return found


async def aclose() -> None:
    """Close the current loop's clients (end of a CLI run, server shutdown, test teardown)."""
    loop = id(asyncio.get_running_loop())
    for key in [k for k in _clients if k[0] == loop]:
        await _clients.pop(key).aclose()
