"""Chronocat: a self-hosted QQ bot (Red protocol) that sends a text to QQ users and groups.

One request per target. Every target is tried even when an earlier one fails, so one bad id does not
silence the others; the channel then fails with a message naming each target that failed. A transport
error (server unreachable) stops at once, since it would fail every target alike.
"""

from __future__ import annotations

import re

from pydantic import Field, SecretStr, field_validator

from channels.base import BaseUrl, Channel, ChannelError, ChannelSettings, Request, joined
from mcp_push.models import Notification

CHAT_TYPES = {"user": 1, "group": 2}  # Red protocol chatType: 1 private chat, 2 group


class Settings(ChannelSettings):
    CHRONOCAT_URL: BaseUrl = Field(description="Base URL of the Chronocat server, e.g. http://127.0.0.1:16530.")
    CHRONOCAT_QQ: str = Field(description="Targets, e.g. 'user_id=10001;group_id=20002;group_id=30003'.")
    CHRONOCAT_TOKEN: SecretStr = Field(description="The Red protocol token from Chronocat's config.")

    @field_validator("CHRONOCAT_QQ")
    @classmethod
    def _has_targets(cls, value: str) -> str:
        if not targets(value):
            raise ValueError("names no target; write e.g. 'user_id=10001;group_id=20002'")
        return value


def targets(spec: str) -> list[tuple[str, str]]:
    """(kind, id) pairs, users first, as qinglong's regexes find them."""
    return [(kind, uin) for kind in CHAT_TYPES for uin in re.findall(rf"{kind}_id=(\d+)", spec)]


class Chronocat(Channel[Settings]):
    name = "chronocat"
    label = "Chronocat (QQ)"
    group = "self-hosted"
    docs = "https://chronocat.vercel.app/develop/red"
    Settings = Settings

    def build(self, note: Notification) -> list[Request]:
        s = self.settings
        url = f"{s.CHRONOCAT_URL}/api/message/send"
        headers = {"Authorization": f"Bearer {s.secret('CHRONOCAT_TOKEN')}"}
        text = {"elementType": 1, "textElement": {"content": joined(note)}}
        return [
            Request(
                "POST",
                url,
                headers=headers,
                json={"peer": {"chatType": CHAT_TYPES[kind], "peerUin": uin}, "elements": [text]},
            )
            for kind, uin in targets(s.CHRONOCAT_QQ)
        ]

    async def deliver(self, note: Notification) -> None:
        failures = []
        for (kind, uin), request in zip(targets(self.settings.CHRONOCAT_QQ), self.build(note), strict=True):
            try:
                await self.call(request)
            except ChannelError as exc:
                failures.append(f"{kind} {uin}: {exc}")
        if failures:
            raise ChannelError("; ".join(failures))


CHANNEL = Chronocat
