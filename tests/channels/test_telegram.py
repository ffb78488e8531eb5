import base64

from tests.conftest import NASTY, send
from tests.recorder import reply

TOKEN = "7351962048:AAH3kQv9ZpXw2LmN8rTfYb4JcD6sGe1uOiQ"
CHAT = "918273645"
OK = {"ok": True, "result": {"message_id": 42, "chat": {"id": 918273645, "type": "private"}, "text": "..."}}


async def test_plain_text_message(production, make_config):
    production.respond(reply(200, OK))
    report = await send(make_config(TG_BOT_TOKEN=TOKEN, TG_USER_ID=CHAT))

    assert report.status == "delivered", report
    request = production.last
    assert request.method == "POST"
    assert request.url == f"https://api.telegram.org/bot{TOKEN}/sendMessage"
    assert request.raw_query == ""  # everything in the JSON body, nothing in the query
    assert request.headers["content-type"].startswith("application/json")
    # No parse_mode: plain text, so no character can get the message rejected.
    assert request.json() == {
        "chat_id": CHAT,
        "text": f"{NASTY.title}\n\n{NASTY.content}",
        "disable_web_page_preview": True,
    }
    assert "proxy-authorization" not in request.headers


async def test_business_failure_is_a_failure(production, make_config):
    production.respond(reply(400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}))
    report = await send(make_config(TG_BOT_TOKEN=TOKEN, TG_USER_ID=CHAT))
    assert report.status == "failed"
    (result,) = report.results
    assert not result.ok
    assert result.http_status == 400
    assert "Bad Request: chat not found" in result.error
    assert TOKEN not in report.model_dump_json()


async def test_ok_false_with_http_200_is_a_failure(production, make_config):
    production.respond(reply(200, {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 5"}))
    report = await send(make_config(TG_BOT_TOKEN=TOKEN, TG_USER_ID=CHAT))
    (result,) = report.results
    assert not result.ok and "Too Many Requests" in result.error


async def test_token_masked_when_the_service_echoes_it(production, make_config):
    production.respond(
        reply(401, {"ok": False, "error_code": 401, "description": f"Unauthorized: bot{TOKEN} is not a valid bot"})
    )
    report = await send(make_config(TG_BOT_TOKEN=TOKEN, TG_USER_ID=CHAT))
    (result,) = report.results
    assert not result.ok and result.http_status == 401
    assert "Unauthorized" in result.error
    assert TOKEN not in report.model_dump_json()
    assert TOKEN.split(":")[1] not in report.model_dump_json()


async def test_token_masked_when_the_connection_fails(make_config):
    report = await send(make_config(TG_BOT_TOKEN=TOKEN, TG_USER_ID=CHAT, TG_API_HOST="http://127.0.0.1:1"))
    (result,) = report.results
    assert not result.ok and result.http_status is None
    assert "connection failed" in result.error
    assert TOKEN not in report.model_dump_json()


async def test_self_hosted_api_host(recorder, make_config):
    recorder.respond(reply(200, OK))
    config = make_config(TG_BOT_TOKEN=TOKEN, TG_USER_ID=CHAT, TG_API_HOST=recorder.url + "/")
    # Asserted on the built request too: http.server collapses a leading "//", so the recorder cannot see it.
    assert config.channels["telegram"].build(NASTY).url == f"{recorder.url}/bot{TOKEN}/sendMessage"
    report = await send(config)
    assert report.status == "delivered", report
    assert recorder.last.target == f"/bot{TOKEN}/sendMessage"  # trailing slash stripped, no //


async def test_http_proxy(recorder, make_config):
    recorder.respond(reply(200, OK))
    config = make_config(
        TG_BOT_TOKEN=TOKEN,
        TG_USER_ID=CHAT,
        TG_API_HOST="http://api.telegram.test",
        TG_PROXY_HOST="127.0.0.1",
        TG_PROXY_PORT=str(recorder.port),
    )
    assert config.channels["telegram"].proxy == f"http://127.0.0.1:{recorder.port}"
    report = await send(config)

    assert report.status == "delivered", report
    request = recorder.last
    # The proxy saw an absolute-form request line for the API host.
    assert request.target == f"http://api.telegram.test/bot{TOKEN}/sendMessage"
    assert request.url == f"http://api.telegram.test/bot{TOKEN}/sendMessage"
    assert request.json()["text"] == f"{NASTY.title}\n\n{NASTY.content}"
    assert "proxy-authorization" not in request.headers


async def test_http_proxy_with_auth(recorder, make_config):
    recorder.respond(reply(200, OK))
    auth = "alice:pa/ss#1@x%"  # characters that break a proxy URL unless percent-encoded
    report = await send(
        make_config(
            TG_BOT_TOKEN=TOKEN,
            TG_USER_ID=CHAT,
            TG_API_HOST="http://api.telegram.test",
            TG_PROXY_HOST="127.0.0.1",
            TG_PROXY_PORT=str(recorder.port),
            TG_PROXY_AUTH=auth,
        )
    )
    assert report.status == "delivered", report
    assert recorder.last.headers["proxy-authorization"] == "Basic " + base64.b64encode(auth.encode()).decode()


async def test_proxy_misconfiguration_is_a_config_problem(make_config):
    config = make_config(TG_BOT_TOKEN=TOKEN, TG_USER_ID=CHAT, TG_PROXY_HOST="127.0.0.1")
    assert "telegram" not in config.channels
    assert "TG_PROXY_PORT" in config.problems["telegram"]
    config = make_config(TG_BOT_TOKEN=TOKEN, TG_USER_ID=CHAT, TG_PROXY_HOST="127.0.0.1", TG_PROXY_PORT="http")
    assert "TG_PROXY_PORT" in config.problems["telegram"]


async def test_api_host_needs_a_scheme(make_config):
    config = make_config(TG_BOT_TOKEN=TOKEN, TG_USER_ID=CHAT, TG_API_HOST="api.telegram.org")
    assert "TG_API_HOST" in config.problems["telegram"]
    assert TOKEN not in config.problems["telegram"]
