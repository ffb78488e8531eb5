import time

import pytest

from channels.limits import MARKER
from mcp_push.models import Notification
from tests.conftest import NASTY, send
from tests.recorder import reply

HOOK_ID = "1234567890123456789"
HOOK_TOKEN = "Xq3Vb8Nm1Lk5Jh7Gf2Ds9Aa0Pz4Ow6Ie-Ru3Ty8_Ui5Op1As7Df2Gh4"
PATH = f"/api/webhooks/{HOOK_ID}/{HOOK_TOKEN}"
MESSAGE = {"id": "1299999999999999999", "channel_id": "1100000000000000000", "content": "", "embeds": [{}]}


def hook(recorder) -> str:
    return recorder.url + PATH


async def test_embed_with_wait_and_no_mentions(recorder, make_config):
    recorder.respond(reply(200, MESSAGE))
    report = await send(make_config(DISCORD_WEBHOOK_URL=hook(recorder)))

    assert report.status == "delivered", report
    request = recorder.last
    assert request.method == "POST"
    assert request.url == hook(recorder)
    assert request.query_all == {"wait": ["true"]}  # the answer is the saved message, errors are real
    assert request.headers["content-type"].startswith("application/json")
    assert request.json() == {
        "embeds": [{"title": NASTY.title, "description": NASTY.content}],
        "allowed_mentions": {"parse": []},  # no @everyone, role or user ping, whatever the text says
    }


async def test_username_avatar_and_a_thread_in_the_url(recorder, make_config):
    recorder.respond(reply(200, MESSAGE))
    config = make_config(
        DISCORD_WEBHOOK_URL=f"{hook(recorder)}?thread_id=1188&wait=false",
        DISCORD_USERNAME="CI 机器人",
        DISCORD_AVATAR_URL="https://example.com/bot.png",
    )
    report = await send(config, Notification(title="@everyone deploy", content="<@&123> @here done"))
    assert report.status == "delivered", report
    request = recorder.last
    assert request.query_all == {"thread_id": ["1188"], "wait": ["true"]}  # the thread kept, wait forced on
    assert request.json() == {
        "embeds": [{"title": "@everyone deploy", "description": "<@&123> @here done"}],
        "allowed_mentions": {"parse": []},
        "username": "CI 机器人",
        "avatar_url": "https://example.com/bot.png",
    }


async def test_429_retry_after_from_the_body_is_honoured(recorder, make_config):
    limited = {"message": "You are being rate limited.", "retry_after": 0.4, "global": False}
    # The header is rounded up to whole seconds; the body's fractional value is the precise one.
    recorder.respond([reply(429, limited, headers={"Retry-After": "5"}), reply(200, MESSAGE)])
    started = time.perf_counter()
    report = await send(make_config(DISCORD_WEBHOOK_URL=hook(recorder)))
    elapsed = time.perf_counter() - started
    (result,) = report.results
    assert result.ok and result.attempts == 2
    assert 0.38 <= elapsed < 2
    assert len(recorder.requests) == 2


async def test_429_past_the_deadline_is_not_waited_for(recorder, make_config):
    limited = {"message": "You are being rate limited.", "retry_after": 64.57, "global": True}
    recorder.respond(reply(429, limited))
    started = time.perf_counter()
    report = await send(make_config(DISCORD_WEBHOOK_URL=hook(recorder), MCP_PUSH_DEADLINE="5"))
    assert time.perf_counter() - started < 2
    (result,) = report.results
    assert not result.ok and result.attempts == 1 and result.pending
    assert "You are being rate limited. (global)" in result.error and "asked to wait 64.57 s" in result.error


async def test_429_without_json_uses_the_header(recorder, make_config):
    recorder.respond([reply(429, text="error code: 1015", headers={"Retry-After": "1"}), reply(200, MESSAGE)])
    started = time.perf_counter()
    report = await send(make_config(DISCORD_WEBHOOK_URL=hook(recorder)))
    (result,) = report.results
    assert result.ok and result.attempts == 2
    assert time.perf_counter() - started >= 0.95


@pytest.mark.parametrize(
    ("status", "body", "shown"),
    [
        (404, {"message": "Unknown Webhook", "code": 10015}, "Unknown Webhook (code 10015)"),
        (401, {"message": "Invalid Webhook Token", "code": 50027}, "Invalid Webhook Token (code 50027)"),
        (
            400,
            {
                "code": 50035,
                "message": "Invalid Form Body",
                "errors": {
                    "username": {
                        "_errors": [{"code": "USERNAME_INVALID", "message": 'Username cannot contain "discord"'}]
                    }
                },
            },
            'Invalid Form Body (code 50035): username: Username cannot contain "discord"',
        ),
        (
            400,
            {
                "code": 50035,
                "message": "Invalid Form Body",
                "errors": {
                    "embeds": {
                        "0": {
                            "title": {
                                "_errors": [
                                    {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 256 or fewer in length."}
                                ]
                            }
                        }
                    }
                },
            },
            "embeds.0.title: Must be 256 or fewer in length.",
        ),
        (200, {"status": "queued"}, "no message id"),  # a 200 that is not the created message
    ],
)
async def test_failures_quote_discord(recorder, make_config, status, body, shown):
    recorder.respond(reply(status, body))
    report = await send(make_config(DISCORD_WEBHOOK_URL=hook(recorder)))
    (result,) = report.results
    assert not result.ok and result.http_status == status and result.attempts == 1
    assert shown in result.error
    assert HOOK_TOKEN not in report.model_dump_json()


async def test_webhook_token_masked_when_echoed(recorder, make_config):
    recorder.respond(reply(404, {"message": f"Unknown Webhook {hook(recorder)}", "code": 10015}))
    report = await send(make_config(DISCORD_WEBHOOK_URL=hook(recorder)))
    (result,) = report.results
    assert not result.ok and "Unknown Webhook" in result.error
    assert HOOK_TOKEN not in report.model_dump_json()


async def test_embed_limits(recorder, make_config):
    recorder.respond(reply(200, MESSAGE))
    note = Notification(title="标" * 256, content="🎉" * 3000)  # 256 characters; 6,000 UTF-16 units
    report = await send(make_config(DISCORD_WEBHOOK_URL=hook(recorder)), note)
    assert report.status == "delivered", report
    (embed,) = recorder.last.json()["embeds"]
    assert embed["title"] == note.title  # exactly 256: kept whole
    assert embed["description"].endswith(MARKER)
    assert len(embed["description"].encode("utf-16-le")) // 2 <= 4096


async def test_title_over_256_units_is_cut(recorder, make_config):
    recorder.respond(reply(200, MESSAGE))
    await send(make_config(DISCORD_WEBHOOK_URL=hook(recorder)), Notification(title="🚀" * 200, content="c"))
    title = recorder.last.json()["embeds"][0]["title"]  # 200 characters, but 400 UTF-16 units
    assert title == "🚀" * 127 + "…"


@pytest.mark.parametrize(
    ("env", "field"),
    [
        ({"DISCORD_WEBHOOK_URL": "discord.com/api/webhooks/1/x"}, "DISCORD_WEBHOOK_URL"),
        (
            {"DISCORD_WEBHOOK_URL": "https://discord.com/api/webhooks/1/x", "DISCORD_AVATAR_URL": "bot.png"},
            "DISCORD_AVATAR_URL",
        ),
    ],
)
async def test_misconfiguration_is_a_problem(make_config, env, field):
    config = make_config(**env)
    assert "discord" not in config.channels
    assert field in config.problems["discord"]
