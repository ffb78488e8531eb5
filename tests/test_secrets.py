"""No secret leaks, whatever fails.

Every channel of the registry is configured at once, every token, key, password and secret URL a unique string
that starts with LEAK: one variant URL-safe, one with + / = where the field allows them and with the other shapes a
secret can take (a full Bark URL, ntfy Basic auth, a Telegram proxy with credentials, webhook URLs with user info
and path and query secrets, lists of keys, a token inside the Synology URL, Signal and Apprise URLs with user info,
an Apprise URL with a header). Then each kind of failure is made to happen to all of them: refused connection, TLS
error, timeout, 401 and 403 that echo the request (line, headers, body), an HTML error page, invalid JSON, a
business failure, a redirect whose Location carries the token; SMTP refuses, fails TLS, hangs or rejects AUTH
echoing the credentials; the desktop's notifier (a stand-in) fails; Apprise, which posts with its own HTTP stack,
posts straight to the failing servers. Every way out is then searched for each secret in every shape it takes (as
is, percent-encoded, JSON-escaped, base64 inside a credential, in any letter case) and for any fragment of one (the
LEAK marker): MCP tool results (text and structuredContent), client log messages, progress and resources; CLI
output, text and --json, stdout and stderr, with DEBUG logs; every record of every logger, message and traceback;
the files of the local history.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import html
import json
import logging
import os
import re
import socket
import ssl
import stat
import threading
from pathlib import Path
from urllib.parse import quote, quote_plus

import httpx
import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from mcp.shared.memory import create_connected_server_and_client_session as connect

from channels import REGISTRY, load
from channels.wecom_app import WeComApp
from mcp_push import http
from mcp_push.cli import main
from mcp_push.dispatch import dispatch
from mcp_push.redact import RedactingFilter
from mcp_push.server import PushServer
from tests.channels.test_smtp import Handler, free_port
from tests.conftest import NASTY
from tests.recorder import Recorded, Recorder, Reply, reply

MARKER = "LEAK"
KINDS = ["refused", "tls", "timeout", "401", "403", "html", "badjson", "business", "redirect"]
VARIANTS = ["plain", "special"]
FAST = {
    "MCP_PUSH_RETRIES": "0",
    "MCP_PUSH_DEADLINE": "5",
    "MCP_PUSH_PENDING_BACKOFF": "3600",  # no re-delivery pass while a test runs
}
# Every field a service answers its message in, and its failure codes, so each channel's `check` quotes the echo.
MESSAGE_KEYS = (
    "msg",
    "message",
    "errmsg",
    "errMsg",
    "error",
    "errorDescription",
    "description",
    "reason",
    "info",
    "wording",
    "StatusMessage",
)
FAILURE = {"ok": False, "success": False, "status": "failed", "code": 40001, "errcode": 40001, "errno": 40001}
FAILURE |= {"ret": 201, "retcode": 100, "StatusCode": 19021}
SERVER_LOGGERS = ("mail.log",)  # aiosmtpd: the test's own SMTP server, not mcp-push
# A 200 is success for the services that document nothing more: a webhook, Chronocat, Synology without JSON, a
# Teams flow (200 or 202, any body: the flow runs afterwards), LINE (any 2xx), Apprise's json:// (its status alone).
ANY_2XX = {"console", "webhook", "chronocat", "synology_chat", "teams", "line", "apprise:json"}
# The desktop's stand-in notifier: it fails as notify-send does where there is no display.
NO_DISPLAY = "Cannot autolaunch D-Bus without X11 $DISPLAY"


# ---- secrets ------------------------------------------------------------------------------------


class Secrets:
    """Makes the unique, recognisable secrets of one variant and remembers them."""

    def __init__(self, variant: str) -> None:
        self.variant = variant
        self.values: list[str] = []

    def __call__(self, channel: str, field: str, where: str = "any") -> str:
        tail = hashlib.sha256(f"{self.variant}/{channel}/{field}".encode()).hexdigest()[:12]
        if self.variant == "plain":
            value = f"{MARKER}-{channel}-{field}-7f3a{tail}"
        elif where == "path":  # a URL path segment: no '/', which would only split it
            value = f"{MARKER}+{channel}={field}~7f3a{tail}"
        else:
            value = f"{MARKER}+{channel}/{field}=7f3a{tail}"
        self.values.append(value)
        return value

    def alnum(self, channel: str, length: int) -> str:
        value = (MARKER + channel + hashlib.sha256(f"{self.variant}/{channel}".encode()).hexdigest())[:length]
        self.values.append(value)
        return value

    def sized(self, channel: str, field: str, length: int) -> str:
        """A secret of exactly `length` characters, for a field that checks only its length."""
        tail = hashlib.sha256(f"{self.variant}/{channel}/{field}".encode()).hexdigest()
        head = f"{MARKER}-{channel}-" if self.variant == "plain" else f"{MARKER}+{channel}/="
        value = (head + tail)[:length]
        self.values.append(value)
        return value


@functools.cache
def shapes(secret: str) -> frozenset[str]:
    """How the secret may look in text: as is, percent-encoded, JSON-escaped, base64 wherever it sits inside
    an encoded credential (the characters that depend on it alone, for each of the three byte alignments)."""
    found = {secret, quote(secret, safe=""), quote(secret), quote_plus(secret), json.dumps(secret)[1:-1]}
    raw = secret.encode()
    found.add(base64.b64encode(raw).decode())
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw).decode()
        found.add(encoded[4 if shift else 0 : (len(raw) + shift) // 3 * 4])
    return frozenset(form.lower() for form in found)


def leaks(text: str, secrets: list[str]) -> list[str]:
    lowered = text.lower()
    found = [f"{secret!r} as {form!r}" for secret in secrets for form in shapes(secret) if form in lowered]
    found += [f"fragment {text[max(m.start() - 30, 0) : m.end() + 30]!r}" for m in re.finditer(MARKER, text)]
    return found


def assert_clean(where: str, text: str, secrets: list[str]) -> None:
    found = leaks(text, secrets)
    assert not found, f"secret in {where}: {found[:5]}"


# ---- the servers that fail ------------------------------------------------------------------------


class Hang:
    """Accepts connections and never answers: HTTP runs into its read timeout, SMTP never gets a greeting."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self.stopped = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while not self.stopped.is_set():
            try:
                self.held.append(self.sock.accept()[0])
            except OSError:
                continue

    def close(self) -> None:
        self.stopped.set()
        self.sock.close()
        for conn in self.held:
            conn.close()


class UntrustedTls(Hang):
    """Speaks TLS with a certificate from a CA nobody trusts: every client fails the handshake."""

    def __init__(self) -> None:
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        trustme.CA().issue_cert("127.0.0.1", "localhost").configure_cert(self.context)
        super().__init__()

    def _run(self) -> None:
        while not self.stopped.is_set():
            try:
                conn = self.sock.accept()[0]
            except OSError:
                continue
            threading.Thread(target=self._handshake, args=(conn,), daemon=True).start()

    def _handshake(self, conn: socket.socket) -> None:
        conn.settimeout(2)
        try:
            with self.context.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1)
        except OSError:
            pass
        finally:
            conn.close()


def rejecting_auth(server, session, envelope, mechanism, auth_data):
    """An SMTP server that refuses the login and quotes it back, in clear and as the AUTH PLAIN blob."""
    login, password = auth_data.login, auth_data.password
    blob = base64.b64encode(b"\0" + login + b"\0" + password).decode()
    quoted = f"{login.decode()} / {password.decode()} / {blob} / {base64.b64encode(password).decode()}"
    return AuthResult(success=False, handled=False, message=f"535 5.7.8 credentials rejected: {quoted}")


TRUST = ssl.create_default_context()  # the default store, which the test CA is not in; made once, it is slow


class Redirect(httpx.AsyncBaseTransport):
    """Sends every request to one local port (plain or TLS); the Host header keeps the service's host."""

    def __init__(self, scheme: str, port: int) -> None:
        self._inner = httpx.AsyncHTTPTransport(verify=TRUST)
        self._scheme, self._port = scheme, port

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(scheme=self._scheme, host="127.0.0.1", port=self._port)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def echo(request: Recorded) -> str:
    """What a careless server prints back: the request line, every header, the body."""
    lines = [f"{request.method} {request.target} HTTP/1.1", *(f"{k}: {v}" for k, v in request.headers.items())]
    return "\n".join([*lines, "", request.body.decode("utf-8", "replace")])


def credentials(request: Recorded) -> str:
    """The request's target and credential headers, on one ASCII line (fit for a response header)."""
    names = ("authorization", "proxy-authorization", "x-gotify-key", "x-api-key", "x-auth-token", "access-token")
    line = " ".join([request.target, *(request.headers[n] for n in names if n in request.headers)])
    return line.encode("ascii", "replace").decode()


class Stage:
    """The failing servers, shared by the module; `kind` says how the recorder fails."""

    def __init__(self) -> None:
        self.kind = "401"
        self.access_token = ""
        self.secrets: list[str] = []
        self.configured: list[str] = []
        self.closed = free_port()
        self.hang = Hang()
        self.tls = UntrustedTls()
        self.recorder = Recorder()
        self.recorder.respond(self.answer)
        self.smtp = Controller(
            Handler(),
            hostname="127.0.0.1",
            port=free_port(),
            authenticator=rejecting_auth,
            auth_require_tls=False,
        )
        self.smtp.start()

    def close(self) -> None:
        self.smtp.stop()
        self.recorder.close()
        self.hang.close()
        self.tls.close()

    def http(self, kind: str) -> tuple[str, int]:
        if kind == "refused":
            return "http", self.closed
        if kind == "tls":
            return "https", self.tls.port
        if kind == "timeout":
            return "http", self.hang.port
        return "http", self.recorder.port

    def smtp_env(self, kind: str) -> dict[str, str]:
        if kind == "refused":
            return {"SMTP_SERVER": f"127.0.0.1:{self.closed}"}
        if kind == "tls":
            return {"SMTP_SERVER": f"127.0.0.1:{self.tls.port}", "SMTP_SSL": "true"}
        if kind == "timeout":
            return {"SMTP_SERVER": f"127.0.0.1:{self.hang.port}"}
        return {"SMTP_SERVER": f"127.0.0.1:{self.smtp.port}"}

    def answer(self, request: Recorded) -> Reply:
        kind, text = self.kind, echo(request)
        if request.path.endswith("/cgi-bin/gettoken") and kind != "business":
            # WeCom hands out its own secret, which then travels in every message's query string.
            return reply(200, {"errcode": 0, "errmsg": "ok", "access_token": self.access_token, "expires_in": 7200})
        headers = {"X-Echo": credentials(request)}
        if kind == "401":
            return reply(401, {**FAILURE, **dict.fromkeys(MESSAGE_KEYS, text)}, headers=headers)
        if kind == "403":
            return reply(403, text=text, headers=headers)
        if kind == "html":
            page = f"<html><body><h1>500 Internal Server Error</h1><pre>{html.escape(text)}</pre></body></html>"
            return Reply(500, page.encode(), {"Content-Type": "text/html; charset=utf-8", **headers})
        if kind == "badjson":
            return Reply(200, ('{"code": 1, "msg": "' + text).encode(), {"Content-Type": "application/json", **headers})
        if kind == "business":
            return reply(200, {**FAILURE, **dict.fromkeys(MESSAGE_KEYS, text)}, headers=headers)
        if kind == "redirect":
            location = f"http://login.test/sso?next={quote(credentials(request), safe='')}"
            page = f'<html><body>Moved to <a href="{html.escape(location)}">{html.escape(location)}</a></body></html>'
            return Reply(302, page.encode(), {"Location": location, "Content-Type": "text/html", **headers})
        assert kind in ("cut-text", "cut-json"), kind
        return self.padded(request)

    def padded(self, request: Recorded) -> Reply:
        """The first secret of the request put across the 200th character of the body, where error snippets
        are cut: a prefix of it must not survive the cut."""
        raw = echo(request)
        # the longest: a configured value (`SPT_<secret>`, `123456789:<secret>`) rather than the bare secret in it
        candidates = sorted(self.secrets, key=len, reverse=True)
        found = next((f for s in candidates for f in (s, quote(s, safe=""), quote_plus(s)) if f in raw), "")
        if self.kind == "cut-json":
            # gotify and synology_chat quote the JSON they did not expect; pushme any text but "success"
            body = json.dumps({"pad": "x" * 169, "echo": found, "rest": raw})
            return Reply(200, body.encode(), {"Content-Type": "application/json"})
        return reply(403, text="x" * 190 + " " + found + "\n" + raw)


def channel_env(stage: Stage, kind: str, variant: str) -> tuple[dict[str, str], list[str]]:
    """Every channel, every secret unique; and the list of secrets to look for."""
    s = Secrets(variant)
    special = variant == "special"
    env = {
        **FAST,
        # Short only where the server hangs: 40-odd connections at once to these local servers, TLS included, take
        # longer than that on a busy two-core machine, and the failure must be the kind under test.
        "MCP_PUSH_TIMEOUT": "0.3" if kind == "timeout" else "4",
        "CONSOLE": "true",
        "DD_BOT_TOKEN": s("dingtalk", "DD_BOT_TOKEN"),
        "DD_BOT_SECRET": s("dingtalk", "DD_BOT_SECRET"),
        "FSKEY": s("feishu", "FSKEY", "path"),
        "FSSECRET": s("feishu", "FSSECRET"),
        "GOBOT_URL": "http://gocq.test/send_private_msg",
        "GOBOT_QQ": "user_id=10001",
        "GOBOT_TOKEN": s("go_cqhttp", "GOBOT_TOKEN"),
        "GOTIFY_URL": "http://gotify.test",
        "GOTIFY_TOKEN": s("gotify", "GOTIFY_TOKEN"),
        "IGOT_PUSH_KEY": s.alnum("igot", 24),  # must be 24 letters and digits
        "PUSH_PLUS_TOKEN": s("pushplus", "PUSH_PLUS_TOKEN"),
        "WE_PLUS_BOT_TOKEN": s("weplus_bot", "WE_PLUS_BOT_TOKEN"),
        "QMSG_KEY": s("qmsg", "QMSG_KEY", "path"),
        "QMSG_TYPE": "send",
        "QYWX_AM": f"{s('wecom_app', 'corpid')},{s('wecom_app', 'corpsecret')},@all,1000002",
        "QYWX_KEY": s("wecom_bot", "QYWX_KEY"),
        "TG_BOT_TOKEN": "123456789:" + s("telegram", "TG_BOT_TOKEN", "path"),
        "TG_USER_ID": "987654321",
        "AIBOTK_KEY": s("aibotk", "AIBOTK_KEY"),
        "AIBOTK_TYPE": "room",
        "AIBOTK_NAME": "ops",
        "SMTP_EMAIL": "bot@example.test",
        "SMTP_PASSWORD": s("smtp", "SMTP_PASSWORD"),
        **stage.smtp_env(kind),
        "PUSHME_KEY": s("pushme", "PUSHME_KEY"),
        "CHRONOCAT_URL": "http://chronocat.test",
        "CHRONOCAT_QQ": "user_id=10001;group_id=20002",
        "CHRONOCAT_TOKEN": s("chronocat", "CHRONOCAT_TOKEN"),
        "NTFY_TOPIC": s("ntfy", "NTFY_TOPIC"),
        "WXPUSHER_APP_TOKEN": "AT_" + s("wxpusher", "WXPUSHER_APP_TOKEN"),
        "WXPUSHER_UIDS": "UID_0123456789",
        "OPENILINK_APP_TOKEN": s("openilink", "OPENILINK_APP_TOKEN"),
        "DISCORD_WEBHOOK_URL": (
            f"https://discord.com/api/webhooks/1234567890/{s('discord', 'DISCORD_WEBHOOK_URL', 'path')}"
        ),
        "TEAMS_WEBHOOK_URL": (
            "https://prod-00.westus.logic.azure.com/workflows/0123abcd/triggers/manual/paths/invoke"
            f"?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={quote(s('teams', 'sig'), safe='')}"
        ),
        "PUSHOVER_TOKEN": s.alnum("pushoverToken", 30),  # 30 letters and digits
        "PUSHOVER_USER": s.alnum("pushoverUser", 30),
        "MATRIX_HOMESERVER": "http://matrix.test",
        "MATRIX_ACCESS_TOKEN": s("matrix", "MATRIX_ACCESS_TOKEN"),
        "MATRIX_ROOM_ID": "!OpsRoom42:matrix.test",
        "GOOGLE_CHAT_WEBHOOK_URL": (
            f"https://chat.googleapis.com/v1/spaces/AAAA0123/messages?key={quote(s('google_chat', 'key'), safe='')}"
            f"&token={quote(s('google_chat', 'token'), safe='')}"
        ),
        "MATTERMOST_WEBHOOK_URL": f"http://mattermost.test/hooks/{s('mattermost', 'MATTERMOST_WEBHOOK_URL', 'path')}",
        "ROCKETCHAT_WEBHOOK_URL": (
            f"http://rocketchat.test/hooks/6zP4gyKtbvj5Hx8sE/{s('rocketchat', 'ROCKETCHAT_WEBHOOK_URL', 'path')}"
        ),
        "ZULIP_SITE": "http://zulip.test",
        "ZULIP_EMAIL": "bot@zulip.test",
        "ZULIP_API_KEY": s("zulip", "ZULIP_API_KEY"),
        "ZULIP_TO": "ops",
        "SIGNAL_NUMBER": "+4915112345678",
        "SIGNAL_RECIPIENTS": "+4917687654321,group.b3BzLWdyb3Vw",
        "HASS_URL": "http://hass.test:8123",
        "HASS_TOKEN": s("home_assistant", "HASS_TOKEN"),
        "PUSHBULLET_TOKEN": "o." + s("pushbullet", "PUSHBULLET_TOKEN"),
        "LINE_CHANNEL_ACCESS_TOKEN": s("line", "LINE_CHANNEL_ACCESS_TOKEN"),
        "LINE_TO": "U0123456789abcdef0123456789abcdef",
        "TWILIO_ACCOUNT_SID": "AC0123456789abcdef0123456789abcdef",
        "TWILIO_AUTH_TOKEN": s("twilio_sms", "TWILIO_AUTH_TOKEN"),
        "TWILIO_FROM": "+15017122661",
        "TWILIO_TO": "+15558675310",
        "PAGERDUTY_ROUTING_KEY": s.sized("pagerduty", "PAGERDUTY_ROUTING_KEY", 32),  # exactly 32 characters
        "WEBEX_TOKEN": s("webex", "WEBEX_TOKEN"),
        "WEBEX_ROOM_ID": "Y2lzY29zcGFyazovL3VzL1JPT00vYmJjZWIx",
        "OPSGENIE_API_KEY": s("opsgenie", "OPSGENIE_API_KEY"),
        "DESKTOP": "true",  # the stand-in notify-send that fails, first on PATH (see `_clean_state`)
        "APPRISE_URLS": apprise_url(stage, kind, s),
    }
    synology = "http://chat.test/webapi/entry.cgi?api=SYNO.Chat.External&method=incoming&version=2&token="
    if not special:
        env |= {
            "BARK_PUSH": s("bark", "BARK_PUSH", "path"),
            "PUSH_KEY": "SCT" + s("serverchan", "PUSH_KEY", "path"),
            "DEER_KEY": s("pushdeer", "DEER_KEY"),
            "CHAT_URL": synology,
            "CHAT_TOKEN": s("synology_chat", "CHAT_TOKEN"),
            "WEBHOOK_URL": f"http://hook.test/notify?token={s('webhook', 'WEBHOOK_URL')}",
            "WEBHOOK_HEADERS": f"Authorization: Bearer {s('webhook', 'WEBHOOK_HEADERS')}",
            "NTFY_TOKEN": s("ntfy", "NTFY_TOKEN"),
            "WXPUSHER_SPT_LIST": "SPT_" + s("wxpusher_spt", "WXPUSHER_SPT_LIST"),
            "SLACK_BOT_TOKEN": "xoxb-" + s("slack", "SLACK_BOT_TOKEN"),
            "SLACK_CHANNEL": "C0123456789",
            # signal-cli-rest-api behind a reverse proxy with Basic auth
            "SIGNAL_API_URL": f"http://signal:{s('signal', 'password')}@signal.test",
        }
    else:
        port = stage.http(kind)[1]
        env |= {
            "BARK_PUSH": f"https://bark.test/{s('bark', 'BARK_PUSH', 'path')}",  # the full push URL
            "PUSH_KEY": "sctp90210t" + s("serverchan", "PUSH_KEY", "path"),  # Server酱³: its own host
            "DEER_KEY": f"{s('pushdeer', 'DEER_KEY')},{s('pushdeer', 'DEER_KEY_2')}",
            # the whole webhook URL pasted, token percent-encoded and quoted as Synology hands it out
            "CHAT_URL": f"{synology}%22{quote(s('synology_chat', 'CHAT_URL'), safe='')}%22",
            "CHAT_TOKEN": s("synology_chat", "CHAT_TOKEN"),
            "WEBHOOK_URL": (
                f"http://hookuser:{quote(s('webhook', 'userinfo'), safe='')}@hook.test/services/"
                f"{s('webhook', 'path', 'path')}/$title?key={quote(s('webhook', 'WEBHOOK_URL'), safe='')}&v=2"
            ),
            "WEBHOOK_HEADERS": (
                f"X-Api-Key: {s('webhook', 'WEBHOOK_HEADERS')}\nX-Auth-Token: Token {s('webhook', 'token_header')}"
            ),
            "NTFY_USERNAME": "ntfyuser",
            "NTFY_PASSWORD": s("ntfy", "NTFY_PASSWORD"),
            "WXPUSHER_SPT_LIST": f"SPT_{s('wxpusher_spt', 'SPT_1')},SPT_{s('wxpusher_spt', 'SPT_2')}",
            "OPENILINK_CONTEXT_TOKEN": s("openilink", "OPENILINK_CONTEXT_TOKEN"),
            # Telegram through an HTTP proxy with credentials (the proxy is the failing server itself)
            "TG_API_HOST": "http://api.telegram.org",
            "TG_PROXY_HOST": "127.0.0.1",
            "TG_PROXY_PORT": str(port),
            "TG_PROXY_AUTH": f"proxyuser:{s('telegram', 'TG_PROXY_AUTH')}",
            "SLACK_WEBHOOK_URL": (
                f"https://hooks.slack.com/services/T0123/B0456/{s('slack', 'SLACK_WEBHOOK_URL', 'path')}"
            ),
            "SIGNAL_API_URL": f"http://signal:{quote(s('signal', 'password'), safe='')}@signal.test/signal-api",
        }
    stage.access_token = s("wecom_app", "access_token")  # issued by the (fake) WeCom server
    stage.configured = [value for value in env.values() if MARKER in value]
    return env, s.values


def apprise_url(stage: Stage, kind: str, s: Secrets) -> str:
    """Apprise posts with its own HTTP stack (requests), not mcp-push's transport, so it cannot be redirected like
    the others: its json:// URL points at this kind's failing server itself, with a password (sent as Basic auth,
    which the server echoes) and, in the special variant, a header of its own carrying a secret."""
    scheme, port = stage.http(kind)
    query = {
        # The channel's own timeout (0.3 s) reports it; Apprise's read timeout only ends the worker thread sooner.
        "timeout": ["rto=1"],
        # Apprise follows redirects by default: to login.test, whose fate would then depend on this machine's DNS.
        "redirect": ["redirect=no"],
    }.get(kind, [])
    if s.variant == "special":
        query.append(f"+X-Api-Key={quote(s('apprise', 'X-Api-Key'), safe='')}")
    password = quote(s("apprise", "password"), safe="")
    url = f"{'jsons' if scheme == 'https' else 'json'}://apprise:{password}@127.0.0.1:{port}/apprise"
    return url + (f"?{'&'.join(query)}" if query else "")  # Apprise refuses a URL ending in a bare `?`


def apprise_result(kind: str) -> str:
    """The name of Apprise's one result: one per URL, named by its scheme (channels/apprise.py, `expand`)."""
    return "apprise:jsons" if kind == "tls" else "apprise:json"


def stand_in_notifier(bin_dir: Path) -> None:
    """A notify-send that fails, fast (a shell script: it must finish within the timeout kind's 0.3 s)."""
    bin_dir.mkdir(exist_ok=True)
    path = bin_dir / "notify-send"
    path.write_text(f"#!/bin/sh\necho '{NO_DISPLAY}' >&2\nexit 1\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


# ---- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stage():
    servers = Stage()
    yield servers
    servers.close()


def unfilter() -> None:
    """Drop the filters a PushServer puts on the root handlers: pytest's log file handler lives for the whole
    session, so they would mask records before caplog sees them and hide a leak from later tests."""
    for handler in logging.getLogger().handlers:
        for found in [f for f in handler.filters if isinstance(f, RedactingFilter)]:
            handler.removeFilter(found)


@pytest.fixture(autouse=True)
def _clean_state(caplog, monkeypatch, tmp_path):
    """Every record of every logger at DEBUG reaches caplog; no CLI run's logging setup outlives its test; no
    proxy from the environment takes a request past the local servers; the desktop's notifier is a stand-in that
    fails, first on PATH (this machine's own notify-send or gdbus would show, or fail some other way)."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    stand_in_notifier(tmp_path / "bin")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")
    mcp_push = logging.getLogger("mcp_push")
    saved = (mcp_push.handlers[:], mcp_push.level, mcp_push.propagate)
    mcp_push.handlers[:], mcp_push.propagate = [], True
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "mcp_push", "mcp", "aiosmtplib", "asyncio"):
        caplog.set_level(logging.DEBUG, logger=name)
    WeComApp._tokens.clear()  # a token cached by another test was registered in a registry since reset
    unfilter()
    yield
    unfilter()
    WeComApp._tokens.clear()
    mcp_push.handlers[:], mcp_push.level, mcp_push.propagate = saved
    http.transport = None


@pytest.fixture
def base_env(tmp_path: Path) -> dict[str, str]:
    """What `make_config` adds, for the CLI, which reads the process environment."""
    return {
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
        "MCP_PUSH_HOME": str(tmp_path / "state"),
        "MCP_PUSH_DEDUPE_SECONDS": "0",
        "MCP_PUSH_MAX_PER_MINUTE": "0",
        "MCP_PUSH_UPDATE_INTERVAL": "0",
        "MCP_PUSH_RETRY_BACKOFF": "0.01",
    }


def arm(stage: Stage, kind: str, secrets: list[str]) -> None:
    """Route HTTP to the failing server of this kind (a fresh transport: each event loop needs its own)."""
    stage.kind = kind
    stage.secrets = [*secrets, *stage.configured]
    http.transport = Redirect(*stage.http(kind))


def assert_all_clean(chunks: list[tuple[str, str]], secrets: list[str]) -> None:
    """One search over everything (fast); on a hit, the chunk that holds it."""
    if leaks("\n\n".join(text for _, text in chunks), secrets):
        for where, text in chunks:
            assert_clean(where, text, secrets)
        raise AssertionError("a secret across two chunks")


def check_logs(caplog: pytest.LogCaptureFixture, secrets: list[str]) -> None:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    chunks = []
    for record in caplog.records:
        if record.name.startswith(SERVER_LOGGERS):
            continue
        where = f"log record of {record.name} at {record.levelname}"
        chunks += [(where, formatter.format(record)), (where + " (arguments)", repr(record.args))]
        if record.exc_info:
            chunks.append((where + " (traceback)", formatter.formatException(record.exc_info)))
    assert_all_clean(chunks, secrets)


def check_files(root: Path, secrets: list[str]) -> None:
    files = [path for path in root.rglob("*") if path.is_file()]
    assert_all_clean([(f"persisted file {p.name}", p.read_bytes().decode("utf-8", "replace")) for p in files], secrets)


def check_failed(report: dict, kind: str) -> None:
    """The failure really was of this kind, for every channel (console aside, which prints and succeeds)."""
    results = {r["name"]: r for r in report["results"]}
    apprise = apprise_result(kind)
    assert set(results) == {apprise if name == "apprise" else name for name in REGISTRY}
    delivered = {name for name, r in results.items() if r["ok"]}
    assert delivered - ANY_2XX == set(), report["summary"]
    if kind not in ("badjson", "business"):
        assert delivered == {"console"}, report["summary"]
    # The notifier failed, whatever the servers do; under the timeout kind's 0.3 s a loaded machine may stop it first.
    desktop = results["desktop"]["error"]
    assert f"notify-send exited with 1: {NO_DISPLAY}" in desktop or (kind == "timeout" and "timed out" in desktop)
    # Neither the desktop nor Apprise goes through mcp-push's HTTP transport: no status is traced for them.
    apart = ("console", "smtp", "desktop", apprise)
    http_errors = {name: r["error"] for name, r in results.items() if name not in (*apart, *delivered)}
    expected = {
        "refused": "connection failed",
        "tls": "certificate verify failed",
        "timeout": "timed out",
    }.get(kind)
    status = {"401": 401, "403": 403, "html": 500, "redirect": 302}.get(kind, 200)
    if expected:
        assert [n for n, e in http_errors.items() if expected not in e.lower()] in ([], ["telegram"]), http_errors
    else:
        assert {n: r["http_status"] for n, r in results.items() if n in http_errors} == dict.fromkeys(
            http_errors, status
        )
        assert "535" in results["smtp"]["error"]
    # Apprise says what went wrong in its own words (its log): a failed connection, or the status it got.
    if apprise not in delivered:
        said = {"refused": "connection error", "tls": "connection error", "timeout": "timed out"}
        assert said.get(kind, f"error={status}") in results[apprise]["error"].lower(), results[apprise]


# ---- the tests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("kind", KINDS)
async def test_dispatch_leaks_nothing(stage, kind, variant, make_config, caplog, tmp_path, capsys):
    env, secrets = channel_env(stage, kind, variant)
    arm(stage, kind, secrets)
    report = await dispatch(make_config(**env), NASTY)
    dump = report.model_dump(mode="json")
    check_failed(dump, kind)
    assert_clean("the report", json.dumps(dump, ensure_ascii=False), secrets)
    assert_clean("the report's summary", report.summary, secrets)
    check_logs(caplog, secrets)
    check_files(tmp_path / "state", secrets)
    out, err = capsys.readouterr()
    assert_clean("stdout/stderr", out + err, secrets)


@pytest.mark.parametrize("kind", KINDS)
async def test_mcp_tool_result_leaks_nothing(stage, kind, make_config, caplog, tmp_path):
    env, secrets = channel_env(stage, kind, "special")
    arm(stage, kind, secrets)
    server = PushServer(make_config(**env))
    notices: list[str] = []

    async def on_log(params) -> None:
        notices.append(params.model_dump_json())

    async def on_progress(progress, total, message) -> None:
        notices.append(f"{progress}/{total} {message}")

    async with connect(server, logging_callback=on_log) as client:
        await client.set_logging_level("debug")
        args = {"title": NASTY.title, "content": NASTY.content}
        # One call: a second one would wait out Telegram's 1 message/s limiter.
        result = await client.call_tool("notify.send", args, progress_callback=on_progress)
        resources = [
            (await client.read_resource(r.uri)).model_dump_json() for r in (await client.list_resources()).resources
        ]
    check_failed(result.structuredContent, kind)
    for block in result.content:
        assert_clean("tool result text", block.text, secrets)
    assert_clean("structuredContent", json.dumps(result.structuredContent, ensure_ascii=False), secrets)
    assert_clean("the whole tool result", result.model_dump_json(), secrets)
    assert notices, "the client got no log message"
    assert_clean("client log messages and progress", "\n".join(notices), secrets)
    assert resources
    for resource in resources:
        assert_clean("a resource", resource, secrets)
    check_logs(caplog, secrets)
    check_files(tmp_path / "state", secrets)


async def run_cli(stage: Stage, kind: str, secrets: list[str], capsys, *argv: str) -> tuple[str, str]:
    """`mcp-push ARGV` in-process, in a thread: it runs its own event loop (and gets its own transport)."""
    arm(stage, kind, secrets)
    await asyncio.to_thread(main, list(argv))
    return capsys.readouterr()


def set_env(monkeypatch, **env: str) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)


@pytest.mark.parametrize("kind", KINDS)
async def test_cli_leaks_nothing(stage, kind, base_env, monkeypatch, capsys, caplog, tmp_path):
    env, secrets = channel_env(stage, kind, "special")
    set_env(monkeypatch, **base_env, **env, MCP_PUSH_LOG_LEVEL="DEBUG")
    out, err = await run_cli(stage, kind, secrets, capsys, "send", NASTY.title, NASTY.content)
    assert "DEBUG" in err, "the CLI wrote no DEBUG log"
    json_out, json_err = await run_cli(stage, kind, secrets, capsys, "send", NASTY.title, NASTY.content, "--json")
    check_failed(json.loads(json_out), kind)
    outputs = [("stdout", out), ("stderr", err), ("stdout (--json)", json_out), ("stderr (--json)", json_err)]
    assert_all_clean(outputs, secrets)
    check_logs(caplog, secrets)
    check_files(tmp_path / "state", secrets)


@pytest.mark.parametrize("variant", VARIANTS)
async def test_cli_retry_and_history_leak_nothing(stage, variant, base_env, monkeypatch, capsys, caplog, tmp_path):
    """What the history kept, shown and re-sent: the re-send fails the same way."""
    env, secrets = channel_env(stage, "401", variant)
    set_env(monkeypatch, **base_env, **env, MCP_PUSH_LOG_LEVEL="DEBUG")
    out, _ = await run_cli(stage, "401", secrets, capsys, "send", NASTY.title, NASTY.content, "--json")
    nid = str(json.loads(out)["id"])
    outputs = []
    for argv in (["retry", "--all", "--id", nid], ["retry", "--all", "--id", nid, "--json"], ["history"]):
        out, err = await run_cli(stage, "401", secrets, capsys, *argv)
        outputs += [(f"stdout of {argv}", out), (f"stderr of {argv}", err)]
    history, _ = await run_cli(stage, "401", secrets, capsys, "history", "--json")
    assert "40001" in history or "401" in history
    assert_all_clean([*outputs, ("history --json", history)], secrets)
    check_logs(caplog, secrets)
    check_files(tmp_path / "state", secrets)


@pytest.mark.parametrize("variant", VARIANTS)
async def test_channel_listing_shows_at_most_a_hint(stage, variant, base_env, monkeypatch, capsys, make_config):
    env, secrets = channel_env(stage, "401", variant)
    # Misconfigured too: a problem's text must not quote the bad value.
    broken = {"IGOT_PUSH_KEY": "https://push.hellyw.com/" + env["IGOT_PUSH_KEY"], "WXPUSHER_UIDS": ""}
    broken["WXPUSHER_SPT_LIST"] = ",".join(f"SPT_{i}{env['IGOT_PUSH_KEY']}" for i in range(11))
    set_env(monkeypatch, **{**base_env, **env, **broken})
    for argv in (["channels"], ["channels", "--json"], ["channels", "--format", "markdown"]):
        out, err = await run_cli(stage, "401", secrets, capsys, *argv)
        assert_clean(f"`mcp-push {' '.join(argv)}`", out + err, secrets)
    out, _ = await run_cli(stage, "401", secrets, capsys, "channels", "--json")
    shown = [v for row in json.loads(out) for v in row["variables"] if v["secret"] and v["value"]]
    settings = {**env, **broken}
    secret_vars = [var for name in REGISTRY for var in load(name).Settings.secret_fields() if settings.get(var)]
    assert sorted(v["name"] for v in shown) == sorted(secret_vars)  # every secret that is set, as a hint at most
    for var in shown:
        assert re.fullmatch(r"\*\*\*.{0,4}", var["value"]), var
    misconfigured = {row["name"] for row in json.loads(out) if row["status"] == "misconfigured"}
    assert misconfigured >= {"igot", "wxpusher", "wxpusher_spt"}
    # The same problems through the send paths: a refused channel name, a report line.
    out, err = await run_cli(stage, "401", secrets, capsys, "send", "t", "c", "--channel", "igot")
    assert "misconfigured" in err
    assert_clean("a refused channel", out + err, secrets)
    async with connect(PushServer(make_config(**{**env, **broken}))) as client:
        refused = await client.call_tool("notify.send", {"title": "t", "content": "c", "channels": ["wxpusher_spt"]})
        listing = await client.read_resource("mcp-push://channels")
    assert refused.isError
    assert_clean("a refused tool call", refused.model_dump_json(), secrets)
    assert_clean("the channels resource", listing.model_dump_json(), secrets)


@pytest.mark.parametrize("kind", ["cut-text", "cut-json"])
async def test_a_secret_cut_by_a_snippet_leaves_no_prefix(stage, kind, make_config):
    env, secrets = channel_env(stage, kind, "plain")
    arm(stage, kind, secrets)
    report = await dispatch(make_config(**env), NASTY)
    errors = {r.name: r.error for r in report.results if r.error and leaks(r.error, secrets)}
    assert not errors, errors
