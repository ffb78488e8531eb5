"""Telegram bot: a plain-text message from your bot to a user, group or channel, and answers back.

The parameters go in a JSON body (the old Python script put them, text included, in the query string) and no
parse_mode is set, so no character in a title or body can make Telegram reject the message. The bot token sits
in the URL path; the base masks it in every error. `TG_API_HOST` points at a reverse proxy of the Bot API;
`TG_PROXY_*` name an HTTP proxy.

A question is a message with an inline keyboard, one button per choice, its `callback_data` the signed token.
Presses are read by long-polling `getUpdates` (no public URL needed; callback queries only), each one answered
with `answerCallbackQuery` so its button stops spinning, and the message is edited to its outcome, buttons
gone. A bot with a webhook set cannot be polled: that is reported, not retried.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from typing import Any
from urllib.parse import quote

from pydantic import Field, SecretStr, field_validator, model_validator

from channels.base import BaseUrl, Channel, ChannelSettings, Reply, Request, Transient, joined
from channels.limits import Limits, Rate, Size
from mcp_push.models import Notification, Question

_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")  # a Telegram @username; anything else is not shown in logs


class Settings(ChannelSettings):
    TG_BOT_TOKEN: SecretStr = Field(description="The bot token from @BotFather (123456:ABC...).")
    TG_USER_ID: str = Field(description="The chat id to message: your user id, or a group/channel id.")
    TG_API_HOST: BaseUrl = Field(
        "https://api.telegram.org", description="Bot API base URL with scheme; default https://api.telegram.org."
    )
    TG_SILENT: bool = Field(
        False, description="Routine pushes arrive without sound; errors and what needs you always sound."
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
    label = "Telegram"
    group = "international"
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

    def method(self, name: str, **fields: Any) -> Request:
        token = self.settings.secret("TG_BOT_TOKEN")
        return Request("POST", f"{self.settings.TG_API_HOST}/bot{token}/{name}", json=fields)

    def message(self, note: Notification) -> dict[str, Any]:
        fields = {"chat_id": self.settings.TG_USER_ID, "text": joined(note), "disable_web_page_preview": True}
        if self.settings.TG_SILENT and not note.urgent:  # Telegram's one level below "with sound"
            fields["disable_notification"] = True
        return fields

    def build(self, note: Notification) -> Request:
        return self.method("sendMessage", **self.message(note))

    def check(self, response):
        body = response.json()
        if body.get("ok") is True:
            return None
        description = str(body.get("description") or f"ok {body.get('ok')!r}")
        if body.get("error_code") == 429:  # flood control: Telegram says how long to wait
            raise Transient(description, (body.get("parameters") or {}).get("retry_after"))
        if body.get("error_code") == 409:  # getUpdates only
            if "webhook" in description.lower():
                return (
                    f"{description}: this bot has a webhook set, so mcp-push cannot read answers with getUpdates; "
                    "delete the webhook (deleteWebhook) or give mcp-push a bot of its own"
                )
            raise Transient(f"{description} (another program reads this bot's updates; Telegram allows one)")
        # Otherwise error_code mirrors the HTTP status, which the base already reports.
        return description

    # ---- answers ----------------------------------------------------------------------------------

    @property
    def answerer(self) -> str:
        return self.settings.TG_USER_ID

    @property
    def listener(self) -> str:
        # One reader per bot, whichever chat each process sends to.
        source = f"{self.settings.TG_API_HOST}\n{self.settings.secret('TG_BOT_TOKEN')}".encode()
        return f"telegram:{hashlib.sha256(source).hexdigest()[:16]}"

    async def ask(self, note: Notification, question: Question) -> str | None:
        pairs = zip(question.choices, question.tokens, strict=True)
        buttons = [{"text": choice, "callback_data": token} for choice, token in pairs]
        side_by_side = len(buttons) <= 3 and all(len(choice) <= 12 for choice in question.choices)
        keyboard = [buttons] if side_by_side else [[button] for button in buttons]
        markup = {"inline_keyboard": keyboard}
        response = await self.call(self.method("sendMessage", **self.message(note), reply_markup=markup))
        return str(response.json()["result"]["message_id"])

    async def replies(self, cursor: str | None, since: float, wait: float) -> tuple[list[Reply], str | None]:
        poll = int(wait)
        fields: dict[str, Any] = {"timeout": poll, "allowed_updates": ["callback_query"]}
        if cursor:
            fields["offset"] = int(cursor)
        # A long poll by design: the request may take its whole `timeout` before Telegram answers.
        request = dataclasses.replace(self.method("getUpdates", **fields), timeout=poll + self.timeout)
        response = await self.request(request, retry=False)
        updates = response.json().get("result")
        found, offset = [], int(cursor) if cursor else None
        for update in updates if isinstance(updates, list) else []:
            if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
                continue
            offset = max(offset or 0, update["update_id"] + 1)
            press = update.get("callback_query")
            if isinstance(press, dict) and isinstance(press.get("id"), str) and isinstance(press.get("data"), str):
                found.append(self._reply(press))
        return found, str(offset) if offset is not None else cursor

    def _reply(self, press: dict[str, Any]) -> Reply:
        message = press.get("message") if isinstance(press.get("message"), dict) else {}
        chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
        user = press.get("from") if isinstance(press.get("from"), dict) else {}
        origins = {str(chat["id"])} if isinstance(chat.get("id"), int) else set()
        if isinstance(chat.get("username"), str) and _NAME.fullmatch(chat["username"]):
            origins.add(f"@{chat['username']}")
        who = f"user {user['id']}" if isinstance(user.get("id"), int) else "someone"
        if isinstance(user.get("username"), str) and _NAME.fullmatch(user["username"]):
            who += f" (@{user['username']})"
        sender = f"{who} in chat {chat['id']}" if isinstance(chat.get("id"), int) else who

        async def ack(text: str) -> None:
            await self.request(self.method("answerCallbackQuery", callback_query_id=press["id"], text=text[:200]))

        return Reply(token=press["data"], origins=frozenset(origins), sender=sender, ack=ack)

    async def settle(self, note: Notification, ref: str) -> None:
        # An edit without reply_markup removes the keyboard.
        await self.request(self.method("editMessageText", **self.message(note), message_id=int(ref)))


CHANNEL = Telegram
