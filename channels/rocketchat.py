"""Rocket.Chat: a message in a room through an incoming webhook integration on your server.

Rocket.Chat answers `{"success": true}`, and `{"success": false, "error": ...}` when it refuses (a 400 from
current servers), so `success` decides, whatever the status. An integration switched off answers 503 "Service
Unavailable": that is reported as a setting to change, not retried as if the server were down. The server's API
rate limiter covers webhooks too (by default 10 calls a minute; admins change it, so it is not assumed here):
its 429 says in `X-RateLimit-Reset` (epoch milliseconds) when the next call is allowed, and that wait is honoured.

Only `text` is sent: a `channel` is refused unless the integration allows overriding its room. Text is Markdown,
and `@all` or `@here` in it notify the room, as Rocket.Chat intends.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from pydantic import Field

from channels.base import (
    Channel,
    ChannelError,
    ChannelSettings,
    Request,
    SecretUrl,
    Transient,
    joined,
    retry_after,
    snippet,
)
from mcp_push.models import Notification

if TYPE_CHECKING:
    import httpx


class Settings(ChannelSettings):
    ROCKETCHAT_WEBHOOK_URL: SecretUrl = Field(
        description="The incoming integration's webhook URL (Administration → Integrations), .../hooks/<id>/<token>."
    )


def reset_wait(response: httpx.Response) -> float | None:
    """Seconds until the rate limiter's reset, from `X-RateLimit-Reset` (epoch ms), else Retry-After."""
    try:
        return max(float(response.headers["x-ratelimit-reset"]) / 1000 - time.time(), 0.0)
    except (KeyError, ValueError):
        return retry_after(response)


class RocketChat(Channel[Settings]):
    name = "rocketchat"
    label = "Rocket.Chat"
    group = "self-hosted"
    docs = "https://docs.rocket.chat/docs/rocketchat-marketplace-integrations"
    Settings = Settings

    def build(self, note: Notification) -> Request:
        return Request("POST", self.settings.secret("ROCKETCHAT_WEBHOOK_URL"), json={"text": joined(note)})

    def check(self, response: httpx.Response) -> str | None:
        try:
            body = response.json()
        except ValueError:
            if response.is_success:
                return f"not Rocket.Chat's answer: {snippet(response)}"
            return None  # a proxy's page: the base quotes it
        if not isinstance(body, dict):
            return f"not Rocket.Chat's answer: {snippet(response)}"
        if body.get("success") is True and response.is_success:
            return None
        error = str(body.get("error") or f"success {body.get('success')!r}")
        if response.status_code == 429:
            raise Transient(f"HTTP 429: {error}", reset_wait(response))
        if response.status_code == 503 and error == "Service Unavailable":
            raise ChannelError("HTTP 503: the integration is disabled (enable it in Administration → Integrations)")
        return error


CHANNEL = RocketChat
