"""Webex: a message from a bot (or your own token) into a space.

The message goes out twice over: `markdown`, with the title in bold and everything else escaped so that
`*`, `_`, `[x](y)`, `<b>`, `&amp;`, a leading `#` or `-` show as typed rather than as formatting, and `text`,
the same words plain, which Webex shows where it cannot render Markdown (some notifications, older clients).
Escaping makes the Markdown longer than the text. The text is held to 64 bytes under Webex's limit of 7,439
bytes, room for the bold title and some escapes (the truncation marker's brackets, say); when the Markdown
still would not fit, only the text is sent, so a long message arrives whole rather than refused.

A bot only reaches spaces it was added to: a space it is not in, or a mistyped WEBEX_ROOM_ID, is a 404
"Could not find a room with provided ID". Errors are JSON {"message", "errors": [{"description"}],
"trackingId"}; the tracking id is what Webex support asks for, so it is kept in the error. Over its rate limit
Webex answers 429 with Retry-After, which the retry waits.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, SecretStr

from channels.base import Channel, ChannelSettings, Request, joined, snippet
from channels.limits import Limits, Size
from mcp_push.models import Notification

MAX_BYTES = 7439  # of `text` and of `markdown`, each

_INLINE = re.compile(r"([\\`*_\[\]<>~|&])")  # CommonMark backslash-escapes any ASCII punctuation
_BLOCK = re.compile(r"^([ \t]*)([#+=-])", re.MULTILINE)  # a heading, list item or heading underline
_NUMBERED = re.compile(r"^([ \t]*\d+)([.)])", re.MULTILINE)  # an ordered list item


def markdown_text(text: str) -> str:
    """`text` as Markdown that renders exactly as typed."""
    text = _INLINE.sub(r"\\\1", text)
    text = _BLOCK.sub(r"\1\\\2", text)
    return _NUMBERED.sub(r"\1\\\2", text)


class Settings(ChannelSettings):
    WEBEX_TOKEN: SecretStr = Field(description="The bot's access token (developer.webex.com → My Webex Apps).")
    WEBEX_ROOM_ID: str = Field(description="The id of the space to post in; the bot must be a member of it.")


class Webex(Channel[Settings]):
    name = "webex"
    label = "Webex"
    group = "international"
    docs = "https://developer.webex.com/docs/api/v1/messages/create-a-message"
    Settings = Settings
    limits = Limits(content=Size(MAX_BYTES - 64, "bytes"), joined=True)

    def message(self, note: Notification) -> dict[str, Any]:
        fields = {"roomId": self.settings.WEBEX_ROOM_ID, "text": joined(note)}
        title = " ".join(note.title.split())  # bold only holds within one line, without edge spaces
        markdown = f"**{markdown_text(title)}**\n\n{markdown_text(note.content)}"
        if len(markdown.encode()) <= MAX_BYTES:
            fields["markdown"] = markdown
        return fields

    def build(self, note: Notification) -> Request:
        return Request(
            "POST",
            "https://webexapis.com/v1/messages",
            headers={"Authorization": f"Bearer {self.settings.secret('WEBEX_TOKEN')}"},
            json=self.message(note),
        )

    def check(self, response):
        body = response.json()
        if response.is_success:
            return None if body.get("id") else f"no message id in the answer: {snippet(response)}"
        parts = [str(body["message"])] if body.get("message") else []
        parts += [
            str(e["description"]) for e in body.get("errors") or [] if isinstance(e, dict) and e.get("description")
        ]
        problem = "; ".join(dict.fromkeys(parts))  # the description often repeats the message
        tracking = f" (trackingId {body['trackingId']})" if body.get("trackingId") else ""
        return (problem or snippet(response)) + tracking


CHANNEL = Webex
