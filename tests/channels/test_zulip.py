import base64

import pytest

from mcp_push.models import Notification
from tests.conftest import NASTY, send
from tests.recorder import reply

EMAIL = "mcp-bot@yourorg.zulipchat.com"
KEY = "zUl1pAp1KeY0123456789abcdefABCDEF"
OK = {"result": "success", "msg": "", "id": 42}
TEXT = f"{NASTY.title}\n\n{NASTY.content}"


def config(make_config, recorder, **extra):
    return make_config(ZULIP_SITE=f"{recorder.url}/", ZULIP_EMAIL=EMAIL, ZULIP_API_KEY=KEY, **extra)


async def test_channel_message_with_basic_auth(recorder, make_config):
    recorder.respond(reply(200, OK))
    report = await send(config(make_config, recorder, ZULIP_TO="ops alerts"))

    assert report.status == "delivered", report
    request = recorder.last
    assert request.method == "POST"
    assert request.url == f"{recorder.url}/api/v1/messages"  # trailing slash of the site stripped
    assert request.raw_query == ""
    assert request.headers["authorization"] == "Basic " + base64.b64encode(f"{EMAIL}:{KEY}".encode()).decode()
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    # The name JSON-quoted: Zulip parses `to` as JSON first, so "[ops]" or "42" would otherwise change meaning.
    assert request.form() == {"type": "stream", "to": '"ops alerts"', "topic": "mcp-push", "content": TEXT}


async def test_channel_by_id_with_its_own_topic(recorder, make_config):
    recorder.respond(reply(200, OK))
    report = await send(config(make_config, recorder, ZULIP_TO="42", ZULIP_TOPIC="nightly builds"))
    assert report.status == "delivered", report
    assert recorder.last.form() == {"type": "stream", "to": "42", "topic": "nightly builds", "content": TEXT}


async def test_addresses_are_a_direct_message(recorder, make_config):
    recorder.respond(reply(200, OK))
    report = await send(config(make_config, recorder, ZULIP_TO="alice@example.com, bob@example.com"))
    assert report.status == "delivered", report
    assert recorder.last.form() == {"type": "direct", "to": '["alice@example.com", "bob@example.com"]', "content": TEXT}


async def test_a_topic_makes_an_address_a_channel_name(recorder, make_config):
    recorder.respond(reply(200, OK))
    report = await send(config(make_config, recorder, ZULIP_TO="ops@night", ZULIP_TOPIC="pager"))
    assert report.status == "delivered", report
    assert recorder.last.form() == {"type": "stream", "to": '"ops@night"', "topic": "pager", "content": TEXT}


async def test_unknown_channel_is_a_failure(recorder, make_config):
    recorder.respond(
        reply(
            400,
            {
                "result": "error",
                "msg": "Channel 'nope' does not exist",
                "code": "STREAM_DOES_NOT_EXIST",
                "stream": "nope",
            },
        )
    )
    report = await send(config(make_config, recorder, ZULIP_TO="nope"))
    assert report.status == "failed"
    (result,) = report.results
    assert not result.ok and result.http_status == 400 and not result.pending
    assert "STREAM_DOES_NOT_EXIST: Channel 'nope' does not exist" in result.error
    assert KEY not in report.model_dump_json()


async def test_invalid_api_key_is_a_failure(recorder, make_config):
    recorder.respond(reply(401, {"result": "error", "msg": "Invalid API key", "code": "INVALID_API_KEY"}))
    report = await send(config(make_config, recorder, ZULIP_TO="ops"))
    (result,) = report.results
    assert not result.ok and result.http_status == 401
    assert "Invalid API key" in result.error
    dump = report.model_dump_json()
    assert KEY not in dump and base64.b64encode(f"{EMAIL}:{KEY}".encode()).decode() not in dump


async def test_rate_limit_waits_what_zulip_asks(recorder, make_config):
    limited = {"result": "error", "msg": "API usage exceeded rate limit", "code": "RATE_LIMIT_HIT", "retry-after": 0.3}
    recorder.respond([reply(429, limited), reply(200, OK)])
    report = await send(config(make_config, recorder, ZULIP_TO="ops"))
    (result,) = report.results
    assert result.ok and result.attempts == 2
    assert recorder.times[1] - recorder.times[0] >= 0.29


async def test_200_that_is_not_zulips_answer_is_a_failure(recorder, make_config):
    recorder.respond(reply(200, text="<html>Sign in to continue</html>"))  # e.g. an SSO proxy in front
    report = await send(config(make_config, recorder, ZULIP_TO="ops"))
    (result,) = report.results
    assert not result.ok and "Sign in to continue" in result.error


async def test_long_message_is_cut_to_10000_characters(recorder, make_config):
    recorder.respond(reply(200, OK))
    report = await send(config(make_config, recorder, ZULIP_TO="ops"), Notification(title="Log", content="长" * 12_000))
    assert report.status == "delivered", report
    content = recorder.last.form()["content"]
    assert len(content) <= 10_000 and content.startswith("Log\n\n长") and content.endswith("…[truncated]")


@pytest.mark.parametrize(
    ("env", "field"), [({"ZULIP_TOPIC": "t" * 61}, "ZULIP_TOPIC"), ({"ZULIP_SITE": "x.zulipchat.com"}, "ZULIP_SITE")]
)
async def test_bad_settings_are_a_config_problem(make_config, env, field):
    settings = {"ZULIP_SITE": "https://x.zulipchat.com", "ZULIP_EMAIL": EMAIL, "ZULIP_API_KEY": KEY, "ZULIP_TO": "ops"}
    conf = make_config(**(settings | env))
    assert "zulip" not in conf.channels
    assert field in conf.problems["zulip"]
