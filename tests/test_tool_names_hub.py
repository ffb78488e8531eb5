"""Tool names per session on the hub: one PushServer serves every HTTP session, and each is listed the
spelling its own client takes, while the other sessions stay open."""

from __future__ import annotations

from contextlib import AsyncExitStack

import httpx
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.types import Implementation

from tests.hubs import RunningHub

TOKEN = "mph_test_token_0123456789abcdefghijklmn"
DOTTED = {"notify.send", "notify.event", "notify.ask"}
UNDERSCORE = {"notify_send", "notify_event", "notify_ask"}


async def test_hub_sessions_are_listed_by_their_own_client(make_config, recorder):
    hub = RunningHub(make_config(WEBHOOK_URL=recorder.url + "/hook", MCP_PUSH_API_TOKENS=TOKEN))
    clients = {
        "claude-code": DOTTED,
        "claude-code (via mcp-remote 0.1.29)": DOTTED,
        "cursor-vscode": UNDERSCORE,
        "claude-ai (via mcp-remote 0.1.29)": UNDERSCORE,
    }
    try:
        async with AsyncExitStack() as stack:  # every session open at once
            http_client = await stack.enter_async_context(
                httpx.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
            )
            sessions = []
            for name in clients:
                read, write, _ = await stack.enter_async_context(
                    streamable_http_client(f"{hub.url}/mcp", http_client=http_client)
                )
                info = Implementation(name=name, version="1")
                session = await stack.enter_async_context(ClientSession(read, write, client_info=info))
                await session.initialize()
                sessions.append(session)
            for _ in range(2):
                for session, expected in zip(sessions, clients.values(), strict=True):
                    assert {t.name for t in (await session.list_tools()).tools} == expected
                    for name in ("notify.send", "notify_send"):
                        result = await session.call_tool(name, {"title": "t", "content": "c"})
                        assert result.structuredContent["status"] == "delivered", result.content
    finally:
        hub.stop()
