"""PushDeer: open-source push to its iOS/macOS/Android apps, via api2.pushdeer.com or a self-hosted server.

The server answers `{"code": 0, "content": {"result": [...]}}` with one entry per device it pushed to, so an
empty `result` means nothing reached a device even though the code is 0 (the README's demo shows the body
without the `code`/`content` wrapper; the server code, `http_result`, adds it, and that is what we check).
Failures are `{"code": 80501, "error": "..."}`.
"""

from __future__ import annotations

from pydantic import Field, SecretStr

from channels.base import Channel, ChannelSettings, Request, expect
from mcp_push.models import Notification


class Settings(ChannelSettings):
    DEER_KEY: SecretStr = Field(description="PushKey (PDU...); several may be joined with commas.")
    DEER_URL: str = Field(
        "https://api2.pushdeer.com/message/push",
        description="Full push endpoint of a self-hosted server; default https://api2.pushdeer.com/message/push.",
    )


class PushDeer(Channel[Settings]):
    name = "pushdeer"
    label = "PushDeer"
    group = "China"
    docs = "https://github.com/easychen/pushdeer#推送消息"
    Settings = Settings

    def build(self, note: Notification) -> Request:
        return Request(
            "POST",
            self.settings.DEER_URL,
            data={
                "text": note.title,
                "desp": note.content,
                "type": "markdown",
                "pushkey": self.settings.secret("DEER_KEY"),
            },
        )

    def check(self, response):
        body = response.json()
        if problem := expect(body, "code", (0,), "error"):
            return problem
        if not body["content"]["result"]:
            return "no device received it (content.result is empty): register a device in the PushDeer app"
        return None


CHANNEL = PushDeer
