"""WePlus bot (微加机器人): a WeChat bot that messages you, a friend or a group, by token.

Short content goes as plain text (`txt`). Content over 800 characters goes with the `html` template, which
renders HTML: it is HTML-escaped and its newlines become `<br>`, so `<`, `>` and `&` show as typed and the
lines stay lines (qinglong's Python sent it raw).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from channels.base import Channel, ChannelSettings, Request, expect, html_text
from mcp_push.models import Notification

TXT_MAX = 800


class Settings(ChannelSettings):
    WE_PLUS_BOT_TOKEN: SecretStr = Field(description="Token from WePlus: 我的 -> 设置 -> 令牌.")
    WE_PLUS_BOT_RECEIVER: str = Field(
        "", description="Receiver: a friend's wxid or a group code; empty sends to the bot's own account (default)."
    )
    WE_PLUS_BOT_VERSION: Literal["pro", "personal"] = Field(
        "pro", description="Which edition your token belongs to: pro (default) or personal."
    )


class WePlusBot(Channel[Settings]):
    name = "weplus_bot"
    label = "WePlus bot (微加机器人)"
    group = "China"
    docs = "https://www.weplusbot.com/"
    Settings = Settings

    def build(self, note: Notification) -> Request:
        long = len(note.content) > TXT_MAX
        return Request(
            "POST",
            "https://www.weplusbot.com/send",
            json={
                "token": self.settings.secret("WE_PLUS_BOT_TOKEN"),
                "title": note.title,
                "content": html_text(note.content) if long else note.content,
                "template": "html" if long else "txt",
                "receiver": self.settings.WE_PLUS_BOT_RECEIVER,
                "version": self.settings.WE_PLUS_BOT_VERSION,
            },
        )

    def check(self, response):
        return expect(response.json(), "code", (200,), "msg")


CHANNEL = WePlusBot
