"""Desktop: a notification on this machine's own screen, for when the agent and you share a desk.

There is no HTTP here: the message goes to the platform's own notifier as a program run without a shell,
title and body passed as separate arguments (never spliced into a command line or a script). Linux:
`notify-send` (libnotify's command), else `gdbus` calling the freedesktop Notifications service directly
(its arguments are GVariant text, so the strings are quoted for it); macOS: `osascript`, the text handed to
an AppleScript `on run argv`; Windows: a toast through PowerShell, the text in environment variables.

A missing notifier is a configuration problem named when the configuration loads (what to install), not a
crash at send time; the notifier runs under the request timeout and a hung one is killed. A notifier
that exits non-zero (no display, no session bus) is a failure with its own words.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys

from pydantic import Field, model_validator

from channels.base import Channel, ChannelError, ChannelSettings
from channels.limits import Limits, Size
from mcp_push.models import Notification

APP = "mcp-push"
# The PowerShell toast: the stock template with two lines, shown under PowerShell's own app id (Windows only
# shows toasts for a registered app).
TOAST = (
    "[Windows.UI.Notifications.ToastNotificationManager, Windows.UI.Notifications, ContentType = WindowsRuntime]"
    " | Out-Null; $m = [Windows.UI.Notifications.ToastNotificationManager]; "
    "$x = $m::GetTemplateContent([Windows.UI.Notifications.ToastTemplateType]::ToastText02); "
    "$t = $x.GetElementsByTagName('text'); "
    "$t.Item(0).AppendChild($x.CreateTextNode($env:MCP_PUSH_TITLE)) | Out-Null; "
    "$t.Item(1).AppendChild($x.CreateTextNode($env:MCP_PUSH_BODY)) | Out-Null; "
    "if ($env:MCP_PUSH_SILENT) { $a = $x.CreateElement('audio'); $a.SetAttribute('silent', 'true'); "
    "$x.DocumentElement.AppendChild($a) | Out-Null }; "
    "$m::CreateToastNotifier('{1AC14E77-02E7-4E5D-B744-2EB1AE5198B7}\\WindowsPowerShell\\v1.0\\powershell.exe')"
    ".Show([Windows.UI.Notifications.ToastNotification]::new($x))"
)
APPLESCRIPT = [
    "on run argv",
    "if (count of argv) > 2 then",
    "display notification (item 2 of argv) with title (item 1 of argv) sound name (item 3 of argv)",
    "else",
    "display notification (item 2 of argv) with title (item 1 of argv)",
    "end if",
    "end run",
]


class Settings(ChannelSettings):
    DESKTOP: bool = Field(description="true to show each notification on this machine's desktop.")
    DESKTOP_SOUND: bool = Field(False, description="true to play the notification sound as well.")

    def enabled(self) -> bool:
        return self.DESKTOP

    @model_validator(mode="after")
    def _notifier_present(self) -> Settings:
        if self.DESKTOP and notifier() is None:
            raise ValueError(MISSING.get(platform(), MISSING["linux"]))
        return self


MISSING = {
    "linux": "neither notify-send nor gdbus is installed: install libnotify-bin (Debian, Ubuntu) or libnotify",
    "darwin": "osascript is missing (it comes with macOS)",
    "win32": "PowerShell is missing",
}


def platform() -> str:
    return sys.platform


def notifier() -> tuple[str, str] | None:
    """The notifier this platform has: its kind and its path, or None."""
    choices = {"darwin": ["osascript"], "win32": ["powershell", "pwsh"]}.get(platform(), ["notify-send", "gdbus"])
    for tool in choices:
        path = shutil.which(tool)
        if path:
            return tool, path
    return None


def gvariant(text: str) -> str:
    """A string as GVariant text, the syntax `gdbus call` parses each argument with."""
    escaped = text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n").replace("\r", "\\r")
    return f"'{escaped}'"


def command(kind: str, path: str, note: Notification, sound: bool) -> tuple[list[str], dict[str, str]]:
    """The program, its arguments and any extra environment that show `note`."""
    if kind == "notify-send":
        hint = ["--hint=string:sound-name:message-new-instant"] if sound else []
        return [path, f"--app-name={APP}", *hint, "--", note.title, note.content], {}
    if kind == "gdbus":
        hints = "{'sound-name': <'message-new-instant'>}" if sound else "@a{sv} {}"
        return [
            path, "call", "--session", "--dest", "org.freedesktop.Notifications",
            "--object-path", "/org/freedesktop/Notifications", "--method", "org.freedesktop.Notifications.Notify",
            gvariant(APP), "0", "''", gvariant(note.title), gvariant(note.content), "@as []", hints, "-1",
        ], {}  # fmt: skip
    if kind == "osascript":
        script = [part for line in APPLESCRIPT for part in ("-e", line)]
        return [path, *script, note.title, note.content, *(["default"] if sound else [])], {}
    extra = {"MCP_PUSH_TITLE": note.title, "MCP_PUSH_BODY": note.content, **({} if sound else {"MCP_PUSH_SILENT": "1"})}
    return [path, "-NoProfile", "-NonInteractive", "-Command", TOAST], extra


class Desktop(Channel[Settings]):
    name = "desktop"
    label = "Desktop notification"
    group = "this machine"
    docs = "https://specifications.freedesktop.org/notification-spec/latest/"
    Settings = Settings
    # Notification popups show a few lines; libnotify and Windows truncate long bodies themselves.
    limits = Limits(title=Size(200), content=Size(2000))

    async def deliver(self, note: Notification) -> None:
        found = notifier()
        if found is None:  # installed at load time, gone since
            raise ChannelError(MISSING.get(platform(), MISSING["linux"]))
        argv, extra = command(*found, note, self.settings.DESKTOP_SOUND)
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, **extra},
        )
        timeout = self._current().timeout
        try:
            _, err = await asyncio.wait_for(process.communicate(), timeout)
        except asyncio.TimeoutError:
            await _kill(process)
            raise ChannelError(f"timed out after {timeout:g} s: {found[0]} did not finish and was stopped") from None
        except asyncio.CancelledError:
            await _kill(process)
            raise
        if process.returncode != 0:
            words = " ".join(err.decode("utf-8", "replace").split())[:200] or "no message"
            raise ChannelError(f"{found[0]} exited with {process.returncode}: {words}")


async def _kill(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.kill()
        await process.wait()


CHANNEL = Desktop
