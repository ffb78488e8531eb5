"""The built-in local inbox: a JSON-lines file under the state dir.

It makes `mcp-push send` work before anything is configured and keeps the message when no push channel
exists. The file is private to the user (0600) and bounded, so it cannot grow without end.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path

from channels.base import Channel, ChannelSettings
from mcp_push.models import Notification

MAX_BYTES = 1024 * 1024
KEEP_LINES = 500


class Settings(ChannelSettings):
    path: Path


class Inbox(Channel[Settings]):
    name = "inbox"
    label = "Local inbox"
    docs = "https://github.com/mcp-push/mcp-push#the-local-inbox"
    Settings = Settings

    @property
    def path(self) -> Path:
        return self.settings.path

    async def deliver(self, note: Notification) -> None:
        entry = {"time": datetime.now(timezone.utc).isoformat(timespec="seconds"), **note.model_dump()}
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            handle.write(line)
            size = handle.tell()
        if size > MAX_BYTES:
            self._trim()

    def _trim(self) -> None:
        lines = self.path.read_text(encoding="utf-8").splitlines(keepends=True)[-KEEP_LINES:]
        temp = self.path.with_suffix(".tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.writelines(lines)
        temp.replace(self.path)

    def recent(self, limit: int = 20) -> list[dict]:
        if not self.path.is_file():
            return []
        lines = self.path.read_text(encoding="utf-8").splitlines()[-limit:]
        return [json.loads(line) for line in lines if line.strip()]


CHANNEL = Inbox
