"""ntfy: publish to a topic on ntfy.sh or a self-hosted server, and read answers from a reply topic.

The title travels in a header. HTTP headers are Latin-1 at best, so non-ASCII values are sent as
RFC 2047 encoded-words, which ntfy decodes (Title, Actions and the other text headers).

A question is published as JSON (so no label can break the header syntax) with one `http` action per
choice: tapping it POSTs the signed token to the reply topic on the same server and clears the
notification. Answers are read by subscribing to the reply topic's `/json` stream with `since=` (the last
message read, or the time the wait began), so nothing published while connecting is missed, with the
publishing credentials. The outcome replaces the question through ntfy's sequence ids (server 2.16 and
newer; older servers refuse the update, which is only logged).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
from collections.abc import AsyncIterator
from functools import cached_property
from urllib.parse import quote

from pydantic import Field, SecretStr, model_validator

from channels.base import BaseUrl, Channel, ChannelError, ChannelSettings, Reply, Request, Transient, snippet
from channels.limits import Limits, Size
from mcp_push import http
from mcp_push.models import Notification, Question
from mcp_push.redact import register

LINE_MAX = 64 * 1024  # one JSON event of the subscription; ntfy's are a few hundred bytes


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
    NTFY_REPLY_TOPIC: SecretStr | None = Field(
        None,
        description="Topic your phone posts answers to (default: NTFY_TOPIC, '-reply-' and a random suffix kept).",
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
    group = "self-hosted"
    docs = "https://docs.ntfy.sh/publish/"
    Settings = Settings
    # ntfy.sh (and ntfy's default config) accept at most 4,096 bytes of message text.
    limits = Limits(content=Size(4096, "bytes"))
    max_choices = 3  # ntfy shows at most three action buttons

    def auth(self) -> dict[str, str]:
        s = self.settings
        if s.NTFY_TOKEN:
            return {"Authorization": f"Bearer {s.secret('NTFY_TOKEN')}"}
        if s.NTFY_USERNAME:
            pair = f"{s.NTFY_USERNAME}:{s.secret('NTFY_PASSWORD')}".encode()
            return {"Authorization": f"Basic {base64.b64encode(pair).decode()}"}
        return {}

    def topic_url(self, topic: str) -> str:
        return f"{self.settings.NTFY_URL}/{quote(topic, safe='')}"

    def publish(self, note: Notification, url: str, priority: int, actions: str = "") -> Request:
        headers = {"Title": header_text(note.title.replace("\n", " ")), "Priority": str(priority), **self.auth()}
        if actions:
            headers["Actions"] = header_text(actions)
        return Request("POST", url, headers=headers, content=note.content.encode())

    def build(self, note: Notification) -> Request:
        s = self.settings
        return self.publish(note, self.topic_url(s.secret("NTFY_TOPIC")), self.priority(note), s.NTFY_ACTIONS)

    def priority(self, note: Notification) -> int:
        """ntfy's max (5, a long vibration and a pop-over) for what is urgent, the configured one otherwise."""
        return 5 if note.urgent else self.settings.NTFY_PRIORITY

    def check(self, response):
        body = response.json()
        if response.is_success and body.get("id"):
            return None
        return str(body.get("error") or body)

    # ---- answers ----------------------------------------------------------------------------------

    @cached_property
    def reply_topic(self) -> str:
        s = self.settings
        if s.NTFY_REPLY_TOPIC:
            return s.secret("NTFY_REPLY_TOPIC")
        # Random, so that knowing the topic you read does not tell anyone where answers are posted.
        topic = f"{s.secret('NTFY_TOPIC')}-reply-{self.remember('reply-suffix', lambda: secrets.token_hex(6))}"
        register(topic)
        return topic

    @property
    def answerer(self) -> str:
        return self.reply_topic

    @property
    def listener(self) -> str:
        source = f"{self.settings.NTFY_URL}\n{self.reply_topic}".encode()
        return f"ntfy:{hashlib.sha256(source).hexdigest()[:16]}"

    async def ask(self, note: Notification, question: Question) -> str | None:
        s = self.settings
        answer_url = self.topic_url(self.reply_topic)
        # The phone posts the answer itself, so the buttons carry the credentials a protected server needs.
        extra = {"headers": self.auth()} if self.auth() else {}
        actions = [
            {"action": "http", "label": choice, "url": answer_url, "method": "POST", "body": token, "clear": True}
            | extra
            for choice, token in zip(question.choices, question.tokens, strict=True)
        ]
        body = {
            "topic": s.secret("NTFY_TOPIC"),
            "title": note.title.replace("\n", " "),
            "message": note.content,
            "priority": self.priority(note),
            "actions": actions,
        }
        response = await self.call(Request("POST", f"{s.NTFY_URL}/", headers=self.auth(), json=body))
        return str(response.json()["id"])

    async def replies(self, cursor: str | None, since: float, wait: float) -> tuple[list[Reply], str | None]:
        found: list[Reply] = []
        last = cursor
        topic = self.reply_topic

        async def first_answer() -> None:
            nonlocal last
            import httpx

            params = {"since": cursor or str(int(since))}
            timeout = httpx.Timeout(self.timeout, read=wait + self.timeout)
            client = http.client(self.proxy, stream=True)
            url = f"{self.topic_url(topic)}/json"
            async with client.stream("GET", url, params=params, headers=self.auth(), timeout=timeout) as response:
                if not response.is_success:
                    await response.aread()
                    problem = f"HTTP {response.status_code}: {snippet(response)}"
                    if response.status_code == 429 or response.status_code >= 500:
                        raise Transient(problem)
                    raise ChannelError(f"subscribing to the reply topic failed: {problem}")
                async for line in _lines(response.aiter_bytes()):
                    try:
                        event = json.loads(line)
                    except ValueError:
                        continue
                    if not isinstance(event, dict) or event.get("event") != "message":
                        continue  # open, keepalive, poll_request
                    if isinstance(event.get("id"), str) and isinstance(event.get("message"), str):
                        origins = frozenset([event["topic"]] if isinstance(event.get("topic"), str) else [])
                        found.append(Reply(event["message"].strip(), origins, sender="the ntfy reply topic"))
                        last = event["id"]
                        return  # handle it now; the next round resumes after it

        try:
            await asyncio.wait_for(first_answer(), wait)
        except asyncio.TimeoutError:
            pass  # a quiet round
        return found, last

    async def settle(self, note: Notification, ref: str) -> None:
        # Low priority: the phone need not buzz again for an outcome.
        url = f"{self.topic_url(self.settings.secret('NTFY_TOPIC'))}/{quote(ref, safe='')}"
        await self.request(self.publish(note, url, priority=2))


async def _lines(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """Lines of a stream; a line over LINE_MAX is dropped as it arrives rather than held in memory."""
    buffer, skipping = bytearray(), False
    async for chunk in chunks:
        buffer += chunk
        while (end := buffer.find(b"\n")) >= 0:
            line = bytes(buffer[:end])
            del buffer[: end + 1]
            if skipping:
                skipping = False
            elif line.strip():
                yield line
        if len(buffer) > LINE_MAX:
            buffer.clear()
            skipping = True


CHANNEL = Ntfy
