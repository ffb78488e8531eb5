"""OpeniLink Hub: a WeChat bot hub (iLink protocol); an installed App sends a text through its Bot API.

hub.openilink.com is the hosted hub; a self-hosted hub works the same with OPENILINK_HUB_URL. Without `to`,
the hub delivers to the bot's own user. Failures come as {"ok": false, "error": ...}, often with a 4xx/5xx.
"""

from __future__ import annotations

from pydantic import Field, SecretStr

from channels.base import BaseUrl, Channel, ChannelSettings, Request, expect, joined
from mcp_push.models import Notification


class Settings(ChannelSettings):
    OPENILINK_APP_TOKEN: SecretStr = Field(description="The app_token an installed App gets from the hub.")
    OPENILINK_HUB_URL: BaseUrl = Field(
        "https://hub.openilink.com", description="Base URL of the hub (default https://hub.openilink.com)."
    )
    OPENILINK_CONTEXT_TOKEN: SecretStr | None = Field(
        None, description="Optional context_token of a conversation, sent along with each message."
    )


class OpeniLink(Channel[Settings]):
    name = "openilink"
    label = "OpeniLink Hub (WeChat)"
    group = "China"
    docs = "https://github.com/openilink/openilink-hub/blob/main/docs/app-development.md#send-message"
    Settings = Settings

    def build(self, note: Notification) -> Request:
        s = self.settings
        body = {"type": "text", "content": joined(note)}
        if s.OPENILINK_CONTEXT_TOKEN:
            body["context_token"] = s.secret("OPENILINK_CONTEXT_TOKEN")
        return Request(
            "POST",
            f"{s.OPENILINK_HUB_URL}/bot/v1/message/send",
            headers={"Authorization": f"Bearer {s.secret('OPENILINK_APP_TOKEN')}"},
            json=body,
        )

    def check(self, response):
        return expect(response.json(), "ok", (True,), "error")


CHANNEL = OpeniLink
