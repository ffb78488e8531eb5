"""LINE: a text message from your LINE Official Account's bot to a user, group or room, by Messaging API push.

LINE Notify, which most older scripts used (a personal token, `message=` form field), was shut down in March 2025;
the Messaging API needs a channel access token (Bearer) and the id of who receives the message.
LINE warns that a 5xx or a timeout does not mean the message was not sent. Every push therefore carries an
`X-Line-Retry-Key`, a UUID made once per message in `build`, so the base's retries of that one request reuse it:
LINE runs a key's request at most once and answers a repeat with 409, which here means "already accepted" and
counts as delivered; a timed-out attempt is retried too. (A pending notification sent again later is a new message
with a new key: that one only goes out with MCP_PUSH_RETRY_UNSAFE.)
A 429 is either the per-second rate limit, retried, or the month's message allowance used up ("You have reached
your monthly limit."), which waiting seconds cannot fix and is a plain failure. Errors are {"message", "details":
[{"message", "property"}]}, both quoted.
"""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING

from pydantic import Field, SecretStr, field_validator

from channels.base import Channel, ChannelError, ChannelSettings, Delivered, Request, joined, snippet
from channels.limits import Limits, Size
from mcp_push.models import Notification

if TYPE_CHECKING:
    import httpx


TARGET = re.compile(r"[UCR][0-9a-f]{32}")  # a user (U...), group (C...) or room (R...) id
MONTHLY_LIMIT = "monthly limit"


class Settings(ChannelSettings):
    LINE_CHANNEL_ACCESS_TOKEN: SecretStr = Field(
        description="The channel access token (LINE Developers console → your channel → Messaging API)."
    )
    LINE_TO: str = Field(
        description="Who receives it: a user id (U + 32 hex digits, e.g. 'Your user ID' on the Basic settings tab), "
        "or a group (C...) or room (R...) id from a webhook event."
    )

    @field_validator("LINE_TO")
    @classmethod
    def _target(cls, value: str) -> str:
        if not TARGET.fullmatch(value):
            raise ValueError(
                "must be a LINE user, group or room id: U, C or R and 32 hex digits (not a LINE ID or display name)"
            )
        return value


class Line(Channel[Settings]):
    name = "line"
    label = "LINE"
    group = "international"
    docs = "https://developers.line.biz/en/reference/messaging-api/#send-push-message"
    Settings = Settings
    # LINE: a text message holds at most 5,000 characters; counted in UTF-16 units, never more than LINE's count.
    limits = Limits(content=Size(5000, "utf16"), joined=True)

    def build(self, note: Notification) -> Request:
        return Request(
            "POST",
            "https://api.line.me/v2/bot/message/push",
            headers={
                "Authorization": f"Bearer {self.settings.secret('LINE_CHANNEL_ACCESS_TOKEN')}",
                "X-Line-Retry-Key": str(uuid.uuid4()),
            },
            json={"to": self.settings.LINE_TO, "messages": [{"type": "text", "text": joined(note)}]},
            idempotent=True,  # the retry key
        )

    def check(self, response: httpx.Response) -> str | None:
        if response.is_success:
            return None
        try:
            body = response.json()
        except ValueError:
            body = None
        detail = _describe(body) if isinstance(body, dict) and body.get("message") else snippet(response)
        if response.status_code == 409:
            accepted = response.headers.get("x-line-accepted-request-id")
            raise Delivered(
                "an earlier attempt was accepted (409 for the same retry key"
                + (f", request {accepted})" if accepted else ")")
            )
        if response.status_code == 429 and MONTHLY_LIMIT in detail.lower():
            raise ChannelError(f"HTTP 429: {detail}")
        return detail


def _describe(body: dict) -> str:
    details = body.get("details") if isinstance(body.get("details"), list) else []
    parts = [": ".join(str(d[k]) for k in ("property", "message") if d.get(k)) for d in details if isinstance(d, dict)]
    parts = [part for part in parts if part]
    return str(body["message"]) + (f" ({'; '.join(parts)})" if parts else "")


CHANNEL = Line
