"""Gotify: a self-hosted push server; the message goes to the application that owns the token.

The app token travels in the `X-Gotify-Key` header (Gotify accepts it there as well as in `?token=`), so it
stays out of URLs and proxy logs; the body is JSON rather than the old script's form. Gotify answers errors
as {"error": "Unauthorized", "errorCode": 401, "errorDescription": "..."}.
"""

from __future__ import annotations

from pydantic import Field, SecretStr

from channels.base import BaseUrl, Channel, ChannelSettings, Request, snippet
from mcp_push.models import Notification


class Settings(ChannelSettings):
    GOTIFY_URL: BaseUrl = Field(description="Base URL of your Gotify server, e.g. https://push.example.de:8080.")
    GOTIFY_TOKEN: SecretStr = Field(description="The application token (Gotify web UI → Apps).")
    GOTIFY_PRIORITY: int = Field(0, description="Message priority; Gotify clients use 0 (lowest) to 10. Default 0.")


class Gotify(Channel[Settings]):
    name = "gotify"
    label = "Gotify"
    group = "self-hosted"
    docs = "https://gotify.net/docs/pushmsg"
    Settings = Settings

    def build(self, note: Notification) -> Request:
        s = self.settings
        return Request(
            "POST",
            f"{s.GOTIFY_URL}/message",
            headers={"X-Gotify-Key": s.secret("GOTIFY_TOKEN")},
            # 8 and up makes Gotify's Android app sound and show the message at once: for what is urgent.
            json={
                "title": note.title,
                "message": note.content,
                "priority": max(s.GOTIFY_PRIORITY, 8) if note.urgent else s.GOTIFY_PRIORITY,
            },
        )

    def check(self, response):
        body = response.json()
        if body.get("id"):
            return None
        detail = ": ".join(str(body[k]) for k in ("error", "errorDescription") if body.get(k))
        return detail or f"no message id in the answer: {snippet(response)}"


CHANNEL = Gotify
