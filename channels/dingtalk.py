"""DingTalk custom robot (钉钉机器人): a text message to a group, optionally HMAC-signed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from pydantic import Field, SecretStr

from channels.base import Channel, ChannelSettings, Request, expect, joined
from channels.limits import Limits, Rate, Size
from mcp_push.models import Notification


class Settings(ChannelSettings):
    DD_BOT_TOKEN: SecretStr = Field(description="access_token from the robot's webhook URL.")
    # qinglong's Python requires it; the JS version and DingTalk itself allow keyword/IP-only robots.
    DD_BOT_SECRET: SecretStr | None = Field(None, description="The robot's signing secret (SEC...), if signing is on.")


def sign(secret: str, timestamp_ms: str) -> str:
    """HMAC-SHA256 keyed by the secret over `timestamp\\nsecret`, base64 (httpx URL-encodes it)."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class DingTalk(Channel[Settings]):
    name = "dingtalk"
    label = "DingTalk bot"
    group = "China"
    docs = "https://open.dingtalk.com/document/orgapp/custom-robots-send-group-messages"
    Settings = Settings
    # DingTalk: 20 messages a minute per robot (over it, the robot is muted for 10 minutes); text <= 20,000 bytes.
    limits = Limits(content=Size(20000, "bytes"), joined=True)
    rates = (Rate(20, 60),)

    def build(self, note: Notification) -> Request:
        params = {"access_token": self.settings.secret("DD_BOT_TOKEN")}
        if self.settings.DD_BOT_SECRET:
            timestamp = str(round(time.time() * 1000))
            params |= {"timestamp": timestamp, "sign": sign(self.settings.secret("DD_BOT_SECRET"), timestamp)}
        return Request(
            "POST",
            "https://oapi.dingtalk.com/robot/send",
            params=params,
            json={"msgtype": "text", "text": {"content": joined(note)}},
        )

    def check(self, response):
        # 130101 / 410100: "send too fast" (rate limited by DingTalk)
        return expect(response.json(), "errcode", (0,), "errmsg", busy=(130101, 410100))


CHANNEL = DingTalk
