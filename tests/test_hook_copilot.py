"""`hook copilot`: GitHub Copilot CLI payloads of each kind, as its hooks reference documents them.

camelCase event names give camelCase payloads (sessionId, a millisecond timestamp, transcriptPath; only
notification names its event), the VS Code compatible PascalCase names give snake_case ones. The transcript
is Copilot's event log (session-state/<id>/events.jsonl). Copilot wants nothing on stdout from these
events, so the hook prints nothing at all, and it exits 0 whatever it is fed.
"""

from __future__ import annotations

import io
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mcp_push.cli import main
from tests.recorder import reply
from tests.test_hooks import ts
from tests.test_stdio import clean_env

SESSION = "9c2e41d7-5b3a-4f6e-8a1d-0e7f3c9b2a64"
CWD = "/home/dev/src/acme-api"

pytestmark = pytest.mark.usefixtures("process_env")


def events(tmp_path: Path, started: float, prompt: float | None = None, reply_text: str = "Done.") -> Path:
    """An event log begun `started` seconds ago, the last prompt `prompt` seconds ago (default: at the start)."""
    prompt = started if prompt is None else prompt
    log = [
        {
            "type": "session.start",
            "data": {"sessionId": SESSION, "copilotVersion": "0.0.407"},
            "timestamp": ts(started),
        },
        {"type": "user.message", "data": {"content": "Make the test suite pass"}, "timestamp": ts(started - 1)},
        {"type": "assistant.message", "data": {"content": "Running the tests first."}, "timestamp": ts(started - 5)},
    ]
    if prompt != started:
        log.append({"type": "user.message", "data": {"content": "Now fix the flaky one"}, "timestamp": ts(prompt)})
    log += [
        {"type": "assistant.turn_start", "data": {}, "timestamp": ts(prompt - 1)},
        {
            "type": "assistant.message",
            "data": {"content": "", "toolRequests": [{"name": "bash", "arguments": {"command": "pytest -q"}}]},
            "timestamp": ts(prompt - 2),
        },
        {"type": "tool.execution_complete", "data": {"result": "42 passed"}, "timestamp": ts(3)},
        {"type": "assistant.message", "data": {"content": reply_text}, "timestamp": ts(1)},
        {"type": "assistant.turn_end", "data": {}, "timestamp": ts(0)},
    ]
    path = tmp_path / "session-state" / SESSION / "events.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(e) + "\n" for e in log), encoding="utf-8")
    return path


def agent_stop(path: Path | None = None, **fields) -> dict:
    return {
        "sessionId": SESSION,
        "timestamp": int(time.time() * 1000),
        "cwd": CWD,
        "transcriptPath": str(path) if path else "/nonexistent/events.jsonl",
        "stopReason": "end_turn",
        "stop_hook_active": False,
        **fields,
    }


def notification(kind: str, message: str, title: str = "") -> dict:
    return {
        "sessionId": SESSION,
        "timestamp": int(time.time() * 1000),
        "cwd": CWD,
        "hook_event_name": "Notification",
        "message": message,
        **({"title": title} if title else {}),
        "notification_type": kind,
    }


def error(recoverable: bool, **fields) -> dict:
    return {
        "sessionId": SESSION,
        "timestamp": int(time.time() * 1000),
        "cwd": CWD,
        "error": {"message": "Request failed: 503 Service Unavailable", "name": "CAPIError", "stack": "at x (y.js:1)"},
        "errorContext": "model_call",
        "recoverable": recoverable,
        **fields,
    }


def run_hook(monkeypatch, capsys, data) -> str:
    """Runs `hook copilot` in process; asserts the contract (exit 0, nothing on stdout) and returns stderr."""
    text = data if isinstance(data, str) else json.dumps(data)
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    assert main(["hook", "copilot"]) == 0
    out, err = capsys.readouterr()
    assert out == ""
    return err


def test_agent_stop_after_a_long_turn(webhook, tmp_path, monkeypatch, capsys):
    run_hook(monkeypatch, capsys, agent_stop(events(tmp_path, started=725, reply_text="All 42 tests pass.")))
    body = webhook.last.json()
    assert body["title"] == "✅ acme-api: Copilot finished"
    assert body["content"].startswith("All 42 tests pass.\n\nproject: /home/dev/src/acme-api\nsession: 9c2e41d7 · 12m")


def test_a_short_turn_in_a_long_session_is_skipped_a_long_one_sent(webhook, tmp_path, monkeypatch, capsys):
    run_hook(monkeypatch, capsys, agent_stop(events(tmp_path, started=7200, prompt=15)))
    assert webhook.requests == []
    run_hook(monkeypatch, capsys, agent_stop(events(tmp_path, started=7200, prompt=400)))
    assert "6m 40s since your last prompt (2h 00m in all)" in webhook.last.json()["content"]


def test_a_stop_forced_on_by_a_block_was_announced_already(webhook, tmp_path, monkeypatch, capsys):
    run_hook(monkeypatch, capsys, agent_stop(events(tmp_path, started=900), stop_hook_active=True))
    assert webhook.requests == []


def test_vs_code_compatible_stop(webhook, tmp_path, monkeypatch, capsys):
    data = {
        "hook_event_name": "Stop",
        "session_id": SESSION,
        "timestamp": ts(0),
        "cwd": CWD,
        "transcript_path": str(events(tmp_path, started=300, reply_text="Refactor done.")),
        "stop_reason": "end_turn",
        "stop_hook_active": False,
    }
    run_hook(monkeypatch, capsys, data)
    body = webhook.last.json()
    assert body["title"] == "✅ acme-api: Copilot finished"
    assert body["content"].startswith("Refactor done.\n\n")


def test_agent_stop_without_a_transcript_still_notifies(webhook, monkeypatch, capsys):
    run_hook(monkeypatch, capsys, agent_stop())
    assert webhook.last.json()["content"] == "(no reply text)\n\nproject: /home/dev/src/acme-api\nsession: 9c2e41d7"


def test_permission_prompt_needs_your_permission(webhook, monkeypatch, capsys):
    run_hook(
        monkeypatch, capsys, notification("permission_prompt", "Allow Copilot to run `git push`?", "Permission needed")
    )
    body = webhook.last.json()
    assert body["title"] == "🔔 acme-api: Copilot needs your permission"
    assert body["content"] == "Allow Copilot to run `git push`?\n\nproject: /home/dev/src/acme-api\nsession: 9c2e41d7"


def test_elicitation_and_unknown_kinds_need_you_background_completions_do_not(webhook, monkeypatch, capsys):
    run_hook(monkeypatch, capsys, notification("elicitation_dialog", "Which database should I use?"))
    assert webhook.last.json()["title"] == "🔔 acme-api: Copilot needs your answer"
    run_hook(monkeypatch, capsys, notification("sandbox_escape", "", "Copilot wants to leave the sandbox"))
    assert webhook.last.json()["title"] == "🔔 acme-api: Copilot needs your action"
    assert webhook.last.json()["content"].startswith("Copilot wants to leave the sandbox\n\n")
    for kind in ("shell_completed", "shell_detached_completed", "agent_completed", "agent_idle"):
        run_hook(monkeypatch, capsys, notification(kind, "Background work finished"))
    assert len(webhook.requests) == 2


def test_an_unrecoverable_error_is_a_failure_a_recoverable_one_is_not(webhook, monkeypatch, capsys):
    run_hook(monkeypatch, capsys, error(recoverable=True))
    assert webhook.requests == []
    run_hook(monkeypatch, capsys, error(recoverable=False))
    body = webhook.last.json()
    assert body["title"] == "❌ acme-api: Copilot stopped on an error"
    assert body["content"].startswith("Request failed: 503 Service Unavailable\n\nerror: CAPIError (model_call)\n\n")
    data = error(recoverable=False, hook_event_name="ErrorOccurred", error_context="system")
    del data["errorContext"]
    data["error"] = {"name": "Error"}
    run_hook(monkeypatch, capsys, data)
    assert webhook.last.json()["content"].startswith("The session stopped on an error.\n\nerror: Error (system)\n\n")


@pytest.mark.parametrize(
    "data",
    [
        # the other events: a subagent's stop, tools, prompts, the session's ends
        {
            "sessionId": SESSION,
            "cwd": CWD,
            "transcriptPath": "/x",
            "agentId": "a1",
            "agentName": "explore",
            "agentType": "explore",
            "response": "Found 3 call sites.",
            "stopReason": "end_turn",
        },
        {"sessionId": SESSION, "cwd": CWD, "toolName": "bash", "toolArgs": {"command": "ls"}},
        {"sessionId": SESSION, "cwd": CWD, "prompt": "hello"},
        {"sessionId": SESSION, "cwd": CWD, "reason": "complete"},
        {"hook_event_name": "PreToolUse", "session_id": SESSION, "cwd": CWD, "tool_name": "Bash"},
        {"hook_event_name": "SubagentStop", "session_id": SESSION, "cwd": CWD, "stop_reason": "end_turn"},
    ],
)
def test_other_events_are_not_announced(webhook, monkeypatch, capsys, data):
    run_hook(monkeypatch, capsys, data)
    assert webhook.requests == []


@pytest.mark.parametrize(
    "data", ["", "not json at all", "[1, 2]", "null", '"agentStop"', "{}", '{"hook_event_name": 7}', "\udcff{"]
)
def test_garbage_is_not_announced_and_prints_nothing(webhook, monkeypatch, capsys, data):
    run_hook(monkeypatch, capsys, data)
    assert webhook.requests == []


def test_wrong_types_fall_back_rather_than_fail(webhook, tmp_path, monkeypatch, capsys):
    data = {"sessionId": 5, "cwd": ["x"], "transcriptPath": 3, "stopReason": "end_turn", "stop_hook_active": "yes"}
    run_hook(monkeypatch, capsys, data)
    body = webhook.last.json()
    assert body["title"] == f"✅ {tmp_path.name}: Copilot finished"  # the hook runs in the project
    assert body["content"].endswith("session: unknown")
    run_hook(monkeypatch, capsys, {**notification("permission_prompt", "x"), "message": {"text": 1}, "title": None})
    assert webhook.last.json()["content"].startswith("Copilot needs your permission\n\n")  # the headline stands in


def test_print_config_is_a_hooks_file_for_this_python(capsys):
    for argv in (["hook", "copilot", "--print-config"], ["hook", "copilot", "--print-config", "--approvals"]):
        assert main(argv) == 0
        config = json.loads(capsys.readouterr().out)
        assert config["version"] == 1
        assert set(config["hooks"]) == {"agentStop", "notification", "errorOccurred"}  # never a permission hook
        for entries in config["hooks"].values():
            (entry,) = entries
            assert entry["type"] == "command" and entry["timeoutSec"] == 30
            assert shlex.split(entry["bash"]) == [sys.executable, "-m", "mcp_push", "hook", "copilot"]
            assert entry["powershell"] == "& " + entry["bash"]


def test_printed_command_runs_as_a_real_hook(recorder, tmp_path, capsys):
    """The exact command from --print-config, through a shell as Copilot runs its `bash` entries."""
    recorder.respond(reply(200, {"ok": True}))
    assert main(["hook", "copilot", "--print-config"]) == 0
    command = json.loads(capsys.readouterr().out)["hooks"]["notification"][0]["bash"]
    env = clean_env(tmp_path, WEBHOOK_URL=recorder.url)
    for data in (notification("permission_prompt", "Allow `rm -rf build`?"), b"\xff\xfe garbage"):
        proc = subprocess.run(
            command,
            shell=True,
            input=data if isinstance(data, bytes) else json.dumps(data).encode(),
            env=env,
            cwd=tmp_path,
            capture_output=True,
            timeout=30,
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == b""
        assert b"Traceback" not in proc.stderr
    assert len(recorder.requests) == 1
    assert recorder.last.json()["content"].startswith("Allow `rm -rf build`?")
