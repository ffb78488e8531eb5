"""Custom webhook: any HTTP endpoint, with `$title` and `$content` placed where the receiver wants them.

`$title`/`$content` are substituted after the template is parsed, each in the encoding of its spot:
percent-encoded in the URL, JSON-escaped inside JSON, form-encoded in forms, raw in text/plain. So a
newline arrives as a real newline and a JSON-object value stays valid JSON (qinglong's script turned
newlines into the two characters `\\n` to keep its JSON valid).
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

from pydantic import Field, SecretStr, field_validator

from channels.base import Channel, ChannelSettings, Request
from mcp_push.models import Notification

PLACEHOLDER = re.compile(r"\$(title|content)")
BODYLESS = {"GET", "HEAD", "DELETE", "OPTIONS"}


class Settings(ChannelSettings):
    WEBHOOK_URL: SecretStr = Field(description="Endpoint URL; may contain $title and $content (percent-encoded).")
    # qinglong requires it; POST is what a URL-only setup (as the original README showed) expects.
    WEBHOOK_METHOD: str = Field("POST", description="HTTP method (default POST).")
    WEBHOOK_CONTENT_TYPE: str = Field(
        "",
        description="application/json, application/x-www-form-urlencoded, multipart/form-data or text/plain. "
        "Default: JSON when WEBHOOK_BODY is a JSON document, else form.",
    )
    WEBHOOK_BODY: str = Field(
        "",
        description="A JSON document, or 'key: value' lines, or raw text for text/plain; "
        '$title and $content are substituted. Default: {"title": $title, "content": $content}.',
    )
    WEBHOOK_HEADERS: SecretStr | None = Field(None, description="Extra headers, one 'Name: value' per line.")

    @field_validator("WEBHOOK_METHOD")
    @classmethod
    def _method(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z]+", value):
            raise ValueError(f"{value!r} is not an HTTP method")
        return value.upper()

    @field_validator("WEBHOOK_HEADERS")
    @classmethod
    def _headers(cls, value: SecretStr | None) -> SecretStr | None:
        for line in (value.get_secret_value() if value else "").splitlines():
            if line.strip() and ":" not in line:
                raise ValueError("each line must look like 'Name: value'")
        return value

    @classmethod
    def secret_values(cls, values):
        # Each header value (an Authorization line, say) is a secret on its own, not only the whole block.
        lines = values.get("WEBHOOK_HEADERS", "").splitlines()
        return [*super().secret_values(values), *(line.partition(":")[2].strip() for line in lines)]

    def headers(self) -> dict[str, str]:
        merged: dict[str, str] = {}
        for line in self.secret("WEBHOOK_HEADERS").splitlines():
            if line.strip():
                name, value = (part.strip() for part in line.split(":", 1))
                key = name.lower()
                merged[key] = f"{merged[key]}, {value}" if key in merged else value
        return merged


def substitute(template: Any, values: dict[str, str]) -> Any:
    """Replace the placeholders inside every string of a parsed template (keys are left alone)."""
    if isinstance(template, str):
        return PLACEHOLDER.sub(lambda m: values[m.group(1)], template)
    if isinstance(template, list):
        return [substitute(item, values) for item in template]
    if isinstance(template, dict):
        return {key: substitute(item, values) for key, item in template.items()}
    return template


def parse_body(body: str) -> tuple[Any, bool]:
    """(template, is_json_document): a whole JSON document, or the `key: value` lines qinglong uses."""
    try:
        document = json.loads(body)
        if isinstance(document, (dict, list)):
            return document, True
    except ValueError:
        pass
    fields: dict[str, Any] = {}
    for line in body.splitlines():
        key, sep, value = line.partition(":")
        if not sep or not re.fullmatch(r"\s*\w+\s*", key):
            continue
        value = value.strip()
        try:
            fields[key.strip()] = json.loads(value)  # numbers, booleans and objects keep their JSON type
        except ValueError:
            fields[key.strip()] = value
    return fields, False


class Webhook(Channel[Settings]):
    name = "webhook"
    label = "Custom webhook"
    group = "self-hosted"
    docs = "https://github.com/whyour/qinglong/blob/develop/sample/notify.py"
    Settings = Settings

    def build(self, note: Notification) -> Request:
        s = self.settings
        values = {"title": note.title, "content": note.content}
        url = PLACEHOLDER.sub(lambda m: quote(values[m.group(1)], safe=""), s.secret("WEBHOOK_URL"))
        headers = s.headers()
        ctype = (s.WEBHOOK_CONTENT_TYPE or headers.get("content-type", "")).lower()
        if s.WEBHOOK_CONTENT_TYPE:
            headers.setdefault("content-type", s.WEBHOOK_CONTENT_TYPE)
        body = s.WEBHOOK_BODY
        if not body and s.WEBHOOK_METHOD in BODYLESS:
            return Request(s.WEBHOOK_METHOD, url, headers=headers)
        if "text/" in ctype:
            return Request(s.WEBHOOK_METHOD, url, headers=headers, content=substitute(body, values).encode())
        template, is_json = parse_body(body) if body else ({"title": "$title", "content": "$content"}, True)
        filled = substitute(template, values)
        if "json" in ctype or (not ctype and is_json):
            return Request(s.WEBHOOK_METHOD, url, headers=headers, json=filled)
        fields = {k: v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) for k, v in dict(filled).items()}
        if "multipart" in ctype:
            headers.pop("content-type", None)  # httpx must write the boundary itself
            return Request(s.WEBHOOK_METHOD, url, headers=headers, files={k: (None, v) for k, v in fields.items()})
        return Request(s.WEBHOOK_METHOD, url, headers=headers, data=fields)


CHANNEL = Webhook
