"""Microsoft Teams: an Adaptive Card posted to a channel or chat by a Workflows (Power Automate) webhook.

Microsoft retired the Office 365 connectors whose "Incoming Webhook" URLs (`*.webhook.office.com`, before that
`outlook.office.com/webhook/...`) old scripts post MessageCards to; such a URL is refused when the settings are
read, with how to make a Workflows webhook instead, rather than failing on every send. A Workflows webhook takes
a message with one Adaptive Card attachment.

The flow answers 202 Accepted as soon as it is triggered: the card is posted by the flow afterwards, so a flow
that then fails (its owner left, the channel is private) shows only in its run history in Workflows, never
here. Refusals before that (a wrong signature, a deleted or switched-off flow) come as a 4xx with JSON
`{"error": {"code", "message"}}`, which is quoted.

A TextBlock renders a Markdown subset in which a single line break is only a space, so each break is sent
doubled (what Microsoft's card docs prescribe) and lines stay lines. Teams caps a message at about 28 KB, card
included; the text is measured as it travels, breaks doubled and JSON-escaped, in UTF-8 bytes, and the body
states its charset (one without has been reported counted as two bytes a character).
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator

from channels.base import Channel, ChannelSettings, Request, SecretUrl, snippet
from channels.limits import Limits, Size
from mcp_push.models import Notification

if TYPE_CHECKING:
    import httpx

BREAK = re.compile(r"\r\n?|\n")
LEGACY = (
    "is a legacy Office 365 connector webhook, which Microsoft retired: create a Workflows webhook instead "
    '(in Teams: the channel\'s ⋯ menu → Workflows → "Send webhook alerts to a channel") and set '
    "TEAMS_WEBHOOK_URL to the URL it shows"
)


def legacy(url: str) -> bool:
    """An Office 365 connector URL: *.webhook.office.com, or the older outlook.office(365).com/webhook/..."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host == "webhook.office.com" or host.endswith(".webhook.office.com"):
        return True
    return host in ("outlook.office.com", "outlook.office365.com") and parts.path.lower().startswith("/webhook")


class Settings(ChannelSettings):
    TEAMS_WEBHOOK_URL: SecretUrl = Field(
        description='The Workflows webhook URL (Teams → channel ⋯ → Workflows → "Send webhook alerts to a '
        'channel"); it carries its signature in sig=.'
    )

    @field_validator("TEAMS_WEBHOOK_URL")
    @classmethod
    def _workflows(cls, value: SecretStr) -> SecretStr:
        url = value.get_secret_value()
        if legacy(url):
            raise ValueError(LEGACY)
        return value


def paragraphs(text: str) -> str:
    """Every line break doubled: in a TextBlock's Markdown a single one is a space."""
    return BREAK.sub("\n\n", text)


class CardBytes(Size):
    """UTF-8 bytes of the text as it travels: breaks doubled, JSON-escaped."""

    def measure(self, text: str) -> int:
        return len(json.dumps(paragraphs(text), ensure_ascii=False).encode()) - 2  # without the quotes


def card(note: Notification) -> dict[str, Any]:
    return {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {"type": "TextBlock", "text": note.title, "weight": "Bolder", "size": "Medium", "wrap": True},
            {"type": "TextBlock", "text": paragraphs(note.content), "wrap": True},
        ],
    }


class Teams(Channel[Settings]):
    name = "teams"
    label = "Microsoft Teams"
    group = "international"
    docs = "https://learn.microsoft.com/en-us/connectors/teams/#microsoft-teams-webhook"
    Settings = Settings
    # About 28 KB a message, card and JSON included: 24,000 bytes for the body text leave room for the title
    # (256 characters at most) and the card around it.
    limits = Limits(content=CardBytes(24_000, "bytes"))

    def build(self, note: Notification) -> Request:
        message = {
            "type": "message",
            "attachments": [
                {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card(note)}
            ],
        }
        headers = {"Content-Type": "application/json; charset=utf-8"}
        return Request("POST", self.settings.secret("TEAMS_WEBHOOK_URL"), headers=headers, json=message)

    def check(self, response: httpx.Response) -> str | None:
        if response.status_code in (200, 202):
            return None
        if response.is_success:
            return f"HTTP {response.status_code} is not the flow's 202 Accepted: {snippet(response)}"
        try:
            error = response.json().get("error")
        except (ValueError, AttributeError):
            return None  # not JSON: the base quotes the body
        if not isinstance(error, dict):
            return None
        return ": ".join(str(error[key]) for key in ("code", "message") if error.get(key)) or None


CHANNEL = Teams
