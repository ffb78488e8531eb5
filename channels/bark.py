"""Bark: iOS push through api.day.app or a self-hosted bark-server."""

from __future__ import annotations

from pydantic import Field, SecretStr

from channels.base import Channel, ChannelSettings, Request, expect
from mcp_push.models import Notification

OPTIONAL = {
    "BARK_ARCHIVE": "isArchive",
    "BARK_GROUP": "group",
    "BARK_SOUND": "sound",
    "BARK_ICON": "icon",
    "BARK_LEVEL": "level",
    "BARK_URL": "url",
}


class Settings(ChannelSettings):
    BARK_PUSH: SecretStr = Field(
        description="Device key, or the full push URL (https://api.day.app/KEY or your own bark-server's URL)."
    )
    BARK_ARCHIVE: str = Field("", description="1 to keep the message in Bark's history, 0 not to.")
    BARK_GROUP: str = Field("", description="Group the message under this name.")
    BARK_SOUND: str = Field("", description="Ringtone name, e.g. minuet.")
    BARK_ICON: str = Field("", description="Icon URL (iOS 15+).")
    BARK_LEVEL: str = Field("", description="active, timeSensitive, passive or critical.")
    BARK_URL: str = Field("", description="URL opened when the notification is tapped.")


class Bark(Channel[Settings]):
    name = "bark"
    label = "Bark (iOS)"
    group = "international"
    docs = "https://bark.day.app/#/tutorial"
    Settings = Settings

    def build(self, note: Notification) -> Request:
        push = self.settings.secret("BARK_PUSH").rstrip("/")
        url = push if push.startswith(("http://", "https://")) else f"https://api.day.app/{push}"
        body = {"title": note.title, "body": note.content}
        body |= self.settings.present(OPTIONAL)
        if note.urgent and body.get("level") != "critical":  # time-sensitive breaks through Focus modes
            body["level"] = "timeSensitive"
        return Request("POST", url, json=body)

    def check(self, response):
        return expect(response.json(), "code", (200,), "message")


CHANNEL = Bark
