"""Synology Chat: a message posted into a channel through an incoming webhook on your NAS.

Synology documents the body as form data `payload=<json>`; the old script sent `payload=` + raw JSON without
form encoding, so & + % in the text broke it. Synology answers HTTP 200 even when it refuses the message
(e.g. {"error":{"code":120,"errors":{"name":"payload","reason":"required"}},"success":false}), so `success`
is checked too.

The webhook URL that Synology hands out ends in `token=%22<token>%22`. How CHAT_URL and CHAT_TOKEN combine:
- CHAT_URL ends with `token=` (qinglong's convention): the token is appended, percent-encoded exactly once,
  so a token copied from the URL (`%22abc%22`) and one typed with quotes (`"abc"`) give the same URL.
- CHAT_URL already carries a non-empty `token` parameter (the whole webhook URL was pasted): it is used as
  is and CHAT_TOKEN is not added again (the old concatenation made such a URL invalid).
- CHAT_URL has no `token` parameter: `token=<token>` is added as a query parameter.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, quote, unquote, urlsplit

from pydantic import Field, SecretStr

from channels.base import Channel, ChannelSettings, Request, joined, snippet
from mcp_push.models import Notification


class Settings(ChannelSettings):
    CHAT_URL: SecretStr = Field(
        description="The incoming-webhook URL from Synology Chat (Integration), up to and including 'token='."
    )
    CHAT_TOKEN: SecretStr = Field(description="The webhook token: what follows 'token=' in that URL.")


def webhook_url(url: str, token: str) -> str:
    """CHAT_URL completed with CHAT_TOKEN by the rules in the module docstring."""
    encoded = quote(unquote(token), safe="")
    if url.endswith("token="):
        return url + encoded
    query = urlsplit(url).query
    if any(parse_qs(query).get("token", [])):
        return url
    joiner = "" if url.endswith(("?", "&")) else "&" if query else "?"
    return f"{url}{joiner}token={encoded}"


class SynologyChat(Channel[Settings]):
    name = "synology_chat"
    label = "Synology Chat"
    group = "self-hosted"
    docs = (
        "https://www.synology.com/en-us/knowledgebase/DSM/tutorial/Collaboration/"
        "How_to_configure_webhooks_and_slash_commands_in_Chat_Integration"
    )
    Settings = Settings

    def build(self, note: Notification) -> Request:
        s = self.settings
        payload = json.dumps({"text": joined(note)}, ensure_ascii=False)
        return Request("POST", webhook_url(s.secret("CHAT_URL"), s.secret("CHAT_TOKEN")), data={"payload": payload})

    def check(self, response):
        try:
            body = response.json()
        except ValueError:
            return None  # a 2xx without JSON: only the HTTP status can tell (the old script's test)
        if isinstance(body, dict) and body.get("success") is True:
            return None
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict):
            return f"success is not true: {snippet(response)}"
        errors = error.get("errors")
        detail = errors if isinstance(errors, str) else json.dumps(errors, ensure_ascii=False) if errors else ""
        return f"error {error.get('code')!r}" + (f": {detail}" if detail else "")


CHANNEL = SynologyChat
