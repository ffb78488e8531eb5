"""Quiet hours, routes and priorities, with a fixed clock and local channel servers."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timezone

import pytest

from mcp_push import routing
from mcp_push.config import Config, ConfigError
from mcp_push.dispatch import dispatch
from mcp_push.models import Event, Notification
from tests.recorder import reply

NIGHT = datetime(2026, 12, 2, 23, 30, tzinfo=timezone.utc)
MORNING = datetime(2026, 12, 3, 7, 5, tzinfo=timezone.utc)
NOON = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def at(monkeypatch):
    def set_clock(when: datetime) -> None:
        monkeypatch.setattr(routing, "clock", lambda: when)

    return set_clock


def note(title: str = "Build done", **fields) -> Notification:
    return Notification(title=title, content="details", **fields)


@pytest.fixture
def hooks(recorder):
    recorder.respond(reply(200, {"ok": True}))
    return recorder


def bodies(recorder) -> list[dict]:
    return [r.json() for r in recorder.requests]


async def test_quiet_hours_hold_routine_and_let_urgent_through(hooks, make_config, at):
    config = make_config(WEBHOOK_URL=hooks.url + "/hook", MCP_PUSH_QUIET_HOURS="22:00-07:00", MCP_PUSH_TZ="UTC")
    at(NIGHT)
    held = await dispatch(config, note("Nightly build done"))
    assert held.status == "held" and held.delivered and held.results == []
    assert "quiet hours (22:00-07:00)" in held.summary and "07:00" in held.summary
    error = Event(run_id="nightly", event="error", message="3 tests failed").to_notification()
    assert (await dispatch(config, error)).status == "delivered"  # an error goes out at night
    needs_you = note("🔔 acme: Claude needs your permission", kind="attention", urgent=True)
    assert (await dispatch(config, needs_you)).status == "delivered"
    await dispatch(config, note("Backup done"))
    assert [b["title"] for b in bodies(hooks)] == ["❌ [ERROR] nightly", "🔔 acme: Claude needs your permission"]
    assert config.store.history(limit=5)[-1]["held"] is True

    at(MORNING)  # the next send after quiet hours brings the digest first
    assert (await dispatch(config, note("Coffee"))).status == "delivered"
    digest, coffee = bodies(hooks)[2:]
    assert digest["title"] == "🌙 While it was quiet: 2 notifications"
    assert re.fullmatch(r"\d\d:\d\d Nightly build done\n\d\d:\d\d Backup done", digest["content"])  # when held
    assert coffee["title"] == "Coffee"
    await dispatch(config, note("Lunch"))
    assert len(bodies(hooks)) == 5  # the digest went once


async def test_a_running_server_sends_the_digest_by_itself(hooks, make_config, at):
    config = make_config(WEBHOOK_URL=hooks.url + "/hook", MCP_PUSH_QUIET_HOURS="22:00-07:00", MCP_PUSH_TZ="UTC")
    at(NIGHT)
    await dispatch(config, note("One"))
    assert await routing.send_digest(config) is None  # still quiet
    at(MORNING)
    other = Config(env=config.env, settings=config.settings)  # another process: one of the two gets them
    first, second = await asyncio.gather(routing.send_digest(config), routing.send_digest(other))
    assert [r is not None for r in (first, second)].count(True) == 1
    assert [b["title"] for b in bodies(hooks)] == ["🌙 While it was quiet: 1 notification"]


async def test_quiet_hours_within_one_day_and_another_zone(hooks, make_config, at):
    config = make_config(WEBHOOK_URL=hooks.url, MCP_PUSH_QUIET_HOURS="12:00-13:00", MCP_PUSH_TZ="Asia/Tokyo")
    at(NOON)  # 21:00 in Tokyo: not quiet there
    assert (await dispatch(config, note())).status == "delivered"
    at(datetime(2026, 12, 3, 3, 30, tzinfo=timezone.utc))  # 12:30 in Tokyo
    assert (await dispatch(config, note("Second"))).status == "held"


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("MCP_PUSH_QUIET_HOURS", "late", "HH:MM-HH:MM"),
        ("MCP_PUSH_QUIET_HOURS", "25:00-07:00", "HH:MM-HH:MM"),
        ("MCP_PUSH_QUIET_HOURS", "07:00-07:00", "same time"),
        ("MCP_PUSH_TZ", "Mars/Olympus", "not a time zone"),
        ("MCP_PUSH_ROUTES", "error", "KIND=CHANNEL"),
        ("MCP_PUSH_ROUTES", "finish=ntfy", "neither a kind"),
    ],
)
def test_bad_settings_are_refused_when_loading(make_config, variable, value, problem):
    with pytest.raises(ConfigError, match=problem):
        make_config(**{variable: value})


async def test_routes_by_kind_and_project(recorder, make_config, at):
    recorder.respond(reply(200, {"id": "m1", "ok": True}))
    config = make_config(
        WEBHOOK_URL=recorder.url + "/hook",
        NTFY_TOPIC="routes-topic-0123456789",
        NTFY_URL=recorder.url,
        GOTIFY_URL=recorder.url + "/gotify",
        GOTIFY_TOKEN="gotify-token-0123",
        MCP_PUSH_ROUTES="error=webhook,pager; end=ntfy; project:acme-*=gotify",
    )
    error = Event(run_id="nightly", event="error", message="failed").to_notification()
    assert [r.name for r in (await dispatch(config, error)).results] == ["webhook"]  # pager is not configured
    end = Event(run_id="nightly", event="end", message="ok").to_notification()
    assert [r.name for r in (await dispatch(config, end)).results] == ["ntfy"]
    both = note("acme", kind="end", project="acme-api")
    assert {r.name for r in (await dispatch(config, both)).results} == {"ntfy", "gotify"}
    other = note("other", project="widgets")
    assert {r.name for r in (await dispatch(config, other)).results} == {"webhook", "ntfy", "gotify"}  # no rule
    named = await dispatch(config, error.model_copy(update={"content": "again"}), ["gotify"])
    assert [r.name for r in named.results] == ["gotify"]  # the call's own channels win


async def test_urgent_pushes_use_each_channels_urgent_level(recorder, make_config):
    recorder.respond(reply(200, {"id": "m1", "ok": True, "status": 1, "code": 200}))
    config = make_config(
        NTFY_TOPIC="prio-topic-0123456789",
        NTFY_URL=recorder.url,
        NTFY_PRIORITY="2",
        GOTIFY_URL=recorder.url + "/gotify",
        GOTIFY_TOKEN="gotify-token-0123",
        BARK_PUSH=recorder.url + "/bark/key0123456789",
        TG_BOT_TOKEN="123456:tg-token-0123456789",
        TG_USER_ID="42",
        TG_API_HOST=recorder.url + "/tg",
        TG_SILENT="true",
    )

    async def sent(n: Notification) -> dict[str, object]:
        recorder.requests.clear()
        await dispatch(config, n)
        found: dict[str, object] = {}
        for r in recorder.requests:
            if r.path.startswith("/gotify"):
                found["gotify"] = r.json()["priority"]
            elif r.path.startswith("/bark"):
                found["bark"] = r.json().get("level")
            elif r.path.startswith("/tg"):
                found["telegram"] = r.json().get("disable_notification", False)
            else:
                found["ntfy"] = r.headers.get("priority")
        return found

    routine = await sent(note("routine"))
    assert routine == {"ntfy": "2", "gotify": 0, "bark": None, "telegram": True}  # silent
    urgent = await sent(Event(run_id="job", event="error", message="broke").to_notification())
    assert urgent == {"ntfy": "5", "gotify": 8, "bark": "timeSensitive", "telegram": False}  # with sound
