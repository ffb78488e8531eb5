import base64

import pytest

from tests.conftest import NASTY, send
from tests.recorder import reply

NUMBER = "+4915112345678"
GROUP = "group.ZGFhYzQ2NzktZjE4Ny00YjE2LWE0ZjctMDI3ZjY0NjI0Nzgw"
SENT = {"timestamp": "1718000000123"}


async def test_v2_send_with_number_and_recipients(recorder, make_config):
    recorder.respond(reply(201, SENT))
    env = dict(SIGNAL_API_URL=f"{recorder.url}/", SIGNAL_NUMBER=NUMBER, SIGNAL_RECIPIENTS=f" +4917687654321 ,{GROUP},")
    report = await send(make_config(**env))

    assert report.status == "delivered", report
    request = recorder.last
    assert request.method == "POST"
    assert request.url == f"{recorder.url}/v2/send"  # trailing slash of the base stripped
    assert request.headers["content-type"].startswith("application/json")
    assert request.json() == {
        "message": f"{NASTY.title}\n\n{NASTY.content}",
        "number": NUMBER,
        "recipients": ["+4917687654321", GROUP],  # trimmed, the empty entry after the last comma dropped
    }


async def test_base_url_with_a_path_and_credentials(recorder, make_config):
    recorder.respond(reply(201, SENT))
    base = recorder.url.replace("://", "://signal:pa55-w0rd-xyz@") + "/signal-api"
    report = await send(make_config(SIGNAL_API_URL=base, SIGNAL_NUMBER=NUMBER, SIGNAL_RECIPIENTS=NUMBER))
    assert report.status == "delivered", report
    assert recorder.last.path == "/signal-api/v2/send"
    assert recorder.last.headers["authorization"] == "Basic " + base64.b64encode(b"signal:pa55-w0rd-xyz").decode()


async def test_repeated_recipients_are_sent_once(recorder, make_config):
    recorder.respond(reply(201, SENT))
    env = dict(SIGNAL_API_URL=recorder.url, SIGNAL_NUMBER=NUMBER, SIGNAL_RECIPIENTS=f"{NUMBER}, {NUMBER}")
    await send(make_config(**env))
    assert recorder.last.json()["recipients"] == [NUMBER]


async def test_error_is_quoted(recorder, make_config):
    recorder.respond(reply(400, {"error": "Failed to send message: +4917687654321: Unregistered user\n"}))
    env = dict(SIGNAL_API_URL=recorder.url, SIGNAL_NUMBER=NUMBER, SIGNAL_RECIPIENTS="+4917687654321")
    report = await send(make_config(**env))
    assert report.status == "failed"
    (result,) = report.results
    assert not result.ok and result.http_status == 400 and result.attempts == 1
    assert result.error == "HTTP 400: Failed to send message: +4917687654321: Unregistered user"


async def test_201_without_timestamp_is_a_failure(recorder, make_config):
    recorder.respond(reply(200, {"status": "ok"}))
    env = dict(SIGNAL_API_URL=recorder.url, SIGNAL_NUMBER=NUMBER, SIGNAL_RECIPIENTS=NUMBER)
    report = await send(make_config(**env))
    (result,) = report.results
    assert not result.ok and "no message timestamp" in result.error


async def test_credentials_in_the_url_never_reach_the_report(recorder, make_config):
    recorder.respond(reply(401, text="401 Authorization Required"))
    base = recorder.url.replace("://", "://signal:pa55-w0rd-xyz@")
    report = await send(make_config(SIGNAL_API_URL=base, SIGNAL_NUMBER=NUMBER, SIGNAL_RECIPIENTS=NUMBER))
    (result,) = report.results
    assert not result.ok and result.http_status == 401
    assert "pa55-w0rd-xyz" not in report.model_dump_json()


@pytest.mark.parametrize(
    ("env", "field"),
    [
        (dict(SIGNAL_RECIPIENTS=" , ,"), "SIGNAL_RECIPIENTS"),
        (dict(SIGNAL_NUMBER="015112345678"), "SIGNAL_NUMBER"),
        (dict(SIGNAL_NUMBER="+49 151 12345678"), "SIGNAL_NUMBER"),
        (dict(SIGNAL_API_URL="localhost:8080"), "SIGNAL_API_URL"),
    ],
)
async def test_misconfiguration(make_config, env, field):
    valid = dict(SIGNAL_API_URL="http://127.0.0.1:8080", SIGNAL_NUMBER=NUMBER, SIGNAL_RECIPIENTS=NUMBER)
    config = make_config(**{**valid, **env})
    assert "signal" not in config.channels
    assert field in config.problems["signal"]
