from tests.conftest import NASTY, send
from tests.recorder import reply

KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
OK = {"errcode": 0, "errmsg": "ok"}


async def test_text_message(production, make_config):
    production.respond(reply(200, OK))
    report = await send(make_config(QYWX_KEY=KEY))

    assert report.status == "delivered", report
    request = production.last
    assert request.method == "POST"
    assert request.url == "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"
    assert request.query_all == {"key": [KEY]}
    assert request.headers["content-type"].startswith("application/json")
    assert request.json() == {"msgtype": "text", "text": {"content": f"{NASTY.title}\n\n{NASTY.content}"}}


async def test_business_failure_is_a_failure(production, make_config):
    production.respond(reply(200, {"errcode": 93000, "errmsg": "invalid webhook url, hint: [1699000000_1a2b]"}))
    report = await send(make_config(QYWX_KEY=KEY))
    assert report.status == "failed"
    (result,) = report.results
    assert not result.ok
    assert result.http_status == 200
    assert "93000" in result.error and "invalid webhook url" in result.error
    assert KEY not in report.model_dump_json()


async def test_self_hosted_origin_trailing_slash_stripped(recorder, make_config):
    recorder.respond(reply(200, OK))
    config = make_config(QYWX_KEY=KEY, QYWX_ORIGIN=recorder.url + "/")
    # Asserted on the built request too: http.server collapses a leading "//", so the recorder cannot see it.
    assert config.channels["wecom_bot"].build(NASTY).url == f"{recorder.url}/cgi-bin/webhook/send"
    report = await send(config)
    assert report.status == "delivered", report
    assert recorder.last.target.startswith("/cgi-bin/webhook/send?")
    assert recorder.last.url == f"{recorder.url}/cgi-bin/webhook/send"


async def test_origin_without_scheme_is_a_config_problem(make_config):
    config = make_config(QYWX_KEY=KEY, QYWX_ORIGIN="qyapi.weixin.qq.com")
    assert "wecom_bot" not in config.channels
    assert "QYWX_ORIGIN" in config.problems["wecom_bot"] and "http" in config.problems["wecom_bot"]
