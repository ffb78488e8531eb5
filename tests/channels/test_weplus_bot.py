import html

from tests.conftest import NASTY, send
from tests.recorder import reply

TOKEN = "weplus-token-0123456789abcdef"


async def test_long_content_goes_as_escaped_html(production, make_config):
    production.respond(reply(200, {"code": 200, "msg": "请求成功", "data": "id-1"}))
    report = await send(make_config(WE_PLUS_BOT_TOKEN=TOKEN))

    assert report.status == "delivered", report
    request = production.last
    assert request.method == "POST"
    assert request.url == "https://www.weplusbot.com/send"
    assert request.headers["content-type"].startswith("application/json")
    assert len(NASTY.content) > 800
    assert request.json() == {
        "token": TOKEN,
        "title": NASTY.title,
        "content": html.escape(NASTY.content).replace("\n", "<br>"),
        "template": "html",
        "receiver": "",
        "version": "pro",
    }
    assert "&lt;b&gt;bold&lt;/b&gt;" in request.json()["content"]


async def test_short_content_goes_as_text_unchanged(production, make_config):
    production.respond(reply(200, {"code": 200, "msg": "请求成功"}))
    note = NASTY.model_copy(update={"content": "a <b> & c\nline 2 " + "x" * 783})
    assert len(note.content) == 800
    config = make_config(WE_PLUS_BOT_TOKEN=TOKEN, WE_PLUS_BOT_RECEIVER="wxid_abc", WE_PLUS_BOT_VERSION="personal")
    report = await send(config, note)
    assert report.status == "delivered"
    body = production.last.json()
    assert body["template"] == "txt"
    assert body["content"] == note.content
    assert body["receiver"] == "wxid_abc" and body["version"] == "personal"


async def test_unknown_version_is_a_misconfiguration(make_config):
    config = make_config(WE_PLUS_BOT_TOKEN=TOKEN, WE_PLUS_BOT_VERSION="free")
    assert "weplus_bot" not in config.channels
    assert "WE_PLUS_BOT_VERSION" in config.problems["weplus_bot"]
    assert "pro" in config.problems["weplus_bot"] and "personal" in config.problems["weplus_bot"]


async def test_business_failure_is_a_failure(production, make_config):
    production.respond(reply(200, {"code": 903, "msg": "无效的令牌", "data": None}))
    report = await send(make_config(WE_PLUS_BOT_TOKEN=TOKEN))
    assert report.status == "failed"
    (result,) = report.results
    assert not result.ok
    assert result.http_status == 200
    assert "903" in result.error and "无效的令牌" in result.error
    assert TOKEN not in report.model_dump_json()
