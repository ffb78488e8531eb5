"""iGot (聚合推送): a hosted push service; one key delivers to the WeChat/app/mail targets set up behind it.

The key is the 24 letters and digits at the end of https://push.hellyw.com/<key>; it is checked up front (as
qinglong's notify.js does) so that a pasted URL or a truncated key is a clear configuration error, not a 404.
"""

from __future__ import annotations

import re

from pydantic import Field, SecretStr, field_validator

from channels.base import Channel, ChannelSettings, Request, expect
from mcp_push.models import Notification

KEY = re.compile(r"[a-zA-Z0-9]{24}")


class Settings(ChannelSettings):
    IGOT_PUSH_KEY: SecretStr = Field(
        description="Your iGot push key: the 24 characters after https://push.hellyw.com/."
    )

    @field_validator("IGOT_PUSH_KEY")
    @classmethod
    def _key(cls, value: SecretStr) -> SecretStr:
        if not KEY.fullmatch(value.get_secret_value()):
            raise ValueError("must be the 24-letter-and-digit key from https://push.hellyw.com/<key>, not the URL")
        return value


class IGot(Channel[Settings]):
    name = "igot"
    label = "iGot"
    group = "China"
    docs = "http://hellyw.com/#/"
    Settings = Settings

    def build(self, note: Notification) -> Request:
        return Request(
            "POST",
            f"https://push.hellyw.com/{self.settings.secret('IGOT_PUSH_KEY')}",
            data={"title": note.title, "content": note.content},
        )

    def check(self, response):
        return expect(response.json(), "ret", (0,), "errMsg")


CHANNEL = IGot
