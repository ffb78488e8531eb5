"""`hook opencode`: what the plugin from `--print-config` sends, the raw opencode events it is built on, and
the plugin itself under node.

The plugin's JSON is this project's own small format (event, session_id, directory, worktree, message,
error, prompted_at/started_at in milliseconds, a permission's title/permission/patterns, a question's
title/options); the events are opencode's bus events as its SDK types give them (`session.idle`,
`session.status`, `session.error`, `permission.asked` and the older `permission.updated`, `question.asked`).
The plugin ignores the hook's stdout, and the hook prints nothing; it exits 0 whatever it is fed.
"""

from __future__ import annotations

import io
import json
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mcp_push.cli import main
from mcp_push.hooks.opencode import Opencode
from tests.recorder import reply
from tests.test_stdio import clean_env

SESSION = "ses_3a9f0c2e1ffeW2bq7Kx4mN8pRt"
DIRECTORY = "/home/dev/src/acme-app"

pytestmark = pytest.mark.usefixtures("process_env")
needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not on PATH to run the plugin")


def ms(seconds_ago: float) -> int:
    return int((time.time() - seconds_ago) * 1000)


def sent(event: str, prompted: float | None = 725, started: float | None = 7200, **fields) -> dict:
    """The plugin's JSON for `event`, the last prompt `prompted` seconds ago."""
    data = {"event": event, "session_id": SESSION, "directory": DIRECTORY, "worktree": DIRECTORY, **fields}
    if prompted is not None:
        data["prompted_at"] = ms(prompted)
    if started is not None:
        data["started_at"] = ms(started)
    return data


def run_hook(monkeypatch, capsys, data) -> str:
    """Runs `hook opencode` in process; asserts the contract (exit 0, nothing on stdout) and returns stderr."""
    text = data if isinstance(data, str) else json.dumps(data)
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    assert main(["hook", "opencode"]) == 0
    out, err = capsys.readouterr()
    assert out == ""
    return err


def test_idle_after_a_long_turn(webhook, monkeypatch, capsys):
    run_hook(monkeypatch, capsys, sent("session.idle", message="Migrated the schema; 31 tests pass."))
    body = webhook.last.json()
    assert body["title"] == "✅ acme-app: opencode finished"
    assert body["content"].startswith("Migrated the schema; 31 tests pass.\n\nproject: /home/dev/src/acme-app\n")
    assert "session: 3a9f0c2e · 12m 0" in body["content"]
    assert "s since your last prompt (2h 00m in all)" in body["content"]


def test_a_short_turn_is_skipped_one_without_timing_is_sent(webhook, monkeypatch, capsys):
    run_hook(monkeypatch, capsys, sent("session.idle", prompted=12, message="Hi!"))
    assert webhook.requests == []
    run_hook(monkeypatch, capsys, sent("session.idle", prompted=None, started=None))
    assert webhook.last.json()["content"] == "(no reply text)\n\nproject: /home/dev/src/acme-app\nsession: 3a9f0c2e"


def test_an_error_that_ended_the_turn_is_a_failure_an_interruption_is_not(webhook, monkeypatch, capsys):
    interrupted = {"name": "MessageAbortedError", "message": "The operation was aborted."}
    run_hook(monkeypatch, capsys, sent("session.idle", message="Half a reply", error=interrupted))
    assert webhook.requests == []
    failed = {"name": "APIError", "message": "Overloaded (529)"}
    run_hook(monkeypatch, capsys, sent("session.idle", message="Half a reply", error=failed))
    body = webhook.last.json()
    assert body["title"] == "❌ acme-app: opencode stopped on an error"
    assert body["content"].startswith("Overloaded (529)\n\nerror: APIError\n\nproject: /home/dev/src/acme-app\n")
    run_hook(monkeypatch, capsys, sent("session.idle", message="Half a reply", error={"name": "UnknownError"}))
    assert webhook.last.json()["content"].startswith("Half a reply\n\nerror: UnknownError\n\n")


def test_a_permission_asked_needs_your_permission(webhook, monkeypatch, capsys):
    fields = {"title": "", "permission": "bash", "patterns": ["git push origin main", "git push --tags"]}
    run_hook(monkeypatch, capsys, sent("permission.asked", **fields))
    body = webhook.last.json()
    assert body["title"] == "🔔 acme-app: opencode needs your permission"
    assert body["content"].startswith("bash: git push origin main git push --tags\n\nproject: /home/dev/src/acme-app\n")


def test_the_older_permission_updated_has_a_title(webhook, monkeypatch, capsys):
    fields = {"title": "Run `rm -rf dist`", "permission": "bash", "patterns": ["rm -rf dist"]}
    run_hook(monkeypatch, capsys, sent("permission.updated", **fields))
    assert webhook.last.json()["content"].startswith("Run `rm -rf dist`\n\n")
    run_hook(monkeypatch, capsys, sent("permission.updated"))  # nothing to say what it is
    assert webhook.last.json()["content"].startswith("opencode is waiting for your permission\n\n")


def test_a_question_needs_your_answer(webhook, monkeypatch, capsys):
    fields = {"title": "Which package manager?", "options": ["pnpm", "npm", 7, "yarn"]}
    run_hook(monkeypatch, capsys, sent("question.asked", **fields))
    body = webhook.last.json()
    assert body["title"] == "🔔 acme-app: opencode has a question for you"
    assert body["content"].startswith("Which package manager?\n\noptions: pnpm / npm / yarn\n\nproject: ")
    run_hook(monkeypatch, capsys, sent("question.asked", options="pnpm"))
    assert webhook.last.json()["content"].startswith("opencode is waiting for your answer\n\nproject: ")


def test_raw_opencode_events_are_read_too(webhook, tmp_path, monkeypatch, capsys):
    run_hook(monkeypatch, capsys, {"type": "session.idle", "properties": {"sessionID": SESSION}})
    assert webhook.last.json()["title"] == f"✅ {tmp_path.name}: opencode finished"  # no directory: where it runs
    status = {"type": "session.status", "properties": {"sessionID": SESSION, "status": {"type": "idle"}}}
    run_hook(monkeypatch, capsys, status)
    assert len(webhook.requests) == 2
    run_hook(monkeypatch, capsys, {"type": "session.status", "properties": {"sessionID": SESSION, "status": "busy"}})
    aborted = {"name": "MessageAbortedError", "data": {"message": "aborted"}}
    run_hook(monkeypatch, capsys, {"type": "session.error", "properties": {"sessionID": SESSION, "error": aborted}})
    run_hook(monkeypatch, capsys, {"type": "session.error", "properties": {"sessionID": SESSION}})
    assert len(webhook.requests) == 2
    error = {"name": "ProviderAuthError", "data": {"providerID": "anthropic", "message": "Invalid API key"}}
    run_hook(monkeypatch, capsys, {"type": "session.error", "properties": {"sessionID": SESSION, "error": error}})
    assert webhook.last.json()["content"].startswith("Invalid API key\n\nerror: ProviderAuthError\n\n")
    asked = {
        "id": "per_01",
        "sessionID": SESSION,
        "permission": "edit",
        "patterns": ["src/db.ts"],
        "metadata": {},
        "always": ["*"],
        "tool": {"messageID": "msg_01", "callID": "call_01"},
    }
    run_hook(monkeypatch, capsys, {"type": "permission.asked", "properties": asked})
    assert webhook.last.json()["content"].startswith("edit: src/db.ts\n\n")
    updated = {"id": "per_02", "type": "bash", "pattern": "npm publish", "sessionID": SESSION, "title": "npm publish"}
    run_hook(monkeypatch, capsys, {"type": "permission.updated", "properties": {**updated, "messageID": "m"}})
    assert webhook.last.json()["content"].startswith("npm publish\n\n")


@pytest.mark.parametrize(
    "data",
    [
        sent("message.updated"),
        sent("session.created"),
        sent("permission.replied"),
        {"type": "message.part.updated", "properties": {"part": {"type": "text", "text": "hi"}}},
        {"type": "session.status", "properties": {"sessionID": SESSION, "status": {"type": "busy"}}},
        {"session_id": SESSION, "directory": DIRECTORY},  # no event
    ],
)
def test_other_events_are_not_announced(webhook, monkeypatch, capsys, data):
    run_hook(monkeypatch, capsys, data)
    assert webhook.requests == []


@pytest.mark.parametrize(
    "data",
    ["", "not json at all", "[1, 2]", "null", '"session.idle"', "{}", '{"event": 7}', '{"type": 7}', "\udcff{"],
)
def test_garbage_is_not_announced_and_prints_nothing(webhook, monkeypatch, capsys, data):
    run_hook(monkeypatch, capsys, data)
    assert webhook.requests == []


def test_wrong_types_fall_back_rather_than_fail(webhook, tmp_path, monkeypatch, capsys):
    data = {
        "event": "session.idle",
        "session_id": ["x"],
        "directory": 3,
        "message": {"text": "hi"},
        "error": "boom",
        "prompted_at": "yesterday",
        "started_at": float("inf"),
    }
    run_hook(monkeypatch, capsys, json.dumps(data).replace("Infinity", "1e400"))
    body = webhook.last.json()
    assert body["title"] == f"✅ {tmp_path.name}: opencode finished"
    assert body["content"].endswith("session: unknown")
    bad_times = sent("session.idle", prompted=None, started=None, prompted_at=True, started_at=-5)
    run_hook(monkeypatch, capsys, bad_times)
    run_hook(monkeypatch, capsys, sent("permission.asked", patterns="git push", permission=["bash"]))
    assert webhook.last.json()["content"].startswith("git push\n\n")
    run_hook(monkeypatch, capsys, sent("session.idle", prompted=None, started=None, prompted_at="2020-01-02T03:04:05Z"))
    assert "since your last prompt" not in webhook.last.json()["content"]  # one moment: the whole session
    assert len(webhook.requests) == 4


def plugin(capsys, *argv: str) -> str:
    assert main(["hook", "opencode", "--print-config", *argv]) == 0
    return capsys.readouterr().out


def test_print_config_is_a_plugin_that_spawns_this_python_without_a_shell(capsys):
    text = plugin(capsys)
    assert plugin(capsys, "--approvals") == text  # it never answers a permission
    (literal,) = re.findall(r"^const COMMAND = (.+)$", text, re.M)
    assert json.loads(literal) == [sys.executable, "-m", "mcp_push", "hook", "opencode"]
    for event in ("session.idle", "session.status", "session.error", "permission.asked", "permission.updated"):
        assert f'"{event}"' in text
    assert '"question.asked"' in text
    assert 'import { spawn } from "node:child_process"' in text
    assert "spawn(COMMAND[0], COMMAND.slice(1), {" in text  # an argument array
    assert "child.stdin.end(JSON.stringify(payload))" in text  # the JSON on stdin
    assert "shell" not in re.sub(r"//.*", "", text) and "exec" not in text and "$`" not in text
    assert len(re.findall(r"^export ", text, re.M)) == 1  # every export is taken for a plugin function
    assert "plugins/mcp-push.js" in text


def test_the_command_is_quoted_as_a_json_array(capsys):
    odd = shlex.join(["/opt/my python/bin/python3", "-m", "mcp_push", "hook", "opencode", 'a"b\\c$(x)`y`'])
    text = Opencode().configuration(odd, False, 120)
    (literal,) = re.findall(r"^const COMMAND = (.+)$", text, re.M)
    assert json.loads(literal) == shlex.split(odd)


@needs_node
def test_node_accepts_the_plugin(tmp_path, capsys):
    path = tmp_path / "mcp-push.mjs"  # .mjs: node reads it as the module opencode (Bun) loads it as
    path.write_text(plugin(capsys), encoding="utf-8")
    proc = subprocess.run(["node", "--check", str(path)], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr


DRIVER = """\
import { McpPush } from "./plugin.mjs"
const hooks = await McpPush({ directory: DIRECTORY, worktree: DIRECTORY, client: {}, $: undefined })
const ev = (type, properties) => hooks.event({ event: { type, properties } })
const ago = (s) => Date.now() - s * 1000
await ev("session.created", { info: { id: SESSION, time: { created: ago(7200) } } })
await ev("session.created", { info: { id: "ses_child", parentID: SESSION, time: { created: ago(100) } } })
await ev("message.updated", { info: { id: "msg_u1", sessionID: SESSION, role: "user", time: { created: ago(725) } } })
await ev("session.status", { sessionID: SESSION, status: { type: "busy" } })
const reply = { id: "msg_a1", sessionID: SESSION, role: "assistant", time: { created: ago(720) } }
await ev("message.updated", { info: reply })
await ev("message.part.updated", { part: { type: "text", sessionID: SESSION, messageID: "msg_u1", text: "not this" } })
await ev("message.part.updated", { part: { type: "text", sessionID: SESSION, messageID: "msg_a1", text: "Wor" } })
await ev("message.part.updated", { part: { type: "text", sessionID: SESSION, messageID: "msg_a1", text: TEXT } })
await ev("session.idle", { sessionID: "ses_child" })
await ev("permission.asked", { id: "per_1", sessionID: SESSION, permission: "bash", patterns: [PATTERN], always: [] })
await ev("session.error", { sessionID: SESSION, error: { name: "APIError", data: { message: ERROR } } })
await ev("session.status", { sessionID: SESSION, status: { type: "idle" } })
await ev("session.idle", { sessionID: SESSION })
await ev("message.part.updated", undefined)
await ev(undefined, undefined)
await hooks.event(undefined)
await hooks.event({ event: null })
"""


def drive(tmp_path: Path, text: str, env: dict[str, str], **values: str) -> None:
    """Loads the plugin in node as opencode would and feeds it one turn's events."""
    (tmp_path / "plugin.mjs").write_text(text, encoding="utf-8")
    consts = "".join(f"const {name} = {json.dumps(value)}\n" for name, value in values.items())
    lines = DRIVER.splitlines(keepends=True)
    (tmp_path / "driver.mjs").write_text(lines[0] + consts + "".join(lines[1:]), encoding="utf-8")
    proc = subprocess.run(["node", "driver.mjs"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and proc.stderr == ""


def wait_for(predicate, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.05)


@needs_node
def test_the_plugin_sends_each_event_as_json_on_stdin_never_through_a_shell(tmp_path):
    out = tmp_path / "received"
    out.mkdir()
    record = "import os, sys; open(os.path.join(sys.argv[1], str(os.getpid())), 'w').write(sys.stdin.read())"
    text = Opencode().configuration(shlex.join([sys.executable, "-c", record, str(out)]), False, 120)
    hostile = "$(touch pwned); `touch pwned` && touch pwned"
    values = {"DIRECTORY": DIRECTORY, "SESSION": SESSION, "TEXT": "Working on it… done.", "ERROR": hostile}
    drive(tmp_path, text, clean_env(tmp_path), PATTERN=hostile, **values)
    wait_for(lambda: len(list(out.iterdir())) >= 2)
    time.sleep(0.5)  # the child session's idle and the second idle must not arrive late either
    got = sorted((json.loads(p.read_text()) for p in out.iterdir()), key=lambda d: d["event"])
    assert [d["event"] for d in got] == ["permission.asked", "session.idle"]
    permission, idle = got
    assert permission["patterns"] == [hostile] and permission["permission"] == "bash"
    assert idle["message"] == "Working on it… done."
    assert idle["error"] == {"name": "APIError", "message": hostile}
    assert idle["session_id"] == SESSION and idle["directory"] == DIRECTORY == idle["worktree"]
    assert 0 < idle["started_at"] < idle["prompted_at"] < time.time() * 1000
    assert not list(tmp_path.rglob("pwned"))


@needs_node
def test_the_printed_plugin_pushes_through_the_real_hook(recorder, tmp_path, capsys):
    recorder.respond(reply(200, {"ok": True}))
    env = clean_env(tmp_path, WEBHOOK_URL=recorder.url, MCP_PUSH_RETRIES="0")
    values = {"DIRECTORY": DIRECTORY, "SESSION": SESSION, "TEXT": "Schema migrated.", "PATTERN": "git push"}
    drive(tmp_path, plugin(capsys), env, ERROR="Overloaded (529)", **values)
    wait_for(lambda: len(recorder.requests) >= 2)
    time.sleep(0.5)
    titles = sorted(r.json()["title"] for r in recorder.requests)
    assert titles == ["❌ acme-app: opencode stopped on an error", "🔔 acme-app: opencode needs your permission"]
    failed = next(r.json() for r in recorder.requests if r.json()["title"].startswith("❌"))
    assert failed["content"].startswith("Overloaded (529)\n\nerror: APIError\n\nproject: /home/dev/src/acme-app\n")
    assert "since your last prompt (2h 00m in all)" in failed["content"]
