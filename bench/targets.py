"""Which mcp-push channels a benchmark configures, and what the local server answers each of them.

mcp-push has one module per service and so at most one `webhook` channel per process; a fan-out to N
channels therefore configures N *different* channels. The order below puts first the 13 whose address is
an env var (they point straight at the local server: `python -m mcp_push` runs unmodified), then the 10
whose production host is fixed (reached through `bench/redirect.py`, which installs an httpx transport
that sends the request to the local server and keeps the production Host header), then SMTP (to the
local server's SMTP port) and the console (stderr). N = 25 is every channel mcp-push has.

Each answer is the success body that channel's `check()` accepts, so every result must come back ok.
"""

from __future__ import annotations

import json

# channel -> extra env (format with {base} = http://127.0.0.1:PORT)
LOCAL: dict[str, dict[str, str]] = {
    "webhook": {"WEBHOOK_URL": "{base}/webhook"},
    "ntfy": {"NTFY_TOPIC": "bench-topic", "NTFY_URL": "{base}/ntfy"},
    "gotify": {"GOTIFY_URL": "{base}/gotify", "GOTIFY_TOKEN": "bench-gotify-token"},
    "bark": {"BARK_PUSH": "{base}/bark/bench-bark-key"},
    "go_cqhttp": {"GOBOT_URL": "{base}/gocq/send_private_msg", "GOBOT_QQ": "user_id=10001"},
    "openilink": {"OPENILINK_APP_TOKEN": "bench-openilink-token", "OPENILINK_HUB_URL": "{base}/openilink"},
    "pushme": {"PUSHME_KEY": "bench-pushme-key", "PUSHME_URL": "{base}/pushme"},
    "pushdeer": {"DEER_KEY": "PDUbenchkey", "DEER_URL": "{base}/pushdeer"},
    "chronocat": {"CHRONOCAT_URL": "{base}/chronocat", "CHRONOCAT_QQ": "user_id=10001", "CHRONOCAT_TOKEN": "bench-cc"},
    "synology_chat": {"CHAT_URL": "{base}/synology?token=", "CHAT_TOKEN": "bench-chat-token"},
    "telegram": {"TG_BOT_TOKEN": "123456:bench-telegram-token", "TG_USER_ID": "987654321", "TG_API_HOST": "{base}/tg"},
    "wecom_bot": {"QYWX_KEY": "bench-wecom-bot-key", "QYWX_ORIGIN": "{base}/wecom"},
    "wecom_app": {"QYWX_AM": "corp0123,bench-corp-secret,@all,1000002", "QYWX_ORIGIN": "{base}/wecom"},
}
FIXED: dict[str, dict[str, str]] = {
    "dingtalk": {"DD_BOT_TOKEN": "bench-dd-token"},
    "feishu": {"FSKEY": "bench-fs-hook"},
    "igot": {"IGOT_PUSH_KEY": "abcdefghijklmnopqrstuvwx"},
    "serverchan": {"PUSH_KEY": "SCTbenchkey0123"},
    "pushplus": {"PUSH_PLUS_TOKEN": "bench-pushplus-token"},
    "weplus_bot": {"WE_PLUS_BOT_TOKEN": "bench-weplus-token"},
    "qmsg": {"QMSG_KEY": "bench-qmsg-key", "QMSG_TYPE": "send"},
    "aibotk": {"AIBOTK_KEY": "bench-aibotk-key", "AIBOTK_TYPE": "room", "AIBOTK_NAME": "ops"},
    "wxpusher": {"WXPUSHER_APP_TOKEN": "AT_bench", "WXPUSHER_UIDS": "UID_bench"},
    "wxpusher_spt": {"WXPUSHER_SPT_LIST": "SPT_bench0123"},
}
OTHER: dict[str, dict[str, str]] = {
    "smtp": {"SMTP_SERVER": "127.0.0.1:{smtp_port}", "SMTP_EMAIL": "bench@example.test"},
    "console": {"CONSOLE": "true"},
}
ORDER: list[str] = [*LOCAL, *FIXED, *OTHER]
MAX_CHANNELS = len(ORDER)  # 25


def chosen(n: int) -> list[str]:
    if not 1 <= n <= MAX_CHANNELS:
        raise ValueError(f"mcp-push has {MAX_CHANNELS} channels; asked for {n}")
    return ORDER[:n]


def needs_redirect(n: int) -> bool:
    """True when some of the first n channels have a fixed production host."""
    return any(name in FIXED for name in chosen(n))


def env_for(n: int, port: int, smtp_port: int) -> dict[str, str]:
    base = f"http://127.0.0.1:{port}"
    env: dict[str, str] = {}
    for name in chosen(n):
        spec = LOCAL.get(name) or FIXED.get(name) or OTHER[name]
        env.update({k: v.format(base=base, smtp_port=smtp_port) for k, v in spec.items()})
    return env


# ---- what the local server answers ---------------------------------------------------------------

JSON = "application/json"
TEXT = "text/plain; charset=utf-8"


def _j(body: object) -> tuple[int, str, bytes]:
    return 200, JSON, json.dumps(body).encode()


# First path segment of a locally addressed request -> success answer.
BY_PATH: dict[str, tuple[int, str, bytes]] = {
    "webhook": (200, TEXT, b"ok"),
    "ntfy": _j({"id": "m1", "event": "message"}),
    "gotify": _j({"id": 7}),
    "bark": _j({"code": 200, "message": "success"}),
    "gocq": _j({"status": "ok", "retcode": 0}),
    "openilink": _j({"ok": True}),
    "pushme": (200, TEXT, b"success"),
    "pushdeer": _j({"code": 0, "content": {"result": ['{"counts":1}']}}),
    "chronocat": _j({}),
    "synology": _j({"success": True}),
    "tg": _j({"ok": True, "result": {}}),
    "wecom": _j({"errcode": 0, "errmsg": "ok"}),
}
WECOM_TOKEN = _j({"errcode": 0, "errmsg": "ok", "access_token": "bench-access-token", "expires_in": 7200})

# Host header of a redirected request (production host kept) -> success answer.
BY_HOST: dict[str, tuple[int, str, bytes]] = {
    "oapi.dingtalk.com": _j({"errcode": 0, "errmsg": "ok"}),
    "open.feishu.cn": _j({"code": 0, "msg": "success"}),
    "push.hellyw.com": _j({"ret": 0}),
    "sctapi.ftqq.com": _j({"code": 0, "data": {}}),
    "www.pushplus.plus": _j({"code": 200, "msg": "ok", "data": "1"}),
    "www.weplusbot.com": _j({"code": 200, "msg": "ok"}),
    "qmsg.zendee.cn": _j({"success": True, "code": 0}),
    "api-bot.aibotk.com": _j({"code": 0}),
    "wxpusher.zjiecode.com": _j({"code": 1000, "msg": "ok"}),
}
DEFAULT = _j({"ok": True})  # Apprise's json:// and the thread-per-channel baseline only need a 2xx


def answer(host: str, path: str) -> tuple[str, tuple[int, str, bytes]]:
    """(route key for the request counters, (status, content type, body))."""
    name = host.split(":")[0].lower()
    if name in BY_HOST:
        return name, BY_HOST[name]
    segment = path.lstrip("/").split("/", 1)[0].split("?", 1)[0]
    if segment == "wecom" and "/cgi-bin/gettoken" in path:
        return "wecom-gettoken", WECOM_TOKEN
    if segment in BY_PATH:
        return segment, BY_PATH[segment]
    return segment or "/", DEFAULT
