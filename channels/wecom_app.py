"""WeCom app message (企业微信应用消息): an app in your WeCom org messages chosen members.

Two steps: exchange corpid + corpsecret for an access_token, then send. WeCom asks callers to cache the token
(gettoken is rate limited) and to fetch a new one when it is revoked early, so tokens live in a class-level cache
shared by every send and are refreshed once on errcode 40014/42001. The old script fetched one per message and
crashed with IndexError on fewer than 4 fields of QYWX_AM; here a wrong field count is a configuration error.
The 5th field picks the message form, as qinglong's JS did: absent or "1" text, "0" text card, else an mpnews
article with that thumbnail media_id.
"""

from __future__ import annotations

import time
from typing import ClassVar, NamedTuple

from pydantic import Field, SecretStr, field_validator

from channels.base import BaseUrl, Channel, ChannelError, ChannelSettings, Request, expect, html_text, joined
from channels.limits import Limits, Size
from mcp_push import redact
from mcp_push.models import Notification

TOKEN_MARGIN_S = 300  # refresh this long before WeCom says the token expires
STALE_TOKEN_CODES = (40014, 42001)  # invalid access_token, access_token expired
CARD_URL = "https://github.com/"  # a text card must link somewhere; WeCom rejects one without a url
DIGEST_MAX_BYTES = 512  # WeCom's limit for an mpnews digest


class App(NamedTuple):
    corpid: str
    corpsecret: str
    touser: str
    agentid: int
    media_id: str | None


def parse(value: str) -> App:
    fields = [part.strip() for part in value.split(",")]
    if len(fields) not in (4, 5) or not all(fields):
        raise ValueError(
            f"must be corpid,corpsecret,touser,agentid[,media_id]: 4 or 5 non-empty comma-separated fields, "
            f"got {len(fields)}" + ("" if all(fields) else " with an empty one")
        )
    if not fields[3].isdigit():
        raise ValueError("the 4th field (agentid) must be the app's numeric AgentId")
    return App(fields[0], fields[1], fields[2], int(fields[3]), fields[4] if len(fields) == 5 else None)


class Settings(ChannelSettings):
    QYWX_AM: SecretStr = Field(
        description="corpid,corpsecret,touser,agentid[,media_id]; touser is @all or ids joined by |; "
        "media_id: 1 or absent = text, 0 = text card, else an mpnews thumbnail media_id."
    )
    QYWX_ORIGIN: BaseUrl = Field(
        "https://qyapi.weixin.qq.com", description="WeCom API base URL; default https://qyapi.weixin.qq.com."
    )

    @field_validator("QYWX_AM")
    @classmethod
    def _fields(cls, value: SecretStr) -> SecretStr:
        parse(value.get_secret_value())
        return value

    @property
    def app(self) -> App:
        return parse(self.secret("QYWX_AM"))


class StaleToken(ChannelError):
    """WeCom revoked the cached token early; `deliver` fetches a new one and retries once."""


def cut_bytes(text: str, limit: int) -> str:
    return text.encode()[:limit].decode(errors="ignore")


class WeComApp(Channel[Settings]):
    name = "wecom_app"
    label = "WeCom app message"
    group = "China"
    docs = "https://developer.work.weixin.qq.com/document/path/90236"
    Settings = Settings
    # A text message holds at most 2,048 bytes of UTF-8 (the other forms allow more; this keeps all safe).
    limits = Limits(content=Size(2048, "bytes"), joined=True)

    # (origin, corpid, corpsecret) -> (access_token, monotonic expiry)
    _tokens: ClassVar[dict[tuple[str, str, str], tuple[str, float]]] = {}

    async def deliver(self, note: Notification) -> None:
        app = self.settings.app
        try:
            await self.call(self.build_message(note, app, await self.token(app)))
        except StaleToken:
            self._tokens.pop(self._key(app), None)
            await self.call(self.build_message(note, app, await self.token(app)))

    async def token(self, app: App) -> str:
        key = self._key(app)
        cached = self._tokens.get(key)
        if cached and cached[1] > time.monotonic():
            return cached[0]
        # WeCom documents gettoken as GET; the old script POSTed. The service wins.
        response = await self.call(
            Request(
                "GET",
                f"{self.settings.QYWX_ORIGIN}/cgi-bin/gettoken",
                params={"corpid": app.corpid, "corpsecret": app.corpsecret},
            )
        )
        body = response.json()
        token = body["access_token"]
        redact.register(token)
        lifetime = float(body.get("expires_in") or 7200)
        self._tokens[key] = (token, time.monotonic() + max(lifetime - TOKEN_MARGIN_S, 0))
        return token

    def _key(self, app: App) -> tuple[str, str, str]:
        return (self.settings.QYWX_ORIGIN, app.corpid, app.corpsecret)

    def build_message(self, note: Notification, app: App, token: str) -> Request:
        body: dict = {"touser": app.touser, "agentid": app.agentid, "safe": 0}
        if app.media_id in (None, "1"):
            body |= {"msgtype": "text", "text": {"content": joined(note)}}
        elif app.media_id == "0":
            card = {"title": note.title, "description": note.content, "url": CARD_URL, "btntxt": "更多"}
            body |= {"msgtype": "textcard", "textcard": card}
        else:
            article = {
                "title": note.title,
                "thumb_media_id": app.media_id,
                "author": "mcp-push",
                "content_source_url": "",
                "content": html_text(note.content, br="<br/>"),
                "digest": cut_bytes(note.content, DIGEST_MAX_BYTES),
            }
            body |= {"msgtype": "mpnews", "mpnews": {"articles": [article]}}
        return Request(
            "POST", f"{self.settings.QYWX_ORIGIN}/cgi-bin/message/send", params={"access_token": token}, json=body
        )

    def check(self, response):
        body = response.json()
        problem = expect(body, "errcode", (0,), "errmsg", busy=(45009,))  # 45009: api freq out of limit
        if body.get("errcode") in STALE_TOKEN_CODES:
            raise StaleToken(problem)
        return problem


CHANNEL = WeComApp
