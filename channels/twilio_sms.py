"""Twilio SMS: a text message from your Twilio number (or Messaging Service) to one phone.

Twilio's REST API authenticates with HTTP Basic (Account SID as the user, auth token as the password) and takes
form fields, not JSON. The SID is checked up front because it is also part of the URL path: a pasted auth token
or a stray `/` would otherwise turn into a confusing 404. A message is created with 201 and the new Message's
`sid`; nothing else counts as sent. Failures are {"code", "message", "more_info", "status"}: the code and message
are quoted with the link to Twilio's page for that code.
SMS has no title, so title and body are joined; Twilio takes at most 1,600 characters, counted here in UTF-16
units so an emoji never pushes it over. Text outside GSM-7 (Chinese, emoji) goes as UCS-2 in 67-character segments,
each billed as one SMS: a long notification costs many messages.
A `TWILIO_FROM` that is a Messaging Service SID (MG...) is sent as `MessagingServiceSid`, which Twilio wants in
place of `From`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pydantic import Field, SecretStr, field_validator

from channels.base import Channel, ChannelSettings, Request, joined, snippet
from channels.limits import Limits, Size
from mcp_push.models import Notification

if TYPE_CHECKING:
    import httpx

ACCOUNT_SID = re.compile(r"AC[0-9a-f]{32}")
SERVICE_SID = re.compile(r"MG[0-9a-f]{32}")


class Settings(ChannelSettings):
    TWILIO_ACCOUNT_SID: str = Field(description="Your Account SID (AC + 32 hex digits, Twilio Console → Account Info).")
    TWILIO_AUTH_TOKEN: SecretStr = Field(description="Your auth token (Twilio Console → Account Info).")
    TWILIO_FROM: str = Field(
        description="Sender: your Twilio number in E.164 (+15017122661), an alphanumeric sender id, "
        "or a Messaging Service SID (MG...)."
    )
    TWILIO_TO: str = Field(description="The recipient's number in E.164, e.g. +15558675310.")

    @field_validator("TWILIO_ACCOUNT_SID")
    @classmethod
    def _sid(cls, value: str) -> str:
        if not ACCOUNT_SID.fullmatch(value):
            raise ValueError("must be your Account SID: AC followed by 32 hex digits (not the auth token)")
        return value


class TwilioSms(Channel[Settings]):
    name = "twilio_sms"
    label = "Twilio SMS"
    group = "international"
    docs = "https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource"
    Settings = Settings
    # Twilio: a message body holds at most 1,600 characters.
    limits = Limits(content=Size(1600, "utf16"), joined=True)

    def build(self, note: Notification) -> Request:
        s = self.settings
        sender = "MessagingServiceSid" if SERVICE_SID.fullmatch(s.TWILIO_FROM) else "From"
        return Request(
            "POST",
            f"https://api.twilio.com/2010-04-01/Accounts/{s.TWILIO_ACCOUNT_SID}/Messages.json",
            data={"To": s.TWILIO_TO, sender: s.TWILIO_FROM, "Body": joined(note)},
            auth=(s.TWILIO_ACCOUNT_SID, s.secret("TWILIO_AUTH_TOKEN")),
        )

    def check(self, response: httpx.Response) -> str | None:
        body = response.json()
        if response.status_code == 201 and body.get("sid"):
            return None
        if body.get("code") or body.get("message"):
            text = ": ".join(str(body[k]) for k in ("code", "message") if body.get(k))
            return text + (f" (see {body['more_info']})" if body.get("more_info") else "")
        return f"no message sid in the answer: {snippet(response)}"


CHANNEL = TwilioSms
