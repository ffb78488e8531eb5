import pytest

from tests.conftest import NASTY, send
from tests.recorder import reply

TOKEN = "AgotifyAppToken.0123456789"
OK = {"id": 42, "appid": 1, "message": "m", "title": "t", "priority": 5, "date": "2024-01-01T00:00:00Z"}


async def test_json_message_with_token_header(recorder, make_config):
    recorder.respond(reply(200, OK))
    report = await send(make_config(GOTIFY_URL=f"{recorder.url}/", GOTIFY_TOKEN=TOKEN, GOTIFY_PRIORITY="5"))

    assert report.status == "delivered", report
    request = recorder.last
    assert request.method == "POST"
    assert request.url == f"{recorder.url}/message"  # trailing slash of the base stripped
    assert request.raw_query == ""  # the token is not in the URL
    assert request.headers["x-gotify-key"] == TOKEN
    assert request.headers["content-type"].startswith("application/json")
    assert request.json() == {"title": NASTY.title, "message": NASTY.content, "priority": 5}


async def test_default_priority_and_base_url_with_a_path(recorder, make_config):
    recorder.respond(reply(200, OK))
    report = await send(make_config(GOTIFY_URL=f"{recorder.url}/gotify", GOTIFY_TOKEN=TOKEN))
    assert report.status == "delivered", report
    assert recorder.last.url == f"{recorder.url}/gotify/message"
    assert recorder.last.json()["priority"] == 0


async def test_unauthorized_shows_gotify_error(recorder, make_config):
    recorder.respond(
        reply(
            401,
            {
                "error": "Unauthorized",
                "errorCode": 401,
                "errorDescription": "you need to provide a valid access token or user credentials to access this api",
            },
        )
    )
    report = await send(make_config(GOTIFY_URL=recorder.url, GOTIFY_TOKEN=TOKEN))
    assert report.status == "failed"
    (result,) = report.results
    assert not result.ok and result.http_status == 401
    assert "Unauthorized" in result.error and "provide a valid access token" in result.error
    assert TOKEN not in report.model_dump_json()


@pytest.mark.parametrize(
    ("answer", "shown"),
    [
        (reply(200, text="<html>please log in</html>"), "please log in"),  # e.g. a reverse proxy's login page
        (reply(200, {"status": "ok"}), "no message id"),  # JSON, but not Gotify's message
    ],
)
async def test_200_without_message_id_is_a_failure(recorder, make_config, answer, shown):
    recorder.respond(answer)
    report = await send(make_config(GOTIFY_URL=recorder.url, GOTIFY_TOKEN=TOKEN))
    (result,) = report.results
    assert not result.ok and result.http_status == 200
    assert shown in result.error
    assert TOKEN not in report.model_dump_json()


async def test_non_numeric_priority_is_a_misconfiguration(make_config):
    config = make_config(GOTIFY_URL="http://gotify.local", GOTIFY_TOKEN=TOKEN, GOTIFY_PRIORITY="high")
    assert "gotify" not in config.channels
    assert "GOTIFY_PRIORITY" in config.problems["gotify"]
