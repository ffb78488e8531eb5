"""Console: prints the message to stderr, where a terminal or a CI log shows it.

stderr, not stdout: in server mode stdout carries JSON-RPC and must never receive anything else.
"""

from __future__ import annotations

from pydantic import Field

from channels.base import Channel, ChannelSettings
from mcp_push import console
from mcp_push.models import Notification


class Settings(ChannelSettings):
    # qinglong enables it for any non-empty value, even "false"; we read it as the boolean it looks like.
    CONSOLE: bool = Field(description="true to print each notification to stderr.")

    def enabled(self) -> bool:
        return self.CONSOLE


class Console(Channel[Settings]):
    name = "console"
    label = "Console (stderr)"
    group = "this machine"
    docs = "https://github.com/whyour/qinglong/blob/develop/sample/notify.py"
    Settings = Settings

    async def deliver(self, note: Notification) -> None:
        stream = console.err()  # a handed-off send's, for a command a running server runs for another process
        stream.write(f"{note.title}\n\n{note.content}\n")
        stream.flush()


CHANNEL = Console
