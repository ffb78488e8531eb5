from tests.conftest import NASTY, send
from tests.recorder import reply

TURBO_KEY = "SCT123456TabcdefABCDEF0123456789"
SC3_KEY = "sctp4567tAbCdEf0123456789abcdef"


def doubled(text: str) -> str:
    return text.replace("\n", "\n\n")


async def test_turbo_form_post_with_long_title_kept(production, make_config):
    production.respond(reply(200, {"code": 0, "message": "", "data": {"pushid": "1", "errno": 0}}))
    report = await send(make_config(PUSH_KEY=TURBO_KEY))

    assert report.status == "delivered", report
    request = production.last
    assert request.method == "POST"
    assert request.url == f"https://sctapi.ftqq.com/{TURBO_KEY}.send"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    form = request.form()
    assert set(form) == {"text", "desp"}
    # NASTY's title is longer than ServerChan's 32: cut in `text`, whole as the first line of `desp`.
    assert len(NASTY.title) > 32
    assert form["text"] == NASTY.title[:32]
    assert form["desp"] == doubled(f"{NASTY.title}\n{NASTY.content}")


async def test_short_title_is_sent_as_is(production, make_config):
    production.respond(reply(200, {"code": 0, "message": ""}))
    note = NASTY.model_copy(update={"title": "构建完成 ✅ & # + %"})
    report = await send(make_config(PUSH_KEY=TURBO_KEY), note)
    assert report.status == "delivered"
    form = production.last.form()
    assert form["text"] == "构建完成 ✅ & # + %"
    assert form["desp"] == doubled(NASTY.content)
    assert "\n" not in form["desp"].replace("\n\n", "")  # no single newline left for Markdown to swallow


async def test_server_chan3_key_uses_its_uid_host(production, make_config):
    production.respond(reply(200, {"code": 0, "errno": 0, "data": {"pushid": 3187868}, "message": "SUCCESS"}))
    report = await send(make_config(PUSH_KEY=SC3_KEY))
    assert report.status == "delivered"
    assert production.last.url == f"https://4567.push.ft07.com/send/{SC3_KEY}.send"


async def test_server_chan3_prefix_is_case_insensitive(production, make_config):
    key = "SCTP89TXyz0123456789"
    production.respond(reply(200, {"code": 0, "errno": 0, "message": "SUCCESS"}))
    assert (await send(make_config(PUSH_KEY=key))).status == "delivered"
    assert production.last.url == f"https://89.push.ft07.com/send/{key}.send"


async def test_business_failure_is_a_failure(production, make_config):
    # Turbo rejects a bad key with HTTP 400 and its own message.
    production.respond(reply(400, {"message": "[AUTH]错误的Key", "code": 40001, "info": "错误的Key", "args": [None]}))
    report = await send(make_config(PUSH_KEY=TURBO_KEY))
    assert report.status == "failed"
    (result,) = report.results
    assert not result.ok
    assert result.http_status == 400
    assert "40001" in result.error and "错误的Key" in result.error
    assert TURBO_KEY not in report.model_dump_json()


async def test_http_200_with_error_code_is_a_failure(production, make_config):
    production.respond(reply(200, {"code": 20001, "errno": 20001, "message": "发送次数超过当日上限"}))
    report = await send(make_config(PUSH_KEY=SC3_KEY))
    assert report.status == "failed"
    (result,) = report.results
    assert "20001" in result.error and "发送次数超过当日上限" in result.error
    assert SC3_KEY not in report.model_dump_json()
