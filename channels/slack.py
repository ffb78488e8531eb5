"""Slack: a message through an incoming webhook, or from a bot with `chat.postMessage`.

Two ways in, because teams have one or the other, and they report failure differently. A webhook answers the
plain text `ok` and refuses with a 4xx whose body is a bare code (`invalid_payload`, `no_service`,
`channel_is_archived`); the Web API answers HTTP 200 even when it refuses, with `"ok": false` and an `error`
code, so a script that trusts the status reports success for a bot that was never invited to the channel. Both
answer 429 with Retry-After when posted to too fast, and that wait is honoured.

Slack reads `&`, `<` and `>` as control characters: `<!channel>` pings everyone, `<https://x|y>` becomes a link,
and an unescaped `<b>` vanishes from the message. They are sent as `&amp;`, `&lt;` and `&gt;` (nothing else is
entity-encoded, as Slack asks), so text shows as typed and cannot ping anyone. The size limit is counted after
escaping, since that is what Slack receives: one `&` takes five of its 40,000 characters.

The bot token travels in the Authorization header, never in the body or the URL, and the JSON says its charset
(Slack adds a `missing_charset` warning otherwise). Webhooks made by a Slack app post to their own channel as
their app: only legacy webhooks honour `channel`, `username` and `icon_emoji`, so those are sent when set and
Slack decides.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field, SecretStr, field_validator, model_validator

from channels.base import Channel, ChannelSettings, Request, SecretUrl, Transient, joined, retry_after, snippet
from channels.limits import Limits, Rate, Size
from mcp_push.models import Notification

if TYPE_CHECKING:
    import httpx

API = "https://slack.com/api/chat.postMessage"
ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
BUSY = ("ratelimited", "rate_limited")
HINTS = {
    "not_in_channel": "invite the app to the channel first (/invite @your-app)",
    "channel_not_found": "check SLACK_CHANNEL: a channel ID such as C0123456789, or #name, that the bot can see",
    "invalid_auth": "check SLACK_BOT_TOKEN",
    "not_authed": "check SLACK_BOT_TOKEN",
    "account_inactive": "the token belongs to a deleted user or an uninstalled app",
    "missing_scope": "the app needs the chat:write scope (reinstall it after adding the scope)",
    "no_service": "this webhook was removed or its app uninstalled; create a new webhook",
    "no_team": "this webhook's workspace no longer exists",
    "invalid_token": "the webhook URL is wrong or was revoked",
    "channel_is_archived": "the channel is archived",
    "is_archived": "the channel is archived",
    "action_prohibited": "a workspace admin restricts posting here",
}


def escape(text: str) -> str:
    """Text that Slack shows as typed: its three control characters as entities, `&` first."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class Escaped(Size):
    """Characters as Slack receives them, after `escape`."""

    def measure(self, text: str) -> int:
        return len(escape(text))

    def cut(self, text: str, room: int) -> str:
        used = 0
        for index, char in enumerate(text):
            used += len(ENTITIES.get(char, char))
            if used > room:
                return text[:index]
        return text


class Settings(ChannelSettings):
    SLACK_WEBHOOK_URL: SecretUrl | None = Field(
        None, description="Incoming webhook URL (https://hooks.slack.com/services/...); or a bot token instead."
    )
    SLACK_BOT_TOKEN: SecretStr | None = Field(
        None, description="Bot token (xoxb-...) with the chat:write scope; needs SLACK_CHANNEL."
    )
    SLACK_CHANNEL: str = Field(
        "",
        description="Channel for the bot token: an ID such as C0123456789, or #name. A webhook posts to its own "
        "channel (only legacy webhooks accept another).",
    )
    SLACK_USERNAME: str = Field(
        "", description="Name to post as (a bot needs the chat:write.customize scope; app webhooks ignore it)."
    )
    SLACK_ICON_EMOJI: str = Field("", description="Emoji to post with, e.g. :robot_face: (as for SLACK_USERNAME).")

    @field_validator("SLACK_BOT_TOKEN")
    @classmethod
    def _token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and "://" in value.get_secret_value():
            raise ValueError("is a URL, not a token: a webhook URL goes in SLACK_WEBHOOK_URL")
        return value

    @model_validator(mode="after")
    def _one_way_in(self) -> Settings:
        if self.SLACK_WEBHOOK_URL and self.SLACK_BOT_TOKEN:
            raise ValueError("set SLACK_WEBHOOK_URL or SLACK_BOT_TOKEN (with SLACK_CHANNEL), not both")
        if self.SLACK_BOT_TOKEN and not self.SLACK_CHANNEL:
            raise ValueError(
                "SLACK_BOT_TOKEN needs SLACK_CHANNEL, the channel to post to (an ID such as C0123456789, or #name)"
            )
        if not (self.SLACK_WEBHOOK_URL or self.SLACK_BOT_TOKEN):
            raise ValueError("set SLACK_WEBHOOK_URL, or SLACK_BOT_TOKEN and SLACK_CHANNEL")
        return self


def explained(code: str) -> str:
    hint = HINTS.get(code)
    return f"{code} ({hint})" if hint else code


class Slack(Channel[Settings]):
    name = "slack"
    label = "Slack"
    group = "international"
    docs = "https://docs.slack.dev/messaging/sending-messages-using-incoming-webhooks"
    Settings = Settings
    # Slack truncates message text past 40,000 characters (for webhooks and chat.postMessage alike) and allows
    # about one message a second per channel, short bursts aside; a webhook is bound to one channel.
    limits = Limits(content=Escaped(40_000), joined=True)
    rates = (Rate(1, 1),)

    def build(self, note: Notification) -> Request:
        s = self.settings
        message = {"text": escape(joined(note))} | s.present(
            {"SLACK_CHANNEL": "channel", "SLACK_USERNAME": "username", "SLACK_ICON_EMOJI": "icon_emoji"}
        )
        if s.SLACK_BOT_TOKEN:
            headers = {
                "Authorization": f"Bearer {s.secret('SLACK_BOT_TOKEN')}",
                "Content-Type": "application/json; charset=utf-8",
            }
            return Request("POST", API, headers=headers, json=message)
        return Request("POST", s.secret("SLACK_WEBHOOK_URL"), json=message)

    def check(self, response: httpx.Response) -> str | None:
        if self.settings.SLACK_BOT_TOKEN:
            body = response.json()
            if body.get("ok") is True:
                return None
            code = str(body.get("error") or f"ok {body.get('ok')!r}")
            if code in BUSY:
                raise Transient(f"HTTP {response.status_code}: {code}", retry_after(response))
            needed = f" (needs {body['needed']})" if body.get("needed") else ""
            return explained(code) + needed
        answer = response.text.strip()
        if response.is_success:
            return None if answer == "ok" else f"not Slack's answer: {snippet(response)}"
        return explained(answer) if answer.isidentifier() else None  # a bare code; else the base shows the body


CHANNEL = Slack
