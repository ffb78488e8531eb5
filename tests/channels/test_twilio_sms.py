import base64

import pytest

from channels.limits import MARKER
from mcp_push.models import Notification
from tests.conftest import NASTY, send
from tests.recorder import reply

SID = "AC3f8e2b1d4c6a9e0f7b5d3c1a2e4f6b8d"
TOKEN = "9c1e5b7d3f2a8e4c6b0d1f3a5e7c9b2d"
FROM = "+15017122661"
TO = "+15558675310"
ENV = dict(TWILIO_ACCOUNT_SID=SID, TWILIO_AUTH_TOKEN=TOKEN, TWILIO_FROM=FROM, TWILIO_TO=TO)
CREATED = {"sid": "SM1f0e8ae6ade43cb3c0ce4525424e404f", "status": "queued", "account_sid": SID, "to": TO}


async def test_form_post_with_basic_auth(production, make_config):
    production.respond(reply(201, CREATED))
    report = await send(make_config(**ENV))

    assert report.status == "delivered", report
    request = production.last
    assert request.method == "POST"
    assert request.url == f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages.json"
    assert request.raw_query == ""
    assert request.headers["authorization"] == "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.form() == {"To": TO, "From": FROM, "Body": f"{NASTY.title}\n\n{NASTY.content}"}
    assert TOKEN not in request.text  # the token is only in the Authorization header


async def test_messaging_service_sid_replaces_from(production, make_config):
    production.respond(reply(201, CREATED))
    service = "MG9752274e9e519418a7406176694466fa"
    report = await send(make_config(**{**ENV, "TWILIO_FROM": service}))
    assert report.status == "delivered", report
    form = production.last.form()
    assert form["MessagingServiceSid"] == service and "From" not in form


async def test_error_code_message_and_link_are_quoted(production, make_config):
    error = {
        "code": 21211,
        "message": "Invalid 'To' Phone Number: +1555867XXXX",
        "more_info": "https://www.twilio.com/docs/errors/21211",
        "status": 400,
    }
    production.respond(reply(400, error))
    report = await send(make_config(**ENV))
    assert report.status == "failed"
    (result,) = report.results
    assert not result.ok and result.http_status == 400 and result.attempts == 1
    assert result.error == (
        "HTTP 400: 21211: Invalid 'To' Phone Number: +1555867XXXX (see https://www.twilio.com/docs/errors/21211)"
    )


async def test_wrong_credentials_are_masked(production, make_config):
    error = {"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003"}
    production.respond(reply(401, {**error, "status": 401}))
    report = await send(make_config(**ENV))
    (result,) = report.results
    assert not result.ok and result.http_status == 401 and "20003: Authenticate" in result.error
    dumped = report.model_dump_json()
    assert TOKEN not in dumped
    assert base64.b64encode(f"{SID}:{TOKEN}".encode()).decode() not in dumped


async def test_only_201_with_a_sid_counts_as_sent(production, make_config):
    production.respond(reply(200, {"status": "ok"}))  # e.g. a proxy or a wrong endpoint
    report = await send(make_config(**ENV))
    (result,) = report.results
    assert not result.ok and result.http_status == 200 and "no message sid" in result.error


async def test_too_many_requests_is_retried(production, make_config):
    busy = {"code": 20429, "message": "Too Many Requests", "more_info": "https://www.twilio.com/docs/errors/20429"}
    production.respond([reply(429, {**busy, "status": 429}), reply(201, CREATED)])
    report = await send(make_config(**ENV))
    assert report.status == "delivered", report
    assert len(production.requests) == 2


async def test_body_is_cut_to_1600(production, make_config):
    production.respond(reply(201, CREATED))
    report = await send(make_config(**ENV), Notification(title="Build log", content="x" * 5000))
    assert report.status == "delivered", report
    body = production.last.form()["Body"]
    assert len(body) == 1600 and body.startswith("Build log\n\nxxx") and body.endswith(MARKER)


@pytest.mark.parametrize("sid", [TOKEN, SID[:-1], f"{SID}/x", "ac" + SID[2:]])
async def test_account_sid_is_checked(make_config, sid):
    config = make_config(**{**ENV, "TWILIO_ACCOUNT_SID": sid})
    assert "twilio_sms" not in config.channels
    problem = config.problems["twilio_sms"]
    assert "TWILIO_ACCOUNT_SID" in problem and TOKEN not in problem
