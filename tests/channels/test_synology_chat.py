import json

import pytest

from tests.conftest import NASTY, send
from tests.recorder import reply

TOKEN = "AbCdEf0123456789xyz"
QUOTED = f"%22{TOKEN}%22"  # as it appears in the webhook URL Synology shows
PATH = "/webapi/entry.cgi"
BASE_QUERY = "api=SYNO.Chat.External&method=incoming&version=2"


def hook(recorder, query: str = f"{BASE_QUERY}&token=") -> str:
    return f"{recorder.url}{PATH}?{query}"


async def test_payload_form_field_and_token_appended(recorder, make_config):
    recorder.respond(reply(200, {"success": True}))
    report = await send(make_config(CHAT_URL=hook(recorder), CHAT_TOKEN=QUOTED))

    assert report.status == "delivered", report
    request = recorder.last
    assert request.method == "POST"
    assert request.url == f"{recorder.url}{PATH}"
    # Appended once, not double-encoded (%2522) and not concatenated raw.
    assert request.raw_query == f"{BASE_QUERY}&token={QUOTED}"
    assert request.query["token"] == f'"{TOKEN}"'
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    form = request.form()
    assert set(form) == {"payload"}
    assert json.loads(form["payload"]) == {"text": f"{NASTY.title}\n\n{NASTY.content}"}


@pytest.mark.parametrize("token", [f'"{TOKEN}"', QUOTED])
async def test_token_typed_or_copied_gives_the_same_url(recorder, make_config, token):
    recorder.respond(reply(200, {"success": True}))
    await send(make_config(CHAT_URL=hook(recorder), CHAT_TOKEN=token))
    assert recorder.last.raw_query == f"{BASE_QUERY}&token={QUOTED}"


async def test_url_that_already_has_a_token_is_used_as_is(recorder, make_config):
    recorder.respond(reply(200, {"success": True}))
    report = await send(make_config(CHAT_URL=hook(recorder, f"{BASE_QUERY}&token={QUOTED}"), CHAT_TOKEN=QUOTED))
    assert report.status == "delivered", report
    assert recorder.last.raw_query == f"{BASE_QUERY}&token={QUOTED}"
    assert recorder.last.query_all["token"] == [f'"{TOKEN}"']


async def test_url_without_token_parameter_gets_one(recorder, make_config):
    recorder.respond(reply(200, {"success": True}))
    await send(make_config(CHAT_URL=hook(recorder, BASE_QUERY), CHAT_TOKEN=QUOTED))
    assert recorder.last.raw_query == f"{BASE_QUERY}&token={QUOTED}"


async def test_business_failure_is_a_failure(recorder, make_config):
    recorder.respond(
        reply(200, {"error": {"code": 120, "errors": {"name": "payload", "reason": "required"}}, "success": False})
    )
    report = await send(make_config(CHAT_URL=hook(recorder), CHAT_TOKEN=QUOTED))
    assert report.status == "failed"
    (result,) = report.results
    assert not result.ok
    assert result.http_status == 200
    assert "120" in result.error and "payload" in result.error and "required" in result.error
    dump = report.model_dump_json()
    assert TOKEN not in dump and hook(recorder) not in dump


async def test_plain_200_without_json_is_success(recorder, make_config):
    recorder.respond(reply(200, text=""))
    report = await send(make_config(CHAT_URL=hook(recorder), CHAT_TOKEN=QUOTED))
    assert report.status == "delivered", report
