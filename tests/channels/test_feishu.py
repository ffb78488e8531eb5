import base64
import hashlib
import hmac
import time

import pytest

from tests.conftest import NASTY, send
from tests.recorder import reply

KEY = "3f9c2a51-7d4e-4b8a-9e21-6c0d5f8b1a47"
SECRET = "fs-sign-secret-Qk7vX2mN9pL4"
URL = f"https://open.feishu.cn/open-apis/bot/v2/hook/{KEY}"
OK = {"StatusCode": 0, "StatusMessage": "success", "code": 0, "data": {}, "msg": "success"}


async def test_signed_text_message(production, make_config):
    production.respond(reply(200, OK))
    report = await send(make_config(FSKEY=KEY, FSSECRET=SECRET))

    assert report.status == "delivered", report
    request = production.last
    assert request.method == "POST"
    assert request.url == URL
    assert request.raw_query == ""
    assert request.headers["content-type"].startswith("application/json")
    body = request.json()
    assert body["msg_type"] == "text"
    assert body["content"] == {"text": f"{NASTY.title}\n\n{NASTY.content}"}
    # Seconds, not milliseconds, and close to now (Feishu rejects timestamps more than an hour off).
    timestamp = body["timestamp"]
    assert isinstance(timestamp, str) and len(timestamp) == 10
    assert abs(int(timestamp) - time.time()) < 60
    # Key = timestamp + "\n" + secret, message empty: recompute from what the server received.
    expected = base64.b64encode(hmac.new(f"{timestamp}\n{SECRET}".encode(), b"", hashlib.sha256).digest()).decode()
    assert body["sign"] == expected
    assert set(body) == {"msg_type", "content", "timestamp", "sign"}


async def test_unsigned_when_no_secret(production, make_config):
    production.respond(reply(200, OK))
    report = await send(make_config(FSKEY=KEY))
    assert report.status == "delivered"
    assert set(production.last.json()) == {"msg_type", "content"}


async def test_business_failure_is_a_failure(production, make_config):
    production.respond(
        reply(
            200,
            {"code": 19021, "data": {}, "msg": "sign match fail or timestamp is not within one hour from current time"},
        )
    )
    report = await send(make_config(FSKEY=KEY, FSSECRET=SECRET))
    assert report.status == "failed"
    (result,) = report.results
    assert not result.ok
    assert result.http_status == 200
    assert "19021" in result.error and "sign match fail" in result.error
    dumped = report.model_dump_json()
    assert KEY not in dumped and SECRET not in dumped


@pytest.mark.parametrize(
    ("body", "ok", "message"),
    [
        ({"Extra": None, "StatusCode": 0, "StatusMessage": "success"}, True, None),  # older hooks answer this shape
        ({"StatusCode": 9499, "StatusMessage": "Bad Request"}, False, "Bad Request"),
        ({"code": 0, "data": {}, "msg": "success"}, True, None),
    ],
)
async def test_either_status_field_decides(production, make_config, body, ok, message):
    production.respond(reply(200, body))
    report = await send(make_config(FSKEY=KEY))
    (result,) = report.results
    assert result.ok is ok
    if message:
        assert message in result.error


async def test_http_error_quotes_the_service_message(production, make_config):
    production.respond(
        reply(400, {"code": 19001, "data": {}, "msg": "param invalid: incoming webhook access token invalid"})
    )
    report = await send(make_config(FSKEY=KEY))
    (result,) = report.results
    assert not result.ok and result.http_status == 400
    assert "HTTP 400" in result.error and "incoming webhook access token invalid" in result.error
    assert KEY not in report.model_dump_json()
