"""The front doors of a question: `notify.ask` through the SDK's client, `mcp-push ask` and its exit codes,
and `hook claude-code` on a PermissionRequest, whose stdout must be exactly what Claude Code parses.

Each runs against the fake Telegram (or ntfy) server on a real socket; the test plays the user.
"""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from mcp import types
from mcp.shared.exceptions import McpError
from mcp.shared.memory import create_connected_server_and_client_session as connect

from mcp_push.cli import main
from mcp_push.server import PushServer
from tests.fakes import CHAT_ID, TG_TOKEN, FakeNtfy, FakeTelegram
from tests.recorder import reply
from tests.test_hooks import SESSION, payload, transcript
from tests.test_stdio import clean_env

HOOK_OUTPUT = {"continue": True, "suppressOutput": True}


@pytest.fixture
def telegram():
    fake = FakeTelegram()
    yield fake
    fake.close()


def tg_env(fake: FakeTelegram) -> dict[str, str]:
    return {"TG_BOT_TOKEN": TG_TOKEN, "TG_USER_ID": str(CHAT_ID), "TG_API_HOST": fake.url}


def press_when_asked(fake: FakeTelegram, label: str | None, *, data: str | None = None) -> threading.Thread:
    """The user, on another thread: waits for the next question and its reader, then presses `label`."""
    count = len([m for m in fake.messages.values() if m.get("reply_markup")]) + 1

    def user() -> None:
        message = fake.wait_question(count)
        fake.wait_for(lambda: fake.polling)
        if data is not None:
            fake.tap("forged", message, data=data)
            time.sleep(0.3)
        if label is not None:
            fake.tap(label, message)

    thread = threading.Thread(target=user, daemon=True)
    thread.start()
    return thread


# ---- notify.ask ---------------------------------------------------------------------------------------


async def test_ask_tool_is_listed_with_its_schema(make_config):
    async with connect(PushServer(make_config())) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    tool = tools["notify_ask"]  # the SDK's client names itself "mcp": listed as clients that take no dots are
    assert tool.inputSchema["required"] == ["question"]
    props = tool.inputSchema["properties"]
    assert props["options"]["default"] == ["Yes", "No"]
    assert props["options"]["minItems"] == 2 and props["options"]["maxItems"] == 4
    assert props["timeout_seconds"]["anyOf"][0]["maximum"] == 3600
    assert {"answered", "answer", "channel", "elapsed_s", "reason"} <= set(tool.outputSchema["properties"])
    assert "only when you are blocked on a human decision" in tool.description
    assert "may be away" in tool.description


async def test_ask_tool_returns_the_answer_and_reports_progress(telegram, make_config):
    server = PushServer(make_config(**tg_env(telegram)))
    steps: list[tuple[float, float | None, str | None]] = []

    async def progress(done: float, total: float | None, message: str | None) -> None:
        steps.append((done, total, message))

    press_when_asked(telegram, "Ship it")
    async with connect(server) as client:
        result = await client.call_tool(
            "notify.ask",
            {"question": "Ship v1.4?", "options": ["Ship it", "Hold"], "timeout_seconds": 30},
            progress_callback=progress,
        )
    assert not result.isError
    structured = result.structuredContent
    assert structured["answered"] is True and structured["answer"] == "Ship it" and structured["channel"] == "telegram"
    assert isinstance(structured["elapsed_s"], float) and "reason" not in structured
    assert result.content[0].text.startswith("Answered “Ship it” from Telegram after ")
    assert steps and steps[0] == (0, 30, "asked on Telegram")
    assert telegram.question()["text"] == "❓ Ship v1.4?\n\nShip it · Hold"
    entry = server.config.store.history(limit=1)[0]
    assert entry["source"] == "mcp" and entry["question"]["answer"] == "Ship it"


async def test_ask_tool_timeout_and_the_underscore_name(telegram, make_config):
    server = PushServer(make_config(**tg_env(telegram)))
    async with connect(server) as client:
        result = await client.call_tool("notify_ask", {"question": "Anyone?", "timeout_seconds": 1})
    assert not result.isError
    assert {k: result.structuredContent[k] for k in ("answered", "reason")} == {"answered": False, "reason": "timeout"}
    assert result.content[0].text == "No answer within 1 s."


async def test_ask_tool_without_a_channel_that_can_answer(recorder, make_config):
    recorder.respond(reply(200, {"ok": True}))
    async with connect(PushServer(make_config(WEBHOOK_URL=recorder.url))) as client:
        result = await client.call_tool("notify.ask", {"question": "Which one?", "options": ["A", "B"]})
    assert not result.isError and result.structuredContent["reason"] == "no_reply_channel"
    assert "ask in the conversation" in result.content[0].text
    assert recorder.last.json()["content"].endswith("Answer where your agent runs.")  # the user still hears of it


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"question": "Q?", "options": ["Only one"]}, "options: List should have at least 2 items"),
        ({"question": "Q?", "options": ["A", "a"]}, "options: Value error, must differ"),
        ({"question": "Q?", "timeout_seconds": 7200}, "timeout_seconds: Input should be less than or equal to 3600"),
        ({"question": "   "}, "question: must not be empty"),
        ({"question": "Q?", "channels": ["pager"]}, "unknown channel 'pager'"),
    ],
)
async def test_ask_tool_bad_input_gets_a_specific_error(make_config, arguments, expected):
    async with connect(PushServer(make_config())) as client:
        result = await client.call_tool("notify.ask", arguments)
        still = await client.call_tool("notify.send", {"title": "t", "content": "c"})
    assert result.isError and expected.replace("Value error, ", "") in result.content[0].text
    assert not still.isError  # the server keeps serving


async def test_ask_tool_stops_waiting_when_the_client_cancels(telegram, make_config):
    server = PushServer(make_config(**tg_env(telegram)))
    async with connect(server) as client:
        request_id = client._request_id  # the id the next request gets
        call = asyncio.ensure_future(client.call_tool("notify.ask", {"question": "Wait for me?"}))
        await asyncio.to_thread(telegram.wait_question)
        await asyncio.to_thread(telegram.wait_for, lambda: telegram.polling)
        cancel = types.CancelledNotification(params=types.CancelledNotificationParams(requestId=request_id))
        await client.send_notification(types.ClientNotification(cancel))
        with pytest.raises(McpError):
            await asyncio.wait_for(call, 5)
        await asyncio.to_thread(telegram.wait_for, lambda: telegram.edits)
        assert "✖ Withdrawn" in telegram.edits[0]["text"]
        assert not (await client.call_tool("notify.send", {"title": "t", "content": "c"})).isError
    assert server.config.store.history(limit=2)[1]["question"]["status"] == "cancelled"


def test_a_question_withdrawn_as_the_client_leaves_is_withdrawn_on_the_phone_too(telegram, tmp_path):
    """The stdio server exits once stdin is closed and its calls are answered; the withdrawn question's
    message is edited before its HTTP clients close, not left saying it waits."""
    env = clean_env(tmp_path, **tg_env(telegram))
    proc = subprocess.Popen(
        [sys.executable, "-m", "mcp_push"], env=env, cwd=tmp_path, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )  # fmt: skip

    def message(**body: object) -> None:
        proc.stdin.write(json.dumps({"jsonrpc": "2.0", **body}).encode() + b"\n")
        proc.stdin.flush()

    info = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "claude-code", "version": "1"}}
    message(id=1, method="initialize", params=info)
    message(method="notifications/initialized")
    message(id=2, method="tools/call", params={"name": "notify.ask", "arguments": {"question": "Still there?"}})
    telegram.wait_question()
    telegram.wait_for(lambda: telegram.polling)
    message(method="notifications/cancelled", params={"requestId": 2, "reason": "the user left"})
    proc.stdin.close()
    assert proc.wait(timeout=20) == 0
    answers = [json.loads(line) for line in proc.stdout.read().splitlines()]
    assert [a.get("id") for a in answers] == [1, 2] and "error" in answers[1]  # the SDK: "Request cancelled"
    assert telegram.edits and "✖ Withdrawn" in telegram.edits[0]["text"]


# ---- mcp-push ask -------------------------------------------------------------------------------------


def run_cli(monkeypatch, capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.usefixtures("process_env")
def test_cli_ask_prints_the_answer(telegram, monkeypatch, capsys):
    for name, value in tg_env(telegram).items():
        monkeypatch.setenv(name, value)
    press_when_asked(telegram, "Deploy")
    code, out, err = run_cli(monkeypatch, capsys, "ask", "Deploy v1.4 to prod?", "--option", "Deploy", "-o", "Wait")
    assert (code, out) == (0, "Deploy\n"), err
    press_when_asked(telegram, "Wait")
    code, out, _ = run_cli(monkeypatch, capsys, "ask", "Again?", "-o", "Deploy", "-o", "Wait", "--json")
    assert code == 0 and json.loads(out)["answer"] == "Wait" and json.loads(out)["channel"] == "telegram"
    # The audit trail: every question, its answer, from where.
    code, out, _ = run_cli(monkeypatch, capsys, "history")
    lines = out.splitlines()
    assert code == 0 and "❓ Again?" in lines[1] and "❓ Deploy v1.4 to prod?" in lines[4]
    assert lines[3].startswith("        ❓ Deploy / Wait → “Wait” via telegram after ")
    assert lines[6].startswith("        ❓ Deploy / Wait → “Deploy” via telegram after ")
    code, out, _ = run_cli(monkeypatch, capsys, "history", "--json")
    assert json.loads(out)[0]["question"]["sender"] == f"user {CHAT_ID} (@dev_user) in chat {CHAT_ID}"


@pytest.mark.usefixtures("process_env")
def test_cli_ask_exit_codes(telegram, recorder, monkeypatch, capsys):
    for name, value in tg_env(telegram).items():
        monkeypatch.setenv(name, value)
    code, out, err = run_cli(monkeypatch, capsys, "ask", "Anyone?", "--timeout", "1")
    assert (code, out) == (4, "") and "No answer within 1 s." in err
    for argv, problem in [
        (["-o", "Only"], "options: List should have at least 2 items"),
        (["-o", "a", "-o", "b", "-o", "c", "-o", "d", "-o", "e"], "at most 4"),
        (["--timeout", "0"], "timeout_seconds: Input should be greater than 0"),
        (["--channel", "pager"], "unknown channel 'pager'"),
    ]:
        code, _, err = run_cli(monkeypatch, capsys, "ask", "Q?", *argv)
        assert code == 2 and problem in err, err
    monkeypatch.setenv("TG_BOT_TOKEN", "999:wrong-token-0123456789")
    code, _, err = run_cli(monkeypatch, capsys, "ask", "Q?", "--timeout", "5")
    assert code == 1 and "reached no channel" in err and "wrong-token" not in err
    for name in tg_env(telegram):
        monkeypatch.delenv(name)
    recorder.respond(reply(200, {"ok": True}))
    monkeypatch.setenv("WEBHOOK_URL", recorder.url)
    code, _, err = run_cli(monkeypatch, capsys, "ask", "Q?")
    assert code == 2 and "No configured channel can carry an answer back" in err and recorder.requests == []


def test_two_ask_processes_through_one_bot(telegram, tmp_path):
    """Two real processes on one state dir and one bot: each gets its own answer, and they never poll at once."""
    env = {**clean_env(tmp_path), **tg_env(telegram)}
    command = [sys.executable, "-m", "mcp_push", "ask", "--timeout", "30"]
    first = subprocess.Popen(
        [*command, "First?", "-o", "A", "-o", "B"], env=env, cwd=tmp_path, stdout=subprocess.PIPE, text=True
    )
    telegram.wait_question(1, timeout=20)
    second = subprocess.Popen(
        [*command, "Second?", "-o", "C", "-o", "D"], env=env, cwd=tmp_path, stdout=subprocess.PIPE, text=True
    )
    telegram.wait_question(2, timeout=20)
    time.sleep(0.5)
    telegram.tap("D", telegram.question(1))
    telegram.tap("A", telegram.question(0))
    assert second.communicate(timeout=30)[0] == "D\n" and second.returncode == 0
    assert first.communicate(timeout=30)[0] == "A\n" and first.returncode == 0
    assert telegram.conflicts == 0


# ---- hook claude-code: PermissionRequest ---------------------------------------------------------------


def permission(tmp_path: Path, **fields) -> dict:
    tool_input = fields.pop("tool_input", {"command": "rm -rf build/", "description": "Clean the build directory"})
    return payload(
        "PermissionRequest",
        transcript(tmp_path, started=900, prompt=600),  # your last prompt was ten minutes ago
        tool_name=fields.pop("tool_name", "Bash"),
        tool_input=tool_input,
        permission_suggestions=[{"type": "addRules", "behavior": "allow", "destination": "localSettings"}],
        **fields,
    )


def run_hook(monkeypatch, capsys, data: dict | str) -> tuple[dict, str, float]:
    text = data if isinstance(data, str) else json.dumps(data)
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    started = time.monotonic()
    assert main(["hook", "claude-code"]) == 0
    took = time.monotonic() - started
    out, err = capsys.readouterr()
    assert out.count("\n") == 1, out  # one JSON object: Claude Code parses the whole of stdout
    return json.loads(out), err, took


def decided(decision: dict) -> dict:
    return {**HOOK_OUTPUT, "hookSpecificOutput": {"hookEventName": "PermissionRequest", "decision": decision}}


@pytest.fixture
def approvals(telegram, monkeypatch, process_env):
    for name, value in tg_env(telegram).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("MCP_PUSH_ASK_TIMEOUT", "15")
    return telegram


def test_permission_allowed_from_the_phone(approvals, tmp_path, monkeypatch, capsys):
    press_when_asked(approvals, "Allow")
    output, _, _ = run_hook(monkeypatch, capsys, permission(tmp_path))
    assert output == decided({"behavior": "allow"})
    message = approvals.question()
    assert message["text"] == (
        "🔐 acme-api: Claude wants to run Bash\n\n"
        "command: rm -rf build/\ndescription: Clean the build directory\n\n"
        f"project: /home/dev/src/acme-api\nsession: {SESSION[:8]}"
    )
    assert [b["text"] for b in message["reply_markup"]["inline_keyboard"][0]] == ["Allow", "Deny"]
    edited = approvals.wait_for(lambda: approvals.edits)[0]["text"]
    assert edited.split("\n\n")[1].startswith("✅ Allowed from Telegram at ")


def test_permission_denied_from_the_phone(approvals, tmp_path, monkeypatch, capsys):
    press_when_asked(approvals, "Deny")
    output, _, _ = run_hook(monkeypatch, capsys, permission(tmp_path))
    assert output == decided({"behavior": "deny", "message": "Denied from Telegram"})
    assert approvals.wait_for(lambda: approvals.edits)[0]["text"].split("\n\n")[1].startswith("🚫 Denied from Telegram")


def test_a_forged_answer_does_not_decide(approvals, tmp_path, monkeypatch, capsys):
    press_when_asked(approvals, "Allow", data="AAAAAAAAAAAAAAAA.0.AAAAAAAAAAAAAAAAAAAAAA")
    output, _, _ = run_hook(monkeypatch, capsys, permission(tmp_path))
    assert output == decided({"behavior": "allow"})
    assert approvals.acks[0]["text"].startswith("Not accepted")


def test_no_answer_in_time_leaves_it_to_the_terminal(approvals, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MCP_PUSH_ASK_TIMEOUT", "1")
    output, err, took = run_hook(monkeypatch, capsys, permission(tmp_path))
    assert output == HOOK_OUTPUT and "no decision: No answer within 1 s." in err
    assert took < 1 + 3 + 2
    assert approvals.edits[0]["text"].split("\n\n")[1] == "⌛ Expired: answer in the terminal"


def test_no_answer_in_time_denies_when_told(approvals, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MCP_PUSH_ASK_TIMEOUT", "1")
    monkeypatch.setenv("MCP_PUSH_ASK_DEFAULT", "deny")
    output, _, _ = run_hook(monkeypatch, capsys, permission(tmp_path))
    assert output == decided(
        {"behavior": "deny", "message": "No answer within 1 s; denied by MCP_PUSH_ASK_DEFAULT=deny"}
    )


def test_an_active_user_is_not_asked_remotely(approvals, tmp_path, monkeypatch, capsys):
    data = permission(tmp_path)
    data["transcript_path"] = str(transcript(tmp_path, started=900, prompt=20))  # you typed 20 s ago
    output, _, took = run_hook(monkeypatch, capsys, data)
    assert output == HOOK_OUTPUT and approvals.messages == {} and took < 3


def test_what_claude_wants_is_cut_and_masked(approvals, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MCP_PUSH_ASK_TIMEOUT", "1")
    command = f"curl -H 'X-Token: {TG_TOKEN}' https://api.example.test/deploy && " + "echo x; " * 300
    data = permission(tmp_path, tool_name="mcp__github__create_issue", tool_input={
        "command": command, "title": "\x1b[31mRed\x1b[0m title", "body": "b" * 1000, "labels": ["bug", "p1"],
    })  # fmt: skip
    run_hook(monkeypatch, capsys, data)
    text = approvals.question()["text"]
    assert text.startswith("🔐 acme-api: Claude wants to use mcp__github__create_issue\n\n")
    assert TG_TOKEN not in text and "X-Token: ***" in text
    lines = text.split("\n\n")[1].splitlines()
    assert lines[0].startswith("command: curl") and lines[0].endswith("…") and len(lines[0]) <= len("command: ") + 1000
    assert lines[1:] == ["title: Red title", f"body: {'b' * 299}…", 'labels: ["bug", "p1"]']


def test_no_channel_that_can_answer_returns_at_once(recorder, tmp_path, monkeypatch, capsys, process_env):
    recorder.respond(reply(200, {"ok": True}))
    monkeypatch.setenv("WEBHOOK_URL", recorder.url)
    output, err, took = run_hook(monkeypatch, capsys, permission(tmp_path))
    assert output == HOOK_OUTPUT and took < 3 and recorder.requests == []  # the Notification hook tells you
    assert "No configured channel can carry an answer back" in err


def test_print_config_with_approvals(monkeypatch, capsys, process_env):
    monkeypatch.setenv("MCP_PUSH_ASK_TIMEOUT", "300")
    assert main(["hook", "claude-code", "--print-config", "--approvals"]) == 0
    hooks = json.loads(capsys.readouterr().out)["hooks"]
    (entry,) = hooks["PermissionRequest"]
    (hook,) = entry["hooks"]
    assert hook["timeout"] == 330 and hook["command"].endswith("-m mcp_push hook claude-code")
    assert "matcher" not in entry
    assert main(["hook", "claude-code", "--print-config"]) == 0
    assert "PermissionRequest" not in json.loads(capsys.readouterr().out)["hooks"]


def test_the_hook_process_prints_its_decision_then_exits(tmp_path):
    """The real process: one JSON line on stdout as soon as the answer is in, exit 0."""
    fake = FakeNtfy()
    try:
        env = {**clean_env(tmp_path), "NTFY_TOPIC": "approvals-5e1f0c3b", "NTFY_URL": fake.url}
        stdin = tmp_path / "payload.json"
        stdin.write_text(json.dumps(permission(tmp_path)))
        with stdin.open("rb") as data:
            proc = subprocess.Popen(
                [sys.executable, "-m", "mcp_push", "hook", "claude-code"],
                env=env,
                cwd=tmp_path,
                stdin=data,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        fake.wait_question(timeout=20)
        fake.wait_for(lambda: fake.subscribers, timeout=20)
        assert fake.tap("Deny") == 200
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert json.loads(out) == decided({"behavior": "deny", "message": "Denied from ntfy"})
        assert out.count(b"\n") == 1
    finally:
        fake.close()


def test_asking_from_the_shell_never_imports_the_mcp_sdk(telegram, tmp_path):
    """The ask and hook paths are front doors like send: the SDK is the server's alone."""
    code = (
        "import sys; from mcp_push.cli import main; rc = main(['ask', 'Q?', '--timeout', '1']);"
        "print(rc, sorted(m for m in sys.modules if m == 'mcp' or m.startswith('mcp.')), file=sys.stderr)"
    )
    env = {**clean_env(tmp_path), **tg_env(telegram)}
    proc = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True)
    assert proc.stderr.strip().splitlines()[-1] == "4 []", proc.stderr
    assert telegram.edits  # the whole path ran: asked, read, expired, shown
