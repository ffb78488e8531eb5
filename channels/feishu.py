"""Feishu / Lark custom bot (飞书机器人): a text message to a group, optionally signed.

Signing differs from DingTalk's: the key is `timestamp\\nsecret` and the message is empty, the timestamp is in
seconds, and both go in the JSON body rather than the query. The original mcp-push never signed, so bots with
"signature verification" on rejected it. Feishu answers `code` (v2) or `StatusCode` (older hooks).
"""

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
    FSKEY: SecretStr = Field(description="The hook id at the end of the bot's webhook URL (.../bot/v2/hook/<FSKEY>).")
    FSSECRET: SecretStr | None = Field(None, description="The bot's signing secret, if signature verification is on.")


def sign(secret: str, timestamp_s: str) -> str:
    """HMAC-SHA256 keyed by `timestamp\\nsecret` over an empty message, base64."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class Feishu(Channel[Settings]):
    name = "feishu"
    label = "Feishu / Lark bot"
    group = "China"
    docs = "https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot"
    Settings = Settings
    # Feishu custom bots: 100 requests a minute and 5 a second; a request body of at most 20 KB.
    limits = Limits(content=Size(18000, "bytes"), joined=True)
    rates = (Rate(5, 1), Rate(100, 60))

    def build(self, note: Notification) -> Request:
        body: dict = {"msg_type": "text", "content": {"text": joined(note)}}
        if self.settings.FSSECRET:
            timestamp = str(int(time.time()))
            body |= {"timestamp": timestamp, "sign": sign(self.settings.secret("FSSECRET"), timestamp)}
        return Request(
            "POST", f"https://open.feishu.cn/open-apis/bot/v2/hook/{self.settings.secret('FSKEY')}", json=body
        )

    def check(self, response):
        body = response.json()
        field = "code" if "code" in body else "StatusCode"
        return expect(body, field, (0,), "msg", "StatusMessage", busy=(9499, 11232))  # too many requests


CHANNEL = Feishu
