import html

from tests.conftest import NASTY, send
from tests.recorder import reply

TOKEN = "be8652e98bd04139a13e1bffcd6d0f71"


async def test_html_template_escapes_and_keeps_lines(production, make_config):
    production.respond(reply(200, {"code": 200, "msg": "请求成功", "data": "075074e3c17e449e9a0cb79cc6f3fc83"}))
    report = await send(make_config(PUSH_PLUS_TOKEN=TOKEN))

    assert report.status == "delivered", report
    request = production.last
    assert request.method == "POST"
    assert request.url == "https://www.pushplus.plus/send"
    assert request.headers["content-type"].startswith("application/json")
    body = request.json()
    # Only the defaults; empty optional fields are not sent.
    assert set(body) == {"token", "title", "content", "template", "channel"}
    assert body["token"] == TOKEN
    assert body["template"] == "html" and body["channel"] == "wechat"
    assert body["title"] == NASTY.title
    assert body["content"] == html.escape(NASTY.content).replace("\n", "<br>")
    # html renders markup: NASTY's tag must arrive as text, its lines as <br>.
    assert "<b>" not in body["content"] and "&lt;b&gt;bold&lt;/b&gt;" in body["content"]
    assert "\n" not in body["content"]
    assert "a=1&amp;b=2" in body["content"]


async def test_other_templates_get_content_unchanged_and_optional_fields(production, make_config):
    production.respond(reply(200, {"code": 200, "msg": "请求成功", "data": "x"}))
    config = make_config(
        PUSH_PLUS_TOKEN=TOKEN,
        PUSH_PLUS_TEMPLATE="markdown",
        PUSH_PLUS_CHANNEL="webhook",
        PUSH_PLUS_USER="team",
        PUSH_PLUS_WEBHOOK="hook1",
        PUSH_PLUS_CALLBACKURL="https://example.com/cb?a=1&b=2",
        PUSH_PLUS_TO="friend-token",
    )
    report = await send(config)
    assert report.status == "delivered"
    body = production.last.json()
    assert body["content"] == NASTY.content
    assert body["template"] == "markdown" and body["channel"] == "webhook"
    assert body["topic"] == "team"
    assert body["webhook"] == "hook1"
    assert body["callbackUrl"] == "https://example.com/cb?a=1&b=2"
    assert body["to"] == "friend-token"


async def test_business_failure_is_one_request_and_a_failure(production, make_config):
    production.respond(reply(200, {"code": 903, "msg": "无效的用户令牌", "data": None}))
    report = await send(make_config(PUSH_PLUS_TOKEN=TOKEN))
    assert report.status == "failed"
    (result,) = report.results
    assert not result.ok
    assert result.http_status == 200
    assert "903" in result.error and "无效的用户令牌" in result.error
    assert TOKEN not in report.model_dump_json()
    # No fallback to pushplus.hxtrip.com (or anywhere): exactly the one request.
    assert len(production.requests) == 1
    assert production.last.url == "https://www.pushplus.plus/send"


async def test_other_failure_code_also_no_fallback(production, make_config):
    production.respond(reply(200, {"code": 500, "msg": "系统异常，请稍后再试"}))
    report = await send(make_config(PUSH_PLUS_TOKEN=TOKEN))
    assert report.status == "failed"
    assert "系统异常" in report.results[0].error
    assert len(production.requests) == 1
