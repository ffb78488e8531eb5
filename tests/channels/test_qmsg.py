import pytest

from tests.conftest import NASTY, send
from tests.recorder import reply

KEY = "qmsg-key-0123456789abcdef0123"
OK = {"success": True, "reason": "操作成功", "code": 0, "info": {}}


async def test_private_message_as_form_field(production, make_config):
    production.respond(reply(200, OK))
    report = await send(make_config(QMSG_KEY=KEY, QMSG_TYPE="send"))

    assert report.status == "delivered", report
    request = production.last
    assert request.method == "POST"
    assert request.url == f"https://qmsg.zendee.cn/send/{KEY}"
    assert request.raw_query == ""  # the text is in the body now, not the query string
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.form() == {"msg": f"{NASTY.title}\n\n{NASTY.content}"}


async def test_dashes_are_not_rewritten(production, make_config):
    # The old script turned every ---- into -; Qmsg documents no such need, so the text arrives unchanged.
    production.respond(reply(200, OK))
    await send(make_config(QMSG_KEY=KEY, QMSG_TYPE="send"))
    assert "\n----\n" in NASTY.content
    assert "\n----\n" in production.last.form()["msg"]


async def test_group_type_selects_the_group_endpoint(production, make_config):
    production.respond(reply(200, OK))
    report = await send(make_config(QMSG_KEY=KEY, QMSG_TYPE="group"))
    assert report.status == "delivered", report
    assert production.last.url == f"https://qmsg.zendee.cn/group/{KEY}"


async def test_business_failure_is_a_failure(production, make_config):
    production.respond(reply(200, {"success": False, "reason": "请求的KEY错误或不存在", "code": 500, "info": {}}))
    report = await send(make_config(QMSG_KEY=KEY, QMSG_TYPE="send"))
    assert report.status == "failed"
    (result,) = report.results
    assert not result.ok
    assert result.http_status == 200
    assert "500" in result.error and "请求的KEY错误或不存在" in result.error
    assert KEY not in report.model_dump_json()


@pytest.mark.parametrize("kind", ["private", "Send", "psend"])
async def test_unknown_type_is_a_misconfiguration(make_config, kind):
    config = make_config(QMSG_KEY=KEY, QMSG_TYPE=kind)
    assert "qmsg" not in config.channels
    problem = config.problems["qmsg"]
    assert "QMSG_TYPE" in problem and "'send'" in problem and "'group'" in problem
