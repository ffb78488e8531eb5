import pytest

from channels.limits import MARKER
from mcp_push.models import Notification
from tests.conftest import NASTY, send
from tests.recorder import reply

TOKEN = "azGDORePK8gMaC0QOYAMyEEuzJnyUi"
USER = "uQiRzpo4DXghDmr9QzzfQu27cmVRsG"
OK = {"status": 1, "request": "647d2300-702c-4b38-8b2f-d56326ae460b"}


async def test_form_post_with_token_and_user_in_the_body(production, make_config):
    production.respond(reply(200, OK))
    report = await send(make_config(PUSHOVER_TOKEN=TOKEN, PUSHOVER_USER=USER))

    assert report.status == "delivered", report
    request = production.last
    assert request.method == "POST"
    assert request.url == "https://api.pushover.net/1/messages.json"
    assert request.raw_query == ""  # no credential in the URL
    assert "authorization" not in request.headers
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.form() == {
        "token": TOKEN,
        "user": USER,
        "title": NASTY.title,
        "message": NASTY.content,
        "priority": "0",
    }


async def test_optional_device_sound_and_priority(production, make_config):
    production.respond(reply(200, OK))
    env = dict(PUSHOVER_DEVICE="iphone, desk-pc", PUSHOVER_SOUND="siren", PUSHOVER_PRIORITY="1")
    report = await send(make_config(PUSHOVER_TOKEN=TOKEN, PUSHOVER_USER=USER, **env))
    assert report.status == "delivered", report
    form = production.last.form()
    assert (form["device"], form["sound"], form["priority"]) == ("iphone,desk-pc", "siren", "1")
    assert "retry" not in form and "expire" not in form


async def test_emergency_priority_carries_retry_and_expire(production, make_config):
    production.respond(reply(200, {**OK, "receipt": "rLqVuqTRh62UzxtmqiaLzQmVcPgiCy"}))
    report = await send(make_config(PUSHOVER_TOKEN=TOKEN, PUSHOVER_USER=USER, PUSHOVER_PRIORITY="2"))
    assert report.status == "delivered", report
    form = production.last.form()
    assert form["priority"] == "2"
    assert 30 <= int(form["retry"]) <= int(form["expire"]) <= 10800
    assert (form["retry"], form["expire"]) == ("60", "3600")


async def test_status_0_quotes_the_errors(production, make_config):
    production.respond(
        reply(
            400,
            {
                "user": "invalid",
                "errors": ["user identifier is not a valid user, group, or subscribed user key"],
                "status": 0,
                "request": "5042853c-402d-4a18-abcb-168734a801de",
            },
        )
    )
    report = await send(make_config(PUSHOVER_TOKEN=TOKEN, PUSHOVER_USER=USER))
    assert report.status == "failed"
    (result,) = report.results
    assert not result.ok and result.http_status == 400 and result.attempts == 1  # a 4xx is never resent
    assert "status 0" in result.error and "not a valid user, group, or subscribed user key" in result.error
    dumped = report.model_dump_json()
    assert TOKEN not in dumped and USER not in dumped


async def test_status_0_with_http_200_is_a_failure(production, make_config):
    production.respond(reply(200, {"status": 0, "errors": ["message cannot be blank"], "request": "r"}))
    report = await send(make_config(PUSHOVER_TOKEN=TOKEN, PUSHOVER_USER=USER))
    (result,) = report.results
    assert not result.ok and result.http_status == 200
    assert "message cannot be blank" in result.error


async def test_monthly_limit_429_is_not_retried(production, make_config):
    answer = reply(
        429,
        {"status": 0, "errors": ["application has exceeded its monthly message limit"], "request": "r"},
        headers={"X-Limit-App-Limit": "10000", "X-Limit-App-Remaining": "0", "X-Limit-App-Reset": "1735689600"},
    )
    production.respond(answer)
    report = await send(make_config(PUSHOVER_TOKEN=TOKEN, PUSHOVER_USER=USER))
    (result,) = report.results
    assert not result.ok and result.http_status == 429
    assert result.attempts == 1 and len(production.requests) == 1
    assert not result.pending  # waiting seconds cannot bring the month's allowance back
    assert "monthly message limit" in result.error and "2025-01-01 00:00 UTC" in result.error
    assert TOKEN not in report.model_dump_json()


async def test_server_error_waits_the_5_seconds_pushover_asks(production, make_config):
    production.respond(reply(503, text="Service Unavailable"))
    report = await send(make_config(PUSHOVER_TOKEN=TOKEN, PUSHOVER_USER=USER, MCP_PUSH_DEADLINE="2"))
    (result,) = report.results
    assert not result.ok and result.http_status == 503 and result.pending
    assert len(production.requests) == 1  # the retry would be due after the deadline, so it is not made
    assert "HTTP 503" in result.error and "wait 5 s" in result.error


async def test_long_title_and_message_are_cut_to_pushover_limits(production, make_config):
    production.respond(reply(200, OK))
    note = Notification(title="T" * 256, content="长" * 1500)
    report = await send(make_config(PUSHOVER_TOKEN=TOKEN, PUSHOVER_USER=USER), note)
    assert report.status == "delivered", report
    form = production.last.form()
    assert len(form["title"]) == 250 and form["title"].endswith("…")
    assert len(form["message"]) == 1024 and form["message"].endswith(MARKER)


@pytest.mark.parametrize(
    ("env", "field"),
    [
        (dict(PUSHOVER_TOKEN=TOKEN[:-1], PUSHOVER_USER=USER), "PUSHOVER_TOKEN"),
        (dict(PUSHOVER_TOKEN=TOKEN, PUSHOVER_USER="me@example.com"), "PUSHOVER_USER"),
        (dict(PUSHOVER_TOKEN=TOKEN, PUSHOVER_USER=USER, PUSHOVER_PRIORITY="3"), "PUSHOVER_PRIORITY"),
        (dict(PUSHOVER_TOKEN=TOKEN, PUSHOVER_USER=USER, PUSHOVER_DEVICE="my phone"), "PUSHOVER_DEVICE"),
    ],
)
async def test_misconfiguration(make_config, env, field):
    config = make_config(**env)
    assert "pushover" not in config.channels
    problem = config.problems["pushover"]
    assert field in problem
    assert TOKEN[:-1] not in problem and USER not in problem  # a key is never echoed
