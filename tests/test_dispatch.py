"""Fan-out behaviour: concurrency, per-channel timeouts, the overall deadline, failures kept apart."""

from __future__ import annotations

import time

import pytest

from mcp_push.dispatch import UsageError, dispatch
from mcp_push.models import Notification
from tests.recorder import reply

NOTE = Notification(title="Deploy finished", content="All good")


async def test_channels_run_concurrently(recorder, make_config):
    recorder.respond(reply(200, {"id": "1"}, delay=0.4))
    config = make_config(
        NTFY_TOPIC="t0123",
        NTFY_URL=recorder.url,
        WEBHOOK_URL=recorder.url + "/hook",
        BARK_PUSH=recorder.url + "/bark-key",
    )
    recorder.respond(reply(200, {"code": 200, "message": "success"}, delay=0.4), path="/bark-key")
    started = time.perf_counter()
    report = await dispatch(config, NOTE)
    elapsed = time.perf_counter() - started
    assert report.status == "delivered", report
    assert len(report.results) == 3
    assert elapsed < 1.0  # one after another would take at least 1.2 s


async def test_slow_channel_times_out_while_others_deliver(recorder, make_config):
    recorder.respond(reply(200, {"ok": True}, delay=3), path="/slow")
    recorder.respond(reply(200, {"id": "1"}), path="/fast0123")
    config = make_config(
        MCP_PUSH_TIMEOUT="0.5", WEBHOOK_URL=recorder.url + "/slow", NTFY_TOPIC="fast0123", NTFY_URL=recorder.url
    )
    started = time.perf_counter()
    report = await dispatch(config, NOTE)
    assert time.perf_counter() - started < 2
    assert report.status == "partial"
    results = {r.name: r for r in report.results}
    assert results["ntfy"].ok
    assert not results["webhook"].ok and "timed out after 0.5 s" in results["webhook"].error


async def test_overall_deadline_bounds_the_call(recorder, make_config):
    recorder.respond(reply(200, {"ok": True}, delay=5))
    config = make_config(MCP_PUSH_TIMEOUT="10", MCP_PUSH_DEADLINE="0.5", WEBHOOK_URL=recorder.url)
    started = time.perf_counter()
    report = await dispatch(config, NOTE)
    assert time.perf_counter() - started < 1.5
    (result,) = report.results
    assert report.status == "failed" and "overall deadline of 0.5 s passed" in result.error


async def test_business_failure_and_server_error_do_not_stop_others(production, make_config):
    production.respond(reply(200, {"id": "1"}))
    production.respond(reply(200, {"errcode": 300001, "errmsg": "token is not exist"}), path="/robot/send")
    production.respond(reply(503, text="unavailable"), path="/hook")
    config = make_config(NTFY_TOPIC="t0123", WEBHOOK_URL="https://example.test/hook", DD_BOT_TOKEN="dd-0123456789")
    report = await dispatch(config, NOTE)
    results = {r.name: r for r in report.results}
    assert results["ntfy"].ok
    assert "token is not exist" in results["dingtalk"].error
    assert results["webhook"].error == "HTTP 503: unavailable"
    assert report.status == "partial"


async def test_refused_connection_is_reported(make_config):
    report = await dispatch(make_config(BARK_PUSH="http://127.0.0.1:1/key"), NOTE)
    (result,) = report.results
    assert not result.ok and result.error.startswith("connection failed")


async def test_skip_push_title(recorder, make_config):
    config = make_config(WEBHOOK_URL=recorder.url, SKIP_PUSH_TITLE="Nightly noise\nDeploy finished")
    report = await dispatch(config, NOTE)
    assert report.status == "skipped" and report.delivered
    assert recorder.requests == []


async def test_misconfigured_channel_is_reported_not_raised(recorder, make_config):
    recorder.respond(reply(200, {"ok": True}))
    config = make_config(WEBHOOK_URL=recorder.url, TG_BOT_TOKEN="123:abcdefghijklmnop")
    report = await dispatch(config, NOTE)
    results = {r.name: r for r in report.results}
    assert results["webhook"].ok
    assert results["telegram"].error == "misconfigured: TG_USER_ID: is required"
    assert report.status == "partial"


async def test_only_named_channels(recorder, make_config):
    recorder.respond(reply(200, {"ok": True}))
    config = make_config(WEBHOOK_URL=recorder.url, NTFY_TOPIC="t0123", NTFY_URL=recorder.url)
    report = await dispatch(config, NOTE, ["Webhook"])
    assert [r.name for r in report.results] == ["webhook"]
    with pytest.raises(UsageError, match="unknown channel 'pager'"):
        await dispatch(config, NOTE, ["pager"])


async def test_inbox_when_nothing_configured(make_config, tmp_path):
    report = await dispatch(make_config(), NOTE)
    assert report.status == "no_channels" and report.delivered
    assert [r.name for r in report.results] == ["inbox"]
    assert "No push channel is configured" in report.summary
    (entry,) = make_config().store.history(channel="inbox")
    assert (entry["title"], entry["content"]) == ("Deploy finished", "All good")


async def test_hitokoto_is_appended_when_enabled(production, make_config):
    production.respond(reply(200, {"hitokoto": "山高水长", "from": "某书"}), path="/")
    production.respond(reply(200, {"ok": True}), path="/hook")
    report = await dispatch(make_config(HITOKOTO="true", WEBHOOK_URL="https://example.test/hook"), NOTE)
    assert report.status == "delivered"
    assert production.requests[0].url == "https://v1.hitokoto.cn/"
    assert production.last.json()["content"] == "All good\n\n山高水长    ----某书"


async def test_hitokoto_failure_never_blocks_the_message(production, make_config):
    production.respond(reply(500, text="nope"), path="/")
    production.respond(reply(200, {"ok": True}), path="/hook")
    report = await dispatch(make_config(HITOKOTO="1", WEBHOOK_URL="https://example.test/hook"), NOTE)
    assert report.status == "delivered"
    assert production.last.json()["content"] == "All good"


async def test_hitokoto_off_by_default(production, make_config):
    production.respond(reply(200, {"ok": True}))
    await dispatch(make_config(WEBHOOK_URL="https://example.test/hook"), NOTE)
    assert [r.url for r in production.requests] == ["https://example.test/hook"]


async def test_standard_proxy_variables_are_honoured(recorder, make_config, monkeypatch):
    """HTTP_PROXY from the environment routes requests through the proxy (here: the recorder)."""
    recorder.respond(reply(200, {"ok": True}))
    monkeypatch.setenv("HTTP_PROXY", recorder.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    report = await dispatch(make_config(WEBHOOK_URL="http://hooks.example.test/notify"), NOTE)
    assert report.status == "delivered"
    assert recorder.last.target == "http://hooks.example.test/notify"  # absolute-form: a proxied request
