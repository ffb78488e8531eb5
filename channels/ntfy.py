"""ntfy: publish to a topic on ntfy.sh or a self-hosted server.

The title travels in a header. HTTP headers are Latin-1 at best, so non-ASCII values are sent as
RFC 2047 encoded-words, which ntfy decodes (Title, Actions and the other text headers).
"""

from __future__ import annotations

import base64
from urllib.parse import quote

from pydantic import Field, SecretStr, model_validator

from channels.base import BaseUrl, Channel, ChannelSettings, Request
from channels.limits import Limits, Size
from mcp_push.models import Notification


class Settings(ChannelSettings):
    NTFY_TOPIC: SecretStr = Field(
        description="Topic name; on ntfy.sh anyone who knows it can read it, so pick a long one."
    )
    # qinglong's Python has no default and so breaks without it; ntfy.sh is what the JS and ntfy's docs use.
    NTFY_URL: BaseUrl = Field("https://ntfy.sh", description="Server base URL (default https://ntfy.sh).")
    NTFY_PRIORITY: int = Field(3, ge=1, le=5, description="1 (min) to 5 (max); default 3.")
    NTFY_TOKEN: SecretStr | None = Field(None, description="Access token (tk_...), sent as a Bearer token.")
    NTFY_USERNAME: str = Field("", description="User for basic auth (with NTFY_PASSWORD), when no token is set.")
    NTFY_PASSWORD: SecretStr | None = Field(None, description="Password for basic auth.")
    NTFY_ACTIONS: str = Field(
        "", description="Action buttons in ntfy's short header format, e.g. 'view, Open, https://x'."
    )

    @model_validator(mode="after")
    def _basic_auth_pairs(self) -> Settings:
        if bool(self.NTFY_USERNAME) != bool(self.NTFY_PASSWORD):
            raise ValueError("NTFY_USERNAME and NTFY_PASSWORD must be set together")
        return self


def header_text(value: str) -> str:
    """The value as is when ASCII, else one RFC 2047 base64 encoded-word."""
    if value.isascii():
        return value
    return f"=?utf-8?b?{base64.b64encode(value.encode()).decode()}?="


class Ntfy(Channel[Settings]):
    name = "ntfy"
    label = "ntfy"
    docs = "https://docs.ntfy.sh/publish/"
    Settings = Settings
    # ntfy.sh (and ntfy's default config) accept at most 4,096 bytes of message text.
    limits = Limits(content=Size(4096, "bytes"))

    def build(self, note: Notification) -> Request:
        s = self.settings
        headers = {"Title": header_text(note.title.replace("\n", " ")), "Priority": str(s.NTFY_PRIORITY)}
        if s.NTFY_TOKEN:
            headers["Authorization"] = f"Bearer {s.secret('NTFY_TOKEN')}"
        elif s.NTFY_USERNAME:
            pair = f"{s.NTFY_USERNAME}:{s.secret('NTFY_PASSWORD')}".encode()
            headers["Authorization"] = f"Basic {base64.b64encode(pair).decode()}"
        if s.NTFY_ACTIONS:
            headers["Actions"] = header_text(s.NTFY_ACTIONS)
        url = f"{s.NTFY_URL}/{quote(s.secret('NTFY_TOPIC'), safe='')}"
        return Request("POST", url, headers=headers, content=note.content.encode())

    def check(self, response):
        body = response.json()
        if response.is_success and body.get("id"):
            return None
        return str(body.get("error") or body)


CHANNEL = Ntfy
