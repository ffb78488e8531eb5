import base64
import hashlib
import hmac

from tests.conftest import NASTY, send
from tests.recorder import reply

TOKEN = "dd-token-0123456789abcdef"
SECRET = "SECdd-secret-0123456789abcdef"


async def test_signed_text_message(production, make_config):
    production.respond(reply(200, {"errcode": 0, "errmsg": "ok"}))
    report = await send(make_config(DD_BOT_TOKEN=TOKEN, DD_BOT_SECRET=SECRET))

    assert report.status == "delivered", report
    request = production.last
    assert request.method == "POST"
    assert request.url == "https://oapi.dingtalk.com/robot/send"
    assert request.headers["content-type"].startswith("application/json")
    assert request.json() == {"msgtype": "text", "text": {"content": f"{NASTY.title}\n\n{NASTY.content}"}}
    query = request.query
    assert query["access_token"] == TOKEN
    # Recompute the signature from the timestamp the server received.
    expected = base64.b64encode(
        hmac.new(SECRET.encode(), f"{query['timestamp']}\n{SECRET}".encode(), hashlib.sha256).digest()
    ).decode()
    assert query["sign"] == expected
    assert len(query["timestamp"]) == 13  # milliseconds
    # base64's + / = must arrive percent-encoded, never as a literal '+' (which decodes to a space).
    assert "+" not in request.raw_query.split("sign=")[1]


async def test_unsigned_when_no_secret(production, make_config):
    production.respond(reply(200, {"errcode": 0, "errmsg": "ok"}))
    report = await send(make_config(DD_BOT_TOKEN=TOKEN))
    assert report.status == "delivered"
    assert set(production.last.query) == {"access_token"}


async def test_business_failure_is_a_failure(production, make_config):
    production.respond(reply(200, {"errcode": 310000, "errmsg": "sign not match, more: [...]"}))
    report = await send(make_config(DD_BOT_TOKEN=TOKEN, DD_BOT_SECRET=SECRET))
    assert report.status == "failed"
    (result,) = report.results
    assert not result.ok
    assert result.http_status == 200
    assert "310000" in result.error and "sign not match" in result.error
    assert TOKEN not in report.model_dump_json() and SECRET not in report.model_dump_json()
