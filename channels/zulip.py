"""Zulip: a message from a bot into a channel (stream) topic, or a direct message, on your organization's server.

Every Zulip organization lives at its own address, on zulipchat.com or on a server of your own, so
ZULIP_SITE is always needed; that is why Zulip is grouped with the self-hosted services. The bot signs
every request with HTTP Basic auth, its email address and API key (Personal settings → Bots).

Where the message goes follows from ZULIP_TO:
- one or more email addresses (anything with an `@`, several comma-separated): a direct message to those
  users (one group conversation when several). Zulip wants the address its API knows a user by, which in an
  organization that hides emails is the `user123@...` one shown on their profile;
- anything else: a channel, by name, or by its id when all digits; the topic is ZULIP_TOPIC, default
  "mcp-push". Direct messages have no topic, so setting ZULIP_TOPIC also makes a ZULIP_TO with an `@` count
  as a channel name.
Zulip reads `to` as JSON when it parses, so a channel name is sent JSON-quoted: a name like `[ops]` or `42`
stays a name. "direct" needs Zulip 7.0 or newer (older servers only know "private").

Zulip renders every message as Markdown, as its own compose box does: what an agent writes in Markdown shows
formatted, and HTML shows as typed (Zulip escapes it). A message holds 10,000 characters; a topic 60.
Errors are {"result": "error", "msg": ..., "code": ...}; over the rate limit (by default 200 requests a minute
per user) Zulip answers 429 with RATE_LIMIT_HIT and the wait, in `Retry-After` and in `retry-after`.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import Field, SecretStr

from channels.base import BaseUrl, Channel, ChannelSettings, Request, Transient, joined, retry_after, snippet
from channels.limits import Limits, Rate, Size
from mcp_push.models import Notification

DEFAULT_TOPIC = "mcp-push"


class Settings(ChannelSettings):
    ZULIP_SITE: BaseUrl = Field(description="Your organization's URL, e.g. https://yourorg.zulipchat.com.")
    ZULIP_EMAIL: str = Field(description="The bot's email address (Personal settings → Bots).")
    ZULIP_API_KEY: SecretStr = Field(description="The bot's API key.")
    ZULIP_TO: str = Field(
        description="A channel name or id, or email address(es) (comma-separated) for a direct message."
    )
    ZULIP_TOPIC: str | None = Field(
        None, max_length=60, description="Topic of a channel message (at most 60 characters); default mcp-push."
    )


class Zulip(Channel[Settings]):
    name = "zulip"
    label = "Zulip"
    group = "self-hosted"
    docs = "https://zulip.com/api/send-message"
    Settings = Settings
    limits = Limits(content=Size(10_000), joined=True)
    rates = (Rate(200, 60),)

    def recipient(self) -> dict[str, str]:
        s = self.settings
        if "@" in s.ZULIP_TO and not s.ZULIP_TOPIC:
            users = [address.strip() for address in s.ZULIP_TO.split(",") if address.strip()]
            return {"type": "direct", "to": json.dumps(users)}
        to = s.ZULIP_TO if s.ZULIP_TO.isdigit() else json.dumps(s.ZULIP_TO, ensure_ascii=False)
        return {"type": "stream", "to": to, "topic": s.ZULIP_TOPIC or DEFAULT_TOPIC}

    def build(self, note: Notification) -> Request:
        s = self.settings
        data: dict[str, Any] = {**self.recipient(), "content": joined(note)}
        credentials = (s.ZULIP_EMAIL, s.secret("ZULIP_API_KEY"))
        return Request("POST", f"{s.ZULIP_SITE}/api/v1/messages", data=data, auth=credentials)

    def check(self, response):
        body = response.json()
        if body.get("result") == "success":
            return None
        if body.get("result") != "error":
            return f"result {body.get('result')!r}: {snippet(response)}"
        problem = ": ".join(str(body[k]) for k in ("code", "msg") if body.get(k)) or "result 'error'"
        if body.get("code") == "RATE_LIMIT_HIT":
            wait = retry_after(response)
            if wait is None and isinstance(body.get("retry-after"), (int, float)):
                wait = max(float(body["retry-after"]), 0.0)
            raise Transient(problem, wait)
        return problem


CHANNEL = Zulip
