"""The MCP server through the SDK's real client, in memory."""

from __future__ import annotations

import asyncio
import json

import pytest
from mcp.shared.memory import create_connected_server_and_client_session as connect

from mcp_push.server import PushServer
from tests.recorder import reply

TOKEN = "ntfy-topic-secret-0123456789"


def server_for(make_config, **env) -> PushServer:
    return PushServer(make_config(**env))


async def test_tools_listed_with_schemas_and_annotations(make_config):
    async with connect(server_for(make_config)) as client:
        init_tools = (await client.list_tools()).tools
    tools = {t.name: t for t in init_tools}
    assert set(tools) == {"notify.send", "notify.event", "notify.ask"}
    send = tools["notify.send"]
    assert send.inputSchema["required"] == ["title", "content"]
    assert send.inputSchema["properties"]["title"]["maxLength"] == 256
    assert "finished" in send.description and "start" in send.description
    assert set(send.outputSchema["properties"]) == {"status", "summary", "results", "id"}
    for tool in tools.values():
        a = tool.annotations
        assert (a.readOnlyHint, a.destructiveHint, a.idempotentHint, a.openWorldHint) == (False, False, False, True)
    event = tools["notify.event"]
    assert event.inputSchema["properties"]["event"]["enum"] == ["start", "update", "end", "error"]
    assert set(event.inputSchema["required"]) == {"run_id", "event", "message"}


async def test_instructions_teach_when_to_call(make_config):
    server = server_for(make_config)
    assert "finished" in server.instructions and "must act" in server.instructions


async def test_send_returns_structured_report(recorder, make_config):
    recorder.respond(reply(200, {"id": "abc", "event": "message"}))
    server = server_for(make_config, NTFY_TOPIC=TOKEN, NTFY_URL=recorder.url)
    async with connect(server) as client:
        result = await client.call_tool("notify.send", {"title": "Build done", "content": "All green ✅"})
    assert not result.isError
    report = result.structuredContent
    assert report["status"] == "delivered"
    (channel,) = report["results"]
    assert channel["name"] == "ntfy" and channel["ok"] and channel["http_status"] == 200
    assert "ntfy" in result.content[0].text
    assert recorder.last.text == "All green ✅"
    assert TOKEN not in json.dumps(report) and TOKEN not in result.content[0].text


async def test_event_renders_readable_message(recorder, make_config):
    recorder.respond(reply(200, {"id": "abc"}))
    server = server_for(make_config, WEBHOOK_URL=recorder.url + "/hook")
    args = {
        "run_id": "nightly-build",
        "event": "end",
        "message": "Finished in 12 min",
        "data": {"step": 3, "artifact_url": "https://x/y", "nested": {"a": [1, 2]}},
        "timestamp": "2026-11-22T03:00:00Z",
    }
    async with connect(server) as client:
        result = await client.call_tool("notify.event", args)
    assert not result.isError, result.content
    body = recorder.last.json()
    assert body["title"] == "✅ [END] nightly-build"
    assert body["content"] == (
        'Finished in 12 min\n\nstep: 3\nartifact_url: https://x/y\nnested: {"a":[1,2]}'
        "\n\ntime: 2026-11-22T03:00:00+00:00"
    )


async def test_underscore_names_are_accepted_but_not_listed(make_config):
    async with connect(server_for(make_config)) as client:
        result = await client.call_tool("notify_send", {"title": "t", "content": "c"})
        names = {t.name for t in (await client.list_tools()).tools}
    assert not result.isError
    assert result.structuredContent["status"] == "no_channels"
    assert names == {"notify.send", "notify.event", "notify.ask"}


async def test_underscore_listing_mode(make_config):
    async with connect(server_for(make_config, MCP_PUSH_TOOL_NAMES="underscore")) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        dotted = await client.call_tool("notify.event", {"run_id": "r", "event": "error", "message": "m"})
    assert names == {"notify_send", "notify_event", "notify_ask"}
    assert not dotted.isError


@pytest.mark.parametrize(
    ("tool", "args", "expected"),
    [
        ("notify.send", {"content": "c"}, "title: is required"),
        ("notify.send", {"title": "   ", "content": "c"}, "title: must not be empty or only whitespace"),
        ("notify.send", {"title": "x" * 257, "content": "c"}, "title: String should have at most 256 characters"),
        (
            "notify.send",
            {"title": "t", "content": "é" * 40000},
            "content: is 80,000 bytes as UTF-8; the limit is 64 KiB",
        ),
        ("notify.send", {"title": 5, "content": "c"}, "title: Input should be a valid string"),
        (
            "notify.event",
            {"run_id": "r", "event": "finish", "message": "m"},
            "event: must be one of 'start', 'update', 'end' or 'error'",
        ),
        ("notify.event", {"run_id": "a\nb", "event": "end", "message": "m"}, "run_id: must contain only printable"),
        (
            "notify.event",
            {"run_id": "r" * 129, "event": "end", "message": "m"},
            "run_id: String should have at most 128",
        ),
        ("notify.event", {"run_id": "r", "event": "end", "message": "m", "data": {"k": "v" * 17000}}, "data: is 17,"),
        ("notify.event", {"run_id": "r", "event": "end", "message": "m", "data": [1]}, "data: Input should be a valid"),
        (
            "notify.event",
            {"run_id": "r", "event": "end", "message": "m", "data": {"k": "a\udfffb"}},
            "data: contains an",
        ),
        ("notify.send", {"title": "t", "content": "bell\x07"}, "content: contains the control character U+0007"),
        ("notify.event", {"run_id": "r", "event": "end", "message": "m", "timestamp": "yesterday"}, "timestamp:"),
        ("notify.send", {"title": "t", "content": "c", "channels": ["pager"]}, "unknown channel 'pager'"),
        ("notify.send", {"title": "t", "content": "c", "channels": ["telegram"]}, "'telegram' is not configured"),
    ],
)
async def test_bad_input_gets_a_specific_error_and_server_keeps_serving(make_config, tool, args, expected):
    async with connect(server_for(make_config)) as client:
        bad = await client.call_tool(tool, args)
        good = await client.call_tool("notify.send", {"title": "t", "content": "c"})
    assert bad.isError
    assert expected in bad.content[0].text, bad.content[0].text
    assert "Traceback" not in bad.content[0].text
    assert not good.isError


async def test_nothing_delivered_is_an_error(recorder, make_config):
    recorder.respond(reply(500, text="boom"))
    server = server_for(make_config, WEBHOOK_URL=recorder.url)
    async with connect(server) as client:
        result = await client.call_tool("notify.send", {"title": "t", "content": "c"})
    assert result.isError
    assert result.structuredContent["status"] == "failed"
    assert "HTTP 500: boom" in result.content[0].text


async def test_logging_set_level_is_honoured(recorder, make_config):
    recorder.respond(reply(200, {"ok": True}))
    seen: list[tuple[str, str]] = []

    async def on_log(params):
        seen.append((params.level, params.data))

    server = server_for(make_config, WEBHOOK_URL=recorder.url)
    async with connect(server, logging_callback=on_log) as client:
        await client.call_tool("notify.send", {"title": "t", "content": "c"})
        quiet = list(seen)
        await client.set_logging_level("info")
        await client.call_tool("notify.send", {"title": "t", "content": "c"})
        await asyncio.sleep(0.05)
    assert quiet == []  # default threshold is warning; a success logs at info
    assert any(level == "info" and "webhook: delivered" in data for level, data in seen)
