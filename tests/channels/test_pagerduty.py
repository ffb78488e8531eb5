import re
import socket

import pytest

from mcp_push.models import Event, Notification
from tests.conftest import NASTY, send
from tests.recorder import reply

KEY = "R0ut1ngKeyF0rEventsApiV2xxxxxx01"
ENQUEUE = "https://events.pagerduty.com/v2/enqueue"
CHANGE = "https://events.pagerduty.com/v2/change/enqueue"
ACCEPTED = {"status": "success", "message": "Event processed", "dedup_key": "k"}
CHANGED = {"status": "success", "message": "Change event processed"}


def summary_of(note: Notification) -> str:
    return " ".join(f"{note.title} — {note.content}".split())


async def test_notification_triggers_an_alert(production, make_config):
    production.respond(reply(202, ACCEPTED))
    report = await send(make_config(PAGERDUTY_ROUTING_KEY=KEY))

    assert report.status == "delivered", report
    request = production.last
    assert request.method == "POST"
    assert request.url == ENQUEUE
    assert request.raw_query == "" and "authorization" not in request.headers  # the key is in the body only
    assert request.headers["content-type"].startswith("application/json")
    body = request.json()
    assert re.fullmatch(r"mcp-push-[0-9a-f]{32}", body.pop("dedup_key"))
    assert body == {
        "routing_key": KEY,
        "event_action": "trigger",
        "client": "mcp-push",
        "payload": {
            "summary": summary_of(NASTY),
            "source": socket.gethostname(),
            "severity": "error",
            "custom_details": {"title": NASTY.title, "content": NASTY.content},
        },
    }


async def test_a_failing_run_is_one_incident(production, make_config):
    production.respond(reply(202, ACCEPTED))
    note = Event(run_id="nightly-build-42", event="error", message="tests failed").to_notification()
    conf = make_config(PAGERDUTY_ROUTING_KEY=KEY, PAGERDUTY_SEVERITY="Critical")
    await send(conf, note)
    await send(conf, note)
    first, second = production.requests
    assert first.json()["dedup_key"] == second.json()["dedup_key"] == "nightly-build-42"
    body = first.json()
    assert body["event_action"] == "trigger"
    assert body["payload"]["severity"] == "critical"
    assert body["payload"]["custom_details"] == {
        "title": note.title,
        "content": note.content,
        "run_id": "nightly-build-42",
        "event": "error",
    }


async def test_the_end_of_a_run_resolves_its_incident(production, make_config):
    production.respond(lambda request: reply(202, CHANGED if request.path == "/v2/change/enqueue" else ACCEPTED))
    note = Event(run_id="nightly-build-42", event="end", message="green again").to_notification()
    report = await send(make_config(PAGERDUTY_ROUTING_KEY=KEY), note)
    assert report.status == "delivered", report
    resolve, change = production.requests
    assert resolve.url == ENQUEUE
    assert resolve.json() == {"routing_key": KEY, "event_action": "resolve", "dedup_key": "nightly-build-42"}
    assert change.url == CHANGE
    assert change.json() == {
        "routing_key": KEY,
        "payload": {
            "summary": summary_of(note),
            "source": socket.gethostname(),
            "custom_details": {
                "title": note.title,
                "content": note.content,
                "run_id": "nightly-build-42",
                "event": "end",
            },
        },
    }


@pytest.mark.parametrize("kind", ["start", "update"])
async def test_progress_is_a_change_event_that_pages_nobody(production, make_config, kind):
    production.respond(reply(202, CHANGED))
    note = Event(run_id="nightly-build-42", event=kind, message="working").to_notification()
    report = await send(make_config(PAGERDUTY_ROUTING_KEY=KEY), note)
    assert report.status == "delivered", report
    (request,) = production.requests
    assert request.url == CHANGE
    assert "event_action" not in request.json() and "severity" not in request.json()["payload"]


async def test_a_retry_keeps_the_dedup_key(production, make_config):
    production.respond([reply(500, text="internal error"), reply(202, ACCEPTED)])
    report = await send(make_config(PAGERDUTY_ROUTING_KEY=KEY))
    (result,) = report.results
    assert result.ok and result.attempts == 2
    first, second = production.requests
    assert first.json()["dedup_key"] == second.json()["dedup_key"]  # PagerDuty sees one alert, not two


async def test_429_is_retried(production, make_config):
    production.respond([reply(429, text=""), reply(202, ACCEPTED)])
    report = await send(make_config(PAGERDUTY_ROUTING_KEY=KEY))
    (result,) = report.results
    assert result.ok and result.attempts == 2


async def test_invalid_event_is_a_failure_with_the_key_masked(production, make_config):
    production.respond(
        reply(
            400,
            {
                "status": "invalid event",
                "message": "Event object is invalid",
                "errors": ["'payload.source' is missing or blank", f"no integration for routing key {KEY}"],
            },
        )
    )
    report = await send(make_config(PAGERDUTY_ROUTING_KEY=KEY))
    assert report.status == "failed"
    (result,) = report.results
    assert not result.ok and result.http_status == 400 and not result.pending
    assert "Event object is invalid; 'payload.source' is missing or blank" in result.error
    assert KEY not in report.model_dump_json()


async def test_summary_is_cut_to_1024_characters_and_details_keep_all(production, make_config):
    production.respond(reply(202, ACCEPTED))
    note = Notification(title="Disk full", content="line\n" * 1000)
    await send(make_config(PAGERDUTY_ROUTING_KEY=KEY), note)
    payload = production.last.json()["payload"]
    assert len(payload["summary"]) == 1024 and payload["summary"].endswith("…")
    assert payload["summary"].startswith("Disk full — line line")
    assert payload["custom_details"]["content"] == note.content


@pytest.mark.parametrize(
    ("env", "field"),
    [({"PAGERDUTY_ROUTING_KEY": "u+abcdefgh12345678"}, "32"), ({"PAGERDUTY_SEVERITY": "fatal"}, "PAGERDUTY_SEVERITY")],
)
async def test_bad_settings_are_a_config_problem(make_config, env, field):
    conf = make_config(**({"PAGERDUTY_ROUTING_KEY": KEY} | env))
    assert "pagerduty" not in conf.channels
    assert field in conf.problems["pagerduty"]
    assert "u+abcdefgh12345678" not in conf.problems["pagerduty"]
