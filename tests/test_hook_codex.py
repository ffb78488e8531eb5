"""`hook codex`: Codex's notify program (the JSON as the last argument) and its hooks (JSON on stdin).

Payloads follow Codex's own shapes: the notify JSON of codex-rs/hooks/src/legacy_notify.rs and the hook
inputs of codex-rs/hooks/schema/generated/*.command.input.schema.json. Rollouts are JSON lines of
`{"timestamp", "type", "payload"}` under $CODEX_HOME/sessions/YYYY/MM/DD/, as Codex writes them. Codex reads
stdout only for a permission decision, and fails a hook whose JSON is not of its event's shape, so every
other call must print nothing at all.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from mcp_push.cli import main
from tests.fakes import FakeTelegram
from tests.recorder import reply
from tests.test_ask_fronts import press_when_asked, tg_env
from tests.test_hooks import ts
from tests.test_stdio import clean_env

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli", reason="parsing TOML on Python 3.10 needs tomli")

THREAD = "019a2d7a-41c4-78b1-b7cc-a45d62a89cd5"
CWD = "/home/dev/src/acme-api"

pytestmark = pytest.mark.usefixtures("process_env")


@pytest.fixture(autouse=True)
def codex_home(tmp_path, monkeypatch) -> Path:
    """Codex's home for this test only: the developer's real sessions never answer a thread id."""
    home = tmp_path / "codex"
    monkeypatch.setenv("CODEX_HOME", str(home))
    return home


def rollout(home: Path, started: float, prompt: float | None = None, reply_text: str = "Renamed.") -> Path:
    """A session begun `started` seconds ago, your last prompt `prompt` seconds ago (default: at the start).
    Its first line, with the session's instructions, is longer than the head mcp-push reads."""
    prompt = started if prompt is None else prompt
    meta = {"id": THREAD, "timestamp": ts(started), "cwd": CWD, "cli_version": "0.130.0", "instructions": "x" * 70_000}

    def event(seconds_ago: float, payload: dict) -> dict:
        return {"timestamp": ts(seconds_ago), "type": "event_msg", "payload": payload}

    def item(seconds_ago: float, role: str, text: str) -> dict:
        kind = "input_text" if role == "user" else "output_text"
        payload = {"type": "message", "role": role, "content": [{"type": kind, "text": text}]}
        return {"timestamp": ts(seconds_ago), "type": "response_item", "payload": payload}

    entries = [
        {"timestamp": ts(started), "type": "session_meta", "payload": meta},
        item(started, "user", "<environment_context>...</environment_context>"),
        item(started, "user", "Rename `foo` to `bar`"),
        event(started, {"type": "user_message", "message": "Rename `foo` to `bar`", "kind": "plain"}),
        {"timestamp": ts(started), "type": "turn_context", "payload": {"cwd": CWD, "model": "gpt-5-codex"}},
        event(started - 2, {"type": "agent_message", "message": "Looking at the call sites."}),
    ]
    if prompt != started:
        entries += [
            item(prompt, "user", "Now update the callsites"),
            event(prompt, {"type": "user_message", "message": "Now update the callsites", "kind": "plain"}),
        ]
    entries += [
        {"timestamp": ts(3), "type": "response_item", "payload": {"type": "function_call", "name": "shell"}},
        event(2, {"type": "token_count", "info": None}),
        event(1, {"type": "agent_message", "message": reply_text}),
        item(1, "assistant", reply_text),
    ]
    path = home / "sessions" / "2026" / "05" / "19" / f"rollout-2026-05-19T10-00-00-{THREAD}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(e) + "\n" for e in entries), encoding="utf-8")
    return path


def notified(**fields) -> dict:
    return {
        "type": "agent-turn-complete",
        "thread-id": THREAD,
        "turn-id": "12345",
        "cwd": CWD,
        "client": "codex-tui",
        "input-messages": ["Rename `foo` to `bar` and update the callsites."],
        "last-assistant-message": "Rename complete and verified `cargo build` succeeds.",
        **fields,
    }


def hook(event: str, path: Path | None = None, **fields) -> dict:
    return {
        "session_id": THREAD,
        "turn_id": "12345",
        "transcript_path": str(path) if path else None,
        "cwd": CWD,
        "hook_event_name": event,
        "model": "gpt-5-codex",
        "permission_mode": "default",
        **fields,
    }


def run_notify(capsys, data) -> tuple[str, str]:
    """`hook codex '<json>'` as Codex's notify runs it: stdout is /dev/null there, and must stay empty anyway."""
    text = data if isinstance(data, str) else json.dumps(data)
    assert main(["hook", "codex", text]) == 0
    return capsys.readouterr()


def run_hook(monkeypatch, capsys, data) -> tuple[str, str]:
    """`hook codex` with the JSON on stdin, as Codex's hooks run it."""
    text = data if isinstance(data, str) else json.dumps(data)
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    assert main(["hook", "codex"]) == 0
    return capsys.readouterr()


# ---- notify ---------------------------------------------------------------------------------------------


def test_notify_a_long_turn_is_pushed_with_its_timing(webhook, codex_home, capsys):
    rollout(codex_home, started=7200, prompt=725)
    out, _ = run_notify(capsys, notified())
    assert out == ""
    body = webhook.last.json()
    assert body["title"] == "✅ acme-api: Codex finished"
    assert body["content"].startswith("Rename complete and verified `cargo build` succeeds.\n\nproject: " + CWD)
    assert "session: 019a2d7a · 12m 0" in body["content"]
    assert "since your last prompt (2h 00m in all)" in body["content"]


def test_notify_a_short_turn_is_skipped(webhook, codex_home, capsys):
    rollout(codex_home, started=7200, prompt=15)
    assert run_notify(capsys, notified()) == ("", "")
    assert webhook.requests == []


def test_notify_without_a_rollout_still_pushes(webhook, capsys):
    run_notify(capsys, notified(**{"last-assistant-message": None}))
    body = webhook.last.json()
    assert body["title"] == "✅ acme-api: Codex finished"
    assert body["content"] == f"(no reply text)\n\nproject: {CWD}\nsession: 019a2d7a"


def test_notify_with_missing_and_odd_fields_still_pushes(webhook, tmp_path, capsys):
    odd = {"type": "agent-turn-complete", "thread-id": ["*"], "cwd": 7, "last-assistant-message": {"text": "x"}}
    assert run_notify(capsys, odd) == ("", "")
    body = webhook.last.json()
    assert body["title"] == f"✅ {tmp_path.name}: Codex finished"  # Codex runs notify in the session's directory
    assert body["content"] == f"(no reply text)\n\nproject: {tmp_path}\nsession: unknown"


def test_notify_of_another_type_is_skipped(webhook, capsys):
    assert run_notify(capsys, notified(type="approval-requested")) == ("", "")
    assert webhook.requests == []


@pytest.mark.parametrize("data", ["", "not json at all", "[1, 2]", '"agent-turn-complete"', "{}", '{"type": 7}'])
def test_notify_garbage_prints_nothing_and_exits_0(webhook, capsys, data):
    out, _ = run_notify(capsys, data)
    assert out == "" and webhook.requests == []


def test_notify_as_codex_runs_it(recorder, tmp_path):
    """A real process, stdin on /dev/null and the JSON as its last argument, as Codex spawns it."""
    recorder.respond(reply(200, {"ok": True}))
    proc = subprocess.run(
        [sys.executable, "-m", "mcp_push", "hook", "codex", json.dumps(notified())],
        stdin=subprocess.DEVNULL,
        env=clean_env(tmp_path, WEBHOOK_URL=recorder.url),
        cwd=tmp_path,
        capture_output=True,
        timeout=30,
    )
    assert (proc.returncode, proc.stdout) == (0, b""), proc.stderr
    assert recorder.last.json()["title"] == "✅ acme-api: Codex finished"


# ---- hooks: Stop, SubagentStop, StopFailure ---------------------------------------------------------------


def test_stop_pushes_the_turn_and_prints_nothing(webhook, codex_home, monkeypatch, capsys):
    path = rollout(codex_home, started=900)
    out, _ = run_hook(monkeypatch, capsys, hook("Stop", path, stop_hook_active=False, last_assistant_message="Done."))
    assert out == ""
    body = webhook.last.json()
    assert body["title"] == "✅ acme-api: Codex finished"
    assert body["content"].startswith(f"Done.\n\nproject: {CWD}\nsession: 019a2d7a · 15m 0")


def test_stop_without_a_message_takes_the_rollouts_last_reply(webhook, codex_home, monkeypatch, capsys):
    path = rollout(codex_home, started=900, reply_text="All 12 call sites renamed.")
    run_hook(monkeypatch, capsys, hook("Stop", path, stop_hook_active=False, last_assistant_message=None))
    assert webhook.last.json()["content"].startswith("All 12 call sites renamed.\n\n")


def test_a_short_stop_and_a_repeated_stop_are_skipped(webhook, codex_home, monkeypatch, capsys):
    short = rollout(codex_home, started=3600, prompt=20)
    assert run_hook(monkeypatch, capsys, hook("Stop", short, stop_hook_active=False))[0] == ""
    again = rollout(codex_home, started=3600, prompt=600)  # long enough, but another Stop hook made Codex go on
    assert run_hook(monkeypatch, capsys, hook("Stop", again, stop_hook_active=True))[0] == ""
    assert webhook.requests == []


def test_subagent_stop_names_the_subagent(webhook, codex_home, monkeypatch, capsys):
    path = rollout(codex_home, started=300)
    fields = {"agent_id": "a1", "agent_type": "explorer", "agent_transcript_path": str(path), "stop_hook_active": False}
    run_hook(monkeypatch, capsys, hook("SubagentStop", None, last_assistant_message="Found 3 call sites.", **fields))
    assert webhook.last.json()["title"] == "✅ acme-api: subagent explorer finished"


def test_stop_failure_is_an_error(webhook, codex_home, monkeypatch, capsys):
    fields = {"error": "rate_limit", "error_details": "Usage limit reached; try again at 14:05."}
    path = rollout(codex_home, started=1800)
    out, _ = run_hook(monkeypatch, capsys, hook("StopFailure", path, last_assistant_message=None, **fields))
    assert out == ""
    body = webhook.last.json()
    assert body["title"] == "❌ acme-api: Codex stopped on an error"
    assert body["content"].startswith("Usage limit reached; try again at 14:05.\n\nerror: rate_limit\n\nproject: ")


@pytest.mark.parametrize(
    "data",
    [
        "",
        "not json at all",
        "[1, 2]",
        '{"hook_event_name": 7}',
        '{"hook_event_name": "PreToolUse", "tool_name": "Bash"}',
        '{"hook_event_name": "SessionStart", "source": "startup"}',
        "\udcff{",
    ],
)
def test_hook_garbage_prints_nothing_and_exits_0(webhook, monkeypatch, capsys, data):
    out, _ = run_hook(monkeypatch, capsys, data)
    assert out == "" and webhook.requests == []


def test_stop_with_odd_fields_still_pushes(webhook, tmp_path, monkeypatch, capsys):
    odd = {"hook_event_name": "Stop", "cwd": None, "transcript_path": 12, "last_assistant_message": ["x"]}
    assert run_hook(monkeypatch, capsys, odd)[0] == ""
    assert webhook.last.json()["content"] == f"(no reply text)\n\nproject: {tmp_path}\nsession: unknown"


# ---- hooks: PermissionRequest ------------------------------------------------------------------------------


@pytest.fixture
def telegram():
    fake = FakeTelegram()
    yield fake
    fake.close()


@pytest.fixture
def approvals(telegram, monkeypatch):
    for name, value in tg_env(telegram).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("MCP_PUSH_ASK_TIMEOUT", "15")
    return telegram


def permission(home: Path, **tool) -> dict:
    tool_input = tool.pop("tool_input", {"command": "rm -rf build/", "description": "Clean the build directory"})
    path = rollout(home, started=900, prompt=600)  # your last prompt was ten minutes ago
    return hook("PermissionRequest", path, tool_name=tool.pop("tool_name", "Bash"), tool_input=tool_input)


def decided(decision: dict) -> str:
    return json.dumps({"hookSpecificOutput": {"hookEventName": "PermissionRequest", "decision": decision}}) + "\n"


def test_permission_allowed_from_the_phone(approvals, codex_home, monkeypatch, capsys):
    press_when_asked(approvals, "Allow")
    out, _ = run_hook(monkeypatch, capsys, permission(codex_home))
    assert out == decided({"behavior": "allow"})
    assert approvals.question()["text"] == (
        "🔐 acme-api: Codex wants to run Bash\n\n"
        "command: rm -rf build/\ndescription: Clean the build directory\n\n"
        f"project: {CWD}\nsession: 019a2d7a"
    )


def test_permission_denied_from_the_phone(approvals, codex_home, monkeypatch, capsys):
    press_when_asked(approvals, "Deny")
    fields = {"tool_name": "NetworkAccess", "tool_input": {"command": "curl https://pypi.org", "description": "x"}}
    out, _ = run_hook(monkeypatch, capsys, permission(codex_home, **fields))
    assert out == decided({"behavior": "deny", "message": "Denied from Telegram"})
    assert approvals.question()["text"].startswith("🔐 acme-api: Codex wants to use NetworkAccess\n\n")


def test_no_answer_in_time_leaves_it_to_codex(approvals, codex_home, monkeypatch, capsys):
    monkeypatch.setenv("MCP_PUSH_ASK_TIMEOUT", "1")
    out, err = run_hook(monkeypatch, capsys, permission(codex_home))
    assert out == "" and "no decision: No answer within 1 s." in err  # empty: Codex shows its own prompt


def test_an_active_user_is_not_asked_remotely(approvals, codex_home, monkeypatch, capsys):
    data = permission(codex_home)
    data["transcript_path"] = str(rollout(codex_home, started=900, prompt=10))  # you typed 10 s ago
    assert run_hook(monkeypatch, capsys, data)[0] == ""
    assert approvals.messages == {}


# ---- --print-config ---------------------------------------------------------------------------------------


def test_print_config_is_toml_for_config_toml(monkeypatch, capsys):
    monkeypatch.setenv("MCP_PUSH_ASK_TIMEOUT", "300")
    assert main(["hook", "codex", "--print-config"]) == 0
    text = capsys.readouterr().out
    hooks = tomllib.loads(text)["hooks"]
    assert set(hooks) == {"Stop"}
    ((group,),) = [hooks["Stop"]]
    (handler,) = group["hooks"]
    assert handler == {"type": "command", "command": f"{sys.executable} -m mcp_push hook codex", "timeout": 30}
    # The notify line is there for a Codex without hooks, commented out: with both, every turn pushes twice.
    (line,) = [line for line in text.splitlines() if line.startswith("# notify = ")]
    assert tomllib.loads(line[2:])["notify"] == [sys.executable, "-m", "mcp_push", "hook", "codex"]

    assert main(["hook", "codex", "--print-config", "--approvals"]) == 0
    hooks = tomllib.loads(capsys.readouterr().out)["hooks"]
    assert set(hooks) == {"Stop", "PermissionRequest"}
    (group,) = hooks["PermissionRequest"]
    assert "matcher" not in group and group["hooks"][0]["timeout"] == 330
