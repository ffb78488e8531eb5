"""All 25 channels at once, against local servers: one send reaches every one of them."""

from __future__ import annotations

import asyncio
import io
import sys

import pytest

from channels import REGISTRY
from mcp_push import http
from mcp_push.cli import EXIT_FAILED, main
from tests.channels.test_smtp import Controller, Handler, authenticator, free_port
from tests.conftest import NASTY, send
from tests.recorder import Recorded, RedirectTransport, reply

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
}
SECRETS = [v for k, v in ENV.items() if any(w in k for w in ("TOKEN", "KEY", "SECRET", "PUSH", "SPT", "AM"))]

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
}
TOKEN_REPLY = reply(200, {"errcode": 0, "errmsg": "ok", "access_token": "wecom-access-0123456789", "expires_in": 7200})


def answering(failing: bool):
    def answer(request: Recorded):
        if request.path == "/cgi-bin/gettoken":
            return TOKEN_REPLY
        return ANSWERS[request.headers["host"]][failing]

    return answer


@pytest.fixture
def everything(production):
    """All 25 configured: HTTP services routed to the recorder, SMTP to a local aiosmtpd."""
    handler = Handler()
    smtp = Controller(
        handler, hostname="127.0.0.1", port=free_port(), authenticator=authenticator, auth_require_tls=False
    )
    smtp.start()
    env = {
        **ENV,
        "SMTP_SERVER": f"127.0.0.1:{smtp.port}",
        "SMTP_EMAIL": "bot@example.test",
        "SMTP_PASSWORD": "smtp-password-0123456789",
    }
    yield production, handler, env
    smtp.stop()


async def test_one_send_reaches_all_25(everything, make_config):
    recorder, mail, env = everything
    recorder.respond(answering(failing=False))
    report = await send(make_config(**env))
    assert [r.name for r in report.results] == list(REGISTRY)
    assert [r.name for r in report.results if not r.ok] == [], report.summary
    assert report.status == "delivered" and len(report.results) == 25
    hosts = {r.headers["host"] for r in recorder.requests}
    assert hosts == set(ANSWERS)
    assert len(mail.messages) == 1
    for secret in SECRETS:
        assert secret not in report.model_dump_json()


async def test_every_service_failing_lists_25_failures(everything, make_config, monkeypatch):
    recorder, _, env = everything
    recorder.respond(answering(failing=True))
    env["SMTP_PASSWORD"] = "wrong-password-0123456789"
    closed = io.StringIO()
    closed.close()
    monkeypatch.setattr(sys, "stderr", closed)  # the console channel's own failure: stderr is gone
    report = await send(make_config(**env))
    failures = {r.name: r.error for r in report.results if not r.ok}
    assert sorted(failures) == sorted(REGISTRY), report.summary
    assert report.status == "failed" and all(failures.values())
    dump = report.model_dump_json()
    for secret in SECRETS:
        assert secret not in dump


async def test_cli_exits_with_all_failed_code(everything, monkeypatch, capsys):
    recorder, _, env = everything
    recorder.respond(answering(failing=True))
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
    assert out.count("✗ ") == 24  # console is off here; the other 24 all failed
    assert "DEBUG" in err  # logs at every level were written...
    for secret in SECRETS:
        assert secret not in out and secret not in err  # ...and none of them, nor the report, holds a secret
