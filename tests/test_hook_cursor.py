"""`hook cursor`: Cursor's `stop` hook payloads as its hooks documentation gives them.

Every payload carries the common fields (conversation_id, generation_id, model, hook_event_name,
cursor_version, workspace_roots, user_email, transcript_path); `stop` adds status and loop_count. The
transcript is JSON lines of role/message entries. Cursor reads the hook's stdout as JSON and would submit a
`followup_message` as your next prompt, so the hook prints exactly `{}`, and it exits 0 whatever it is fed.
"""

from __future__ import annotations

import io
import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from mcp_push.cli import main
from tests.recorder import reply
from tests.test_stdio import clean_env

CONVERSATION = "6f1d2c3b-8a9e-4d7f-b0c1-2e3a4b5c6d7e"
ROOT = "/home/dev/src/acme-web"

pytestmark = pytest.mark.usefixtures("process_env")


def transcript(tmp_path: Path, reply_text: str = "Done.") -> Path:
    entries = [
        {"role": "user", "message": {"content": [{"type": "text", "text": "<user_query>Fix the login</user_query>"}]}},
        {"role": "assistant", "message": {"content": [{"type": "text", "text": "Looking at auth.ts first."}]}},
        {"role": "assistant", "message": {"content": [{"type": "tool_use", "name": "Read", "input": {"path": "a"}}]}},
        {"role": "user", "message": {"content": [{"type": "tool_result", "content": "export function login…"}]}},
        {"role": "assistant", "message": {"content": [{"type": "text", "text": reply_text}]}},
        {"role": "assistant", "message": {"content": []}},
    ]
    path = tmp_path / "agent-transcripts" / CONVERSATION / f"{CONVERSATION}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(e) + "\n" for e in entries) + '{"role": "assist', encoding="utf-8")
    return path


def stop(status: str = "completed", path: Path | None = None, **fields) -> dict:
    return {
        "conversation_id": CONVERSATION,
        "generation_id": "b7e6d5c4-3a2b-4c1d-9e8f-7a6b5c4d3e2f",
        "model": "claude-4.5-sonnet",
        "hook_event_name": "stop",
        "cursor_version": "2.3.41",
        "workspace_roots": [ROOT],
        "user_email": "dev@example.com",
        "transcript_path": str(path) if path else None,
        "status": status,
        "loop_count": 0,
        **fields,
    }


def run_hook(monkeypatch, capsys, data) -> str:
    """Runs `hook cursor` in process; asserts the contract (exit 0, exactly `{}`) and returns stderr."""
    text = data if isinstance(data, str) else json.dumps(data)
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    assert main(["hook", "cursor"]) == 0
    out, err = capsys.readouterr()
    assert out == "{}\n"
    return err


def test_completed_turn_with_its_last_reply(webhook, tmp_path, monkeypatch, capsys):
    run_hook(monkeypatch, capsys, stop("completed", transcript(tmp_path, "Login fixed; 12 tests pass.")))
    body = webhook.last.json()
    assert body["title"] == "✅ acme-web: Cursor finished"
    assert body["content"] == "Login fixed; 12 tests pass.\n\nproject: /home/dev/src/acme-web\nsession: 6f1d2c3b"


def test_error_is_a_failure(webhook, tmp_path, monkeypatch, capsys):
    run_hook(monkeypatch, capsys, stop("error"))
    body = webhook.last.json()
    assert body["title"] == "❌ acme-web: Cursor stopped on an error"
    assert body["content"].startswith("The agent loop ended on an error.\n\nproject: /home/dev/src/acme-web")
    run_hook(monkeypatch, capsys, stop("error", transcript(tmp_path, "The API returned 529 Overloaded.")))
    assert webhook.last.json()["content"].startswith("The API returned 529 Overloaded.\n\n")


def test_aborted_by_you_is_not_announced(webhook, tmp_path, monkeypatch, capsys):
    run_hook(monkeypatch, capsys, stop("aborted", transcript(tmp_path)))
    assert webhook.requests == []


def test_a_stop_after_follow_ups_is_announced_and_says_so(webhook, tmp_path, monkeypatch, capsys):
    run_hook(monkeypatch, capsys, stop("completed", transcript(tmp_path, "Round two done."), loop_count=2))
    assert webhook.last.json()["content"].startswith("Round two done.\n\nafter 2 automatic follow-ups\n\nproject: ")
    run_hook(monkeypatch, capsys, stop("error", loop_count=1))
    assert "\n\nafter 1 automatic follow-up\n\nproject: " in webhook.last.json()["content"]


def test_an_unknown_status_is_a_finished_turn_that_says_so(webhook, monkeypatch, capsys):
    run_hook(monkeypatch, capsys, stop("Timed_Out"))
    body = webhook.last.json()
    assert body["title"] == "✅ acme-web: Cursor finished"
    assert body["content"].startswith("(no reply text)\n\nstatus: timed_out\n\nproject: ")


def test_no_transcript_still_notifies(webhook, monkeypatch, capsys):
    run_hook(monkeypatch, capsys, stop("completed"))
    assert webhook.last.json()["content"] == "(no reply text)\n\nproject: /home/dev/src/acme-web\nsession: 6f1d2c3b"
    run_hook(monkeypatch, capsys, stop("completed", Path("/nonexistent/t.jsonl")))
    assert webhook.last.json()["content"].startswith("(no reply text)\n\n")


def test_a_plain_text_transcript_gives_no_reply_but_no_error(webhook, tmp_path, monkeypatch, capsys):
    old = tmp_path / "old.txt"
    old.write_text("user:\n<user_query>hi</user_query>\n\nA:\nHello!\n", encoding="utf-8")
    run_hook(monkeypatch, capsys, stop("completed", old))
    assert webhook.last.json()["content"].startswith("(no reply text)\n\n")


def test_the_project_without_workspace_roots(webhook, tmp_path, monkeypatch, capsys):
    run_hook(monkeypatch, capsys, stop("completed", workspace_roots=[], cwd="/home/dev/src/from-cwd"))
    assert webhook.last.json()["title"] == "✅ from-cwd: Cursor finished"
    monkeypatch.setenv("CURSOR_PROJECT_DIR", "/home/dev/src/from-env")
    run_hook(monkeypatch, capsys, stop("completed", workspace_roots="/not/a/list"))
    assert webhook.last.json()["title"] == "✅ from-env: Cursor finished"
    monkeypatch.delenv("CURSOR_PROJECT_DIR")
    run_hook(monkeypatch, capsys, stop("completed", workspace_roots=[None, 3]))
    assert webhook.last.json()["title"] == f"✅ {tmp_path.name}: Cursor finished"


def test_a_stop_from_a_version_that_does_not_name_the_event(webhook, monkeypatch, capsys):
    data = {"conversation_id": CONVERSATION, "status": "completed", "loop_count": 0, "workspace_roots": [ROOT]}
    run_hook(monkeypatch, capsys, data)
    assert webhook.last.json()["title"] == "✅ acme-web: Cursor finished"


@pytest.mark.parametrize(
    "data",
    [
        {**stop(), "hook_event_name": "afterFileEdit", "file_path": "/x", "edits": []},
        {**stop(), "hook_event_name": "beforeShellExecution", "command": "git push", "cwd": ROOT},
        {**stop(), "hook_event_name": "sessionEnd", "reason": "completed", "status": None},
        {"conversation_id": CONVERSATION, "loop_count": 0},  # no event, no status
    ],
)
def test_other_events_are_not_announced(webhook, monkeypatch, capsys, data):
    run_hook(monkeypatch, capsys, data)
    assert webhook.requests == []


@pytest.mark.parametrize(
    "data", ["", "not json at all", "[1, 2]", "null", "{}", '{"hook_event_name": 7}', '{"status": 7}', "\udcff{"]
)
def test_garbage_is_not_announced_and_prints_the_empty_object(webhook, monkeypatch, capsys, data):
    run_hook(monkeypatch, capsys, data)
    assert webhook.requests == []


def test_wrong_types_fall_back_rather_than_fail(webhook, monkeypatch, capsys):
    data = stop(status=["completed"], conversation_id=42, transcript_path={"x": 1}, loop_count="3")
    run_hook(monkeypatch, capsys, data)
    body = webhook.last.json()
    assert body["title"] == "✅ acme-web: Cursor finished"
    assert body["content"].endswith("session: unknown")
    run_hook(monkeypatch, capsys, stop(loop_count=True))  # a bool is no count
    assert "follow-up" not in webhook.last.json()["content"]
    assert len(webhook.requests) == 2


def test_print_config_is_a_hooks_json_for_this_python(capsys):
    for argv in (["hook", "cursor", "--print-config"], ["hook", "cursor", "--print-config", "--approvals"]):
        assert main(argv) == 0
        config = json.loads(capsys.readouterr().out)
        assert config["version"] == 1
        assert set(config["hooks"]) == {"stop"}
        (entry,) = config["hooks"]["stop"]
        assert entry == {"command": entry["command"], "timeout": 30}
        assert shlex.split(entry["command"]) == [sys.executable, "-m", "mcp_push", "hook", "cursor"]


def test_printed_command_runs_as_a_real_hook(recorder, tmp_path, capsys):
    """The exact command from --print-config, through a shell as Cursor runs it."""
    recorder.respond(reply(200, {"ok": True}))
    assert main(["hook", "cursor", "--print-config"]) == 0
    command = json.loads(capsys.readouterr().out)["hooks"]["stop"][0]["command"]
    env = clean_env(tmp_path, WEBHOOK_URL=recorder.url, MCP_PUSH_RETRIES="0")
    for data in (json.dumps(stop("completed", transcript(tmp_path, "Shipped."))).encode(), b"\xff\xfe garbage"):
        proc = subprocess.run(command, shell=True, input=data, env=env, cwd=tmp_path, capture_output=True, timeout=30)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == b"{}\n"
        assert b"Traceback" not in proc.stderr
    assert len(recorder.requests) == 1
    assert recorder.last.json()["content"].startswith("Shipped.\n\n")
