"""Qmsg酱: a hosted QQ bot that forwards a text to your QQ (`send`) or to a QQ group (`group`).

The text goes as the form field `msg` (Qmsg documents GET/POST with application/x-www-form-urlencoded); the
old script put it unencoded in the query string, where & # + corrupted it.
The old script also replaced every `----` with `-`. Qmsg's API page documents no forbidden characters or
sequences for `msg`; the replacement only ever touched the `    ----<from>` tail that hitokoto appends. So the
text is sent unchanged: a user's `----` (a Markdown rule, a separator) arrives as written.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from channels.base import Channel, ChannelSettings, Request, expect, joined
from mcp_push.models import Notification


class Settings(ChannelSettings):
    QMSG_KEY: SecretStr = Field(description="Your Qmsg酱 KEY, shown in the Qmsg酱 console.")
    QMSG_TYPE: Literal["send", "group"] = Field(
        description="'send' for a private message to your QQ, 'group' for a QQ group."
    )


class Qmsg(Channel[Settings]):
    name = "qmsg"
    label = "Qmsg酱 (QQ)"
    group = "China"
    docs = "https://qmsg.zendee.cn/api"
    Settings = Settings

    def build(self, note: Notification) -> Request:
        s = self.settings
        return Request(
            "POST", f"https://qmsg.zendee.cn/{s.QMSG_TYPE}/{s.secret('QMSG_KEY')}", data={"msg": joined(note)}
        )

    def check(self, response):
        # {"success":true,"reason":"操作成功","code":0,"info":{}}; failures carry a non-zero code and a reason.
        body = response.json()
        if body.get("success") is True or body.get("code") == 0:
            return None
        return expect(body, "code", (0,), "reason")


CHANNEL = Qmsg
