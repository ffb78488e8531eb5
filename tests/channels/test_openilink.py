from tests.conftest import NASTY, send
from tests.recorder import reply

TOKEN = "oih-app-token-0123456789abcdef"
CONTEXT = "ctx-token-0123456789abcdef"


async def test_text_message_to_hosted_hub(production, make_config):
    production.respond(reply(200, {"ok": True, "client_id": "msg_1", "trace_id": "tr_1"}))
    report = await send(make_config(OPENILINK_APP_TOKEN=TOKEN))

    assert report.status == "delivered", report
    request = production.last
    assert request.method == "POST"
    assert request.url == "https://hub.openilink.com/bot/v1/message/send"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"].startswith("application/json")
    # No context_token key at all when it is not configured.
    assert request.json() == {"type": "text", "content": f"{NASTY.title}\n\n{NASTY.content}"}


async def test_self_hosted_hub_and_context_token(recorder, make_config):
    recorder.respond(reply(200, {"ok": True}))
    config = make_config(
        OPENILINK_APP_TOKEN=TOKEN, OPENILINK_HUB_URL=f"{recorder.url}/", OPENILINK_CONTEXT_TOKEN=CONTEXT
    )
    report = await send(config)

    assert report.status == "delivered", report
    request = recorder.last
    assert request.url == f"{recorder.url}/bot/v1/message/send"  # trailing slash stripped
    assert request.json()["context_token"] == CONTEXT


async def test_business_failure_is_a_failure(production, make_config):
    production.respond(reply(200, {"ok": False, "error": "bot not connected"}))
    report = await send(make_config(OPENILINK_APP_TOKEN=TOKEN, OPENILINK_CONTEXT_TOKEN=CONTEXT))

    assert report.status == "failed"
    (result,) = report.results
    assert not result.ok
    assert result.http_status == 200
    assert "bot not connected" in result.error
    dumped = report.model_dump_json()
    assert TOKEN not in dumped and CONTEXT not in dumped


async def test_http_error_keeps_the_hub_message(production, make_config):
    # The hub documents 4xx/5xx answers with the same {"ok": false, "error": ...} body.
    production.respond(reply(503, {"ok": False, "error": "session expired"}))
    report = await send(make_config(OPENILINK_APP_TOKEN=TOKEN))
    (result,) = report.results
    assert not result.ok and result.http_status == 503
    assert "HTTP 503" in result.error and "session expired" in result.error
