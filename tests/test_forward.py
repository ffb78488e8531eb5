"""Forwarding to a hub (MCP_PUSH_SERVER): another machine's send, event, ask, hook and stdio server go
through the hub, which owns the channels and the history; with the hub down, nothing is lost."""

from __future__ import annotations

import asyncio
import io
import json
import sys
import time

import pytest
from mcp.shared.memory import create_connected_server_and_client_session as connect

from mcp_push.ask import ask, prompt_for
from mcp_push.cli import main
from mcp_push.dispatch import UsageError, dispatch, redeliver
from mcp_push.models import Ask, Event, Notification
from mcp_push.server import PushServer
from tests.fakes import CHAT_ID, TG_TOKEN, FakeTelegram
from tests.hubs import RunningHub, free_port
from tests.recorder import reply
from tests.test_hooks import payload, transcript

TOKEN = "mph_forward_token_0123456789abcdefghij"


@pytest.fixture
def webhook(recorder):
    recorder.respond(reply(200, {"ok": True}))
    return recorder


@pytest.fixture
def the_hub(make_config, webhook, tmp_path):
    config = make_config(
        WEBHOOK_URL=webhook.url + "/hook", MCP_PUSH_API_TOKENS=TOKEN, MCP_PUSH_HOME=str(tmp_path / "hub")
    )
    running = RunningHub(config)
    yield running
    running.stop()


def here(make_config, tmp_path, server: str, **env: str):
    """This machine: no channel of its own, its own state dir, the hub's address."""
    return make_config(
        **{"MCP_PUSH_SERVER": server, "MCP_PUSH_API_TOKEN": TOKEN, "MCP_PUSH_HOME": str(tmp_path / "here"), **env}
    )


async def test_a_send_goes_through_the_hub(the_hub, webhook, make_config, tmp_path):
    local = here(make_config, tmp_path, the_hub.url)
    report = await dispatch(local, Notification(title="From the laptop", content="tests pass"))
    assert report.status == "delivered" and [r.name for r in report.results] == ["webhook"]  # the hub's report
    assert webhook.last.json() == {"title": "From the laptop", "content": "tests pass"}
    (entry,) = the_hub.config.store.history(limit=5)
    assert entry["title"] == "From the laptop" and entry["source"] == "http" and report.id == entry["id"]
    assert local.store.history(limit=5) == []  # the hub keeps the history
    event = Event(run_id="nightly", event="error", message="3 failed").to_notification()
    await dispatch(local, event)
    assert the_hub.config.store.history(limit=1)[0]["run_id"] == "nightly"


async def test_the_hub_down_keeps_it_pending_then_sends_it_on(webhook, make_config, tmp_path):
    port = free_port()
    local = here(make_config, tmp_path, f"http://127.0.0.1:{port}")
    started = time.monotonic()
    report = await dispatch(local, Notification(title="Offline", content="kept"))
    assert time.monotonic() - started < 5
    assert report.status == "failed" and report.results[0].name == "hub" and report.results[0].pending
    assert "could not connect" in report.summary and "mcp-push retry" in report.summary
    (entry,) = local.store.history(limit=5)
    assert entry["pending"] == ["hub"]

    hub_config = make_config(
        WEBHOOK_URL=webhook.url + "/hook", MCP_PUSH_API_TOKENS=TOKEN, MCP_PUSH_HOME=str(tmp_path / "hub")
    )
    running = RunningHub(hub_config, port=port)
    try:
        (claim,) = local.store.claim(horizon_s=3600, due_only=False)
        again = await redeliver(local, claim)
        assert again.status == "delivered" and webhook.last.json()["title"] == "Offline"
        assert local.store.history(limit=5)[0]["pending"] == []
        assert local.store.claim(horizon_s=3600, due_only=False) == []
    finally:
        running.stop()


async def test_a_wrong_token_is_a_refusal_not_a_retry(the_hub, make_config, tmp_path):
    local = here(make_config, tmp_path, the_hub.url, MCP_PUSH_API_TOKEN="mph_wrong_0123456789abcdefghijkl")
    report = await dispatch(local, Notification(title="t", content="c"))
    assert report.status == "failed" and not report.results[0].pending
    assert "MCP_PUSH_API_TOKEN" in report.summary and "mph_wrong" not in report.model_dump_json()


async def test_a_channel_the_hub_does_not_know(the_hub, make_config, tmp_path):
    local = here(make_config, tmp_path, the_hub.url)
    with pytest.raises(UsageError, match="unknown channel 'pager'"):
        await dispatch(local, Notification(title="t", content="c"), ["pager"])


async def test_the_stdio_server_forwards(the_hub, webhook, make_config, tmp_path):
    local = here(make_config, tmp_path, the_hub.url)
    async with connect(PushServer(local)) as client:
        result = await client.call_tool("notify.send", {"title": "Via stdio", "content": "and the hub"})
    assert result.structuredContent["results"][0]["name"] == "webhook"
    assert webhook.last.json()["title"] == "Via stdio"


async def test_a_question_goes_through_the_hub(make_config, tmp_path):
    telegram = FakeTelegram()
    hub_env = {"TG_BOT_TOKEN": TG_TOKEN, "TG_USER_ID": str(CHAT_ID), "TG_API_HOST": telegram.url}
    hub_config = make_config(**hub_env, MCP_PUSH_API_TOKENS=TOKEN, MCP_PUSH_HOME=str(tmp_path / "hub"))
    running = RunningHub(hub_config)
    try:
        local = here(make_config, tmp_path, running.url)
        request = Ask(question="Ship from the build box?", options=["Ship", "Hold"], timeout_seconds=20)
        task = asyncio.ensure_future(ask(local, prompt_for(request, local.settings)))
        message = await asyncio.to_thread(telegram.wait_question)
        assert message["text"] == "❓ Ship from the build box?\n\nShip · Hold"
        await asyncio.to_thread(telegram.wait_for, lambda: telegram.polling)
        telegram.tap("Ship")
        result = await task
        assert result.answered and result.answer == "Ship" and result.channel == "telegram"
        assert hub_config.store.history(limit=1)[0]["question"]["answer"] == "Ship"
    finally:
        running.stop()
        telegram.close()


async def test_a_question_when_the_hub_is_down(make_config, tmp_path):
    local = here(make_config, tmp_path, f"http://127.0.0.1:{free_port()}")
    result = await ask(local, prompt_for(Ask(question="Q?"), local.settings))
    assert result.reason == "not_delivered" and "did not reach the hub" in result.summary


@pytest.mark.usefixtures("process_env")
def test_a_hook_returns_within_its_deadline_when_the_hub_hangs(monkeypatch, capsys, tmp_path):
    from tests.test_secrets import Hang

    hang = Hang()  # accepts and never answers
    monkeypatch.setenv("MCP_PUSH_SERVER", f"http://127.0.0.1:{hang.port}")
    monkeypatch.setenv("MCP_PUSH_API_TOKEN", TOKEN)
    monkeypatch.setenv("MCP_PUSH_HOOK_DEADLINE", "2")
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(payload("Stop", transcript(tmp_path, started=900)))))
    started = time.monotonic()
    assert main(["hook", "claude-code"]) == 0
    assert time.monotonic() - started < 2 + 3
    hang.close()
    out, err = capsys.readouterr()
    assert json.loads(out) == {"continue": True, "suppressOutput": True} and "hub" in err
