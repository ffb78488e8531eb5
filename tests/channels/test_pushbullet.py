import time

from tests.conftest import NASTY, send
from tests.recorder import reply

TOKEN = "o.Xq1TZd8pLkWm3vNb7sQe2RfYh4JcU6aA"
DEVICE = "ujpah72o0sjAoRtnM0jc"
PUSH = {"active": True, "iden": "ujpah72o0sjAoRtnM0jc", "type": "note", "title": "t", "body": "b", "dismissed": False}
INVALID = {"error": {"cat": "~(=^‥^)", "message": "Access token is missing or invalid.", "type": "invalid_request"}}


async def test_note_as_json_with_access_token_header(production, make_config):
    production.respond(reply(200, PUSH))
    report = await send(make_config(PUSHBULLET_TOKEN=TOKEN))

    assert report.status == "delivered", report
    request = production.last
    assert request.method == "POST"
    assert request.url == "https://api.pushbullet.com/v2/pushes"
    assert request.raw_query == ""  # the token is not in the URL
    assert request.headers["access-token"] == TOKEN
    assert "authorization" not in request.headers
    assert request.headers["content-type"].startswith("application/json")
    assert request.json() == {"type": "note", "title": NASTY.title, "body": NASTY.content}


async def test_one_device(production, make_config):
    production.respond(reply(200, PUSH))
    report = await send(make_config(PUSHBULLET_TOKEN=TOKEN, PUSHBULLET_DEVICE=DEVICE))
    assert report.status == "delivered", report
    assert production.last.json() == {
        "type": "note",
        "title": NASTY.title,
        "body": NASTY.content,
        "device_iden": DEVICE,
    }


async def test_error_object_is_quoted(production, make_config):
    production.respond(reply(401, INVALID))
    report = await send(make_config(PUSHBULLET_TOKEN=TOKEN))
    assert report.status == "failed"
    (result,) = report.results
    assert not result.ok and result.http_status == 401 and result.attempts == 1
    assert result.error == "HTTP 401: invalid_request: Access token is missing or invalid."
    assert TOKEN not in report.model_dump_json()


async def test_offending_parameter_is_named(production, make_config):
    problem = {"cat": "(=^‥^=)", "message": "Device not found.", "param": "device_iden", "type": "invalid_request"}
    error = {"error": problem}
    production.respond(reply(400, error))
    report = await send(make_config(PUSHBULLET_TOKEN=TOKEN, PUSHBULLET_DEVICE=DEVICE))
    (result,) = report.results
    assert "Device not found." in result.error and "parameter device_iden" in result.error
    assert "^" not in result.error  # the cat stays out


async def test_200_without_a_push_is_a_failure(production, make_config):
    production.respond(reply(200, text="<html>captive portal</html>"))
    report = await send(make_config(PUSHBULLET_TOKEN=TOKEN))
    (result,) = report.results
    assert not result.ok and "captive portal" in result.error


async def test_rate_limited_is_retried(production, make_config):
    limited = reply(
        429,
        {"error": {"cat": "~(=^‥^)", "message": "You have been ratelimited.", "type": "invalid_request"}},
        headers={"X-Ratelimit-Reset": str(int(time.time()))},  # the window reopens now
    )
    production.respond([limited, reply(200, PUSH)])
    report = await send(make_config(PUSHBULLET_TOKEN=TOKEN))
    assert report.status == "delivered", report
    assert report.results[0].attempts == 2 and len(production.requests) == 2


async def test_rate_limit_reset_past_the_deadline_is_reported(production, make_config):
    limited = reply(
        429,
        {"error": {"cat": "~(=^‥^)", "message": "You have been ratelimited.", "type": "invalid_request"}},
        headers={"X-Ratelimit-Reset": str(int(time.time()) + 300)},
    )
    production.respond(limited)
    report = await send(make_config(PUSHBULLET_TOKEN=TOKEN))
    (result,) = report.results
    assert not result.ok and result.pending and len(production.requests) == 1
    assert "ratelimited" in result.error and "past the deadline" in result.error
    assert TOKEN not in report.model_dump_json()
