"""PushMe: a push app (Android/Windows) fed by a form POST, on push.i-i.me or a self-hosted PushMeServer.

The service answers with plain text: exactly `success` when it accepted the message, else the reason.
"""

from __future__ import annotations

from pydantic import Field, SecretStr

from channels.base import Channel, ChannelSettings, Request, snippet
from mcp_push.models import Notification


class Settings(ChannelSettings):
    PUSHME_KEY: SecretStr = Field(description="The push_key shown in the PushMe app.")
    PUSHME_URL: str = Field(
        "https://push.i-i.me/", description="Endpoint of a self-hosted PushMe server (default https://push.i-i.me/)."
    )


class PushMe(Channel[Settings]):
    name = "pushme"
    label = "PushMe"
    group = "China"
    docs = "https://push.i-i.me/docs/index"
    Settings = Settings

    def build(self, note: Notification) -> Request:
        # qinglong also sends empty `date` and `type`; the service defaults them (now, "text") when absent.
        return Request(
            "POST",
            self.settings.PUSHME_URL,
            data={"push_key": self.settings.secret("PUSHME_KEY"), "title": note.title, "content": note.content},
        )

    def check(self, response):
        return None if response.text.strip() == "success" else snippet(response)


CHANNEL = PushMe
