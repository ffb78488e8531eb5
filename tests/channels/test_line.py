import uuid

import pytest

from channels.limits import MARKER
from mcp_push.models import Notification
from tests.conftest import NASTY, send
from tests.recorder import reply

TOKEN = "f2Qk0v9ZpXw2LmN8rTfYb4JcD6sGe1uOiQ+Aa/Bb7Cc=="
TO = "U4af4980629d8a4f2b9c3e0d1f2a3b4c5"
OK = {"sentMessages": [{"id": "461230966842064897", "quoteToken": "IStG5h1Tz7b..."}]}
TEXT = f"{NASTY.title}\n\n{NASTY.content}"


async def test_push_with_bearer_token_and_retry_key(production, make_config):
    production.respond(reply(200, OK))
    report = await send(make_config(LINE_CHANNEL_ACCESS_TOKEN=TOKEN, LINE_TO=TO))

    assert report.status == "delivered", report
    request = production.last
    assert request.method == "POST"
    assert request.url == "https://api.line.me/v2/bot/message/push"
    assert request.raw_query == ""
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"].startswith("application/json")
    assert uuid.UUID(request.headers["x-line-retry-key"]).version == 4
    assert request.json() == {"to": TO, "messages": [{"type": "text", "text": TEXT}]}


async def test_each_message_gets_its_own_retry_key(production, make_config):
    production.respond(reply(200, OK))
    config = make_config(LINE_CHANNEL_ACCESS_TOKEN=TOKEN, LINE_TO=TO)
    await send(config)
    await send(config, Notification(title="second", content="message"))
    first, second = (r.headers["x-line-retry-key"] for r in production.requests)
    assert first != second


async def test_retry_after_500_reuses_the_key(production, make_config):
    production.respond([reply(500, {"message": "An error occurred in the server"}), reply(200, OK)])
    report = await send(make_config(LINE_CHANNEL_ACCESS_TOKEN=TOKEN, LINE_TO=TO))
    assert report.status == "delivered", report
    assert report.results[0].attempts == 2
    keys = {r.headers["x-line-retry-key"] for r in production.requests}
    assert len(production.requests) == 2 and len(keys) == 1
    assert production.requests[0].json() == production.requests[1].json()


async def test_409_for_the_retry_key_counts_as_delivered(production, make_config):
    # The first attempt reached LINE although it answered 500; the retry with the same key is refused as a repeat.
    accepted = reply(
        409,
        {"message": "The retry key is already accepted", "sentMessages": OK["sentMessages"]},
        headers={"X-Line-Accepted-Request-Id": "3a2b5d6c-0f1e-4d7a-9b8c-1e2f3a4b5c6d"},
    )
    production.respond([reply(500, {"message": "An error occurred in the server"}), accepted])
    report = await send(make_config(LINE_CHANNEL_ACCESS_TOKEN=TOKEN, LINE_TO=TO))
    assert report.status == "delivered", report
    (result,) = report.results
    assert result.ok and result.error is None and result.http_status == 409 and result.attempts == 2
    assert len(production.requests) == 2  # nothing sent after the 409
    assert len({r.headers["x-line-retry-key"] for r in production.requests}) == 1


async def test_error_message_and_details_are_quoted(production, make_config):
    error = {
        "message": "The request body has 1 error(s)",
        "details": [{"message": "Length must be between 0 and 5000", "property": "messages[0].text"}],
    }
    production.respond(reply(400, error))
    report = await send(make_config(LINE_CHANNEL_ACCESS_TOKEN=TOKEN, LINE_TO=TO))
    assert report.status == "failed"
    (result,) = report.results
    assert not result.ok and result.http_status == 400 and result.attempts == 1
    assert result.error == (
        "HTTP 400: The request body has 1 error(s) (messages[0].text: Length must be between 0 and 5000)"
    )


async def test_invalid_token_is_a_failure_and_masked(production, make_config):
    production.respond(reply(401, {"message": "Authentication failed. Confirm that the access token is valid."}))
    report = await send(make_config(LINE_CHANNEL_ACCESS_TOKEN=TOKEN, LINE_TO=TO))
    (result,) = report.results
    assert not result.ok and result.http_status == 401 and "Authentication failed" in result.error
    assert TOKEN not in report.model_dump_json()


async def test_monthly_limit_is_not_retried(production, make_config):
    production.respond(reply(429, {"message": "You have reached your monthly limit."}))
    report = await send(make_config(LINE_CHANNEL_ACCESS_TOKEN=TOKEN, LINE_TO=TO))
    (result,) = report.results
    assert not result.ok and result.http_status == 429 and not result.pending
    assert len(production.requests) == 1
    assert "monthly limit" in result.error


async def test_rate_limit_is_retried(production, make_config):
    too_fast = reply(429, {"message": "The API rate limit has been exceeded. Try again later."})
    production.respond([too_fast, reply(200, OK)])
    report = await send(make_config(LINE_CHANNEL_ACCESS_TOKEN=TOKEN, LINE_TO=TO))
    assert report.status == "delivered", report
    assert len(production.requests) == 2


async def test_text_is_cut_to_5000(production, make_config):
    production.respond(reply(200, OK))
    note = Notification(title="long", content="😀" * 3000)  # 6,000 UTF-16 units
    report = await send(make_config(LINE_CHANNEL_ACCESS_TOKEN=TOKEN, LINE_TO=TO), note)
    assert report.status == "delivered", report
    text = production.last.json()["messages"][0]["text"]
    assert len(text.encode("utf-16-le")) // 2 <= 5000 and text.endswith(MARKER)


@pytest.mark.parametrize("to", ["@mylineid", "u4af4980629d8a4f2b9c3e0d1f2a3b4c5", TO[:-1], "Taro Yamada"])
async def test_recipient_must_be_a_line_id(make_config, to):
    config = make_config(LINE_CHANNEL_ACCESS_TOKEN=TOKEN, LINE_TO=to)
    assert "line" not in config.channels
    assert "LINE_TO" in config.problems["line"]
