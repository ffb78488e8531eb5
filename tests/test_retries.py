"""Retries against local servers that fail in scripted ways: what is retried, how often, how long."""

from __future__ import annotations

import itertools
import socket
import time

from mcp_push.dispatch import dispatch
from mcp_push.models import Notification
from tests.recorder import reply

NOTE = Notification(title="Job done", content="ok")


def webhook(make_config, url: str, **extra: str):
    return make_config(WEBHOOK_URL=url, **extra)


async def test_503_then_200_is_delivered_on_the_second_attempt(recorder, make_config):
    recorder.respond([reply(503, text="busy"), reply(200, {"ok": True})])
    report = await dispatch(webhook(make_config, recorder.url), NOTE)
    (result,) = report.results
    assert result.ok and result.attempts == 2
    assert len(recorder.requests) == 2


async def test_429_honours_retry_after(recorder, make_config):
    recorder.respond([reply(429, text="slow down", headers={"Retry-After": "1"}), reply(200, {"ok": True})])
    started = time.perf_counter()
    report = await dispatch(webhook(make_config, recorder.url), NOTE)
    elapsed = time.perf_counter() - started
    (result,) = report.results
    assert result.ok and result.attempts == 2
    assert 0.95 <= elapsed < 3  # waited what the service asked, not the (tiny) test backoff


async def test_retry_after_past_the_deadline_is_not_waited_for(recorder, make_config):
    recorder.respond(reply(429, text="slow down", headers={"Retry-After": "120"}))
    started = time.perf_counter()
    report = await dispatch(webhook(make_config, recorder.url, MCP_PUSH_DEADLINE="5"), NOTE)
    assert time.perf_counter() - started < 1
    (result,) = report.results
    assert not result.ok and result.attempts == 1
    assert "asked to wait 120 s, past the deadline" in result.error


async def test_connection_refused_is_retried_then_reported(make_config):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed once the block ends: nothing listens there
    report = await dispatch(webhook(make_config, f"http://127.0.0.1:{port}/x", MCP_PUSH_RETRIES="2"), NOTE)
    (result,) = report.results
    assert not result.ok and result.attempts == 3
    assert result.error.startswith("connection failed")


async def test_read_timeout_is_not_retried_unless_opted_in(recorder, make_config):
    recorder.respond([reply(200, {"ok": True}, delay=1.5), reply(200, {"ok": True})])
    report = await dispatch(webhook(make_config, recorder.url, MCP_PUSH_TIMEOUT="0.3"), NOTE)
    (result,) = report.results
    assert not result.ok and result.attempts == 1 and "timed out after 0.3 s" in result.error
    assert len(recorder.requests) == 1  # it may have been accepted: sending again could duplicate it


async def test_read_timeout_retried_when_opted_in(recorder, make_config):
    recorder.respond([reply(200, {"ok": True}, delay=1.5), reply(200, {"ok": True})])
    config = webhook(make_config, recorder.url, MCP_PUSH_TIMEOUT="0.3", MCP_PUSH_RETRY_UNSAFE="true")
    report = await dispatch(config, NOTE)
    (result,) = report.results
    assert result.ok and result.attempts == 2


async def test_4xx_is_never_retried(recorder, make_config):
    recorder.respond(reply(401, text="bad token"))
    report = await dispatch(webhook(make_config, recorder.url), NOTE)
    (result,) = report.results
    assert not result.ok and result.attempts == 1 and len(recorder.requests) == 1


async def test_retries_stop_at_the_configured_count(recorder, make_config):
    recorder.respond(reply(502, text="bad gateway"))
    report = await dispatch(webhook(make_config, recorder.url, MCP_PUSH_RETRIES="3"), NOTE)
    (result,) = report.results
    assert not result.ok and result.attempts == 4 and len(recorder.requests) == 4
    assert result.error == "HTTP 502: bad gateway"


async def test_backoff_grows_and_stays_inside_the_deadline(recorder, make_config):
    recorder.respond(reply(503, text="down"))
    config = webhook(
        make_config, recorder.url, MCP_PUSH_RETRIES="10", MCP_PUSH_RETRY_BACKOFF="0.2", MCP_PUSH_DEADLINE="1.5"
    )
    started = time.perf_counter()
    report = await dispatch(config, NOTE)
    elapsed = time.perf_counter() - started
    (result,) = report.results
    assert elapsed < 2.0  # the deadline bounds the retries
    assert 2 <= result.attempts <= 5  # 0.2, 0.4, 0.8 ... doubling, so only a few fit in 1.5 s
    gaps = [b - a for a, b in itertools.pairwise(recorder.times)]
    # Jitter spreads each wait over 0.5x..1.5x of backoff * 2**(k-1), so the k-th gap is at least half of that.
    assert all(gap >= 0.2 * 2**k * 0.5 * 0.95 for k, gap in enumerate(gaps)), gaps


async def test_service_busy_code_is_retried(production, make_config):
    production.respond([reply(200, {"errcode": 130101, "errmsg": "send too fast"}), reply(200, {"errcode": 0})])
    report = await dispatch(make_config(DD_BOT_TOKEN="dd-token-0123456789"), NOTE)
    (result,) = report.results
    assert result.ok and result.attempts == 2


async def test_telegram_flood_control_retry_after(production, make_config):
    flood = {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    }
    production.respond([reply(429, flood), reply(200, {"ok": True, "result": {}})])
    started = time.perf_counter()
    report = await dispatch(make_config(TG_BOT_TOKEN="123:tg-token-0123456789", TG_USER_ID="42"), NOTE)
    (result,) = report.results
    assert result.ok and result.attempts == 2
    assert time.perf_counter() - started >= 0.95


async def test_multi_target_channel_retries_only_the_failed_request(recorder, make_config):
    seen: dict[str, int] = {}

    def answer(request):
        uin = request.json()["peer"]["peerUin"]
        seen[uin] = seen.get(uin, 0) + 1
        return reply(503, text="try later") if uin == "2" and seen[uin] == 1 else reply(200, {})

    recorder.respond(answer)
    config = make_config(CHRONOCAT_URL=recorder.url, CHRONOCAT_QQ="user_id=1;group_id=2", CHRONOCAT_TOKEN="tok-0123456")
    report = await dispatch(config, NOTE)
    assert report.status == "delivered"
    assert seen == {"1": 1, "2": 2}  # target 1 was not sent twice
