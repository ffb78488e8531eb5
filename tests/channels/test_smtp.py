"""SMTP against a real local aiosmtpd: plain, STARTTLS and implicit TLS, with AUTH."""

from __future__ import annotations

import socket
from email import message_from_bytes, policy

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.conftest import NASTY, send

PASSWORD = "smtp-password-0123456789"


class Handler:
    def __init__(self) -> None:
        self.messages: list[dict] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            {
                "from": envelope.mail_from,
                "to": envelope.rcpt_tos,
                "data": envelope.content,
                "tls": server.transport.get_extra_info("ssl_object") is not None,
            }
        )
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.endswith("@refused.test"):
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


@pytest.fixture
def trust(ca, tmp_path, monkeypatch):
    """Make the process trust the test CA the way a user's system store would."""
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    context = __import__("ssl").create_default_context(__import__("ssl").Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


def start(mode: str, tls_context=None):
    handler = Handler()
    kwargs = dict(hostname="127.0.0.1", port=free_port(), authenticator=authenticator, auth_require_tls=False)
    if mode == "starttls":
        kwargs |= {"tls_context": tls_context, "require_starttls": True, "auth_require_tls": True}
    elif mode == "ssl":
        kwargs |= {"ssl_context": tls_context}
    controller = Controller(handler, **kwargs)
    controller.start()
    return controller, handler


def env(controller, **extra):
    return {
        "SMTP_SERVER": f"127.0.0.1:{controller.port}",
        "SMTP_EMAIL": "bot@example.test",
        "SMTP_PASSWORD": PASSWORD,
        "SMTP_NAME": "构建机器人",
        **extra,
    }


async def test_plain_with_auth_and_recipients(make_config):
    controller, handler = start("plain")
    try:
        config = make_config(**env(controller, SMTP_EMAIL_TO="a@example.test; b@example.test；c@example.test"))
        report = await send(config)
    finally:
        controller.stop()
    assert report.status == "delivered", report
    (mail,) = handler.messages
    assert mail["from"] == "bot@example.test"
    assert mail["to"] == ["a@example.test", "b@example.test", "c@example.test"]
    parsed = message_from_bytes(mail["data"], policy=policy.default)
    assert parsed["Subject"] == " ".join(NASTY.title.split())
    assert parsed["From"].addresses[0].display_name == "构建机器人"
    assert parsed.get_content().rstrip("\n") == NASTY.content


async def test_recipient_defaults_to_sender(make_config):
    controller, handler = start("plain")
    try:
        await send(make_config(**env(controller)))
    finally:
        controller.stop()
    assert handler.messages[0]["to"] == ["bot@example.test"]


async def test_starttls_when_offered(make_config, trust):
    controller, handler = start("starttls", trust)
    try:
        report = await send(make_config(**env(controller)))
    finally:
        controller.stop()
    assert report.status == "delivered", report
    assert handler.messages[0]["tls"] is True  # the server requires STARTTLS before AUTH, so this proves the upgrade


async def test_implicit_tls(make_config, trust):
    controller, handler = start("ssl", trust)
    try:
        report = await send(make_config(**env(controller, SMTP_SSL="true")))
    finally:
        controller.stop()
    assert report.status == "delivered", report
    assert handler.messages[0]["tls"] is True


async def test_wrong_password_is_a_failure(make_config):
    controller, handler = start("plain")
    try:
        report = await send(make_config(**env(controller, SMTP_PASSWORD="wrong-password-0123")))
    finally:
        controller.stop()
    (result,) = report.results
    assert report.status == "failed" and "535" in result.error
    assert handler.messages == []
    assert "wrong-password-0123" not in report.model_dump_json()


async def test_refused_recipient_is_a_failure(make_config):
    controller, _ = start("plain")
    try:
        report = await send(make_config(**env(controller, SMTP_EMAIL_TO="x@refused.test")))
    finally:
        controller.stop()
    assert report.status == "failed" and "mailbox unavailable" in report.results[0].error


async def test_unreachable_server(make_config):
    report = await send(make_config(SMTP_SERVER=f"127.0.0.1:{free_port()}", SMTP_EMAIL="bot@example.test"))
    assert report.status == "failed" and report.results[0].error


def test_bad_server_value(make_config):
    config = make_config(SMTP_SERVER="smtp.example.test:port", SMTP_EMAIL="bot@example.test")
    assert "SMTP_SERVER: must look like host:port" in config.problems["smtp"]
