import time

import pytest

from channels.limits import MARKER
from mcp_push.models import Notification
from tests.conftest import NASTY, send
from tests.recorder import reply

TOKEN = "xoxb-2468013579-1357924680-Zq8RtY3uVw1XbN5mKp0LcD7e"
CHANNEL = "C0123456789"
HOOK_PATH = "/services/T0A1B2C3D/B4E5F6G7H/Yx3Kq9Rw2Zt8Lm5Np1Vb6Cd4"
API = "https://slack.com/api/chat.postMessage"
OK = {"ok": True, "channel": CHANNEL, "ts": "1712345678.000100", "message": {"text": "..."}}


def escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


async def test_bot_token_posts_to_the_web_api(production, make_config):
    production.respond(reply(200, OK))
    report = await send(make_config(SLACK_BOT_TOKEN=TOKEN, SLACK_CHANNEL=CHANNEL))

    assert report.status == "delivered", report
    request = production.last
    assert request.method == "POST"
    assert request.url == API
    assert request.raw_query == ""  # the token is in no URL
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    assert TOKEN not in request.text  # nor in the body
    assert request.json() == {"channel": CHANNEL, "text": escaped(f"{NASTY.title}\n\n{NASTY.content}")}


async def test_control_characters_are_escaped_and_nothing_else(production, make_config):
    production.respond(reply(200, OK))
    note = Notification(title="<!channel> & <@U024BE7LH>", content='a=1&b=2 <b>bold</b> &amp; *star* 构建 🎉 "q"')
    await send(make_config(SLACK_BOT_TOKEN=TOKEN, SLACK_CHANNEL=CHANNEL), note)
    text = production.last.json()["text"]
    assert text == (
        "&lt;!channel&gt; &amp; &lt;@U024BE7LH&gt;\n\n"
        'a=1&amp;b=2 &lt;b&gt;bold&lt;/b&gt; &amp;amp; *star* 构建 🎉 "q"'  # a typed "&amp;" stays visible as typed
    )
    assert "<" not in text and ">" not in text  # no mention or link can be formed


async def test_username_and_icon_when_set(production, make_config):
    production.respond(reply(200, OK))
    config = make_config(
        SLACK_BOT_TOKEN=TOKEN, SLACK_CHANNEL="#builds", SLACK_USERNAME="CI bot", SLACK_ICON_EMOJI=":robot_face:"
    )
    report = await send(config, Notification(title="t", content="c"))
    assert report.status == "delivered", report
    assert production.last.json() == {
        "channel": "#builds",
        "text": "t\n\nc",
        "username": "CI bot",
        "icon_emoji": ":robot_face:",
    }


@pytest.mark.parametrize(
    ("answer", "shown"),
    [
        ({"ok": False, "error": "not_in_channel"}, "not_in_channel (invite the app to the channel"),
        ({"ok": False, "error": "invalid_auth"}, "invalid_auth (check SLACK_BOT_TOKEN)"),
        ({"ok": False, "error": "missing_scope", "needed": "chat:write", "provided": "users:read"}, "needs chat:write"),
        ({"ok": False}, "ok False"),
        ({"channel": CHANNEL}, "ok None"),  # no ok at all: not a success
    ],
)
async def test_ok_false_at_http_200_is_a_failure(production, make_config, answer, shown):
    production.respond(reply(200, answer))
    report = await send(make_config(SLACK_BOT_TOKEN=TOKEN, SLACK_CHANNEL=CHANNEL))
    (result,) = report.results
    assert not result.ok and result.http_status == 200 and result.attempts == 1
    assert shown in result.error
    assert TOKEN not in report.model_dump_json()


async def test_web_api_429_waits_what_retry_after_says(production, make_config):
    production.respond(
        [reply(429, {"ok": False, "error": "ratelimited"}, headers={"Retry-After": "1"}), reply(200, OK)]
    )
    started = time.perf_counter()
    report = await send(make_config(SLACK_BOT_TOKEN=TOKEN, SLACK_CHANNEL=CHANNEL))
    (result,) = report.results
    assert result.ok and result.attempts == 2
    assert 0.95 <= time.perf_counter() - started < 3  # Slack's wait, not the tiny test backoff


async def test_webhook_posts_json_to_its_url(recorder, make_config):
    recorder.respond(reply(200, text="ok"))
    url = recorder.url + HOOK_PATH
    report = await send(make_config(SLACK_WEBHOOK_URL=url))

    assert report.status == "delivered", report
    request = recorder.last
    assert request.method == "POST"
    assert request.url == url
    assert "authorization" not in request.headers
    assert request.headers["content-type"].startswith("application/json")
    assert request.json() == {"text": escaped(f"{NASTY.title}\n\n{NASTY.content}")}


async def test_webhook_on_the_production_host(production, make_config):
    production.respond(reply(200, text="ok"))
    url = "https://hooks.slack.com" + HOOK_PATH
    report = await send(make_config(SLACK_WEBHOOK_URL=url, SLACK_CHANNEL="#legacy-override"))
    assert report.status == "delivered", report
    assert production.last.url == url
    assert production.last.json()["channel"] == "#legacy-override"  # only legacy webhooks honour it; Slack decides


@pytest.mark.parametrize(
    ("status", "body", "shown"),
    [
        (400, "invalid_payload", "HTTP 400: invalid_payload"),
        (404, "no_service", "no_service (this webhook was removed"),
        (410, "channel_is_archived", "channel_is_archived (the channel is archived)"),
        (403, "action_prohibited", "action_prohibited"),
        (200, "<html>sign in</html>", "not Slack's answer"),  # a 200 that is not Slack's plain "ok"
    ],
)
async def test_webhook_failures(recorder, make_config, status, body, shown):
    recorder.respond(reply(status, text=body))
    url = recorder.url + HOOK_PATH
    report = await send(make_config(SLACK_WEBHOOK_URL=url))
    (result,) = report.results
    assert not result.ok and result.http_status == status and result.attempts == 1
    assert shown in result.error
    dump = report.model_dump_json()
    assert url not in dump and "Yx3Kq9Rw2Zt8Lm5Np1Vb6Cd4" not in dump


async def test_webhook_secret_masked_when_echoed(recorder, make_config):
    url = recorder.url + HOOK_PATH
    recorder.respond(reply(404, text=f"no_service for {url}"))
    report = await send(make_config(SLACK_WEBHOOK_URL=url))
    (result,) = report.results
    assert not result.ok and "***" in result.error
    assert "Yx3Kq9Rw2Zt8Lm5Np1Vb6Cd4" not in report.model_dump_json()


async def test_size_limit_counts_the_escaped_text(production, make_config):
    production.respond(reply(200, OK))
    note = Notification(title="t&t", content="&" * 12_000)  # 12,000 characters typed, 60,000 once escaped
    report = await send(make_config(SLACK_BOT_TOKEN=TOKEN, SLACK_CHANNEL=CHANNEL), note)
    assert report.status == "delivered", report
    text = production.last.json()["text"]
    assert len(text) <= 40_000
    assert text.startswith("t&amp;t\n\n&amp;") and text.endswith(escaped(MARKER))
    assert len(text) > 39_990  # cut at an entity boundary, not far short of the limit
    body = text.removeprefix("t&amp;t\n\n").removesuffix(escaped(MARKER))
    assert body == "&amp;" * (len(body) // 5)  # never half an entity


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"SLACK_BOT_TOKEN": TOKEN}, "SLACK_BOT_TOKEN needs SLACK_CHANNEL"),
        (
            {"SLACK_BOT_TOKEN": TOKEN, "SLACK_CHANNEL": CHANNEL, "SLACK_WEBHOOK_URL": "https://hooks.slack.com/x"},
            "not both",
        ),
        ({"SLACK_WEBHOOK_URL": "hooks.slack.com/services/T/B/X"}, "SLACK_WEBHOOK_URL"),
        ({"SLACK_BOT_TOKEN": "https://hooks.slack.com/services/T/B/X", "SLACK_CHANNEL": CHANNEL}, "is a URL"),
    ],
)
async def test_misconfiguration_is_a_clear_problem(make_config, env, problem):
    config = make_config(**env)
    assert "slack" not in config.channels
    assert problem in config.problems["slack"]
    assert TOKEN not in config.problems["slack"]


async def test_channel_alone_does_not_enable_slack(make_config):
    config = make_config(SLACK_CHANNEL=CHANNEL)
    assert "slack" not in config.channels and "slack" not in config.problems
