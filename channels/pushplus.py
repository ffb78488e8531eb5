"""PushPlus (推送加): WeChat official-account push by token, to yourself, a topic group or a friend.

With the default `html` template PushPlus renders the content as HTML: a `<b>` in the text would turn bold,
a stray `<` or `&` could swallow what follows, and newlines would collapse. So for `html` the content is
HTML-escaped and its newlines become `<br>`, and the reader sees exactly the text that was sent. Other
templates (txt, markdown, json...) get the content unchanged.
Unlike qinglong's script there is no retry on pushplus.hxtrip.com: that is a different, unrelated service,
and a failure here is reported as the failure it is.
"""

from __future__ import annotations

from pydantic import Field, SecretStr

from channels.base import Channel, ChannelSettings, Request, expect, html_text
from mcp_push.models import Notification

OPTIONAL = {
    "PUSH_PLUS_USER": "topic",
    "PUSH_PLUS_WEBHOOK": "webhook",
    "PUSH_PLUS_CALLBACKURL": "callbackUrl",
    "PUSH_PLUS_TO": "to",
}


class Settings(ChannelSettings):
    PUSH_PLUS_TOKEN: SecretStr = Field(description="Your PushPlus user token.")
    PUSH_PLUS_USER: str = Field("", description="Group (topic) code for one-to-many pushes; empty sends to yourself.")
    PUSH_PLUS_TEMPLATE: str = Field(
        "html", description="Template: html (default), txt, json, markdown, cloudMonitor, jenkins, route or pay."
    )
    PUSH_PLUS_CHANNEL: str = Field("wechat", description="Channel: wechat (default), webhook, cp, mail or sms.")
    PUSH_PLUS_WEBHOOK: str = Field("", description="Webhook code, for the webhook and cp channels.")
    PUSH_PLUS_CALLBACKURL: str = Field("", description="URL PushPlus calls back with the delivery result.")
    PUSH_PLUS_TO: str = Field("", description="Friend token (wechat channel) or WeCom user id (cp channel).")


class PushPlus(Channel[Settings]):
    name = "pushplus"
    label = "PushPlus (推送加)"
    group = "China"
    docs = "https://www.pushplus.plus/doc/guide/api.html"
    Settings = Settings

    def build(self, note: Notification) -> Request:
        template = self.settings.PUSH_PLUS_TEMPLATE
        content = html_text(note.content) if template == "html" else note.content
        body = {
            "token": self.settings.secret("PUSH_PLUS_TOKEN"),
            "title": note.title,
            "content": content,
            "template": template,
            "channel": self.settings.PUSH_PLUS_CHANNEL,
        }
        body |= self.settings.present(OPTIONAL)
        return Request("POST", "https://www.pushplus.plus/send", json=body)

    def check(self, response):
        # 200 means "accepted": PushPlus sends asynchronously and reports delivery to callbackUrl.
        return expect(response.json(), "code", (200,), "msg")


CHANNEL = PushPlus
