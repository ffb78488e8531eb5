import pytest

from tests.conftest import NASTY, send
from tests.recorder import reply

KEY = "5f1e2d3c4b5a69788796a5b4"  # 24 letters and digits


async def test_form_with_title_and_content(production, make_config):
    production.respond(reply(200, {"ret": 0, "data": {"id": "60a1b2c3d4e5f60718293a4b"}, "errMsg": ""}))
    report = await send(make_config(IGOT_PUSH_KEY=KEY))

    assert report.status == "delivered", report
    request = production.last
    assert request.method == "POST"
    assert request.url == f"https://push.hellyw.com/{KEY}"
    assert request.raw_query == ""
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.form() == {"title": NASTY.title, "content": NASTY.content}


async def test_business_failure_is_a_failure(production, make_config):
    production.respond(reply(200, {"ret": 201, "data": None, "errMsg": "推送key不存在或已失效"}))
    report = await send(make_config(IGOT_PUSH_KEY=KEY))
    assert report.status == "failed"
    (result,) = report.results
    assert not result.ok
    assert result.http_status == 200
    assert "201" in result.error and "推送key不存在或已失效" in result.error
    assert KEY not in report.model_dump_json()


@pytest.mark.parametrize(
    "key",
    [
        KEY[:-1],  # too short
        KEY + "0",  # too long
        KEY[:-1] + "-",  # not a letter or digit
        f"https://push.hellyw.com/{KEY}",  # the whole URL pasted
    ],
)
async def test_malformed_key_is_a_misconfiguration(make_config, key):
    config = make_config(IGOT_PUSH_KEY=key)
    assert "igot" not in config.channels
    problem = config.problems["igot"]
    assert "IGOT_PUSH_KEY" in problem and "24" in problem
    assert key not in problem and KEY[:-1] not in problem  # the key itself is never echoed
