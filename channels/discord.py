"""Discord: a message in a channel through its webhook, title and body in an embed.

The webhook is executed with `?wait=true`. Without it Discord answers 204 before the message is saved, and a
message it then drops is never reported (its docs say so); with it the answer is the created message, so a
200 without a message id is a failure too. A `thread_id` already in the URL (posting into a thread) is kept.

The text goes in an embed, whose limits are Discord's roomiest (title 256, description 4,096, where plain
`content` has 2,000), and `allowed_mentions` parses nothing, so `@everyone`, `@here`, a role or a user in the
text is shown but never pings anyone (text in `content` with the default allowed mentions pings whoever it
names).

Discord asks clients not to hard-code its rate limits, which vary per route; it answers 429 with a JSON
`retry_after` in seconds, fractional and more precise than the rounded Retry-After header, and that wait is
honoured. Errors are JSON too: a `message` and `code`, and for a refused field (an over-long title, a
username containing "discord") an `errors` tree whose first entry is quoted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from pydantic import Field, field_validator

from channels.base import Channel, ChannelSettings, Request, SecretUrl, Transient, retry_after, snippet
from channels.limits import Limits, Size
from mcp_push.models import Notification

if TYPE_CHECKING:
    import httpx


class Settings(ChannelSettings):
    DISCORD_WEBHOOK_URL: SecretUrl = Field(
        description="The webhook URL (channel settings → Integrations → Webhooks → Copy Webhook URL)."
    )
    DISCORD_USERNAME: str = Field("", description="Name to post as instead of the webhook's own.")
    DISCORD_AVATAR_URL: str = Field("", description="URL of an image to post with instead of the webhook's avatar.")

    @field_validator("DISCORD_AVATAR_URL")
    @classmethod
    def _avatar(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must be an image URL with its scheme, e.g. https://example.com/bot.png")
        return value


def waiting(url: str) -> str:
    """The webhook URL with `wait=true`, its other query parameters (a `thread_id`) kept."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "wait"]
    return parts._replace(query=urlencode([*query, ("wait", "true")])).geturl()


def first_error(errors: Any, path: tuple[str, ...] = ()) -> str | None:
    """The first refusal in Discord's error tree, e.g. `embeds.0.title: Must be 256 or fewer in length.`"""
    if not isinstance(errors, dict):
        return None
    found = errors.get("_errors")
    if isinstance(found, list) and found and isinstance(found[0], dict):
        return f"{'.'.join(path) or 'body'}: {found[0].get('message') or found[0].get('code')}"
    for key, value in errors.items():
        if (deeper := first_error(value, (*path, str(key)))) is not None:
            return deeper
    return None


class Discord(Channel[Settings]):
    name = "discord"
    label = "Discord"
    group = "international"
    docs = "https://discord.com/developers/docs/resources/webhook#execute-webhook"
    Settings = Settings
    # Embed limits: title 256, description 4,096 characters (counted here in UTF-16 units, the stricter reading:
    # an emoji never pushes a message over). No rates: Discord asks clients to follow its 429 answers instead.
    limits = Limits(title=Size(256, "utf16"), content=Size(4096, "utf16"))

    def build(self, note: Notification) -> Request:
        s = self.settings
        body = {
            "embeds": [{"title": note.title, "description": note.content}],
            "allowed_mentions": {"parse": []},
        } | s.present({"DISCORD_USERNAME": "username", "DISCORD_AVATAR_URL": "avatar_url"})
        return Request("POST", waiting(s.secret("DISCORD_WEBHOOK_URL")), json=body)

    def check(self, response: httpx.Response) -> str | None:
        body = response.json()
        if response.status_code == 429:
            wait = body.get("retry_after")
            scope = " (global)" if body.get("global") else ""
            raise Transient(
                f"HTTP 429: {body.get('message') or 'rate limited'}{scope}",
                float(wait) if isinstance(wait, (int, float)) and wait >= 0 else retry_after(response),
            )
        if response.is_success:
            return None if body.get("id") else f"no message id in the answer: {snippet(response)}"
        detail = first_error(body.get("errors"))
        code = f" (code {body['code']})" if body.get("code") else ""
        return f"{body.get('message') or snippet(response)}{code}" + (f": {detail}" if detail else "")


CHANNEL = Discord
