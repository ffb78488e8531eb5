"""Smart WeChat secretary (智能微秘书, aibotk): a hosted WeChat bot that posts a text to a group or a friend.

The room and contact endpoints differ only in the path and in the target's field name (`roomName` vs `name`).
qinglong's Python sends to a contact for any AIBOTK_TYPE other than "room" (a typo silently messages the
wrong kind of target); here the type must be exactly `room` or `contact`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from channels.base import Channel, ChannelSettings, Request, expect, joined
from mcp_push.models import Notification

API = "https://api-bot.aibotk.com/openapi/v1/chat"


class Settings(ChannelSettings):
    AIBOTK_KEY: SecretStr = Field(description="The apiKey from the aibotk personal centre (个人中心).")
    AIBOTK_TYPE: Literal["room", "contact"] = Field(description="room to post to a group, contact to message a friend.")
    AIBOTK_NAME: str = Field(description="The group's name (room) or the friend's nickname (contact).")


class Aibotk(Channel[Settings]):
    name = "aibotk"
    label = "Smart WeChat secretary (aibotk)"
    group = "China"
    docs = "http://wechat.aibotk.com/docs/about"
    Settings = Settings

    def build(self, note: Notification) -> Request:
        s = self.settings
        target = {"roomName": s.AIBOTK_NAME} if s.AIBOTK_TYPE == "room" else {"name": s.AIBOTK_NAME}
        # qinglong prefixes "【青龙快讯】" (its own branding, not ours) and joins with a single "\n";
        # we send the plain title and content like every other text-only channel.
        return Request(
            "POST",
            f"{API}/{s.AIBOTK_TYPE}",
            json={"apiKey": s.secret("AIBOTK_KEY"), **target, "message": {"type": 1, "content": joined(note)}},
        )

    def check(self, response):
        return expect(response.json(), "code", (0,), "error", "msg")


CHANNEL = Aibotk
