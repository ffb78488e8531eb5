"""Telegram bot: a plain-text message from your bot to a user, group or channel.

The parameters go in a JSON body (the old Python script put them, text included, in the query string) and no
parse_mode is set, so no character in a title or body can make Telegram reject the message. The bot token sits
in the URL path; the base masks it in every error. `TG_API_HOST` points at a reverse proxy of the Bot API;
`TG_PROXY_*` name an HTTP proxy.
"""

from __future__ import annotations

from urllib.parse import quote

from pydantic import Field, SecretStr, field_validator, model_validator

from channels.base import BaseUrl, Channel, ChannelSettings, Request, Transient, joined
from channels.limits import Limits, Rate, Size
from mcp_push.models import Notification


class Settings(ChannelSettings):
    TG_BOT_TOKEN: SecretStr = Field(description="The bot token from @BotFather (123456:ABC...).")
    TG_USER_ID: str = Field(description="The chat id to message: your user id, or a group/channel id.")
    TG_API_HOST: BaseUrl = Field(
        "https://api.telegram.org", description="Bot API base URL with scheme; default https://api.telegram.org."
    )
    TG_PROXY_HOST: str | None = Field(None, description="HTTP proxy host name or IP (needs TG_PROXY_PORT).")
    TG_PROXY_PORT: int | None = Field(None, ge=1, le=65535, description="HTTP proxy port.")
    TG_PROXY_AUTH: SecretStr | None = Field(None, description="Proxy credentials as user:pass.")

    @field_validator("TG_PROXY_HOST")
    @classmethod
    def _proxy_host(cls, value: str | None) -> str | None:
        if value and "://" in value:
            raise ValueError("give the host only, without a scheme (e.g. 127.0.0.1)")
        return value

    @model_validator(mode="after")
    def _proxy_complete(self) -> Settings:
        if bool(self.TG_PROXY_HOST) != bool(self.TG_PROXY_PORT):
            raise ValueError("TG_PROXY_HOST and TG_PROXY_PORT must be set together")
        if self.TG_PROXY_AUTH and not self.TG_PROXY_HOST:
            raise ValueError("TG_PROXY_AUTH needs TG_PROXY_HOST and TG_PROXY_PORT")
        return self


class Telegram(Channel[Settings]):
    name = "telegram"
    label = "Telegram bot"
    docs = "https://core.telegram.org/bots/api#sendmessage"
    Settings = Settings
    # Bot API: about one message a second per chat; text of at most 4,096 characters (UTF-16 code units).
    limits = Limits(content=Size(4096, "utf16"), joined=True)
    rates = (Rate(1, 1),)

    @property
    def proxy(self) -> str | None:
        s = self.settings
        if not (s.TG_PROXY_HOST and s.TG_PROXY_PORT):
            return None
        auth = ""
        if s.TG_PROXY_AUTH:
            user, _, password = s.secret("TG_PROXY_AUTH").partition(":")
            auth = f"{quote(user, safe='')}:{quote(password, safe='')}@"
        return f"http://{auth}{s.TG_PROXY_HOST}:{s.TG_PROXY_PORT}"

    def build(self, note: Notification) -> Request:
        return Request(
            "POST",
            f"{self.settings.TG_API_HOST}/bot{self.settings.secret('TG_BOT_TOKEN')}/sendMessage",
            json={"chat_id": self.settings.TG_USER_ID, "text": joined(note), "disable_web_page_preview": True},
        )

    def check(self, response):
        body = response.json()
        if body.get("ok") is True:
            return None
        description = str(body.get("description") or f"ok {body.get('ok')!r}")
        if body.get("error_code") == 429:  # flood control: Telegram says how long to wait
            raise Transient(description, (body.get("parameters") or {}).get("retry_after"))
        # Otherwise error_code mirrors the HTTP status, which the base already reports.
        return description


CHANNEL = Telegram
