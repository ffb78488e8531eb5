"""WxPusher "simple push": send to yourself (or up to 10 people) by SPT token, no app or UID needed.

Same HTML message as the standard WxPusher channel (`channels.wxpusher.page`). One token goes as `spt`,
several as `sptList`; the service takes at most 10.
"""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from channels.base import Channel, ChannelSettings, Request, expect
from channels.wxpusher import page
from mcp_push.models import Notification

SPT_MAX = 10


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


class Settings(ChannelSettings):
    WXPUSHER_SPT_LIST: SecretStr = Field(description="One SPT token (SPT_...), or up to 10 separated by ','.")

    @field_validator("WXPUSHER_SPT_LIST")
    @classmethod
    def _one_to_ten(cls, value: SecretStr) -> SecretStr:
        spts = _split(value.get_secret_value())
        if not 1 <= len(spts) <= SPT_MAX:
            raise ValueError(f"needs 1 to {SPT_MAX} SPT tokens separated by ',', got {len(spts)}")
        return value

    @property
    def spts(self) -> list[str]:
        return _split(self.secret("WXPUSHER_SPT_LIST"))


class WxPusherSpt(Channel[Settings]):
    name = "wxpusher_spt"
    label = "WxPusher simple push (SPT)"
    group = "China"
    docs = "https://wxpusher.zjiecode.com/docs/#/?id=spt"
    Settings = Settings

    def build(self, note: Notification) -> Request:
        spts = self.settings.spts
        target = {"spt": spts[0]} if len(spts) == 1 else {"sptList": spts}
        return Request(
            "POST", "https://wxpusher.zjiecode.com/api/send/message/simple-push", json={**page(note), **target}
        )

    def check(self, response):
        return expect(response.json(), "code", (1000,), "msg")


CHANNEL = WxPusherSpt
