"""The shell front door: output, exit codes, stdin, and what the send path imports."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest

from channels import REGISTRY
from mcp_push.cli import EXIT_FAILED, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, main
from tests.recorder import reply
from tests.test_stdio import clean_env

SECRET = "cli-secret-topic-0123456789abcdef"


pytestmark = pytest.mark.usefixtures("process_env")


def test_send_without_channels_goes_to_inbox(capsys):
    assert main(["send", "Hello", "World"]) == EXIT_OK
    out, err = capsys.readouterr()
    assert "inbox" in out
    assert "No push channel is configured" in err and "mcp-push channels" in err
    assert main(["inbox"]) == EXIT_OK
    assert "Hello\nWorld" in capsys.readouterr().out


def test_send_delivered_json(recorder, monkeypatch, capsys):
    recorder.respond(reply(200, {"id": "1"}))
    monkeypatch.setenv("NTFY_TOPIC", SECRET)
    monkeypatch.setenv("NTFY_URL", recorder.url)
    assert main(["send", "T", "body", "--json"]) == EXIT_OK
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert report["status"] == "delivered" and report["results"][0]["name"] == "ntfy"
    assert SECRET not in out + err


def test_exit_codes_partial_and_failed(recorder, monkeypatch, capsys):
    recorder.respond(reply(200, {"id": "1"}), path="/topic-ok-0123456789")
    recorder.respond(reply(503, text="down"), path="/hook")
    monkeypatch.setenv("NTFY_TOPIC", "topic-ok-0123456789")
    monkeypatch.setenv("NTFY_URL", recorder.url)
    monkeypatch.setenv("WEBHOOK_URL", recorder.url + "/hook")
    assert main(["send", "T", "body"]) == EXIT_PARTIAL
    assert "✗ webhook" in capsys.readouterr().out
    assert main(["send", "T", "body", "--channel", "webhook"]) == EXIT_FAILED
    assert main(["send", "T", "body", "-c", "ntfy"]) == EXIT_OK


def test_content_from_stdin(recorder, monkeypatch):
    recorder.respond(reply(200, {"ok": True}))
    monkeypatch.setenv("WEBHOOK_URL", recorder.url)
    monkeypatch.setattr(sys, "stdin", io.StringIO("line 1\nline 2\n"))
    assert main(["send", "From a pipe"]) == EXIT_OK
    assert recorder.last.json()["content"] == "line 1\nline 2\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO("dash form"))
    assert main(["send", "T", "-"]) == EXIT_OK
    assert recorder.last.json()["content"] == "dash form"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["send", "  ", "body"], "title: must not be empty"),
        (["send", "T"], "content: must not be empty"),  # stdin is empty
        (["send", "T", "x" * 70000], "content: is 70,000 bytes"),
        (["event", "r", "finish", "m"], "event: must be one of"),
        (["event", "r", "end", "m", "--data", "{not json"], "--data is not valid JSON"),
        (["event", "r", "end", "m", "--data", "[1]"], "--data must be a JSON object"),
        (["event", "r", "end", "m", "--timestamp", "noon"], "timestamp:"),
        (["send", "T", "b", "--channel", "pager"], "unknown channel 'pager'"),
        (["send", "T", "b", "--channel", "telegram"], "channel 'telegram' is not configured: set TG_BOT_TOKEN"),
    ],
)
def test_bad_input_exits_2_with_a_specific_message(argv, message, capsys):
    assert main(argv) == EXIT_USAGE
    err = capsys.readouterr().err
    assert message in err, err
    assert "Traceback" not in err


def test_bad_global_option_is_a_usage_error(monkeypatch, capsys):
    monkeypatch.setenv("MCP_PUSH_TIMEOUT", "soon")
    assert main(["send", "T", "b"]) == EXIT_USAGE
    assert "MCP_PUSH_TIMEOUT" in capsys.readouterr().err


def test_event_and_test_commands(recorder, monkeypatch):
    recorder.respond(reply(200, {"ok": True}))
    monkeypatch.setenv("WEBHOOK_URL", recorder.url)
    assert main(["event", "deploy-7", "error", "exit code 2", "--data", '{"step": "migrate"}']) == EXIT_OK
    body = recorder.last.json()
    assert body["title"] == "❌ [ERROR] deploy-7"
    assert body["content"].startswith("exit code 2\n\nstep: migrate\n\ntime: ")
    assert main(["test", "webhook"]) == EXIT_OK
    assert recorder.last.json()["title"] == "mcp-push test"


def test_channels_lists_everything_and_masks_secrets(monkeypatch, capsys):
    monkeypatch.setenv("TG_BOT_TOKEN", "123456789:AAExampleSecretTokenValue")
    monkeypatch.setenv("NTFY_TOPIC", SECRET)
    assert main(["channels"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "123456789:AAExampleSecretTokenValue" not in out and SECRET not in out
    assert "telegram       misconfigured: TG_USER_ID: is required" in out
    assert "ntfy           configured" in out
    assert main(["channels", "--json"]) == EXIT_OK
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == list(REGISTRY)
    ntfy = next(r for r in rows if r["name"] == "ntfy")
    topic = next(v for v in ntfy["variables"] if v["name"] == "NTFY_TOPIC")
    assert topic["secret"] and topic["value"] == "***cdef"


def test_send_path_imports_only_what_it_uses(recorder, tmp_path):
    """No MCP SDK and no unconfigured channel; nor what cost a cold send tens of milliseconds each
    (docs/benchmarks.md): pydantic-settings, httpcore with anyio and h11 (a direct request goes through
    mcp-push's own transport), trio, and httpx's command line (click)."""
    recorder.respond(reply(200, {"id": "1"}))
    code = (
        "import sys; from mcp_push.cli import main; rc = main(['send', 'T', 'b']);"
        "loaded = sorted(m for m in sys.modules if m == 'mcp' or m.startswith(('mcp.', 'channels.')));"
        "heavy = ('pydantic_settings', 'httpcore', 'anyio', 'h11', 'trio', 'click');"
        "print(rc, loaded, sorted(m for m in heavy if sys.modules.get(m)), file=sys.stderr)"
    )
    env = clean_env(tmp_path, NTFY_TOPIC="t0123", NTFY_URL=recorder.url)
    proc = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True)
    assert proc.stderr.strip().splitlines()[-1] == "0 ['channels.base', 'channels.limits', 'channels.ntfy'] []"
    assert recorder.requests, "the notification was not sent"


def test_reader_leaving_early_is_no_crash(tmp_path):
    """`mcp-push channels | head -1`: the pipe closes under the writer; exit 1 without a traceback."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "mcp_push", "channels"],
        env=clean_env(tmp_path),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # before the first line: a start-up takes far longer than this
    errors = proc.stderr.read().decode()
    assert proc.wait(timeout=30) == 1
    assert "Traceback" not in errors and "BrokenPipe" not in errors, errors


def test_console_script_runs_the_module_entry():
    from importlib.metadata import entry_points

    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "mcp-push"]
    assert script.value == "mcp_push.__main__:run"
    assert callable(script.load())


def test_console_script_and_module_entry(tmp_path):
    env = clean_env(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "mcp_push", "send", "Hi", "there"], env=env, capture_output=True, text=True, cwd=tmp_path
    )
    assert proc.returncode == EXIT_OK
    assert "saved only to the local inbox" in proc.stderr
    assert os.path.exists(tmp_path / "state" / "history.db")
    assert oct(os.stat(tmp_path / "state" / "history.db").st_mode & 0o777) == "0o600"
