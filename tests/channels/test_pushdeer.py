from tests.conftest import NASTY, send
from tests.recorder import reply

KEY = "PDU1TTnEZKlRVODU9GkFmtHwaIraV5twUPQbA"
OK = {"code": 0, "content": {"result": ['{"counts":1,"logs":[],"success":"ok"}']}}


async def test_markdown_push(production, make_config):
    production.respond(reply(200, OK))
    report = await send(make_config(DEER_KEY=KEY))

    assert report.status == "delivered", report
    request = production.last
    assert request.method == "POST"
    assert request.url == "https://api2.pushdeer.com/message/push"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.form() == {"text": NASTY.title, "desp": NASTY.content, "type": "markdown", "pushkey": KEY}


async def test_self_hosted_endpoint(recorder, make_config):
    recorder.respond(reply(200, OK))
    report = await send(make_config(DEER_KEY=KEY, DEER_URL=f"{recorder.url}/custom/message/push"))
    assert report.status == "delivered"
    assert recorder.last.url == f"{recorder.url}/custom/message/push"
    assert recorder.last.form()["pushkey"] == KEY


async def test_business_failure_is_a_failure(production, make_config):
    production.respond(reply(200, {"code": 80501, "error": "此账号已被停用"}))
    report = await send(make_config(DEER_KEY=KEY))
    assert report.status == "failed"
    (result,) = report.results
    assert not result.ok
    assert result.http_status == 200
    assert "80501" in result.error and "此账号已被停用" in result.error
    assert KEY not in report.model_dump_json()


async def test_no_device_reached_is_a_failure(production, make_config):
    # code 0 but an empty result: the key has no registered device, so nobody got the message.
    production.respond(reply(200, {"code": 0, "content": {"result": []}}))
    report = await send(make_config(DEER_KEY=KEY))
    assert report.status == "failed"
    assert "no device" in report.results[0].error
