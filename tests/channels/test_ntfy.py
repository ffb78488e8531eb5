import base64
from email.header import decode_header

from tests.conftest import NASTY, send
from tests.recorder import reply

TOPIC = "mcp-push-topic-0123456789"


def decoded(value: str) -> str:
    return "".join(
        part.decode(enc or "ascii") if isinstance(part, bytes) else part for part, enc in decode_header(value)
    )


async def test_publishes_to_ntfy_sh_by_default(production, make_config):
    production.respond(reply(200, {"id": "hwQ2YpKdmg", "event": "message", "topic": TOPIC}))
    report = await send(make_config(NTFY_TOPIC=TOPIC, NTFY_PRIORITY="5", NTFY_TOKEN="tk_secret0123456789"))
    assert report.status == "delivered", report
    request = production.last
    assert (request.method, request.url) == ("POST", f"https://ntfy.sh/{TOPIC}")
    assert request.body == NASTY.content.encode()
    assert request.headers["title"].startswith("=?utf-8?b?")
    assert decoded(request.headers["title"]) == NASTY.title  # non-ASCII survives the header
    assert request.headers["priority"] == "5"
    assert request.headers["authorization"] == "Bearer tk_secret0123456789"


async def test_self_hosted_basic_auth_and_actions(recorder, make_config):
    recorder.respond(reply(200, {"id": "x1"}))
    env = dict(
        NTFY_TOPIC=TOPIC,
        NTFY_URL=recorder.url + "/",
        NTFY_USERNAME="alice",
        NTFY_PASSWORD="pw-0123456",
        NTFY_ACTIONS="view, 打开, https://example.test",
    )
    report = await send(make_config(**env))
    assert report.status == "delivered"
    request = recorder.last
    assert request.path == f"/{TOPIC}"
    assert request.headers["authorization"] == "Basic " + base64.b64encode(b"alice:pw-0123456").decode()
    assert decoded(request.headers["actions"]) == "view, 打开, https://example.test"
    assert request.headers["priority"] == "3"


async def test_ascii_title_is_sent_plain(recorder, make_config):
    from mcp_push.models import Notification

    recorder.respond(reply(200, {"id": "x1"}))
    await send(make_config(NTFY_TOPIC=TOPIC, NTFY_URL=recorder.url), Notification(title="Build ok", content="c"))
    assert recorder.last.headers["title"] == "Build ok"


async def test_failure_shows_ntfy_error(production, make_config):
    production.respond(reply(403, {"code": 40301, "http": 403, "error": "forbidden", "link": "https://ntfy.sh/docs"}))
    report = await send(make_config(NTFY_TOPIC=TOPIC))
    (result,) = report.results
    assert report.status == "failed" and result.error == "HTTP 403: forbidden"
    assert TOPIC not in report.model_dump_json()


async def test_config_validation(make_config):
    config = make_config(NTFY_TOPIC=TOPIC, NTFY_PRIORITY="9", NTFY_USERNAME="bob")
    assert "NTFY_PRIORITY" in config.problems["ntfy"]
    config = make_config(NTFY_TOPIC=TOPIC, NTFY_USERNAME="bob")
    assert "NTFY_USERNAME and NTFY_PASSWORD must be set together" in config.problems["ntfy"]
