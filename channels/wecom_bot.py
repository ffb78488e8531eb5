"""WeCom group robot (企业微信群机器人): a text message to a group through its webhook key.

`QYWX_ORIGIN` lets users behind a relay reach the API through another host (shared with the WeCom app channel).
"""

from __future__ import annotations

from pydantic import Field, SecretStr

from channels.base import BaseUrl, Channel, ChannelSettings, Request, expect, joined
from channels.limits import Limits, Rate, Size
from mcp_push.models import Notification


class Settings(ChannelSettings):
    QYWX_KEY: SecretStr = Field(description="The robot's webhook key (the key=... of its webhook URL).")
    QYWX_ORIGIN: BaseUrl = Field(
        "https://qyapi.weixin.qq.com", description="WeCom API base URL; default https://qyapi.weixin.qq.com."
    )


class WeComBot(Channel[Settings]):
    name = "wecom_bot"
    label = "WeCom group bot"
    group = "China"
    docs = "https://developer.work.weixin.qq.com/document/path/91770"
    Settings = Settings
    # WeCom: 20 messages a minute per bot; a text message holds at most 2,048 bytes of UTF-8.
    limits = Limits(content=Size(2048, "bytes"), joined=True)
    rates = (Rate(20, 60),)

    def build(self, note: Notification) -> Request:
        return Request(
            "POST",
            f"{self.settings.QYWX_ORIGIN}/cgi-bin/webhook/send",
            params={"key": self.settings.secret("QYWX_KEY")},
            json={"msgtype": "text", "text": {"content": joined(note)}},
        )

    def check(self, response):
        return expect(response.json(), "errcode", (0,), "errmsg", busy=(45009,))  # 45009: api freq out of limit


CHANNEL = WeComBot
