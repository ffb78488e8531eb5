"""`python -m mcp_push` as a real subprocess: the SDK's stdio client, and a raw look at stdout."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.server.fastmcp import Context
from mcp.types import Implementation

from mcp_push.server import PushServer
from tests.recorder import reply

SECRET_TOPIC = "stdio-topic-secret-0123456789"
DOTTED = {"notify.send", "notify.event", "notify.ask"}
UNDERSCORE = {"notify_send", "notify_event", "notify_ask"}


INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}
# A client that writes everything at once and closes stdin: `mcp-push < requests.jsonl`, a script, a test runner.
SCRIPT = [
    {**INITIALIZE, "params": {**INITIALIZE["params"], "clientInfo": {"name": "claude-code", "version": "2.1"}}},
    {"jsonrpc": "2.0", "method": "notifications/initialized"},
    {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
    {
        "jsonrpc": "2.0",
        "id": 3,
        "method": "tools/call",
        "params": {"name": "notify.send", "arguments": {"title": "early", "content": "closed stdin"}},
    },
]
CONSOLE_SCRIPT = Path(sys.executable).with_name("mcp-push.exe" if sys.platform == "win32" else "mcp-push")


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """Only what the server needs: no developer tokens, no user config."""
    import os

    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
        "MCP_PUSH_HOME": str(tmp_path / "state"),
        **extra,
    }


def written_then_closed(
    command: list[str], messages: list[dict], env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    """The messages written to the server's stdin, which is then closed; the server is killed if it hangs."""
    lines = "".join(json.dumps(m) + "\n" for m in messages)
    return subprocess.run(command, input=lines, capture_output=True, text=True, env=env, cwd=cwd, timeout=60)


async def test_sdk_client_over_stdio(recorder, tmp_path):
    recorder.respond(reply(200, {"id": "m1"}))
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "mcp_push"],
        env=clean_env(tmp_path, NTFY_TOPIC=SECRET_TOPIC, NTFY_URL=recorder.url, CONSOLE="true"),
        cwd=str(tmp_path),
    )
    claude_code = Implementation(name="claude-code", version="2.1.143")
    async with stdio_client(params) as (read, write), ClientSession(read, write, client_info=claude_code) as session:
        init = await session.initialize()
        assert init.serverInfo.name == "mcp-push"
        assert "must act" in (init.instructions or "")
        tools = {t.name: t for t in (await session.list_tools()).tools}
        assert set(tools) == DOTTED
        assert tools["notify.send"].outputSchema is not None
        sent = await session.call_tool("notify.send", {"title": "标题", "content": "正文 & more"})
        event = await session.call_tool("notify_event", {"run_id": "job-1", "event": "error", "message": "failed"})
        bad = await session.call_tool("notify.send", {"title": "", "content": "x"})
        after = await session.call_tool("notify.send", {"title": "still", "content": "serving"})
    assert sent.structuredContent["status"] == "delivered"
    assert {r["name"] for r in sent.structuredContent["results"]} == {"console", "ntfy"}
    assert event.structuredContent["status"] == "delivered"
    assert bad.isError and "title: must not be empty" in bad.content[0].text
    assert not after.isError
    assert [r.text for r in recorder.requests] == [
        "正文 & more",
        "failed\n\n" + recorder.requests[1].text.split("\n\n", 1)[1],
        "serving",
    ]
    assert SECRET_TOPIC not in json.dumps([sent.model_dump(), event.model_dump()])


def test_stdout_carries_only_json_rpc(recorder, tmp_path):
    """Console output, logs at DEBUG and warnings must all stay off stdout."""
    recorder.respond(reply(200, {"id": "m1"}))
    messages = [
        INITIALIZE,
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        {
            "jsonrpc": "2.0",
            "id": 3,
            "method": "tools/call",
            "params": {"name": "notify.send", "arguments": {"title": "hello", "content": "printed to console"}},
        },
        {"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "notify.send", "arguments": {}}},
        {"jsonrpc": "2.0", "id": 5, "method": "no/such/method"},
    ]
    env = clean_env(tmp_path, CONSOLE="1", WEBHOOK_URL=recorder.url, MCP_PUSH_LOG_LEVEL="DEBUG")
    done = written_then_closed([sys.executable, "-m", "mcp_push"], messages, env, tmp_path)
    assert done.returncode == 0, done.stderr
    stderr = done.stderr
    replies = [json.loads(line) for line in done.stdout.splitlines()]  # every stdout line is JSON...
    assert all(r.get("jsonrpc") == "2.0" for r in replies)  # ...and JSON-RPC
    by_id = {r["id"]: r for r in replies if "id" in r}
    assert set(by_id) == {1, 2, 3, 4, 5}
    assert by_id[3]["result"]["structuredContent"]["status"] == "delivered"
    assert by_id[4]["result"]["isError"] is True
    assert "error" in by_id[5]  # the SDK answers an unknown method with an error, not a crash
    assert "printed to console" in stderr  # the console channel wrote where it should


def check_answers(lines: list[str], recorder, stderr: str) -> None:
    """Every request of SCRIPT answered, once, and the call delivered."""
    replies = [json.loads(line) for line in lines if line.strip()]
    assert all(r["jsonrpc"] == "2.0" for r in replies)
    answers = [r["id"] for r in replies if "id" in r]
    assert sorted(answers) == [1, 2, 3], f"answered {answers}; stderr: {stderr[-2000:]}"
    by_id = {r["id"]: r for r in replies if "id" in r}
    assert by_id[1]["result"]["serverInfo"]["name"] == "mcp-push"
    assert {t["name"] for t in by_id[2]["result"]["tools"]} == DOTTED
    assert by_id[3]["result"]["structuredContent"]["status"] == "delivered", by_id[3]
    assert recorder.last.json() == {"title": "early", "content": "closed stdin"}


SERVERS = {"python -m mcp_push": [sys.executable, "-m", "mcp_push"], "mcp-push": [str(CONSOLE_SCRIPT)]}


@pytest.mark.parametrize("attempt", range(4))
@pytest.mark.parametrize("server", SERVERS)
def test_requests_written_to_a_pipe_that_is_then_closed_are_all_answered(recorder, tmp_path, server, attempt):
    """At EOF the server stops reading, waits for every request the session has, then flushes and exits. On
    every other attempt the channel answers slowly, so that the call is surely still running when stdin closes;
    repeated, since whether an answer was dropped depended on timing."""
    if server == "mcp-push" and not CONSOLE_SCRIPT.exists():
        pytest.skip(f"the mcp-push console script is not installed next to {sys.executable}")
    recorder.respond(reply(200, {"ok": True}, delay=0.3 if attempt % 2 else 0.0))
    done = written_then_closed(SERVERS[server], SCRIPT, clean_env(tmp_path, WEBHOOK_URL=recorder.url), tmp_path)
    assert done.returncode == 0, done.stderr
    check_answers(done.stdout.splitlines(), recorder, done.stderr)


@pytest.mark.parametrize("attempt", range(3))
def test_regular_files_as_stdin_and_stdout(recorder, tmp_path: Path, attempt: int) -> None:
    """Not pipes (`mcp-push < requests.jsonl > replies.jsonl`): the blocking fallback reads to EOF, answers
    every request and exits."""
    recorder.respond(reply(200, {"ok": True}, delay=0.3 if attempt % 2 else 0.0))
    requests = tmp_path / "requests.jsonl"
    requests.write_text("".join(json.dumps(m) + "\n" for m in SCRIPT))
    replies = tmp_path / "replies.jsonl"
    with requests.open("rb") as stdin, replies.open("wb") as stdout:
        done = subprocess.run(
            [sys.executable, "-m", "mcp_push"],
            stdin=stdin,
            stdout=stdout,
            stderr=subprocess.PIPE,
            env=clean_env(tmp_path, WEBHOOK_URL=recorder.url),
            cwd=tmp_path,
            timeout=60,
        )
    assert done.returncode == 0, done.stderr
    check_answers(replies.read_text().splitlines(), recorder, done.stderr.decode("utf-8", "replace"))


def test_a_file_as_stdin_and_a_pipe_as_stdout(recorder, tmp_path: Path) -> None:
    """The blocking reader with the asyncio pipe writer, which must flush before the server exits."""
    recorder.respond(reply(200, {"ok": True}, delay=0.3))
    requests = tmp_path / "requests.jsonl"
    requests.write_text("".join(json.dumps(m) + "\n" for m in SCRIPT))
    with requests.open("rb") as stdin:
        done = subprocess.run(
            [sys.executable, "-m", "mcp_push"],
            stdin=stdin,
            capture_output=True,
            text=True,
            env=clean_env(tmp_path, WEBHOOK_URL=recorder.url),
            cwd=tmp_path,
            timeout=60,
        )
    assert done.returncode == 0, done.stderr
    check_answers(done.stdout.splitlines(), recorder, done.stderr)


def test_a_client_without_a_known_name_is_listed_underscore_names(tmp_path: Path) -> None:
    script = [INITIALIZE, *SCRIPT[1:3]]
    done = written_then_closed([sys.executable, "-m", "mcp_push"], script, clean_env(tmp_path), tmp_path)
    assert done.returncode == 0, done.stderr
    by_id = {r["id"]: r for r in map(json.loads, done.stdout.splitlines()) if "id" in r}
    assert {t["name"] for t in by_id[2]["result"]["tools"]} == UNDERSCORE


async def test_a_request_to_the_client_does_not_hold_the_exit(make_config, monkeypatch) -> None:
    """A handler waiting on the client (roots, sampling, elicitation) once stdin is closed gets "Connection
    closed", as the SDK gives when its transport closes, so the wait for answers at EOF cannot hang on it."""
    server = PushServer(make_config())

    async def probe(ctx: Context) -> str:
        await ctx.session.list_roots()
        return "the client answered"

    server.add_tool(probe, "probe.roots")
    initialize = {**INITIALIZE, "params": {**INITIALIZE["params"], "capabilities": {"roots": {}}}}
    call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "probe.roots", "arguments": {}}}
    lines = [initialize, {"jsonrpc": "2.0", "method": "notifications/initialized"}, call]
    stdout = io.TextIOWrapper(io.BytesIO())  # BytesIO has no fileno: the blocking path, in this process
    monkeypatch.setattr(
        sys, "stdin", io.TextIOWrapper(io.BytesIO("".join(json.dumps(m) + "\n" for m in lines).encode()))
    )
    monkeypatch.setattr(sys, "stdout", stdout)
    with anyio.fail_after(20):
        await server.run_stdio_async()
    replies = [json.loads(line) for line in stdout.buffer.getvalue().decode().splitlines()]
    assert [r.get("method") for r in replies if "method" in r] == ["roots/list"]
    (answer,) = [r for r in replies if r.get("id") == 2]
    assert answer["result"]["isError"] is True
