"""Mattermost: a post in a channel through an incoming webhook on your server.

The body is JSON with its Content-Type (a form body is read as Slack's `payload=<json>`, where raw JSON sent as
form data goes wrong). Success is HTTP 200 with the two-letter body `ok`; anything else at 200 (a proxy's or an
SSO login page, say) is a failure. Refusals are Mattermost's error JSON, whose `message` ("Couldn't find the
channel", "Invalid webhook") and `id` are quoted.

`channel` and `username` are sent only when set, so the webhook's own defaults apply otherwise. A username takes
effect only where the admin enabled "integrations to override usernames" (elsewhere Mattermost ignores it
silently), and a private channel takes posts only if the webhook's creator is in it. Text is Markdown, and
`@channel`, `@here` or `@all` in it notify the channel, as Mattermost intends: its one switch, `silent`, would
mute the notification itself. Text over the server's post size (16,383 characters since Mattermost 5.0) is
split into consecutive posts by Mattermost itself, so no limit is set here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from channels.base import Channel, ChannelSettings, Request, SecretUrl, joined, snippet
from mcp_push.models import Notification

if TYPE_CHECKING:
    import httpx


class Settings(ChannelSettings):
    MATTERMOST_WEBHOOK_URL: SecretUrl = Field(
        description="The incoming webhook URL (Integrations → Incoming Webhooks), https://your-server/hooks/..."
    )
    MATTERMOST_CHANNEL: str = Field(
        "", description="Channel to post in instead of the webhook's: its name (town-square), or @username."
    )
    MATTERMOST_USERNAME: str = Field("", description="Name to post as (needs the server's username override on).")


class Mattermost(Channel[Settings]):
    name = "mattermost"
    label = "Mattermost"
    group = "self-hosted"
    docs = "https://developers.mattermost.com/integrate/webhooks/incoming/"
    Settings = Settings

    def build(self, note: Notification) -> Request:
        s = self.settings
        body = {"text": joined(note)} | s.present({"MATTERMOST_CHANNEL": "channel", "MATTERMOST_USERNAME": "username"})
        return Request("POST", s.secret("MATTERMOST_WEBHOOK_URL"), json=body)

    def check(self, response: httpx.Response) -> str | None:
        if response.is_success:
            return None if response.text.strip() == "ok" else f"not Mattermost's answer: {snippet(response)}"
        try:
            body = response.json()
        except ValueError:
            return None  # not Mattermost's error JSON (a proxy's page): the base quotes it
        if not isinstance(body, dict) or not body.get("message"):
            return None
        detail = f": {body['detailed_error']}" if body.get("detailed_error") else ""
        where = f" ({body['id']})" if body.get("id") else ""
        return f"{body['message']}{detail}{where}"


CHANNEL = Mattermost
