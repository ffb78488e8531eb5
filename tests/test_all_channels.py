"""Every channel of the registry at once, against local servers: one send reaches every one of them."""

from __future__ import annotations

import asyncio
import io
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from channels import REGISTRY, load
from mcp_push import http
from mcp_push.cli import EXIT_FAILED, main
from tests.channels.test_desktop import fake
from tests.channels.test_smtp import Controller, Handler, authenticator, free_port
from tests.conftest import NASTY, send
from tests.recorder import Recorded, RedirectTransport, Reply, reply

ENV = {
    "BARK_PUSH": "bark-key-0123456789",
    "CONSOLE": "true",
    "DD_BOT_TOKEN": "dd-token-0123456789",
    "DD_BOT_SECRET": "SEC-dd-secret-0123456789",
    "FSKEY": "fs-hook-0123456789",
    "FSSECRET": "fs-secret-0123456789",
    "GOBOT_URL": "http://gocq.test/send_private_msg",
    "GOBOT_QQ": "user_id=10001",
    "GOBOT_TOKEN": "gocq-token-0123456789",
    "GOTIFY_URL": "http://gotify.test",
    "GOTIFY_TOKEN": "gotify-token-0123456789",
    "IGOT_PUSH_KEY": "abcdefghijklmnopqrstuvwx",
    "PUSH_KEY": "SCT0123456789abcdef",
    "DEER_KEY": "PDU0123456789abcdef",
    "CHAT_URL": "http://chat.test/webapi/entry.cgi?api=SYNO.Chat.External&method=incoming&version=2&token=",
    "CHAT_TOKEN": "chat-token-0123456789",
    "PUSH_PLUS_TOKEN": "pushplus-token-0123456789",
    "WE_PLUS_BOT_TOKEN": "weplus-token-0123456789",
    "QMSG_KEY": "qmsg-key-0123456789",
    "QMSG_TYPE": "send",
    "QYWX_AM": "corp0123,corp-secret-0123456789,@all,1000002",
    "QYWX_KEY": "wecom-bot-key-0123456789",
    "TG_BOT_TOKEN": "123456789:AAtelegram-token-0123456789",
    "TG_USER_ID": "987654321",
    "AIBOTK_KEY": "aibotk-key-0123456789",
    "AIBOTK_TYPE": "room",
    "AIBOTK_NAME": "ops",
    "PUSHME_KEY": "pushme-key-0123456789",
    "CHRONOCAT_URL": "http://chronocat.test",
    "CHRONOCAT_QQ": "user_id=10001;group_id=20002",
    "CHRONOCAT_TOKEN": "chronocat-token-0123456789",
    "WEBHOOK_URL": "http://hook.test/notify",
    "NTFY_TOPIC": "ntfy-topic-0123456789",
    "WXPUSHER_APP_TOKEN": "AT_wxpusher-0123456789",
    "WXPUSHER_UIDS": "UID_0123456789",
    "WXPUSHER_SPT_LIST": "SPT_0123456789abcdef",
    "OPENILINK_APP_TOKEN": "openilink-token-0123456789",
    "SLACK_BOT_TOKEN": "xoxb-slack-token-0123456789",
    "SLACK_CHANNEL": "C0123456789",
    "DISCORD_WEBHOOK_URL": "https://discord.com/api/webhooks/1234567890/discord-hook-token-0123456789",
    "TEAMS_WEBHOOK_URL": (
        "https://prod-00.westus.logic.azure.com/workflows/0123abcd/triggers/manual/paths/invoke"
        "?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=teams-sig-0123456789"
    ),
    "PUSHOVER_TOKEN": "pushoverToken0123456789abcdefg",  # 30 letters and digits
    "PUSHOVER_USER": "pushoverUser0123456789abcdefgh",
    "MATRIX_HOMESERVER": "http://matrix.test",
    "MATRIX_ACCESS_TOKEN": "syt_matrix-token-0123456789",
    "MATRIX_ROOM_ID": "!OpsRoom42:matrix.test",
    "GOOGLE_CHAT_WEBHOOK_URL": (
        "https://chat.googleapis.com/v1/spaces/AAAA0123/messages?key=gchat-key-0123456789&token=gchat-token-0123456789"
    ),
    "MATTERMOST_WEBHOOK_URL": "http://mattermost.test/hooks/mattermost-key-0123456789",
    "ROCKETCHAT_WEBHOOK_URL": "http://rocketchat.test/hooks/6zP4gyKtbvj5Hx8sE/rocketchat-token-0123456789",
    "ZULIP_SITE": "http://zulip.test",
    "ZULIP_EMAIL": "bot@zulip.test",
    "ZULIP_API_KEY": "zulip-key-0123456789",
    "ZULIP_TO": "ops",
    "SIGNAL_API_URL": "http://signal:signal-password-0123456789@signal.test",  # behind a proxy with Basic auth
    "SIGNAL_NUMBER": "+4915112345678",
    "SIGNAL_RECIPIENTS": "+4917687654321",
    "HASS_URL": "http://hass.test:8123",
    "HASS_TOKEN": "hass-token-0123456789",
    "PUSHBULLET_TOKEN": "o.pushbullet-token-0123456789",
    "LINE_CHANNEL_ACCESS_TOKEN": "line-token-0123456789",
    "LINE_TO": "U0123456789abcdef0123456789abcdef",
    "TWILIO_ACCOUNT_SID": "AC0123456789abcdef0123456789abcdef",
    "TWILIO_AUTH_TOKEN": "twilio-token-0123456789",
    "TWILIO_FROM": "+15017122661",
    "TWILIO_TO": "+15558675310",
    "PAGERDUTY_ROUTING_KEY": "pagerduty-key-0123456789abcdefgh",  # 32 characters
    "WEBEX_TOKEN": "webex-token-0123456789",
    "WEBEX_ROOM_ID": "Y2lzY29zcGFyazovL3VzL1JPT00vYmJjZWIx",
    "OPSGENIE_API_KEY": "opsgenie-key-0123456789",
    "DESKTOP": "true",  # a stand-in notify-send on PATH (see `everything`)
    # APPRISE_URLS: a json:// URL to the recorder, made with its port (see `everything`)
}
APPRISE_PASSWORD = "apprise-password-0123456789"
SECRET_WORDS = ("TOKEN", "KEY", "SECRET", "PUSH", "SPT")
SECRETS = [v for k, v in ENV.items() if any(w in k for w in SECRET_WORDS) or k == "QYWX_AM"]
# Every secret setting by the channels' own account, and the credentials inside URLs: webhook paths and
# queries, user info.
SECRETS += [ENV[var] for name in REGISTRY for var in load(name).Settings.secret_fields() if var in ENV]
SECRETS += [
    "discord-hook-token-0123456789",
    "teams-sig-0123456789",
    "gchat-key-0123456789",
    "gchat-token-0123456789",
    "mattermost-key-0123456789",
    "rocketchat-token-0123456789",
    "signal-password-0123456789",
    "pushoverUser0123456789abcdefgh",
    APPRISE_PASSWORD,
    "smtp-password-0123456789",
]

# host -> (success, failure) as each service documents them
ANSWERS = {
    "api.day.app": (reply(200, {"code": 200, "message": "success"}), reply(400, {"code": 400, "message": "bad key"})),
    "oapi.dingtalk.com": (
        reply(200, {"errcode": 0, "errmsg": "ok"}),
        reply(200, {"errcode": 310000, "errmsg": "sign"}),
    ),
    "open.feishu.cn": (reply(200, {"code": 0, "msg": "success"}), reply(200, {"code": 19021, "msg": "sign fail"})),
    "gocq.test": (reply(200, {"status": "ok", "retcode": 0}), reply(200, {"status": "failed", "retcode": 100})),
    "gotify.test": (reply(200, {"id": 7}), reply(401, {"error": "Unauthorized", "errorCode": 401})),
    "push.hellyw.com": (reply(200, {"ret": 0}), reply(200, {"ret": 201, "errMsg": "bad key"})),
    "sctapi.ftqq.com": (reply(200, {"code": 0, "data": {}}), reply(200, {"code": 40001, "message": "bad pushkey"})),
    "api2.pushdeer.com": (
        reply(200, {"code": 0, "content": {"result": ['{"counts":1}']}}),
        reply(200, {"code": 80501, "error": "bad key"}),
    ),
    "chat.test": (reply(200, {"success": True}), reply(200, {"success": False, "error": {"code": 404, "errors": "x"}})),
    "www.pushplus.plus": (
        reply(200, {"code": 200, "msg": "ok", "data": "1"}),
        reply(200, {"code": 903, "msg": "token"}),
    ),
    "www.weplusbot.com": (reply(200, {"code": 200, "msg": "ok"}), reply(200, {"code": 500, "msg": "bad token"})),
    "qmsg.zendee.cn": (
        reply(200, {"success": True, "code": 0}),
        reply(200, {"success": False, "code": 500, "reason": "x"}),
    ),
    "qyapi.weixin.qq.com": (
        reply(200, {"errcode": 0, "errmsg": "ok"}),
        reply(200, {"errcode": 93000, "errmsg": "bad"}),
    ),
    "api.telegram.org": (
        reply(200, {"ok": True, "result": {}}),
        reply(400, {"ok": False, "description": "chat not found"}),
    ),
    "api-bot.aibotk.com": (reply(200, {"code": 0}), reply(200, {"code": 1, "error": "room not found"})),
    "push.i-i.me": (reply(200, text="success"), reply(200, text="push_key error")),
    "chronocat.test": (reply(200, {}), reply(500, text="internal")),
    "hook.test": (reply(200, text="ok"), reply(500, text="down")),
    "ntfy.sh": (reply(200, {"id": "m1"}), reply(403, {"error": "forbidden"})),
    "wxpusher.zjiecode.com": (reply(200, {"code": 1000, "msg": "ok"}), reply(200, {"code": 1001, "msg": "bad token"})),
    "hub.openilink.com": (reply(200, {"ok": True}), reply(200, {"ok": False, "error": "bad token"})),
    # A bot token: the Web API answers 200 either way, `ok` decides.
    "slack.com": (
        reply(200, {"ok": True, "channel": "C0123456789", "ts": "1712345678.000100"}),
        reply(200, {"ok": False, "error": "not_in_channel"}),
    ),
    "discord.com": (
        reply(200, {"id": "1299999999999999999", "channel_id": "1100000000000000000", "embeds": [{}]}),
        reply(404, {"message": "Unknown Webhook", "code": 10015}),
    ),
    "prod-00.westus.logic.azure.com": (
        reply(202, text=""),
        reply(401, {"error": {"code": "DirectApiAuthorizationRequired", "message": "The request must be signed."}}),
    ),
    "api.pushover.net": (
        reply(200, {"status": 1, "request": "647d2300-702c-4b38-8b2f-d56326ae460b"}),
        reply(400, {"status": 0, "errors": ["application token is invalid"], "request": "r"}),
    ),
    "matrix.test": (
        reply(200, {"event_id": "$YUwRidLecu:matrix.test"}),
        reply(403, {"errcode": "M_FORBIDDEN", "error": "User @bot:matrix.test not in room"}),
    ),
    "chat.googleapis.com": (
        reply(200, {"name": "spaces/AAAA0123/messages/x.y", "text": "..."}),
        reply(400, {"error": {"code": 400, "message": "Invalid JSON payload", "status": "INVALID_ARGUMENT"}}),
    ),
    "mattermost.test": (
        reply(200, text="ok"),
        reply(404, {"id": "web.incoming_webhook.invalid.app_error", "message": "Invalid webhook"}),
    ),
    "rocketchat.test": (
        reply(200, {"success": True}),
        reply(404, {"success": False, "error": "Invalid integration id or token provided."}),
    ),
    "zulip.test": (
        reply(200, {"result": "success", "msg": "", "id": 42}),
        reply(400, {"result": "error", "msg": "Stream 'ops' does not exist", "code": "STREAM_DOES_NOT_EXIST"}),
    ),
    "signal.test": (
        reply(201, {"timestamp": "1718000000123"}),
        reply(400, {"error": "Failed to send message: +4917687654321: Unregistered user\n"}),
    ),
    "hass.test:8123": (reply(200, []), reply(401, text="401: Unauthorized")),
    "api.pushbullet.com": (
        reply(200, {"active": True, "iden": "ujpah72o0sjAoRtnM0jc", "type": "note"}),
        reply(401, {"error": {"cat": "~(=^‥^)", "message": "Access token is missing or invalid.", "type": "invalid"}}),
    ),
    "api.line.me": (
        reply(200, {"sentMessages": [{"id": "461230966842064897", "quoteToken": "IStG5h1Tz7b..."}]}),
        reply(401, {"message": "Authentication failed. Confirm that the access token is valid."}),
    ),
    "api.twilio.com": (
        reply(201, {"sid": "SM1f0e8ae6ade43cb3c0ce4525424e404f", "status": "queued"}),
        reply(401, {"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003"}),
    ),
    "events.pagerduty.com": (
        reply(202, {"status": "success", "message": "Event processed", "dedup_key": "k"}),
        reply(400, {"status": "invalid event", "message": "Event object is invalid", "errors": ["bad routing key"]}),
    ),
    "webexapis.com": (
        reply(200, {"id": "Y2lzY29zcGFyazovL3VzL01FU1NBR0Uv", "roomId": "Y2lzY29zcGFyazovL3VzL1JPT00v"}),
        reply(404, {"message": "Could not find a room with provided ID.", "trackingId": "ROUTER_X"}),
    ),
    "api.opsgenie.com": (
        reply(202, {"result": "Request will be processed", "took": 0.3, "requestId": "43a29c5c-3dbf"}),
        reply(422, {"message": "Request body is not processable", "errors": {"message": "Message can not be empty."}}),
    ),
}
TOKEN_REPLY = reply(200, {"errcode": 0, "errmsg": "ok", "access_token": "wecom-access-0123456789", "expires_in": 7200})
# Apprise posts with its own HTTP stack (requests), straight to the recorder: answered by its path.
APPRISE_PATH = "/apprise"
APPRISE = (reply(200, {"ok": True}), reply(500, text="down"))
# The desktop stand-in: success exits 0; failure exits 1 with its words on stderr, as notify-send does.
NO_DISPLAY = "sys.stderr.write('Cannot autolaunch D-Bus without X11 $DISPLAY\\n'); sys.exit(1)\n"
# Results are named by channel, except Apprise's: one per URL, named by its scheme (channels/apprise.py, expand).
NAMES = ["apprise:json" if name == "apprise" else name for name in REGISTRY]


def answering(failing: bool) -> Callable[[Recorded], Reply]:
    def answer(request: Recorded) -> Reply:
        if request.path == "/cgi-bin/gettoken":
            return TOKEN_REPLY
        if request.path == APPRISE_PATH:
            return APPRISE[failing]
        return ANSWERS[request.headers["host"]][failing]

    return answer


@pytest.fixture
def everything(production, tmp_path: Path, monkeypatch) -> Iterator[tuple]:
    """Every channel configured: HTTP services routed to the recorder, Apprise posting to it directly, SMTP to
    a local aiosmtpd, the desktop to a stand-in notify-send first on PATH."""
    handler = Handler()
    smtp = Controller(
        handler, hostname="127.0.0.1", port=free_port(), authenticator=authenticator, auth_require_tls=False
    )
    smtp.start()
    bin_dir = tmp_path / "bin"
    record = fake(bin_dir, "notify-send")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    env = {
        **ENV,
        "SMTP_SERVER": f"127.0.0.1:{smtp.port}",
        "SMTP_EMAIL": "bot@example.test",
        "SMTP_PASSWORD": "smtp-password-0123456789",
        "APPRISE_URLS": f"json://apprise:{APPRISE_PASSWORD}@127.0.0.1:{production.port}{APPRISE_PATH}",
    }
    yield production, handler, env, record
    smtp.stop()


def failing_desktop(record: Path) -> None:
    fake(record.parent, "notify-send", NO_DISPLAY)


async def test_one_send_reaches_every_channel(everything, make_config):
    recorder, mail, env, desktop = everything
    recorder.respond(answering(failing=False))
    report = await send(make_config(**env))
    assert [r.name for r in report.results] == NAMES
    assert [r.name for r in report.results if not r.ok] == [], report.summary
    assert report.status == "delivered" and len(report.results) == len(REGISTRY)
    hosts = {r.headers["host"] for r in recorder.requests if r.path != APPRISE_PATH}
    assert hosts == set(ANSWERS)
    (apprise,) = [r for r in recorder.requests if r.path == APPRISE_PATH]
    assert apprise.json()["title"] == NASTY.title and apprise.json()["message"] == NASTY.content
    assert json.loads(desktop.read_text())["argv"][-2:] == [NASTY.title, NASTY.content]
    assert len(mail.messages) == 1
    dump = report.model_dump_json()
    for secret in SECRETS:
        assert secret not in dump


async def test_every_service_failing_lists_every_channel_failed(everything, make_config, monkeypatch):
    recorder, _, env, desktop = everything
    recorder.respond(answering(failing=True))
    failing_desktop(desktop)
    env["SMTP_PASSWORD"] = "wrong-password-0123456789"
    closed = io.StringIO()
    closed.close()
    monkeypatch.setattr(sys, "stderr", closed)  # the console channel's own failure: stderr is gone
    report = await send(make_config(**env))
    failures = {r.name: r.error for r in report.results if not r.ok}
    assert sorted(failures) == sorted(NAMES), report.summary
    assert report.status == "failed" and all(failures.values())
    assert "DISPLAY" in failures["desktop"] and "500" in failures["apprise:json"]
    dump = report.model_dump_json()
    for secret in SECRETS:
        assert secret not in dump


async def test_cli_exits_with_all_failed_code(everything, monkeypatch, capsys):
    recorder, _, env, desktop = everything
    recorder.respond(answering(failing=True))
    failing_desktop(desktop)
    settings = {**env, "CONSOLE": "false", "SMTP_PASSWORD": "wrong-password-0123456789", "MCP_PUSH_LOG_LEVEL": "DEBUG"}
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    # The CLI runs its own event loop, so it gets a transport of its own; restore the fixture's after.
    shared = http.transport
    http.transport = RedirectTransport(recorder.port)
    try:
        assert await asyncio.to_thread(main, ["send", NASTY.title, NASTY.content]) == EXIT_FAILED
    finally:
        http.transport = shared
    out, err = capsys.readouterr()
    assert out.count("✗ ") == len(NAMES) - 1  # console is off here; every other channel failed...
    failed = [line.split(maxsplit=4) for line in out.splitlines() if line.startswith("✗ ")]
    assert sorted(name for _, name, *_ in failed) == sorted(set(NAMES) - {"console"}), out
    assert all(len(words) == 5 and words[3] == "ms" for words in failed), out  # ...each on a line saying why
    assert "DEBUG" in err  # logs at every level were written...
    for secret in SECRETS:
        assert secret not in out and secret not in err  # ...and none of them, nor the report, holds a secret
