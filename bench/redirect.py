"""Run mcp-push's own entry point (`send ...` or the stdio server) with its HTTP sent to the bench server.

For channels whose production host is fixed (DingTalk, Feishu, PushPlus...). It installs, through
mcp-push's `http.transport` hook, an httpx transport that rewrites each request's address to
127.0.0.1:$BENCH_REDIRECT_PORT over plain HTTP while the Host header keeps the production host; the pooled
client, the channel code, `check()` and the dispatcher are mcp-push's own. The transport's pool has the
same limits as mcp-push's default client. Nothing leaves the machine.

    BENCH_REDIRECT_PORT=8000 python bench/redirect.py send TITLE BODY
"""

from __future__ import annotations

import os
import sys

if sys.path and os.path.basename(sys.path[0] or ".") == "bench":
    sys.path.pop(0)  # run as a file: keep bench/'s own modules from shadowing anything

import httpx

from mcp_push import http
from mcp_push.cli import main
from mcp_push.wire import Wire


class RedirectTransport(httpx.AsyncBaseTransport):
    def __init__(self, port: int) -> None:
        self._inner = Wire(http.tls_context)
        self._port = port

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(scheme="http", host="127.0.0.1", port=self._port)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


if __name__ == "__main__":
    http.transport = RedirectTransport(int(os.environ["BENCH_REDIRECT_PORT"]))
    sys.exit(main(sys.argv[1:]))
