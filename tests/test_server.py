"""The MCP server through the SDK's real client, in memory."""

from __future__ import annotations

import asyncio
import json

import pytest
from mcp.shared.memory import create_connected_server_and_client_session as connect
from mcp.types import Implementation

from mcp_push.server import PushServer
from tests.recorder import reply

TOKEN = "ntfy-topic-secret-0123456789"
DOTTED = {"notify.send", "notify.event", "notify.ask"}
UNDERSCORE = {"notify_send", "notify_event", "notify_ask"}
CLAUDE_CODE = Implementation(name="claude-code", version="2.1.143")


def server_for(make_config, **env) -> PushServer:
    return PushServer(make_config(**env))


async def listed(server: PushServer, client: str | None) -> set[str]:
    """The names a session is shown; None: the SDK's own default clientInfo ("mcp"), as a bare script sends."""
    info = Implementation(name=client, version="1.0") if client is not None else None
    async with connect(server, client_info=info) as session:
        return {t.name for t in (await session.list_tools()).tools}


async def test_tools_listed_with_schemas_and_annotations(make_config):
    async with connect(server_for(make_config), client_info=CLAUDE_CODE) as client:
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


@pytest.mark.parametrize(
    "client",
    [
        "claude-code",  # Claude Code (CLI and IDE extensions)
        "claude-code (via mcp-remote 0.1.29)",  # mcp-remote bridging Claude Code to the hub
        "mcp-inspector",  # MCP Inspector v2 web UI, and v1 before mid-2025
        "inspector-client",  # MCP Inspector v1 web UI
        "inspector-cli",  # MCP Inspector CLI
        "Claude-Code",
    ],
)
async def test_auto_lists_dotted_names_to_clients_known_to_take_them(make_config, client):
    assert await listed(server_for(make_config), client) == DOTTED


@pytest.mark.parametrize(
    "client",
    [
        "claude-ai",  # Claude Desktop
        "claude-ai (via mcp-remote 0.1.29)",
        "codex-mcp-client",  # Codex CLI
        "Codex",
        "cursor-vscode",  # Cursor
        "Visual Studio Code",  # VS Code with Copilot
        "windsurf-client",
        "claude-code-but-not-really",
        "",  # a client that says nothing about itself
        None,  # the SDK's default clientInfo name, "mcp"
    ],
)
async def test_auto_lists_underscore_names_to_every_other_client(make_config, client):
    assert await listed(server_for(make_config), client) == UNDERSCORE


@pytest.mark.parametrize(("mode", "names"), [("dotted", DOTTED), ("underscore", UNDERSCORE)])
@pytest.mark.parametrize("client", ["claude-code", "cursor-vscode", None])
async def test_a_forced_spelling_is_listed_to_every_client(make_config, mode, names, client):
    assert await listed(server_for(make_config, MCP_PUSH_TOOL_NAMES=mode), client) == names


@pytest.mark.parametrize("mode", ["auto", "dotted", "underscore"])
@pytest.mark.parametrize("client", ["claude-code", "claude-ai", None])
async def test_both_spellings_are_accepted_on_call_in_every_mode(make_config, mode, client):
    info = Implementation(name=client, version="1") if client is not None else None
    async with connect(server_for(make_config, MCP_PUSH_TOOL_NAMES=mode), client_info=info) as session:
        names = {t.name for t in (await session.list_tools()).tools}
        results = [
            await session.call_tool(name, {"title": "t", "content": "c"}) for name in ("notify.send", "notify_send")
        ]
        results += [
            await session.call_tool(name, {"run_id": "r", "event": "end", "message": "m"})
            for name in ("notify.event", "notify_event")
        ]
    assert names in (DOTTED, UNDERSCORE)  # one spelling, never both
    for result in results:
        assert not result.isError, result.content
        assert result.structuredContent["status"] == "no_channels"


async def test_underscore_listing_is_the_same_tools_renamed(make_config):
    server = server_for(make_config)
    async with connect(server, client_info=CLAUDE_CODE) as session:
        dotted = {t.name: t for t in (await session.list_tools()).tools}
    async with connect(server, client_info=Implementation(name="cursor-vscode", version="1")) as session:
        underscore = {t.name: t for t in (await session.list_tools()).tools}
    for name, tool in dotted.items():
        renamed = underscore[name.replace(".", "_")]
        assert renamed.model_dump(exclude={"name"}) == tool.model_dump(exclude={"name"})


async def test_each_session_is_listed_for_its_own_client(make_config):
    """The hub serves many sessions through one PushServer: a listing follows the session that asked,
    even with sessions of both kinds open and asking in turn."""
    server = server_for(make_config)
    cursor = Implementation(name="cursor-vscode", version="1")
    async with connect(server, client_info=CLAUDE_CODE) as claude, connect(server, client_info=cursor) as other:
        for _ in range(3):
            seen = await asyncio.gather(claude.list_tools(), other.list_tools(), claude.list_tools())
            assert [{t.name for t in answer.tools} for answer in seen] == [DOTTED, UNDERSCORE, DOTTED]
            # A call to the name the other session was shown refreshes the SDK's shared tool cache under the
            # caller's session; it must not change what the next listing shows either session.
            assert not (await other.call_tool("notify.send", {"title": "t", "content": "c"})).isError
            assert not (await claude.call_tool("notify_send", {"title": "t", "content": "c"})).isError


async def test_outside_a_session_auto_lists_underscore_names(make_config):
    names = {t.name for t in await server_for(make_config).list_tools()}
    assert names == UNDERSCORE
    forced = {t.name for t in await server_for(make_config, MCP_PUSH_TOOL_NAMES="dotted").list_tools()}
    assert forced == DOTTED


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
