from tests.conftest import NASTY, send
from tests.recorder import reply

KEY = "pushme-key-0123456789abcdef"


async def test_form_post_to_production(production, make_config):
    production.respond(reply(200, text="success"))
    report = await send(make_config(PUSHME_KEY=KEY))

    assert report.status == "delivered", report
    request = production.last
    assert request.method == "POST"
    assert request.url == "https://push.i-i.me/"
    assert request.raw_query == ""
    assert request.headers["content-type"].startswith("application/x-www-form-urlencoded")
    # Title and content as separate fields; date/type are left out so the service applies its defaults.
    assert request.form() == {"push_key": KEY, "title": NASTY.title, "content": NASTY.content}


async def test_self_hosted_url(recorder, make_config):
    recorder.respond(reply(200, text="success\n"))  # surrounding whitespace is tolerated
    report = await send(make_config(PUSHME_KEY=KEY, PUSHME_URL=f"{recorder.url}/push"))

    assert report.status == "delivered", report
    assert recorder.last.url == f"{recorder.url}/push"
    assert recorder.last.form()["push_key"] == KEY


async def test_other_text_is_a_failure(production, make_config):
    production.respond(reply(200, text="push_key 无效"))
    report = await send(make_config(PUSHME_KEY=KEY))

    assert report.status == "failed"
    (result,) = report.results
    assert not result.ok
    assert result.http_status == 200
    assert "push_key 无效" in result.error
    assert KEY not in report.model_dump_json()


async def test_success_text_needs_http_success(production, make_config):
    production.respond(reply(500, text="success"))
    report = await send(make_config(PUSHME_KEY=KEY))
    (result,) = report.results
    assert not result.ok and result.http_status == 500 and "HTTP 500" in result.error


async def test_success_must_be_the_whole_body(production, make_config):
    production.respond(reply(200, text="not success"))
    report = await send(make_config(PUSHME_KEY=KEY))
    (result,) = report.results
    assert not result.ok and "not success" in result.error
