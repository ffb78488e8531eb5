"""Desktop notifications through stand-in notifiers on PATH: scripts named notify-send, gdbus and osascript
that record the argument vector they were started with, as the real ones would receive it."""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from pathlib import Path

import pytest

from channels import desktop
from tests.conftest import NASTY, send

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the stand-in notifiers are POSIX scripts")


def fake(bin_dir: Path, name: str, body: str = "") -> Path:
    """A program `name` that writes its arguments (and the toast's variables) as JSON to `name`.json."""
    bin_dir.mkdir(exist_ok=True)
    record = bin_dir / f"{name}.json"
    path = bin_dir / name
    path.write_text(
        f"#!{sys.executable}\nimport json, os, sys\n"
        f"json.dump({{'argv': sys.argv[1:], 'title': os.environ.get('MCP_PUSH_TITLE')}}, open({str(record)!r}, 'w'))\n"
        + body
    )
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return record


@pytest.fixture
def bin_dir(tmp_path, monkeypatch):
    path = tmp_path / "bin"
    path.mkdir()
    monkeypatch.setenv("PATH", str(path))  # nothing of the machine's own: only the stand-ins
    return path


async def test_notify_send_gets_title_and_body_as_arguments(bin_dir, make_config):
    record = fake(bin_dir, "notify-send")
    report = await send(make_config(DESKTOP="true"))
    assert report.status == "delivered", report
    argv = json.loads(record.read_text())["argv"]
    # "--" first: a title that starts with "-" is text, not an option.
    assert argv == ["--app-name=mcp-push", "--", NASTY.title, NASTY.content]


async def test_sound_hint(bin_dir, make_config):
    record = fake(bin_dir, "notify-send")
    await send(make_config(DESKTOP="true", DESKTOP_SOUND="true"))
    assert "--hint=string:sound-name:message-new-instant" in json.loads(record.read_text())["argv"]


async def test_gdbus_when_notify_send_is_missing(bin_dir, make_config):
    record = fake(bin_dir, "gdbus")
    tricky = NASTY.model_copy(update={"title": "it's a \\ test", "content": "line 1\nline 2 'q'"})
    report = await send(make_config(DESKTOP="true"), tricky)
    assert report.status == "delivered", report
    argv = json.loads(record.read_text())["argv"]
    assert argv[:9] == [
        "call", "--session", "--dest", "org.freedesktop.Notifications", "--object-path",
        "/org/freedesktop/Notifications", "--method", "org.freedesktop.Notifications.Notify", "'mcp-push'",
    ]  # fmt: skip
    assert argv[10:13] == ["''", "'it\\'s a \\\\ test'", "'line 1\\nline 2 \\'q\\''"]  # GVariant string literals


def test_gvariant_quoting_round_trips_through_gvariant_rules():
    for text in ["plain", "it's", "back\\slash", "new\nline", "中文 ✅", "'\\'"]:
        quoted = desktop.gvariant(text)
        assert quoted.startswith("'") and quoted.endswith("'")
        inner = quoted[1:-1]
        decoded = inner.encode().decode("unicode_escape").encode("latin-1").decode("utf-8")
        assert decoded == text


def test_no_notifier_is_a_configuration_problem(bin_dir, make_config):
    config = make_config(DESKTOP="true")
    assert "desktop" not in config.channels
    assert "notify-send" in config.problems["desktop"] and "libnotify" in config.problems["desktop"]
    assert "desktop" not in make_config(DESKTOP="false").channels  # off, and no problem either
    assert "desktop" not in make_config(DESKTOP="false").problems


async def test_a_failing_notifier_says_why(bin_dir, make_config):
    fake(bin_dir, "notify-send", "sys.stderr.write('Cannot autolaunch D-Bus without X11 $DISPLAY\\n'); sys.exit(1)\n")
    report = await send(make_config(DESKTOP="true", MCP_PUSH_RETRIES="0"))
    (result,) = report.results
    assert not result.ok and "notify-send exited with 1" in result.error and "DISPLAY" in result.error


async def test_a_hung_notifier_is_killed_at_the_timeout(bin_dir, make_config):
    fake(bin_dir, "notify-send", "import time; time.sleep(30)\n")
    started = time.monotonic()
    report = await send(make_config(DESKTOP="true", MCP_PUSH_TIMEOUT="0.5", MCP_PUSH_RETRIES="0"))
    assert time.monotonic() - started < 5
    (result,) = report.results
    assert not result.ok and "timed out" in result.error


async def test_macos_osascript_gets_the_text_as_arguments(bin_dir, make_config, monkeypatch):
    monkeypatch.setattr(desktop, "platform", lambda: "darwin")
    record = fake(bin_dir, "osascript")
    report = await send(make_config(DESKTOP="true", DESKTOP_SOUND="true"))
    assert report.status == "delivered", report
    argv = json.loads(record.read_text())["argv"]
    script = [argv[i + 1] for i in range(0, len(argv) - 3, 2)]
    assert script[0] == "on run argv" and script[-1] == "end run"
    assert argv[-3:] == [NASTY.title, NASTY.content, "default"]  # never inside the script's own text


async def test_windows_toast_gets_the_text_in_its_environment(bin_dir, make_config, monkeypatch):
    monkeypatch.setattr(desktop, "platform", lambda: "win32")
    record = fake(bin_dir, "powershell")
    report = await send(make_config(DESKTOP="true"))
    assert report.status == "delivered", report
    seen = json.loads(record.read_text())
    assert seen["argv"][:3] == ["-NoProfile", "-NonInteractive", "-Command"]
    assert "ToastNotificationManager" in seen["argv"][3] and NASTY.title not in seen["argv"][3]
    assert seen["title"] == NASTY.title
    assert os.environ.get("MCP_PUSH_TITLE") is None  # this process's own environment is untouched
