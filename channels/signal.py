"""Signal, through your own signal-cli-rest-api server: a message from its registered number to people or groups.

Signal has no public bot API; signal-cli-rest-api (bbernhard/signal-cli-rest-api, usually a Docker container)
wraps signal-cli, which is registered or linked as a Signal device. Its v2 send takes JSON with the sender's number
and a list of recipients (phone numbers, usernames, or group ids "group.…") and answers 201 with the message's
`timestamp`; anything else is {"error": "..."}, quoted (typically a 400: an unregistered recipient, an untrusted
identity, an unknown group). No `text_mode` is sent, so the server's default "normal" shows `*stars*` as typed.
SIGNAL_RECIPIENTS is split on commas and each entry trimmed, so "a, b" works and a trailing comma is harmless;
an empty list is a configuration error here rather than the server's "please provide at least one recipient".
The server has no authentication of its own; behind a reverse proxy, credentials in SIGNAL_API_URL
(https://user:pass@host) are sent as Basic auth and masked in every report.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pydantic import Field, field_validator

from channels.base import BaseUrl, Channel, ChannelSettings, Request, joined, snippet
from mcp_push.models import Notification

if TYPE_CHECKING:
    import httpx

NUMBER = re.compile(r"\+[1-9][0-9]{5,14}")  # E.164


def split(value: str) -> list[str]:
    """The recipients, trimmed, empty entries and repeats dropped, in the order given."""
    return list(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))


class Settings(ChannelSettings):
    SIGNAL_API_URL: BaseUrl = Field(
        description="Base URL of your signal-cli-rest-api server, e.g. http://localhost:8080."
    )
    SIGNAL_NUMBER: str = Field(description="The number registered with signal-cli, in E.164 (+4915112345678).")
    SIGNAL_RECIPIENTS: str = Field(
        description="Recipients, comma-separated: numbers in E.164, usernames or group ids (group.…)."
    )

    @field_validator("SIGNAL_NUMBER")
    @classmethod
    def _number(cls, value: str) -> str:
        if not NUMBER.fullmatch(value):
            raise ValueError("must be the registered phone number in E.164: + and the digits, no spaces")
        return value

    @field_validator("SIGNAL_RECIPIENTS")
    @classmethod
    def _recipients(cls, value: str) -> str:
        recipients = split(value)
        if not recipients:
            raise ValueError("must name at least one recipient (comma-separated)")
        return ",".join(recipients)

    @property
    def recipients(self) -> list[str]:
        return split(self.SIGNAL_RECIPIENTS)


class Signal(Channel[Settings]):
    name = "signal"
    label = "Signal (signal-cli-rest-api)"
    group = "self-hosted"
    docs = "https://bbernhard.github.io/signal-cli-rest-api/#/Messages/post_v2_send"
    Settings = Settings

    def build(self, note: Notification) -> Request:
        s = self.settings
        return Request(
            "POST",
            f"{s.SIGNAL_API_URL}/v2/send",
            json={"message": joined(note), "number": s.SIGNAL_NUMBER, "recipients": s.recipients},
        )

    def check(self, response: httpx.Response) -> str | None:
        body = response.json()
        if response.status_code == 201 and body.get("timestamp"):
            return None
        if body.get("error"):
            return str(body["error"]).strip()
        return f"no message timestamp in the answer: {snippet(response)}"


CHANNEL = Signal
