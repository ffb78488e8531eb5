"""go-cqhttp and other OneBot v11 servers (NapCat, Lagrange, LLOneBot...): a QQ message to a user or a group.

GOBOT_URL is the full action endpoint (…/send_private_msg or …/send_group_msg) and GOBOT_QQ keeps qinglong's
`user_id=<qq>` / `group_id=<group>` form. The old script pasted the text unencoded into a GET query, so & # +
cut it short; this POSTs JSON instead (OneBot accepts JSON bodies), with `auto_escape` so that text which looks
like a CQ code, e.g. [CQ:face,id=1], is sent as plain text rather than turned into a face or an @all.
The token goes in the `Authorization: Bearer` header, which OneBot accepts in place of the `access_token`
query parameter, so it never appears in a URL or an access log.
"""

from __future__ import annotations

import re

from pydantic import Field, SecretStr, field_validator

from channels.base import Channel, ChannelSettings, Request, joined
from mcp_push.models import Notification

TARGET = re.compile(r"(user_id|group_id)=(\d+)")


class Settings(ChannelSettings):
    GOBOT_URL: str = Field(
        description="Full OneBot HTTP endpoint, e.g. http://127.0.0.1:5700/send_private_msg (or /send_group_msg)."
    )
    GOBOT_QQ: str = Field(description="The target: 'user_id=<QQ number>' or 'group_id=<group number>'.")
    GOBOT_TOKEN: SecretStr | None = Field(None, description="The server's access_token, if it sets one.")

    @field_validator("GOBOT_QQ")
    @classmethod
    def _target(cls, value: str) -> str:
        if not TARGET.fullmatch(value):
            raise ValueError("must be 'user_id=<QQ number>' or 'group_id=<group number>', e.g. user_id=10001")
        return value

    def target(self) -> tuple[str, int]:
        kind, number = self.GOBOT_QQ.split("=")
        return kind, int(number)


class GoCqhttp(Channel[Settings]):
    name = "go_cqhttp"
    label = "go-cqhttp / OneBot v11 (QQ)"
    group = "self-hosted"
    docs = "https://github.com/botuniverse/onebot-11/blob/master/api/public.md"
    Settings = Settings

    def build(self, note: Notification) -> Request:
        s = self.settings
        kind, number = s.target()
        headers = {"Authorization": f"Bearer {s.secret('GOBOT_TOKEN')}"} if s.GOBOT_TOKEN else None
        return Request(
            "POST", s.GOBOT_URL, headers=headers, json={kind: number, "message": joined(note), "auto_escape": True}
        )

    def check(self, response):
        if response.status_code in (401, 403):
            # OneBot answers 401 without a token and 403 with a wrong one, usually with an empty body.
            return "access token missing or wrong: check GOBOT_TOKEN"
        body = response.json()
        if body.get("status") == "ok" or body.get("retcode") == 0:
            return None
        detail = " - ".join(str(body[k]) for k in ("msg", "wording") if body.get(k))
        return f"retcode {body.get('retcode')!r}" + (f": {detail}" if detail else "")


CHANNEL = GoCqhttp
