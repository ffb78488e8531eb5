"""WxPusher: push to WeChat and the WxPusher apps through an app token, to user UIDs and/or topics.

The message goes as HTML (contentType 2): the title as `<h1>` over the content in a `pre-wrap` div, which keeps
its newlines and spaces. Both are HTML-escaped (qinglong's script did not, so a `<b>` turned bold and a stray
`<` ate text). `summary` is the line shown on the notification card. The reference said WxPusher cuts it at
20 characters; WxPusher's own docs now say the API accepts up to 100 (clients may show fewer), and the service
wins, so it is cut at 100. `page` is shared with the SPT "simple push" channel (wxpusher_spt).
"""

from __future__ import annotations

import html

from pydantic import Field, SecretStr, field_validator, model_validator

from channels.base import Channel, ChannelSettings, Request, expect
from mcp_push.models import Notification

SUMMARY_MAX = 100


def page(note: Notification) -> dict:
    """The content/summary/contentType fields both WxPusher send APIs take."""
    return {
        "content": f"<h1>{html.escape(note.title)}</h1><br/>"
        f"<div style='white-space: pre-wrap;'>{html.escape(note.content)}</div>",
        "summary": note.title[:SUMMARY_MAX],
        "contentType": 2,
    }


class Settings(ChannelSettings):
    WXPUSHER_APP_TOKEN: SecretStr = Field(description="The app's appToken (AT_...).")
    WXPUSHER_TOPIC_IDS: list[int] = Field(
        default_factory=list, description="Topic ids (integers) separated by ';'. Set this or WXPUSHER_UIDS."
    )
    WXPUSHER_UIDS: list[str] = Field(
        default_factory=list, description="User UIDs (UID_...) separated by ';'. Set this or WXPUSHER_TOPIC_IDS."
    )

    @field_validator("WXPUSHER_TOPIC_IDS", mode="before")
    @classmethod
    def _topic_ids(cls, value):
        if not isinstance(value, str):
            return value
        parts = [part.strip() for part in value.split(";") if part.strip()]
        if bad := [part for part in parts if not (part.isascii() and part.isdigit())]:
            raise ValueError(f"topic ids must be integers separated by ';', not {', '.join(map(repr, bad))}")
        return [int(part) for part in parts]

    @field_validator("WXPUSHER_UIDS", mode="before")
    @classmethod
    def _uids(cls, value):
        return [part.strip() for part in value.split(";") if part.strip()] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _has_recipient(self):
        if not self.WXPUSHER_TOPIC_IDS and not self.WXPUSHER_UIDS:
            raise ValueError("WxPusher needs a recipient: set WXPUSHER_UIDS or WXPUSHER_TOPIC_IDS (or both)")
        return self


class WxPusher(Channel[Settings]):
    name = "wxpusher"
    label = "WxPusher"
    group = "China"
    docs = "https://wxpusher.zjiecode.com/docs/#/?id=send-msg"
    Settings = Settings

    def build(self, note: Notification) -> Request:
        return Request(
            "POST",
            "https://wxpusher.zjiecode.com/api/send/message",
            json={
                "appToken": self.settings.secret("WXPUSHER_APP_TOKEN"),
                **page(note),
                "topicIds": self.settings.WXPUSHER_TOPIC_IDS,
                "uids": self.settings.WXPUSHER_UIDS,
                "verifyPayType": 0,
            },
        )

    def check(self, response):
        return expect(response.json(), "code", (1000,), "msg")


CHANNEL = WxPusher
