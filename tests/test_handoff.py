"""Local hand-off: with a server running, `send`, `event` and `hook` processes hand their work to it over
its Unix socket, when (and only when) their configuration is the server's; the result is a direct run's."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mcp_push.store import Store
from tests.recorder import reply
from tests.test_hooks import payload, transcript
from tests.test_stdio import clean_env

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="Unix sockets")


@pytest.fixture
def server(recorder, tmp_path):
    """A stdio server, as an agent starts one, with the local webhook as its channel."""
    recorder.respond(reply(200, {"ok": True}))
    env = clean_env(tmp_path, WEBHOOK_URL=recorder.url + "/hook", MCP_PUSH_DEDUPE_SECONDS="0")
    proc = subprocess.Popen(
        [sys.executable, "-m", "mcp_push"], env=env, cwd=tmp_path, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    sock = tmp_path / "state" / "server.sock"
    end = time.monotonic() + 20
    while not sock.exists():
        assert proc.poll() is None and time.monotonic() < end, "the server made no hand-off socket"
        time.sleep(0.02)
    yield env
    proc.stdin.close()
    proc.wait(timeout=20)
    assert not sock.exists()  # removed on the way out
    assert proc.stdout.read() == b""  # nothing but JSON-RPC on stdout, and nobody asked for any


def run(env: dict[str, str], cwd: Path, *argv: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mcp_push", *argv], env=env, cwd=cwd, input=stdin, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip


def sources(tmp_path: Path) -> list[str]:
    return [e["source"] for e in Store(tmp_path / "state" / "history.db").history(limit=50)][::-1]


def test_a_send_is_handed_to_the_running_server(server, recorder, tmp_path):
    sock = tmp_path / "state" / "server.sock"
    assert stat.S_IMODE(os.stat(sock).st_mode) == 0o600
    done = run(server, tmp_path, "send", "Handed", "over")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("✓ webhook") and "Delivered to 1 of 1 channel(s): webhook." in done.stdout
    assert recorder.last.json() == {"title": "Handed", "content": "over"}
    piped = run(server, tmp_path, "send", "Piped", "-", stdin="from stdin\n")
    assert piped.returncode == 0 and recorder.last.json()["content"] == "from stdin\n"
    event = run(server, tmp_path, "event", "nightly", "end", "done", "--json")
    assert event.returncode == 0 and json.loads(event.stdout)["status"] == "delivered"
    assert sources(tmp_path) == ["send+handoff", "send+handoff", "event+handoff"]


def test_the_result_is_a_direct_runs(server, recorder, tmp_path):
    recorder.respond(reply(400, text="refused"))
    handed = run(server, tmp_path, "send", "T", "B", "--json")
    direct = run({**server, "MCP_PUSH_HANDOFF": "false"}, tmp_path, "send", "T", "B", "--json")
    assert handed.returncode == direct.returncode == 1
    mine, theirs = json.loads(handed.stdout), json.loads(direct.stdout)
    for report in (mine, theirs):
        del report["id"], report["results"][0]["elapsed_ms"]
    assert mine == theirs
    bad = run(server, tmp_path, "send")  # bad arguments are the command's own business
    assert bad.returncode == 2 and "the following arguments are required: title" in bad.stderr
    invalid = run(server, tmp_path, "send", " ", "body")
    assert (
        invalid.returncode == 2
        and invalid.stderr == "mcp-push: invalid input: title: must not be empty or only whitespace\n"
    )
    assert sources(tmp_path) == ["send+handoff", "cli"]  # the invalid one was refused before any record


def test_not_when_the_configuration_differs(server, recorder, tmp_path):
    done = run({**server, "MCP_PUSH_TIMEOUT": "7"}, tmp_path, "send", "Mine", "own settings")
    assert done.returncode == 0 and recorder.last.json()["title"] == "Mine"
    (tmp_path / "config.env").write_text("MCP_PUSH_RETRIES=5\n")  # a config file in this directory counts too
    assert run(server, tmp_path, "send", "File", "differs").returncode == 0
    (tmp_path / "config.env").unlink()
    assert run(server, tmp_path, "send", "Same", "again").returncode == 0
    assert sources(tmp_path) == ["cli", "cli", "send+handoff"]


def test_a_hook_is_handed_over_and_keeps_its_contract(server, recorder, tmp_path):
    data = json.dumps(payload("Stop", transcript(tmp_path, started=900), stop_hook_active=False))
    done = run(server, tmp_path, "hook", "claude-code", stdin=data)
    assert done.returncode == 0 and json.loads(done.stdout) == {"continue": True, "suppressOutput": True}
    assert recorder.last.json()["title"] == "✅ acme-api: Claude finished"
    garbage = run(server, tmp_path, "hook", "claude-code", stdin="not json")
    assert garbage.returncode == 0 and json.loads(garbage.stdout) == {"continue": True, "suppressOutput": True}
    assert "not a hook payload" in garbage.stderr
    assert sources(tmp_path) == ["hook+handoff"]


def test_a_stale_socket_is_no_server(recorder, tmp_path):
    recorder.respond(reply(200, {"ok": True}))
    env = clean_env(tmp_path, WEBHOOK_URL=recorder.url)
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "server.sock").write_text("")  # a file where a socket was
    done = run(env, tmp_path, "send", "T", "B")
    assert done.returncode == 0 and sources(tmp_path) == ["cli"]


@pytest.mark.parametrize(("agent", "expected"), [("claude-code", {"continue": True, "suppressOutput": True}),
                                                  ("cursor", {}), ("copilot", None)])  # fmt: skip
def test_a_hook_the_server_took_and_lost_still_lets_its_agent_go_on(tmp_path, agent, expected):
    """Taken means it may have gone out, so it is not run again here; the agent gets its own "no decision"."""
    import socket
    import threading

    (tmp_path / "state").mkdir()
    path = tmp_path / "state" / "server.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(1)
    seen: list[bytes] = []

    def take_and_hang_up() -> None:
        conn, _ = listener.accept()
        with conn:
            data = b""
            while not data.endswith(b"\n"):
                data += conn.recv(65536)
            seen.append(data)
            conn.sendall(b'{"taken": true}\n')  # then closes without the answer

    thread = threading.Thread(target=take_and_hang_up, daemon=True)
    thread.start()
    done = run(clean_env(tmp_path), tmp_path, "hook", agent, stdin=json.dumps({"hook_event_name": "Stop"}))
    thread.join(10)
    listener.close()
    assert seen and json.loads(seen[0])["argv"] == ["hook", agent]
    assert done.returncode == 0 and "took the command but did not report back" in done.stderr
    assert (json.loads(done.stdout) if expected is not None else done.stdout) == (
        expected if expected is not None else ""
    )
