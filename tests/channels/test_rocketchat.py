import time

import pytest

from tests.conftest import NASTY, send
from tests.recorder import reply

INTEGRATION = "D2oXe5wZEAKFYKds6"
TOKEN = "eQJ2dyMq6yPvAbNdx6uLjuiLJvQNSkSoWfQfi8kNwPQ6bsoc"
PATH = f"/hooks/{INTEGRATION}/{TOKEN}"


def hook(recorder) -> str:
    return recorder.url + PATH


async def test_text_message(recorder, make_config):
    recorder.respond(reply(200, {"success": True}))
    report = await send(make_config(ROCKETCHAT_WEBHOOK_URL=hook(recorder)))

    assert report.status == "delivered", report
    request = recorder.last
    assert request.method == "POST"
    assert request.url == hook(recorder)
    assert request.headers["content-type"].startswith("application/json")
    assert request.json() == {"text": f"{NASTY.title}\n\n{NASTY.content}"}


@pytest.mark.parametrize(
    ("answer", "shown"),
    [
        (
            reply(404, {"success": False, "error": "Invalid integration id or token provided."}),
            "Invalid integration id",
        ),
        (
            reply(400, {"success": False, "error": "overriding destination channel is disabled for this integration"}),
            "overriding destination channel is disabled",
        ),
        (reply(200, {"success": False, "error": "unknown-error"}), "unknown-error"),  # false at 200 still fails
        (reply(200, {"success": False}), "success False"),
        (reply(200, text="<html>login</html>"), "not Rocket.Chat's answer"),
    ],
)
async def test_failures(recorder, make_config, answer, shown):
    recorder.respond(answer)
    report = await send(make_config(ROCKETCHAT_WEBHOOK_URL=hook(recorder)))
    (result,) = report.results
    assert not result.ok and result.http_status == answer.status and result.attempts == 1
    assert shown in result.error
    assert TOKEN not in report.model_dump_json()


async def test_disabled_integration_is_reported_not_retried(recorder, make_config):
    recorder.respond(reply(503, {"success": False, "error": "Service Unavailable"}))
    report = await send(make_config(ROCKETCHAT_WEBHOOK_URL=hook(recorder)))
    (result,) = report.results
    assert not result.ok and result.attempts == 1 and not result.pending
    assert "integration is disabled" in result.error
    assert len(recorder.requests) == 1


async def test_a_server_down_is_still_retried(recorder, make_config):
    recorder.respond([reply(503, text="<html>upstream down</html>"), reply(200, {"success": True})])
    report = await send(make_config(ROCKETCHAT_WEBHOOK_URL=hook(recorder)))
    (result,) = report.results
    assert result.ok and result.attempts == 2


async def test_rate_limiter_reset_is_honoured(recorder, make_config):
    limited = {
        "success": False,
        "error": "Error, too many requests. Please slow down. You must wait 1 seconds before trying this endpoint "
        "again. [error-too-many-requests]",
    }

    def answer(request):
        if len(recorder.requests) == 1:
            reset = str(round(time.time() * 1000) + 600)  # epoch milliseconds, 0.6 s from now
            return reply(429, limited, headers={"X-RateLimit-Reset": reset, "X-RateLimit-Remaining": "0"})
        return reply(200, {"success": True})

    recorder.respond(answer)
    started = time.perf_counter()
    report = await send(make_config(ROCKETCHAT_WEBHOOK_URL=hook(recorder)))
    elapsed = time.perf_counter() - started
    (result,) = report.results
    assert result.ok and result.attempts == 2
    assert 0.45 <= elapsed < 2  # the limiter's wait, not the tiny test backoff


async def test_token_masked_when_echoed(recorder, make_config):
    recorder.respond(reply(404, {"success": False, "error": f"Invalid integration {INTEGRATION} or token {TOKEN}"}))
    report = await send(make_config(ROCKETCHAT_WEBHOOK_URL=hook(recorder)))
    (result,) = report.results
    assert not result.ok and "Invalid integration" in result.error
    assert TOKEN not in report.model_dump_json()


async def test_url_without_scheme_is_a_problem(make_config):
    config = make_config(ROCKETCHAT_WEBHOOK_URL=f"chat.example.com{PATH}")
    assert "rocketchat" not in config.channels
    assert "ROCKETCHAT_WEBHOOK_URL" in config.problems["rocketchat"]
