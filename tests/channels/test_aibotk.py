from tests.conftest import NASTY, send
from tests.recorder import reply

KEY = "aibotk-apikey-0123456789abcdef"


async def test_room_message(production, make_config):
    production.respond(reply(200, {"code": 0, "msg": "success"}))
    report = await send(make_config(AIBOTK_KEY=KEY, AIBOTK_TYPE="room", AIBOTK_NAME="运维群 & #1"))

    assert report.status == "delivered", report
    request = production.last
    assert request.method == "POST"
    assert request.url == "https://api-bot.aibotk.com/openapi/v1/chat/room"
    assert request.headers["content-type"].startswith("application/json")
    # No "【青龙快讯】" prefix: that is qinglong's branding.
    assert request.json() == {
        "apiKey": KEY,
        "roomName": "运维群 & #1",
        "message": {"type": 1, "content": f"{NASTY.title}\n\n{NASTY.content}"},
    }


async def test_contact_message_uses_name(production, make_config):
    production.respond(reply(200, {"code": 0, "msg": "success"}))
    report = await send(make_config(AIBOTK_KEY=KEY, AIBOTK_TYPE="contact", AIBOTK_NAME="小明"))

    assert report.status == "delivered", report
    request = production.last
    assert request.url == "https://api-bot.aibotk.com/openapi/v1/chat/contact"
    body = request.json()
    assert body["name"] == "小明" and "roomName" not in body
    assert body["apiKey"] == KEY
    assert body["message"] == {"type": 1, "content": f"{NASTY.title}\n\n{NASTY.content}"}


async def test_business_failure_is_a_failure(production, make_config):
    production.respond(reply(200, {"code": 500, "error": "未找到该群聊，请检查群名称"}))
    report = await send(make_config(AIBOTK_KEY=KEY, AIBOTK_TYPE="room", AIBOTK_NAME="nope"))

    assert report.status == "failed"
    (result,) = report.results
    assert not result.ok
    assert result.http_status == 200
    assert "500" in result.error and "未找到该群聊" in result.error
    assert KEY not in report.model_dump_json()


async def test_failure_message_from_msg(production, make_config):
    production.respond(reply(200, {"code": 401, "msg": "apiKey 无效"}))
    report = await send(make_config(AIBOTK_KEY=KEY, AIBOTK_TYPE="contact", AIBOTK_NAME="小明"))
    (result,) = report.results
    assert not result.ok and "apiKey 无效" in result.error
    assert KEY not in report.model_dump_json()


async def test_unknown_type_is_a_misconfiguration(recorder, make_config):
    # qinglong's Python silently messaged a contact for anything but "room".
    config = make_config(AIBOTK_KEY=KEY, AIBOTK_TYPE="group", AIBOTK_NAME="x")
    assert "aibotk" not in config.channels
    problem = config.problems["aibotk"]
    assert "AIBOTK_TYPE" in problem and "room" in problem and "contact" in problem
    assert KEY not in problem
    assert recorder.requests == []


async def test_missing_name_is_a_misconfiguration(make_config):
    config = make_config(AIBOTK_KEY=KEY, AIBOTK_TYPE="room")
    assert "AIBOTK_NAME: is required" in config.problems["aibotk"]
