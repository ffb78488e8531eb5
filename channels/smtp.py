"""SMTP e-mail: plain text mail from SMTP_EMAIL to SMTP_EMAIL_TO (default: yourself).

Transport follows the port's convention: implicit TLS when SMTP_SSL is true (usually port 465),
otherwise a plain connection upgraded with STARTTLS whenever the server offers it (qinglong never
upgraded, so passwords crossed the network in clear). Any SMTP error is a failure, not a log line.
"""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.utils import formataddr

from pydantic import Field, SecretStr, field_validator

from channels.base import Channel, ChannelSettings
from mcp_push.models import Notification


class Settings(ChannelSettings):
    SMTP_SERVER: str = Field(description="host:port, e.g. smtp.qq.com:465 or smtp.gmail.com:587.")
    SMTP_EMAIL: str = Field(description="Sender address; also the login name.")
    SMTP_PASSWORD: SecretStr | None = Field(None, description="Password or app-specific authorization code.")
    SMTP_SSL: bool = Field(False, description="true for implicit TLS (port 465); otherwise STARTTLS when offered.")
    SMTP_NAME: str = Field("", description="Sender display name.")
    SMTP_EMAIL_TO: str = Field("", description="Recipients separated by ; (default: SMTP_EMAIL).")

    @field_validator("SMTP_SERVER")
    @classmethod
    def _host_port(cls, value: str) -> str:
        if not re.fullmatch(r"[^\s:]+(:\d{1,5})?", value):
            raise ValueError("must look like host:port, e.g. smtp.example.com:465")
        return value

    @property
    def host_port(self) -> tuple[str, int]:
        host, _, port = self.SMTP_SERVER.partition(":")
        return host, int(port) if port else (465 if self.SMTP_SSL else 25)

    @property
    def recipients(self) -> list[str]:
        found = [r.strip() for r in re.split(r"[;；]", self.SMTP_EMAIL_TO) if r.strip()]
        return found or [self.SMTP_EMAIL]


class Smtp(Channel[Settings]):
    name = "smtp"
    label = "E-mail (SMTP)"
    group = "international"
    docs = "https://docs.python.org/3/library/smtplib.html"
    Settings = Settings

    def message(self, note: Notification) -> EmailMessage:
        s = self.settings
        mail = EmailMessage()
        mail["Subject"] = " ".join(note.title.split())  # a header cannot hold a newline
        mail["From"] = formataddr((s.SMTP_NAME, s.SMTP_EMAIL)) if s.SMTP_NAME else s.SMTP_EMAIL
        mail["To"] = ", ".join(s.recipients)
        mail.set_content(note.content, charset="utf-8")
        return mail

    def classify(self, exc: BaseException):
        import aiosmtplib

        if isinstance(exc, (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPConnectTimeoutError)):
            return "unsent"
        if isinstance(exc, aiosmtplib.SMTPResponseException) and 400 <= exc.code < 500:
            return "transient"  # 4xx replies mean "try again later" in SMTP
        if isinstance(exc, (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPReadTimeoutError)):
            return "maybe_sent"
        return super().classify(exc)

    async def deliver(self, note: Notification) -> None:
        import aiosmtplib

        s = self.settings
        host, port = s.host_port
        message = self.message(note)
        await self.retrying(
            lambda: aiosmtplib.send(
                message,
                sender=s.SMTP_EMAIL,
                recipients=s.recipients,
                hostname=host,
                port=port,
                username=s.SMTP_EMAIL if s.SMTP_PASSWORD else None,
                password=s.secret("SMTP_PASSWORD") or None,
                use_tls=s.SMTP_SSL,
                start_tls=False if s.SMTP_SSL else None,  # None: upgrade when the server offers STARTTLS
                timeout=self.timeout,
            )
        )


CHANNEL = Smtp
