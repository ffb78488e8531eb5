"""Pushbullet: a note pushed to all your devices, or to one, with your account's access token.

The token goes in the `Access-Token` header, as Pushbullet's current docs use it; older scripts passed it as the
Basic-auth user or in the URL, where proxies and shell history keep it. The push is JSON, so no character in a
title or body needs escaping. Success is the push object Pushbullet created (it has an `iden`); any other status
carries {"error": {"type", "message", "param"?, "cat"}}, whose type, message and offending parameter are quoted
(the cat is not). A 429 comes with X-Ratelimit-Reset, the Unix time the window reopens: that is the wait asked
for, so a retry is not wasted inside the same window, and a reset past the deadline is reported as such.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from pydantic import Field, SecretStr

from channels.base import Channel, ChannelSettings, Request, Transient, retry_after, snippet
from mcp_push.models import Notification

if TYPE_CHECKING:
    import httpx


class Settings(ChannelSettings):
    PUSHBULLET_TOKEN: SecretStr = Field(description="Your access token (pushbullet.com → Settings → Account).")
    PUSHBULLET_DEVICE: str = Field("", description="The iden of one device to push to; empty: all your devices.")


class Pushbullet(Channel[Settings]):
    name = "pushbullet"
    label = "Pushbullet"
    group = "international"
    docs = "https://docs.pushbullet.com/#create-push"
    Settings = Settings

    def build(self, note: Notification) -> Request:
        body = {"type": "note", "title": note.title, "body": note.content}
        body |= self.settings.present({"PUSHBULLET_DEVICE": "device_iden"})
        return Request(
            "POST",
            "https://api.pushbullet.com/v2/pushes",
            headers={"Access-Token": self.settings.secret("PUSHBULLET_TOKEN")},
            json=body,
        )

    def check(self, response: httpx.Response) -> str | None:
        try:
            body = response.json()
        except ValueError:
            body = None
        error = body.get("error") if isinstance(body, dict) else None
        detail = _describe(error) if isinstance(error, dict) else None
        if response.status_code == 429:
            raise Transient(f"HTTP 429: {detail or snippet(response)}", _reset_in(response))
        if response.is_success and isinstance(body, dict) and body.get("iden"):
            return None
        return detail or f"no push in the answer: {snippet(response)}"


def _describe(error: dict) -> str:
    text = ": ".join(str(error[k]) for k in ("type", "message") if error.get(k))
    return text + (f" (parameter {error['param']})" if error.get("param") else "")


def _reset_in(response: httpx.Response) -> float | None:
    """Seconds until the rate-limit window reopens: Retry-After if sent, else X-Ratelimit-Reset (a Unix time)."""
    asked = retry_after(response)
    if asked is not None:
        return asked
    value = response.headers.get("x-ratelimit-reset", "")
    return max(int(value) - time.time(), 0.0) if value.isdigit() else None


CHANNEL = Pushbullet
