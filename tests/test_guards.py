"""Abuse guards through the real MCP server: a looping agent cannot spam its user."""

from __future__ import annotations

import asyncio

from mcp.shared.memory import create_connected_server_and_client_session as connect

from mcp_push.server import PushServer
from tests.recorder import reply

GUARDS_ON = {"MCP_PUSH_DEDUPE_SECONDS": "60", "MCP_PUSH_MAX_PER_MINUTE": "30", "MCP_PUSH_UPDATE_INTERVAL": "60"}


async def test_burst_of_100_identical_calls_is_one_delivery(recorder, make_config):
    recorder.respond(reply(200, {"ok": True}))
    server = PushServer(make_config(WEBHOOK_URL=recorder.url, **GUARDS_ON))
    async with connect(server) as client:
        calls = [client.call_tool("notify.send", {"title": "Done", "content": "same"}) for _ in range(100)]
        results = await asyncio.gather(*calls)
    statuses = [r.structuredContent["status"] for r in results]
    assert statuses.count("delivered") == 1 and statuses.count("skipped") == 99
    assert not any(r.isError for r in results)  # a skip is not an error
    assert len(recorder.requests) == 1
    skipped = next(r for r in results if r.structuredContent["status"] == "skipped")
    assert "identical notification went out" in skipped.structuredContent["summary"]


async def test_per_minute_cap_holds_across_a_burst(recorder, make_config):
    recorder.respond(reply(200, {"ok": True}))
    server = PushServer(make_config(WEBHOOK_URL=recorder.url, **GUARDS_ON))
    async with connect(server) as client:
        calls = [client.call_tool("notify.send", {"title": f"n{i}", "content": "c"}) for i in range(45)]
        results = await asyncio.gather(*calls)
    statuses = [r.structuredContent["status"] for r in results]
    assert statuses.count("delivered") == 30 and statuses.count("skipped") == 15
    assert len(recorder.requests) == 30
    capped = next(r for r in results if r.structuredContent["status"] == "skipped")
    assert "MCP_PUSH_MAX_PER_MINUTE=30" in capped.content[0].text and "Stop notifying" in capped.content[0].text


async def test_update_events_at_most_once_per_interval_per_run(recorder, make_config):
    recorder.respond(reply(200, {"ok": True}))
    server = PushServer(make_config(WEBHOOK_URL=recorder.url, **GUARDS_ON))
    async with connect(server) as client:

        async def event(run: str, kind: str, message: str):
            args = {"run_id": run, "event": kind, "message": message}
            return (await client.call_tool("notify.event", args)).structuredContent["status"]

        assert await event("a", "update", "step 1") == "delivered"
        assert await event("a", "update", "step 2") == "skipped"
        assert await event("b", "update", "step 1") == "delivered"  # another run has its own budget
        assert await event("a", "end", "finished") == "delivered"  # end is never throttled as an update


async def test_events_filter(recorder, make_config):
    recorder.respond(reply(200, {"ok": True}))
    server = PushServer(make_config(WEBHOOK_URL=recorder.url, MCP_PUSH_EVENTS="end,error"))
    async with connect(server) as client:
        start = await client.call_tool("notify.event", {"run_id": "r", "event": "start", "message": "go"})
        end = await client.call_tool("notify.event", {"run_id": "r", "event": "end", "message": "done"})
    assert start.structuredContent["status"] == "skipped" and not start.isError
    assert "'start' events are not pushed" in start.structuredContent["summary"]
    assert end.structuredContent["status"] == "delivered"
    assert len(recorder.requests) == 1
