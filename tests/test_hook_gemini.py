"""`hook gemini`: Gemini CLI's AfterAgent and Notification hooks, and the contract that stdout is always `{}`.

Payloads follow Gemini's own shapes (docs/hooks/reference.md, packages/core/src/hooks/types.ts and
hookSystem.ts in google-gemini/gemini-cli); session files are JSON lines as Gemini 0.39 and newer write them
(metadata, then one message a line), or the one JSON object older versions wrote. Gemini parses stdout as
JSON, and reads stderr instead when stdout is empty, so every call must print exactly `{}`.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from mcp_push.cli import main
from tests.test_hooks import ts
from tests.test_stdio import clean_env

SESSION = "8f3c2a1e-5b7d-4e9f-a1c3-6d2b0e4f7a95"
CWD = "/home/dev/src/acme-api"

pytestmark = pytest.mark.usefixtures("process_env")


@pytest.fixture(autouse=True)
def _no_gemini_env(monkeypatch):
    for name in ("GEMINI_CWD", "GEMINI_PROJECT_DIR", "GEMINI_SESSION_ID"):
        monkeypatch.delenv(name, raising=False)


def messages(started: float, prompt: float) -> list[dict]:
    """A prompt at the start, a tool call, your last prompt `prompt` seconds ago, and tool results since:
    Gemini records those as user messages too."""
    result = [{"functionResponse": {"name": "run_shell_command", "response": {"output": "42 passed"}}}]
    found = [
        {"id": "m1", "timestamp": ts(started), "type": "user", "content": [{"text": "Make the test suite pass"}]},
        {"id": "m2", "timestamp": ts(started - 4), "type": "gemini", "content": "Running the tests.", "model": "x"},
        {"id": "m3", "timestamp": ts(started - 9), "type": "user", "content": result},
    ]
    if prompt != started:
        found.append({"id": "m4", "timestamp": ts(prompt), "type": "user", "content": "Now fix the flaky one"})
    return [
        *found,
        {"id": "m5", "timestamp": ts(5), "type": "info", "content": "Request cancelled."},
        {"id": "m6", "timestamp": ts(3), "type": "user", "content": result},
        {"id": "m7", "timestamp": ts(1), "type": "gemini", "content": [{"text": "Fixed."}]},
    ]


def session(tmp_path: Path, started: float, prompt: float | None = None, legacy: bool = False) -> Path:
    prompt = started if prompt is None else prompt
    meta = {"sessionId": SESSION, "projectHash": "ab12", "startTime": ts(started), "lastUpdated": ts(1)}
    chats = tmp_path / "gemini" / "tmp" / "ab12" / "chats"
    chats.mkdir(parents=True, exist_ok=True)
    if legacy:  # before Gemini 0.39: one pretty-printed JSON object
        path = chats / f"session-2026-05-19T10-00-{SESSION[:8]}.json"
        path.write_text(json.dumps({**meta, "messages": messages(started, prompt)}, indent=2), encoding="utf-8")
        return path
    path = chats / f"session-2026-05-19T10-00-{SESSION[:8]}.jsonl"
    lines = [meta, *messages(started, prompt), {"$set": {"summary": "Fix the flaky test"}}]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def payload(event: str, path: Path | None = None, **fields) -> dict:
    return {
        "session_id": SESSION,
        "transcript_path": str(path) if path else "",
        "cwd": CWD,
        "hook_event_name": event,
        "timestamp": ts(0),
        **fields,
    }


def after_agent(path: Path | None, reply_text: str = "All 42 tests pass.", **fields) -> dict:
    return payload("AfterAgent", path, prompt="Now fix the flaky one", prompt_response=reply_text, **fields)


def permission_notification(path: Path | None) -> dict:
    details = {"type": "exec", "title": "Confirm Shell Command", "command": "rm -rf build/", "rootCommand": "rm"}
    message = "Tool Confirm Shell Command requires execution"
    return payload("Notification", path, notification_type="ToolPermission", message=message, details=details)


def run_hook(monkeypatch, capsys, data) -> str:
    """Runs `hook gemini` in process; asserts the contract (exit 0, exactly `{}`) and returns stderr."""
    text = data if isinstance(data, str) else json.dumps(data)
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    assert main(["hook", "gemini"]) == 0
    out, err = capsys.readouterr()
    assert out == "{}\n"
    return err


# ---- AfterAgent --------------------------------------------------------------------------------------------


def test_a_long_turn_is_pushed(webhook, tmp_path, monkeypatch, capsys):
    run_hook(monkeypatch, capsys, after_agent(session(tmp_path, started=7200, prompt=400)))
    body = webhook.last.json()
    assert body["title"] == "✅ acme-api: Gemini finished"
    assert body["content"].startswith(f"All 42 tests pass.\n\nproject: {CWD}\nsession: 8f3c2a1e · 6m 4")
    assert body["content"].endswith("since your last prompt (2h 00m in all)")  # not since the tool result 3 s ago


def test_a_short_turn_is_skipped(webhook, tmp_path, monkeypatch, capsys):
    run_hook(monkeypatch, capsys, after_agent(session(tmp_path, started=7200, prompt=15)))
    run_hook(monkeypatch, capsys, after_agent(session(tmp_path, started=20)))
    assert webhook.requests == []


def test_the_session_file_of_older_gemini_versions(webhook, tmp_path, monkeypatch, capsys):
    run_hook(monkeypatch, capsys, after_agent(session(tmp_path, started=7200, prompt=15, legacy=True)))
    assert webhook.requests == []
    run_hook(monkeypatch, capsys, after_agent(session(tmp_path, started=7200, prompt=400, legacy=True)))
    assert "6m 4" in webhook.last.json()["content"]


def test_a_retry_another_hook_asked_for_is_skipped(webhook, tmp_path, monkeypatch, capsys):
    run_hook(monkeypatch, capsys, after_agent(session(tmp_path, started=900), stop_hook_active=True))
    assert webhook.requests == []


def test_no_reply_text_and_no_session_file(webhook, monkeypatch, capsys):
    run_hook(monkeypatch, capsys, after_agent(None, reply_text="[no response text]", stop_hook_active=False))
    assert webhook.last.json()["content"] == f"(no reply text)\n\nproject: {CWD}\nsession: 8f3c2a1e"


def test_missing_fields_come_from_geminis_environment(webhook, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GEMINI_CWD", "/home/dev/src/billing")
    monkeypatch.setenv("GEMINI_SESSION_ID", "c0ffee00-1111-2222-3333-444455556666")
    run_hook(monkeypatch, capsys, {"hook_event_name": "AfterAgent", "cwd": 3, "prompt_response": ["x"]})
    body = webhook.last.json()
    assert body["title"] == "✅ billing: Gemini finished"
    assert body["content"] == "(no reply text)\n\nproject: /home/dev/src/billing\nsession: c0ffee00"


# ---- Notification ------------------------------------------------------------------------------------------


def test_a_permission_prompt_is_a_push(webhook, tmp_path, monkeypatch, capsys):
    run_hook(monkeypatch, capsys, permission_notification(session(tmp_path, started=900, prompt=600)))
    body = webhook.last.json()
    assert body["title"] == "🔔 acme-api: Gemini needs your permission"
    assert body["content"] == (
        f"Tool Confirm Shell Command requires execution\ncommand: rm -rf build/\n\nproject: {CWD}\nsession: 8f3c2a1e"
        " · 10m 00s since your last prompt (15m 00s in all)"
    )


def test_an_edit_prompt_shows_the_file_not_its_contents(webhook, monkeypatch, capsys):
    details = {
        "type": "edit",
        "title": "Confirm Edit: src/cache.py",
        "fileName": "cache.py",
        "filePath": "/home/dev/src/acme-api/src/cache.py",
        "fileDiff": "--- a\n+++ b\n" + "+x\n" * 500,
        "originalContent": "old",
        "newContent": "new",
        "isModifying": False,
    }
    message = "Tool Confirm Edit: src/cache.py requires editing"
    data = payload("Notification", None, notification_type="ToolPermission", message=message, details=details)
    run_hook(monkeypatch, capsys, data)
    content = webhook.last.json()["content"]
    assert content.startswith(f"{message}\nfilePath: /home/dev/src/acme-api/src/cache.py\n\nproject: ")
    assert "+++" not in content and "old" not in content


def test_other_notifications_need_your_action(webhook, monkeypatch, capsys):
    data = payload("Notification", None, notification_type="QuotaWarning", message="You are near your quota", details=7)
    run_hook(monkeypatch, capsys, data)
    body = webhook.last.json()
    assert body["title"] == "🔔 acme-api: Gemini needs your action"
    assert body["content"].startswith("You are near your quota\n\nproject: ")


def test_a_permission_prompt_right_after_your_prompt_is_not_pushed(webhook, tmp_path, monkeypatch, capsys):
    run_hook(monkeypatch, capsys, permission_notification(session(tmp_path, started=900, prompt=10)))
    assert webhook.requests == []  # you are at the terminal; the hook returns at once and the dialog shows


# ---- garbage and the process -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        "",
        "not json at all",
        "[1, 2]",
        '{"hook_event_name": 7}',
        '{"hook_event_name": "BeforeTool", "tool_name": "run_shell_command"}',
        '{"hook_event_name": "SessionEnd", "reason": "exit"}',
        "\udcff{",
    ],
)
def test_garbage_prints_the_neutral_answer(webhook, monkeypatch, capsys, data):
    run_hook(monkeypatch, capsys, data)
    assert webhook.requests == []


def test_as_gemini_runs_it_with_every_channel_down(tmp_path):
    """A real process: `{}` on stdout and exit 0 whatever comes in, and the failure on stderr only."""
    env = clean_env(tmp_path, WEBHOOK_URL="http://127.0.0.1:9/hook", MCP_PUSH_RETRIES="0")
    for data in (b"\xff\xfe garbage", json.dumps(after_agent(session(tmp_path, started=900))).encode()):
        proc = subprocess.run(
            [sys.executable, "-m", "mcp_push", "hook", "gemini"],
            input=data,
            env=env,
            cwd=tmp_path,
            capture_output=True,
            timeout=30,
        )
        assert (proc.returncode, proc.stdout) == (0, b"{}\n")
        assert b"Traceback" not in proc.stderr
    assert b"mcp-push hook: failed" in proc.stderr


# ---- --print-config ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("approvals", [[], ["--approvals"]])  # Gemini's Notification hook cannot decide
def test_print_config_is_a_settings_json_block(monkeypatch, capsys, approvals):
    assert main(["hook", "gemini", "--print-config", *approvals]) == 0
    settings = json.loads(capsys.readouterr().out)
    assert settings["hooksConfig"] == {"enabled": True}
    assert set(settings["hooks"]) == {"AfterAgent", "Notification"}
    for groups in settings["hooks"].values():
        (group,) = groups
        (handler,) = group["hooks"]
        assert "matcher" not in group
        assert handler["type"] == "command" and handler["name"] == "mcp-push"
        assert handler["command"] == f"{sys.executable} -m mcp_push hook gemini"
        assert handler["timeout"] == 30000  # milliseconds
