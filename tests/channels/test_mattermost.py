import pytest

from mcp_push.models import Notification
from tests.conftest import NASTY, send
from tests.recorder import reply

KEY = "xq7w3mbgk3f8dyr5t1oz9ajc6e"
PATH = f"/hooks/{KEY}"


def hook(recorder) -> str:
    return recorder.url + PATH


async def test_text_only_when_nothing_else_is_set(recorder, make_config):
    recorder.respond(reply(200, text="ok"))
    report = await send(make_config(MATTERMOST_WEBHOOK_URL=hook(recorder)))

    assert report.status == "delivered", report
    request = recorder.last
    assert request.method == "POST"
    assert request.url == hook(recorder)
    assert request.headers["content-type"].startswith("application/json")  # not Slack's payload= form
    assert request.json() == {"text": f"{NASTY.title}\n\n{NASTY.content}"}


async def test_channel_and_username_when_set(recorder, make_config):
    recorder.respond(reply(200, text="ok"))
    config = make_config(
        MATTERMOST_WEBHOOK_URL=hook(recorder), MATTERMOST_CHANNEL="town-square", MATTERMOST_USERNAME="ci-bot"
    )
    report = await send(config, Notification(title="t", content="c"))
    assert report.status == "delivered", report
    assert recorder.last.json() == {"text": "t\n\nc", "channel": "town-square", "username": "ci-bot"}


@pytest.mark.parametrize(
    ("answer", "shown"),
    [
        (
            reply(
                400,
                {
                    "id": "web.incoming_webhook.channel.app_error",
                    "message": "Couldn't find the channel.",
                    "detailed_error": "",
                    "request_id": "hoan6o9ws7rp5xj7wu9rmysrte",
                    "status_code": 400,
                },
            ),
            "Couldn't find the channel. (web.incoming_webhook.channel.app_error)",
        ),
        (
            reply(
                404,
                {
                    "id": "web.incoming_webhook.invalid.app_error",
                    "message": "Invalid webhook.",
                    "detailed_error": "hook_id=xq7w",
                    "status_code": 404,
                },
            ),
            "Invalid webhook.: hook_id=xq7w (web.incoming_webhook.invalid.app_error)",
        ),
        (reply(502, text="<html>Bad Gateway</html>"), "Bad Gateway"),  # the proxy's page, quoted by the base
        (reply(200, text="<html>Sign in with SSO</html>"), "not Mattermost's answer"),
    ],
)
async def test_failures(recorder, make_config, answer, shown):
    recorder.respond(answer)
    report = await send(make_config(MATTERMOST_WEBHOOK_URL=hook(recorder), MCP_PUSH_RETRIES="0"))
    (result,) = report.results
    assert not result.ok and result.http_status == answer.status
    assert shown in result.error
    assert KEY not in report.model_dump_json()


async def test_hook_key_masked_when_echoed(recorder, make_config):
    recorder.respond(reply(404, {"id": "web.incoming_webhook.invalid.app_error", "message": f"no hook {KEY}"}))
    report = await send(make_config(MATTERMOST_WEBHOOK_URL=hook(recorder)))
    (result,) = report.results
    assert not result.ok and "no hook ***" in result.error
    assert KEY not in report.model_dump_json()


async def test_long_text_is_left_to_mattermost_to_split(recorder, make_config):
    recorder.respond(reply(200, text="ok"))
    note = Notification(title="t", content="长" * 20_000)
    report = await send(make_config(MATTERMOST_WEBHOOK_URL=hook(recorder)), note)
    assert report.status == "delivered", report
    assert recorder.last.json()["text"] == f"t\n\n{note.content}"


async def test_url_without_scheme_is_a_problem(make_config):
    config = make_config(MATTERMOST_WEBHOOK_URL=f"chat.example.com/hooks/{KEY}")
    assert "mattermost" not in config.channels
    assert "MATTERMOST_WEBHOOK_URL" in config.problems["mattermost"]
