"""ServerChan (Server酱): WeChat / app push by SendKey, in its Turbo (sctapi.ftqq.com) and ³ (ft07.com) flavours.

A Server酱³ key starts with `sctp<uid>t`; its endpoint lives on `<uid>.push.ft07.com`. Everything else goes to
Turbo. `desp` is Markdown, where a single newline does not break a line, hence every `\\n` is doubled.
Turbo caps the title (`text`) at 32 characters; a longer title is cut there and also sent whole as the first
line of `desp`, so nothing is lost.
"""

from __future__ import annotations

import re

from pydantic import Field, SecretStr

from channels.base import Channel, ChannelSettings, Request, expect
from channels.limits import Limits, Size
from mcp_push.models import Notification

TITLE_MAX = 32
SC3_KEY = re.compile(r"sctp(\d+)t", re.IGNORECASE)


class Settings(ChannelSettings):
    PUSH_KEY: SecretStr = Field(description="SendKey (SCT... for Turbo, sctp<uid>t... for Server酱³).")


class ServerChan(Channel[Settings]):
    name = "serverchan"
    label = "ServerChan (Server酱)"
    group = "China"
    docs = "https://sct.ftqq.com/sendkey"  # Server酱³: https://doc2.ft07.com/serverchan3/server/api
    Settings = Settings
    # desp holds at most 32 KB; kept under it with room for the doubled newlines and a moved title.
    limits = Limits(content=Size(30000, "bytes"))

    def build(self, note: Notification) -> Request:
        key = self.settings.secret("PUSH_KEY")
        sc3 = SC3_KEY.match(key)
        url = f"https://{sc3.group(1)}.push.ft07.com/send/{key}.send" if sc3 else f"https://sctapi.ftqq.com/{key}.send"
        desp = note.content if len(note.title) <= TITLE_MAX else f"{note.title}\n{note.content}"
        return Request("POST", url, data={"text": note.title[:TITLE_MAX], "desp": desp.replace("\n", "\n\n")})

    def check(self, response):
        # Turbo answers {"code": 0, "data": {"errno": 0, ...}}; Server酱³ {"code": 0, "errno": 0, ...}.
        body = response.json()
        if body.get("code") == 0 or body.get("errno") == 0:
            return None
        return expect(body, "code" if "code" in body else "errno", (0,), "message", "info", "error")


CHANNEL = ServerChan
