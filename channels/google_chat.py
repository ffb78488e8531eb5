"""Google Chat: a text message in a space through an incoming webhook.

The webhook URL is the whole credential: its query carries the `key` and `token` that authorize the post, so
it is sent exactly as given (no parameter added or reordered) and masked everywhere. Google answers the created
message (its `name` is `spaces/.../messages/...`), so a 200 without one is a failure; refusals come as
`{"error": {"code", "message", "status"}}`, whose status (INVALID_ARGUMENT, PERMISSION_DENIED...) and message
are quoted. Too fast is 429 RESOURCE_EXHAUSTED, retried with backoff.

Chat turns `<users/all>` in a text message into an @mention of everyone in the space (and `<users/123>` into one
person's); a zero-width space after the `<` keeps such text as typed without pinging anyone. Other markup
(`*bold*`, `<https://x|links>`) is left to render.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from channels.base import Channel, ChannelSettings, Request, SecretUrl, joined, snippet
from channels.limits import Limits, Rate, Size
from mcp_push.models import Notification

if TYPE_CHECKING:
    import httpx

MENTION = "<users/"


def quiet(text: str) -> str:
    """`text` with every `<users/...>` mention broken by a zero-width space, so it shows but notifies nobody."""
    return text.replace(MENTION, "<\u200busers/")


class Quieted(Size):
    """UTF-16 units of the text as sent, after `quiet`."""

    def measure(self, text: str) -> int:
        return len(quiet(text).encode("utf-16-le")) // 2


class Settings(ChannelSettings):
    GOOGLE_CHAT_WEBHOOK_URL: SecretUrl = Field(
        description="The space's webhook URL (space → Apps & integrations → Webhooks), with its key= and token=."
    )


class GoogleChat(Channel[Settings]):
    name = "google_chat"
    label = "Google Chat"
    group = "international"
    docs = "https://developers.google.com/workspace/chat/quickstart/webhooks"
    Settings = Settings
    # Text of at most 4,096 characters (counted in UTF-16 units, the stricter reading), and webhooks get one
    # message a second per space.
    limits = Limits(content=Quieted(4096, "utf16"), joined=True)
    rates = (Rate(1, 1),)

    def build(self, note: Notification) -> Request:
        return Request(
            "POST",
            self.settings.secret("GOOGLE_CHAT_WEBHOOK_URL"),
            headers={"Content-Type": "application/json; charset=UTF-8"},
            json={"text": quiet(joined(note))},
        )

    def check(self, response: httpx.Response) -> str | None:
        body = response.json()
        if response.is_success:
            return None if body.get("name") else f"no message name in the answer: {snippet(response)}"
        error = body.get("error")
        if not isinstance(error, dict):
            return None
        return ": ".join(str(error[key]) for key in ("status", "message") if error.get(key)) or None


CHANNEL = GoogleChat
