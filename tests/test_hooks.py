"""Agent hooks: Claude Code payloads of each kind, the generic form, and the never-fail contract.

Payloads follow the shapes Claude Code documents (common fields session_id, transcript_path, cwd,
permission_mode, hook_event_name, plus each event's own); transcripts are JSON lines as Claude Code
writes them. What reaches the local webhook server is what a phone would show.
"""

from __future__ import annotations

import ast
import io
import json
import shlex
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from mcp_push.cli import main
from tests.recorder import reply
from tests.test_stdio import clean_env

SESSION = "3f9a2c71-8d4e-4b6a-9f1e-2a7c5d0e8b41"
HOOK_OUTPUT = {"continue": True, "suppressOutput": True}


pytestmark = pytest.mark.usefixtures("process_env")


def ts(seconds_ago: float) -> str:
    when = datetime.now(timezone.utc) - timedelta(seconds=seconds_ago)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def transcript(
    tmp_path: Path, started: float, reply_text: str = "Done.", prompt: float | None = None, name: str = SESSION
) -> Path:
    """A session begun `started` seconds ago; the last prompt `prompt` seconds ago (default: the first)."""
    prompt = started if prompt is None else prompt
    entries = [
        {"type": "summary", "summary": "Refactor the parser", "leafUuid": "u0"},
        {
            "type": "user",
            "uuid": "u1",
            "sessionId": SESSION,
            "timestamp": ts(started),
            "cwd": "/home/dev/src/acme-api",
            "message": {"role": "user", "content": "Make the test suite pass"},
        },
        {
            "type": "assistant",
            "uuid": "a1",
            "timestamp": ts(started - 5),
            "message": {
                "role": "assistant",
                "model": "claude-sonnet-4-5",
                "content": [{"type": "text", "text": "Running the tests first."}],
            },
        },
    ]
    if prompt != started:
        entries.append(
            {
                "type": "user",
                "uuid": "u2",
                "timestamp": ts(prompt),
                "message": {"role": "user", "content": [{"type": "text", "text": "Now fix the flaky one"}]},
            }
        )
    entries += [
        {
            "type": "assistant",
            "uuid": "a2",
            "timestamp": ts(prompt - 2),
            "message": {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "Let me run pytest."},
                    {"type": "tool_use", "id": "toolu_01", "name": "Bash", "input": {"command": "pytest -q"}},
                ],
            },
        },
        {
            "type": "user",
            "uuid": "u3",
            "timestamp": ts(3),
            "message": {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "toolu_01", "content": "\x1b[32m42 passed\x1b[0m"}],
            },
        },
        {
            "type": "assistant",
            "uuid": "a3",
            "timestamp": ts(1),
            "message": {"role": "assistant", "content": [{"type": "text", "text": reply_text}]},
        },
    ]
    path = tmp_path / f"{name}.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in entries), encoding="utf-8")
    return path


def payload(event: str, path: Path | None = None, **fields) -> dict:
    return {
        "session_id": SESSION,
        "transcript_path": str(path) if path else "/nonexistent/transcript.jsonl",
        "cwd": "/home/dev/src/acme-api",
        "permission_mode": "default",
        "hook_event_name": event,
        **fields,
    }


def run_hook(monkeypatch, capsys, data, *argv: str) -> str:
    """Runs `hook claude-code` in process; asserts the contract (exit 0, the JSON) and returns stderr."""
    text = data if isinstance(data, str) else json.dumps(data)
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    assert main(["hook", *(argv or ["claude-code"])]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out) == HOOK_OUTPUT
    return err


def test_short_session_is_skipped(webhook, tmp_path, monkeypatch, capsys):
    path = transcript(tmp_path, started=20)
    run_hook(monkeypatch, capsys, payload("Stop", path, stop_hook_active=False))
    assert webhook.requests == []


def test_long_session_end_uses_the_transcript(webhook, tmp_path, monkeypatch, capsys):
    reply_text = "All 42 tests pass (\x1b[32mgreen\x1b[0m).\n\nI fixed the race in `cache.py`; see the diff."
    path = transcript(tmp_path, started=725, reply_text=reply_text)
    run_hook(monkeypatch, capsys, payload("Stop", path, stop_hook_active=False))
    body = webhook.last.json()
    assert body["title"] == "✅ acme-api: Claude finished"
    assert body["content"].startswith("All 42 tests pass (green).\n\nI fixed the race in `cache.py`; see the diff.\n\n")
    assert "project: /home/dev/src/acme-api" in body["content"]
    assert "session: 3f9a2c71 · 12m 0" in body["content"]


def test_last_assistant_message_from_the_payload_wins(webhook, tmp_path, monkeypatch, capsys):
    path = transcript(tmp_path, started=300, reply_text="stale text from the transcript")
    run_hook(monkeypatch, capsys, payload("Stop", path, stop_hook_active=False, last_assistant_message="Fresh reply"))
    assert webhook.last.json()["content"].startswith("Fresh reply\n\n")


def test_a_short_turn_in_a_long_session_is_skipped_a_long_one_sent(webhook, tmp_path, monkeypatch, capsys):
    """The threshold counts from your last prompt: an old session does not ping after every quick answer."""
    run_hook(monkeypatch, capsys, payload("Stop", transcript(tmp_path, started=7200, prompt=15)))
    assert webhook.requests == []
    run_hook(monkeypatch, capsys, payload("Stop", transcript(tmp_path, started=7200, prompt=400)))
    assert "6m 40s since your last prompt (2h 00m in all)" in webhook.last.json()["content"]


def test_threshold_is_configurable(webhook, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MCP_PUSH_HOOK_MIN_SECONDS", "0")
    run_hook(monkeypatch, capsys, payload("Stop", transcript(tmp_path, started=10)))
    assert len(webhook.requests) == 1


def test_repeated_stop_is_skipped(webhook, tmp_path, monkeypatch, capsys):
    path = transcript(tmp_path, started=900)
    run_hook(monkeypatch, capsys, payload("Stop", path, stop_hook_active=True))
    assert webhook.requests == []


def test_api_failure_is_an_error(webhook, tmp_path, monkeypatch, capsys):
    fields = {"error_type": "rate_limit", "error": "429", "error_message": "Rate limit exceeded, retry in 5 min"}
    run_hook(monkeypatch, capsys, payload("StopFailure", transcript(tmp_path, started=1800), **fields))
    body = webhook.last.json()
    assert body["title"] == "❌ acme-api: Claude stopped on an error"
    assert body["content"].startswith("Rate limit exceeded, retry in 5 min\n\nerror: rate_limit (429)\n\n")


def test_stop_after_a_synthetic_api_error_reply_is_an_error(webhook, tmp_path, monkeypatch, capsys):
    path = transcript(tmp_path, started=600, reply_text="API Error: 529 Overloaded")
    lines = path.read_text().splitlines()
    last = json.loads(lines[-1]) | {"isApiErrorMessage": True}
    path.write_text("\n".join([*lines[:-1], json.dumps(last)]) + "\n")
    run_hook(monkeypatch, capsys, payload("Stop", path, stop_hook_active=False))
    body = webhook.last.json()
    assert body["title"] == "❌ acme-api: Claude stopped on an error"
    assert body["content"].startswith("API Error: 529 Overloaded")


def test_permission_request_needs_your_action(webhook, tmp_path, monkeypatch, capsys):
    fields = {"notification_type": "permission_prompt", "message": "Claude needs your permission to use Bash"}
    run_hook(monkeypatch, capsys, payload("Notification", transcript(tmp_path, started=240), **fields))
    body = webhook.last.json()
    assert body["title"] == "🔔 acme-api: Claude needs your permission"
    assert body["content"].startswith("Claude needs your permission to use Bash\n\nproject: /home/dev/src/acme-api")


def test_idle_prompt_and_older_notifications_without_a_type(webhook, tmp_path, monkeypatch, capsys):
    path = transcript(tmp_path, started=400)
    idle = {"notification_type": "idle_prompt", "message": "Claude is waiting for your input"}
    run_hook(monkeypatch, capsys, payload("Notification", path, **idle))
    assert webhook.last.json()["title"] == "🔔 acme-api: Claude is waiting for your input"
    run_hook(monkeypatch, capsys, payload("Notification", path, message="Claude needs your permission to use Edit"))
    assert webhook.last.json()["title"] == "🔔 acme-api: Claude needs your action"
    assert len(webhook.requests) == 2


def test_informational_notification_is_not_pushed(webhook, tmp_path, monkeypatch, capsys):
    fields = {"notification_type": "auth_success", "message": "Signed in"}
    run_hook(monkeypatch, capsys, payload("Notification", transcript(tmp_path, started=400), **fields))
    assert webhook.requests == []


def test_subagent_stop_uses_its_own_transcript(webhook, tmp_path, monkeypatch, capsys):
    main_path = transcript(tmp_path, started=3600)
    quick = transcript(tmp_path, started=12, reply_text="Found 3 call sites.", name="agent-a1b2c3")
    fields = {"stop_hook_active": False, "agent_id": "a1b2c3", "agent_type": "Explore"}
    run_hook(monkeypatch, capsys, payload("SubagentStop", main_path, agent_transcript_path=str(quick), **fields))
    assert webhook.requests == []  # the subagent itself ran 12 s
    slow = transcript(tmp_path, started=300, reply_text="Audit complete: 2 issues.", name="agent-d4e5f6")
    run_hook(monkeypatch, capsys, payload("SubagentStop", main_path, agent_transcript_path=str(slow), **fields))
    body = webhook.last.json()
    assert body["title"] == "✅ acme-api: subagent Explore finished"
    assert body["content"].startswith("Audit complete: 2 issues.")


def test_missing_transcript_still_notifies(webhook, monkeypatch, capsys):
    run_hook(monkeypatch, capsys, payload("Stop", None, stop_hook_active=False))
    body = webhook.last.json()
    assert body["content"] == "(no reply text)\n\nproject: /home/dev/src/acme-api\nsession: 3f9a2c71"


@pytest.mark.parametrize(
    "data",
    ["", "not json at all", "[1, 2]", '{"hook_event_name": 7}', '{"hook_event_name": "PreToolUse"}', "\udcff{"],
)
def test_garbage_payload_exits_0_with_json(webhook, monkeypatch, capsys, data):
    run_hook(monkeypatch, capsys, data)
    assert webhook.requests == []


def test_every_channel_down_exits_0_and_logs(recorder, tmp_path, monkeypatch, capsys):
    recorder.respond(reply(503, text="down"))
    monkeypatch.setenv("WEBHOOK_URL", recorder.url + "/hook")
    monkeypatch.setenv("NTFY_TOPIC", "hook-topic-0123456789")
    monkeypatch.setenv("NTFY_URL", "http://127.0.0.1:9")  # nothing listens on the discard port
    monkeypatch.setenv("MCP_PUSH_RETRIES", "0")
    err = run_hook(monkeypatch, capsys, payload("Stop", transcript(tmp_path, started=900)))
    assert "mcp-push hook: failed:" in err and "webhook" in err and "ntfy" in err
    assert "hook-topic-0123456789" not in err


def test_bad_configuration_never_fails_the_hook(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("MCP_PUSH_TIMEOUT", "soon")
    err = run_hook(monkeypatch, capsys, payload("Stop", transcript(tmp_path, started=900)))
    assert "MCP_PUSH_TIMEOUT" in err


def test_slow_channel_is_cut_at_the_hook_deadline(recorder, tmp_path, monkeypatch, capsys):
    import time

    recorder.respond(reply(200, {"ok": True}, delay=5))
    monkeypatch.setenv("WEBHOOK_URL", recorder.url)
    monkeypatch.setenv("MCP_PUSH_HOOK_DEADLINE", "0.5")
    started = time.monotonic()
    err = run_hook(monkeypatch, capsys, payload("Stop", transcript(tmp_path, started=900)))
    assert time.monotonic() - started < 3
    assert "failed" in err


def test_no_channel_keeps_it_in_the_inbox(tmp_path, monkeypatch, capsys):
    err = run_hook(monkeypatch, capsys, payload("Stop", transcript(tmp_path, started=900)))
    assert "no_channels" in err
    assert main(["inbox", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[-1]["title"] == "✅ acme-api: Claude finished"


def test_generic_form(webhook, monkeypatch, capsys):
    run_hook(monkeypatch, capsys, "3 tests failed\n", "generic", "--event", "error", "--run-id", "nightly-build")
    body = webhook.last.json()
    assert body["title"] == "❌ [ERROR] nightly-build"
    assert body["content"].startswith("3 tests failed\n\ntime: ")
    run_hook(monkeypatch, capsys, "", "generic", "--title", "Backup done")
    assert webhook.last.json()["title"] == "Backup done"
    assert webhook.last.json()["content"].startswith("end (no message)")


def test_generic_bad_event_is_logged_not_fatal(webhook, monkeypatch, capsys):
    err = run_hook(monkeypatch, capsys, "msg", "generic", "--event", "finished")
    assert "--event must be one of start, update, end, error" in err
    assert webhook.requests == []


def test_print_config_names_this_python(monkeypatch, capsys):
    assert main(["hook", "claude-code", "--print-config"]) == 0
    hooks = json.loads(capsys.readouterr().out)["hooks"]
    assert set(hooks) == {"Stop", "StopFailure", "Notification"}
    command = hooks["Stop"][0]["hooks"][0]["command"]
    assert shlex.split(command) == [sys.executable, "-m", "mcp_push", "hook", "claude-code"]


def test_printed_command_runs_as_a_real_hook(recorder, tmp_path, capsys):
    """The exact command from --print-config, through a shell as Claude Code runs it."""
    recorder.respond(reply(200, {"ok": True}))
    assert main(["hook", "claude-code", "--print-config"]) == 0
    command = json.loads(capsys.readouterr().out)["hooks"]["Notification"][0]["hooks"][0]["command"]
    path = transcript(tmp_path, started=600)
    data = payload("Notification", path, message="Claude needs your permission to use Bash")
    proc = subprocess.run(
        command,
        shell=True,
        input=json.dumps(data),
        env=clean_env(tmp_path, WEBHOOK_URL=recorder.url),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == HOOK_OUTPUT
    assert recorder.last.json()["content"].startswith("Claude needs your permission to use Bash")


def test_subprocess_with_garbage_and_channels_down(tmp_path):
    env = clean_env(tmp_path, WEBHOOK_URL="http://127.0.0.1:9/hook", MCP_PUSH_RETRIES="0")
    for data in (b"\xff\xfe garbage", json.dumps(payload("Stop", transcript(tmp_path, started=900))).encode()):
        proc = subprocess.run(
            [sys.executable, "-m", "mcp_push", "hook", "claude-code"],
            input=data,
            env=env,
            cwd=tmp_path,
            capture_output=True,
            timeout=30,
        )
        assert proc.returncode == 0
        assert json.loads(proc.stdout) == HOOK_OUTPUT
        assert b"Traceback" not in proc.stderr


def test_hook_path_imports_neither_mcp_nor_unused_channels(recorder, tmp_path):
    recorder.respond(reply(200, {"ok": True}))
    code = (
        "import sys; from mcp_push.cli import main; rc = main(['hook', 'claude-code']);"
        "loaded = sorted(m for m in sys.modules if m == 'mcp' or m.startswith(('mcp.', 'channels.')));"
        "print(rc, loaded, file=sys.stderr)"
    )
    data = json.dumps(payload("Stop", transcript(tmp_path, started=900)))
    env = clean_env(tmp_path, WEBHOOK_URL=recorder.url)
    proc = subprocess.run(
        [sys.executable, "-c", code], input=data, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=30
    )
    assert len(recorder.requests) == 1
    rc, loaded = proc.stderr.strip().splitlines()[-1].split(" ", 1)
    modules = ast.literal_eval(loaded)
    assert rc == "0" and not [m for m in modules if m == "mcp" or m.startswith("mcp.")]
    assert "channels.webhook" in modules and "channels.ntfy" not in modules
