import pytest

from channels.limits import MARKER
from mcp_push.models import Notification
from tests.conftest import NASTY, send
from tests.recorder import reply

KEY = "AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI"
TOKEN = "q8Zr2Xv5Nb1Lm7Kp4Jt9Hs3Gd6Fa0QwErTyUiOp-AsD%3D"
SPACE = "AAAAbCdEf12"
QUERY = f"key={KEY}&token={TOKEN}"
PRODUCTION = f"https://chat.googleapis.com/v1/spaces/{SPACE}/messages?{QUERY}"
CREATED = {
    "name": f"spaces/{SPACE}/messages/x1y2z3.x1y2z3",
    "sender": {"name": "users/114022495153014004089", "displayName": "ci", "type": "BOT"},
    "text": "...",
    "space": {"name": f"spaces/{SPACE}"},
}


async def test_text_message_to_the_webhook_url_as_given(production, make_config):
    production.respond(reply(200, CREATED))
    report = await send(make_config(GOOGLE_CHAT_WEBHOOK_URL=PRODUCTION))

    assert report.status == "delivered", report
    request = production.last
    assert request.method == "POST"
    assert request.url == f"https://chat.googleapis.com/v1/spaces/{SPACE}/messages"
    assert request.raw_query == QUERY  # key and token untouched, nothing added
    assert request.headers["content-type"] == "application/json; charset=UTF-8"
    assert request.json() == {"text": f"{NASTY.title}\n\n{NASTY.content}"}


async def test_everyone_mention_is_shown_but_does_not_notify(recorder, make_config):
    recorder.respond(reply(200, CREATED))
    url = f"{recorder.url}/v1/spaces/{SPACE}/messages?{QUERY}"
    note = Notification(title="<users/all> build", content="ping <users/114022495153014004089> <https://x|link>")
    await send(make_config(GOOGLE_CHAT_WEBHOOK_URL=url), note)
    assert recorder.last.json()["text"] == (
        "<\u200busers/all> build\n\nping <\u200busers/114022495153014004089> <https://x|link>"
    )


@pytest.mark.parametrize(
    ("answer", "shown"),
    [
        (
            reply(
                400, {"error": {"code": 400, "message": "Invalid JSON payload received.", "status": "INVALID_ARGUMENT"}}
            ),
            "INVALID_ARGUMENT: Invalid JSON payload received.",
        ),
        (
            reply(
                403,
                {
                    "error": {
                        "code": 403,
                        "message": "The caller does not have permission",
                        "status": "PERMISSION_DENIED",
                    }
                },
            ),
            "PERMISSION_DENIED: The caller does not have permission",
        ),
        (reply(200, {"kind": "something else"}), "no message name in the answer"),
    ],
)
async def test_failures(recorder, make_config, answer, shown):
    recorder.respond(answer)
    url = f"{recorder.url}/v1/spaces/{SPACE}/messages?{QUERY}"
    report = await send(make_config(GOOGLE_CHAT_WEBHOOK_URL=url))
    (result,) = report.results
    assert not result.ok and result.attempts == 1
    assert shown in result.error
    dump = report.model_dump_json()
    assert KEY not in dump and TOKEN not in dump


async def test_key_and_token_masked_when_echoed(recorder, make_config):
    url = f"{recorder.url}/v1/spaces/{SPACE}/messages?{QUERY}"
    echo = {"error": {"code": 400, "message": f"Bad request to {url} (key {KEY})", "status": "INVALID_ARGUMENT"}}
    recorder.respond(reply(400, echo))
    report = await send(make_config(GOOGLE_CHAT_WEBHOOK_URL=url))
    (result,) = report.results
    assert not result.ok and "INVALID_ARGUMENT" in result.error
    dump = report.model_dump_json()
    assert KEY not in dump and TOKEN not in dump and "q8Zr2Xv5Nb1Lm7Kp4Jt9Hs3Gd6Fa0QwErTyUiOp-AsD=" not in dump


async def test_resource_exhausted_is_retried(recorder, make_config):
    exhausted = {"error": {"code": 429, "message": "Resource has been exhausted", "status": "RESOURCE_EXHAUSTED"}}
    recorder.respond([reply(429, exhausted), reply(200, CREATED)])
    url = f"{recorder.url}/v1/spaces/{SPACE}/messages?{QUERY}"
    report = await send(make_config(GOOGLE_CHAT_WEBHOOK_URL=url))
    (result,) = report.results
    assert result.ok and result.attempts == 2


async def test_text_limit_is_4096_with_the_title(recorder, make_config):
    recorder.respond(reply(200, CREATED))
    url = f"{recorder.url}/v1/spaces/{SPACE}/messages?{QUERY}"
    note = Notification(title="标题", content="<users/all>" + "x" * 5000)
    report = await send(make_config(GOOGLE_CHAT_WEBHOOK_URL=url), note)
    assert report.status == "delivered", report
    text = recorder.last.json()["text"]
    assert text.startswith("标题\n\n<\u200busers/all>xxx") and text.endswith(MARKER)
    assert len(text.encode("utf-16-le")) // 2 == 4096  # the zero-width space counted too


async def test_url_without_scheme_is_a_problem(make_config):
    config = make_config(GOOGLE_CHAT_WEBHOOK_URL=f"chat.googleapis.com/v1/spaces/{SPACE}/messages?{QUERY}")
    assert "google_chat" not in config.channels
    problem = config.problems["google_chat"]
    assert "GOOGLE_CHAT_WEBHOOK_URL" in problem and KEY not in problem
