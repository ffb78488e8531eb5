"""Pushover: a push to your phones and desktops through an application you register (its token) for a user or group.

The token and the user key both travel in the form body, never in the URL. Pushover answers `status: 1`, or
`status: 0` with an `errors` list, which is quoted whole (the old one-liners printed only "status 0"). HTML
parsing stays off, so a `<b>` in a build log shows as typed.
Emergency priority (2) is refused unless it comes with `retry` (how often the phone re-alerts, at least 30 s) and
`expire` (when it gives up, at most 10,800 s): scripts that only passed `priority=2` got "retry must be supplied"
and no alert at all, so here 2 always carries 60 s and 3,600 s.
Pushover asks clients not to resend a request it refused (4xx) and to wait at least 5 s after a 5xx. Its 429 means
the application's monthly message allowance is used up, which no retry within a send can change, so it is a
plain failure naming the reset time rather than two more doomed attempts.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from pydantic import Field, SecretStr, field_validator

from channels.base import Channel, ChannelError, ChannelSettings, Request, Transient, retry_after, snippet
from channels.limits import Limits, Size
from mcp_push.models import Notification

if TYPE_CHECKING:
    import httpx

KEY = re.compile(r"[A-Za-z0-9]{30}")  # application tokens and user/group keys alike
DEVICE = re.compile(r"[A-Za-z0-9_-]{1,25}")
EMERGENCY = 2
EMERGENCY_RETRY_S = 60  # Pushover: at least 30
EMERGENCY_EXPIRE_S = 3600  # Pushover: at most 10,800
SERVER_ERROR_WAIT_S = 5.0  # Pushover: no faster than once every 5 seconds after a 5xx

OPTIONAL = {"PUSHOVER_DEVICE": "device", "PUSHOVER_SOUND": "sound"}


class Settings(ChannelSettings):
    PUSHOVER_TOKEN: SecretStr = Field(description="Your application's API token (pushover.net → Your Applications).")
    PUSHOVER_USER: SecretStr = Field(description="Your user key (top of your Pushover dashboard) or a group key.")
    PUSHOVER_DEVICE: str = Field("", description="Device name(s) to push to, comma-separated; empty: all devices.")
    PUSHOVER_PRIORITY: int = Field(
        0, ge=-2, le=2, description="-2 (no alert) to 2 (emergency: repeats every 60 s for an hour until acknowledged)."
    )
    PUSHOVER_SOUND: str = Field("", description="A sound name (e.g. siren, none); empty: the user's default.")

    @field_validator("PUSHOVER_TOKEN", "PUSHOVER_USER")
    @classmethod
    def _key(cls, value: SecretStr) -> SecretStr:
        if not KEY.fullmatch(value.get_secret_value()):
            raise ValueError("must be the 30-letter-and-digit key shown on pushover.net (not an e-mail address)")
        return value

    @field_validator("PUSHOVER_DEVICE")
    @classmethod
    def _devices(cls, value: str) -> str:
        names = [name.strip() for name in value.split(",") if name.strip()]
        if not all(DEVICE.fullmatch(name) for name in names):
            raise ValueError("device names are up to 25 letters, digits, '_' or '-', separated by commas")
        return ",".join(names)


class Pushover(Channel[Settings]):
    name = "pushover"
    label = "Pushover"
    group = "international"
    docs = "https://pushover.net/api"
    Settings = Settings
    # Pushover: a title of at most 250 characters, a message of at most 1,024.
    limits = Limits(title=Size(250), content=Size(1024))

    def build(self, note: Notification) -> Request:
        s = self.settings
        # High priority (1: sound and vibration even in the user's quiet hours) for what is urgent; an
        # emergency configured stays one.
        priority = max(s.PUSHOVER_PRIORITY, 1) if note.urgent else s.PUSHOVER_PRIORITY
        form = {
            "token": s.secret("PUSHOVER_TOKEN"),
            "user": s.secret("PUSHOVER_USER"),
            "title": note.title,
            "message": note.content,
            "priority": str(priority),
        }
        if priority == EMERGENCY:
            form |= {"retry": str(EMERGENCY_RETRY_S), "expire": str(EMERGENCY_EXPIRE_S)}
        form |= s.present(OPTIONAL)
        return Request("POST", "https://api.pushover.net/1/messages.json", data=form)

    def check(self, response: httpx.Response) -> str | None:
        code = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = {}
        errors = body.get("errors") if isinstance(body, dict) else None
        detail = "; ".join(str(e) for e in errors) if isinstance(errors, list) and errors else None
        if code == 429:
            raise ChannelError(f"HTTP 429: {detail or 'monthly message limit reached'}{_reset(response)}")
        if code >= 500:
            wait = max(retry_after(response) or 0.0, SERVER_ERROR_WAIT_S)
            raise Transient(f"HTTP {code}: {detail or snippet(response)}", wait)
        if body.get("status") == 1:
            return None
        return f"status {body.get('status')!r}: {detail or snippet(response)}"


def _reset(response: httpx.Response) -> str:
    """When the monthly allowance comes back, from Pushover's X-Limit-App-Reset header (a Unix time)."""
    value = response.headers.get("x-limit-app-reset", "")
    if not value.isdigit():
        return ""
    when = datetime.fromtimestamp(int(value), timezone.utc)
    return f" (the application's allowance resets {when:%Y-%m-%d %H:%M} UTC)"


CHANNEL = Pushover
