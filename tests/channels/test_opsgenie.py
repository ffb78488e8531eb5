import re
import socket

import pytest

from mcp_push.models import Event, Notification
from tests.conftest import NASTY, send
from tests.recorder import reply

KEY = "eb243592-faa2-4ba2-a551-1afdf565c889"
ACCEPTED = {"result": "Request will be processed", "took": 0.302, "requestId": "43a29c5c-3dbf-4fa4-9c26-f4f71023e120"}


async def test_alert_with_genie_key(production, make_config):
    production.respond(reply(202, ACCEPTED))
    report = await send(make_config(OPSGENIE_API_KEY=KEY))

    assert report.status == "delivered", report
    request = production.last
    assert request.method == "POST"
    assert request.url == "https://api.opsgenie.com/v2/alerts"
    assert request.raw_query == ""
    assert request.headers["authorization"] == f"GenieKey {KEY}"
    assert request.headers["content-type"].startswith("application/json")
    body = request.json()
    assert re.fullmatch(r"mcp-push-[0-9a-f]{32}", body.pop("alias"))
    # No priority: Opsgenie's default (P3) applies.
    assert body == {"message": NASTY.title, "description": NASTY.content, "source": socket.gethostname()}


async def test_eu_region_and_priority(production, make_config):
    production.respond(reply(202, ACCEPTED))
    report = await send(make_config(OPSGENIE_API_KEY=KEY, OPSGENIE_REGION="EU", OPSGENIE_PRIORITY="p2"))
    assert report.status == "delivered", report
    assert production.last.url == "https://api.eu.opsgenie.com/v2/alerts"
    assert production.last.json()["priority"] == "P2"


async def test_a_failing_run_is_one_alert(production, make_config):
    production.respond(reply(202, ACCEPTED))
    note = Event(run_id="nightly-build-42", event="error", message="tests failed").to_notification()
    conf = make_config(OPSGENIE_API_KEY=KEY, OPSGENIE_PRIORITY="P1")
    await send(conf, note)
    await send(conf, note)
    first, second = production.requests
    assert first.json()["alias"] == second.json()["alias"] == "nightly-build-42"
    assert first.json()["priority"] == "P1"
    assert first.json()["details"] == {"run_id": "nightly-build-42", "event": "error"}


async def test_progress_has_its_own_alias_and_is_informational(production, make_config):
    production.respond(reply(202, ACCEPTED))
    note = Event(run_id="nightly-build-42", event="start", message="started").to_notification()
    await send(make_config(OPSGENIE_API_KEY=KEY, OPSGENIE_PRIORITY="P1"), note)
    body = production.last.json()
    assert body["alias"] == "nightly-build-42:start"  # an open start alert cannot swallow the run's error
    assert body["priority"] == "P5"


async def test_a_retry_keeps_the_alias(production, make_config):
    production.respond([reply(503, text="unavailable"), reply(202, ACCEPTED)])
    report = await send(make_config(OPSGENIE_API_KEY=KEY))
    (result,) = report.results
    assert result.ok and result.attempts == 2
    first, second = production.requests
    assert first.json()["alias"] == second.json()["alias"]


async def test_sizes_are_cut_to_opsgenies_limits(production, make_config):
    production.respond(reply(202, ACCEPTED))
    note = Notification(title="T" * 200, content="d" * 20_000)
    report = await send(make_config(OPSGENIE_API_KEY=KEY), note)
    assert report.status == "delivered", report
    body = production.last.json()
    assert len(body["message"]) == 130 and body["message"].endswith("…")
    assert len(body["description"]) <= 15_000 and body["description"].endswith("…[truncated]")


async def test_unprocessable_request_is_a_failure(production, make_config):
    production.respond(
        reply(
            422,
            {
                "message": "Request body is not processable. Please check the errors.",
                "errors": {"message": "Message can not be empty."},
                "took": 0.001,
                "requestId": "a1b2",
            },
        )
    )
    report = await send(make_config(OPSGENIE_API_KEY=KEY))
    assert report.status == "failed"
    (result,) = report.results
    assert not result.ok and result.http_status == 422 and not result.pending
    assert result.error == (
        "HTTP 422: Request body is not processable. Please check the errors. (message: Message can not be empty.)"
    )
    assert KEY not in report.model_dump_json()


async def test_wrong_key_is_a_failure_with_the_key_masked(production, make_config):
    production.respond(reply(401, {"message": f"Could not authenticate with key {KEY}", "took": 0.0}))
    report = await send(make_config(OPSGENIE_API_KEY=KEY))
    (result,) = report.results
    assert not result.ok and result.http_status == 401 and "Could not authenticate" in result.error
    assert KEY not in report.model_dump_json()


async def test_429_is_retried(production, make_config):
    production.respond([reply(429, {"message": "Too many requests", "took": 0.0}), reply(202, ACCEPTED)])
    report = await send(make_config(OPSGENIE_API_KEY=KEY))
    (result,) = report.results
    assert result.ok and result.attempts == 2


@pytest.mark.parametrize(
    ("env", "field"),
    [({"OPSGENIE_REGION": "asia"}, "OPSGENIE_REGION"), ({"OPSGENIE_PRIORITY": "P0"}, "OPSGENIE_PRIORITY")],
)
async def test_bad_settings_are_a_config_problem(make_config, env, field):
    conf = make_config(OPSGENIE_API_KEY=KEY, **env)
    assert "opsgenie" not in conf.channels
    assert field in conf.problems["opsgenie"]
