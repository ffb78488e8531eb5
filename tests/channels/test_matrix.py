import html
import re

import pytest

from mcp_push.models import Notification
from tests.conftest import NASTY, send
from tests.recorder import reply

TOKEN = "syt_Ym90_mAtRiXaCcEsStOkEn0123_2fGh9a"
ROOM = "!OpsRoom42:example.org"
OK = {"event_id": "$YUwRidLecu:example.org"}
PREFIX = "/_matrix/client/v3/rooms/%21OpsRoom42%3Aexample.org/send/m.room.message/"


def config(make_config, recorder, **extra):
    return make_config(MATRIX_HOMESERVER=f"{recorder.url}/", MATRIX_ACCESS_TOKEN=TOKEN, MATRIX_ROOM_ID=ROOM, **extra)


def txn_of(request) -> str:
    assert request.path.startswith(PREFIX), request.path
    return request.path.removeprefix(PREFIX)


async def test_text_and_html_message_put_to_a_transaction(recorder, make_config):
    recorder.respond(reply(200, OK))
    report = await send(config(make_config, recorder))

    assert report.status == "delivered", report
    request = recorder.last
    assert request.method == "PUT"
    assert re.fullmatch(r"mcp-push-[0-9a-f]{32}", txn_of(request))  # the room id's ! and : percent-encoded
    assert request.raw_query == ""  # the token is not in the URL
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"].startswith("application/json")
    escaped = html.escape(NASTY.content).replace("\n", "<br>")
    assert request.json() == {
        "msgtype": "m.text",
        "body": f"{NASTY.title}\n\n{NASTY.content}",
        "format": "org.matrix.custom.html",
        "formatted_body": f"<b>{html.escape(NASTY.title)}</b><br><br>{escaped}",
    }
    assert "&lt;b&gt;bold&lt;/b&gt;" in request.json()["formatted_body"]  # user markup shows as typed


async def test_a_retried_500_reuses_the_transaction_id(recorder, make_config):
    recorder.respond([reply(500, {"errcode": "M_UNKNOWN", "error": "Internal server error"}), reply(200, OK)])
    report = await send(config(make_config, recorder))
    (result,) = report.results
    assert result.ok and result.attempts == 2
    first, second = recorder.requests
    assert txn_of(first) == txn_of(second)  # the homeserver answers the repeat with the first event: no duplicate
    assert first.body == second.body


async def test_a_timed_out_attempt_is_retried_with_the_same_transaction_id(recorder, make_config):
    """A read timeout may mean the event went in; a repeat of its txnId cannot make a second one, so it is
    retried without MCP_PUSH_RETRY_UNSAFE (a request without such a key is not: tests/test_retries.py)."""
    recorder.respond([reply(200, OK, delay=1.0), reply(200, OK)])
    report = await send(config(make_config, recorder, MCP_PUSH_TIMEOUT="0.3"))
    assert report.status == "delivered", report
    assert report.results[0].attempts == 2
    first, second = recorder.requests
    assert txn_of(first) == txn_of(second)


async def test_each_message_has_its_own_transaction_id(recorder, make_config):
    recorder.respond(reply(200, OK))
    conf = config(make_config, recorder)
    await send(conf)
    await send(conf)
    first, second = recorder.requests
    assert txn_of(first) != txn_of(second)


async def test_limit_exceeded_waits_retry_after_ms(recorder, make_config):
    limited = {"errcode": "M_LIMIT_EXCEEDED", "error": "Too Many Requests", "retry_after_ms": 300}
    recorder.respond([reply(429, limited), reply(200, OK)])
    report = await send(config(make_config, recorder))
    (result,) = report.results
    assert result.ok and result.attempts == 2
    assert recorder.times[1] - recorder.times[0] >= 0.29  # the server's wait, not the (tiny) test backoff
    assert txn_of(recorder.requests[0]) == txn_of(recorder.requests[1])


async def test_limit_exceeded_past_the_deadline_is_not_waited_for(recorder, make_config):
    limited = {"errcode": "M_LIMIT_EXCEEDED", "error": "Too Many Requests", "retry_after_ms": 120_000}
    recorder.respond(reply(429, limited))
    report = await send(config(make_config, recorder, MCP_PUSH_DEADLINE="5"))
    (result,) = report.results
    assert not result.ok and result.attempts == 1 and result.pending
    assert "M_LIMIT_EXCEEDED: Too Many Requests" in result.error
    assert "asked to wait 120 s" in result.error


async def test_not_a_member_is_a_failure_with_a_hint(recorder, make_config):
    recorder.respond(reply(403, {"errcode": "M_FORBIDDEN", "error": "User @bot:example.org not in room"}))
    report = await send(config(make_config, recorder))
    assert report.status == "failed"
    (result,) = report.results
    assert not result.ok and result.http_status == 403 and not result.pending
    assert "M_FORBIDDEN: User @bot:example.org not in room" in result.error
    assert "member of the room" in result.error
    assert result.attempts == 1
    assert TOKEN not in report.model_dump_json()


async def test_token_masked_when_the_server_echoes_it(recorder, make_config):
    recorder.respond(reply(401, {"errcode": "M_UNKNOWN_TOKEN", "error": f"Unrecognised access token {TOKEN}"}))
    report = await send(config(make_config, recorder))
    (result,) = report.results
    assert not result.ok and result.http_status == 401
    assert "M_UNKNOWN_TOKEN" in result.error
    assert TOKEN not in report.model_dump_json()


async def test_200_without_an_event_id_is_a_failure(recorder, make_config):
    recorder.respond(reply(200, {"status": "ok"}))
    report = await send(config(make_config, recorder))
    (result,) = report.results
    assert not result.ok and "no event_id" in result.error


async def test_room_id_without_a_server_part(recorder, make_config):
    # Room version 12 ids have no ":server" part.
    room = "!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM"
    recorder.respond(reply(200, OK))
    report = await send(make_config(MATRIX_HOMESERVER=recorder.url, MATRIX_ACCESS_TOKEN=TOKEN, MATRIX_ROOM_ID=room))
    assert report.status == "delivered", report
    assert recorder.last.path.startswith(f"/_matrix/client/v3/rooms/%21{room[1:]}/send/m.room.message/")


@pytest.mark.parametrize(("room", "shown"), [("#ops:example.org", "alias"), ("OpsRoom42:example.org", "!")])
async def test_anything_but_a_room_id_is_a_config_problem(make_config, room, shown):
    conf = make_config(MATRIX_HOMESERVER="https://matrix.example.org", MATRIX_ACCESS_TOKEN=TOKEN, MATRIX_ROOM_ID=room)
    assert "matrix" not in conf.channels
    assert "MATRIX_ROOM_ID" in conf.problems["matrix"] and shown in conf.problems["matrix"]


async def test_long_text_is_cut_to_fit_one_event(recorder, make_config):
    recorder.respond(reply(200, OK))
    note = Notification(title="Log", content="x" * 40_000)
    report = await send(config(make_config, recorder), note)
    assert report.status == "delivered", report
    body = recorder.last.json()["body"]
    assert len(body.encode()) <= 30_000 and body.endswith("…[truncated]")
    assert body.startswith("Log\n\nxxx")


async def test_html_copy_left_out_when_both_would_not_fit(recorder, make_config):
    # 25,000 "<" are 25,000 bytes of text but 100,000 of HTML ("&lt;"): the plain text alone still arrives whole.
    recorder.respond(reply(200, OK))
    note = Notification(title="Diff", content="<" * 25_000)
    report = await send(config(make_config, recorder), note)
    assert report.status == "delivered", report
    assert recorder.last.json() == {"msgtype": "m.text", "body": "Diff\n\n" + "<" * 25_000}
