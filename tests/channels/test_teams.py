import json

import pytest

from channels.limits import MARKER
from mcp_push.models import Notification
from tests.conftest import NASTY, send
from tests.recorder import reply

SIG = "Qm3nX8vB2kL9pR5tY7wZ1cD4fG6hJ0aS-eU_iO2sQ4w"
PATH = "/workflows/7f3c2a1b9e8d4c6fa0b1c2d3e4f5a6b7/triggers/manual/paths/invoke"
QUERY = f"api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={SIG}"


def hook(recorder) -> str:
    return f"{recorder.url}{PATH}?{QUERY}"


def card_of(request) -> dict:
    body = request.json()
    assert body["type"] == "message"
    (attachment,) = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["contentUrl"] is None
    return attachment["content"]


async def test_adaptive_card_message(recorder, make_config):
    recorder.respond(reply(202, text=""))
    report = await send(make_config(TEAMS_WEBHOOK_URL=hook(recorder)))

    assert report.status == "delivered", report
    request = recorder.last
    assert request.method == "POST"
    assert request.url == recorder.url + PATH
    assert request.raw_query == QUERY  # the signed query exactly as given
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    assert request.json() == {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": [
                        {"type": "TextBlock", "text": NASTY.title, "weight": "Bolder", "size": "Medium", "wrap": True},
                        {"type": "TextBlock", "text": NASTY.content.replace("\n", "\n\n"), "wrap": True},
                    ],
                },
            }
        ],
    }


async def test_line_breaks_are_doubled_for_the_cards_markdown(recorder, make_config):
    recorder.respond(reply(202, text=""))
    await send(make_config(TEAMS_WEBHOOK_URL=hook(recorder)), Notification(title="t", content="a\nb\r\nc\rd"))
    assert card_of(recorder.last)["body"][1]["text"] == "a\n\nb\n\nc\n\nd"


async def test_200_is_success_too(recorder, make_config):
    recorder.respond(reply(200, text=""))
    report = await send(make_config(TEAMS_WEBHOOK_URL=hook(recorder)))
    assert report.status == "delivered", report


@pytest.mark.parametrize(
    ("status", "answer", "shown"),
    [
        (
            401,
            reply(401, {"error": {"code": "DirectApiAuthorizationRequired", "message": "The request must be signed."}}),
            "DirectApiAuthorizationRequired: The request must be signed.",
        ),
        (
            404,
            reply(404, {"error": {"code": "WorkflowNotFound", "message": "The workflow could not be found."}}),
            "WorkflowNotFound: The workflow could not be found.",
        ),
        (400, reply(400, text="<html>Bad Request</html>"), "Bad Request"),
        (204, reply(204, text=""), "not the flow's 202 Accepted"),
    ],
)
async def test_failures(recorder, make_config, status, answer, shown):
    recorder.respond(answer)
    report = await send(make_config(TEAMS_WEBHOOK_URL=hook(recorder)))
    (result,) = report.results
    assert not result.ok and result.http_status == status and result.attempts == 1
    assert shown in result.error
    assert SIG not in report.model_dump_json()


async def test_signature_masked_when_echoed(recorder, make_config):
    recorder.respond(reply(403, {"error": {"code": "Forbidden", "message": f"sig {SIG} does not match"}}))
    report = await send(make_config(TEAMS_WEBHOOK_URL=hook(recorder)))
    (result,) = report.results
    assert not result.ok and "Forbidden" in result.error
    assert SIG not in report.model_dump_json()


async def test_429_is_retried(recorder, make_config):
    recorder.respond([reply(429, {"error": {"code": "TooManyRequests", "message": "slow"}}), reply(202, text="")])
    report = await send(make_config(TEAMS_WEBHOOK_URL=hook(recorder)))
    (result,) = report.results
    assert result.ok and result.attempts == 2


@pytest.mark.parametrize(
    "url",
    [
        "https://contoso.webhook.office.com/webhookb2/1a2b3c4d-0000-1111-2222-333344445555@tenant/IncomingWebhook/abc/def",
        "https://outlook.office.com/webhook/1a2b3c4d-0000-1111-2222-333344445555@tenant/IncomingWebhook/abc/def",
    ],
)
async def test_legacy_connector_url_is_a_configuration_problem(make_config, url):
    config = make_config(TEAMS_WEBHOOK_URL=url)
    assert "teams" not in config.channels
    problem = config.problems["teams"]
    assert "TEAMS_WEBHOOK_URL" in problem and "retired" in problem and "Workflows" in problem
    assert "1a2b3c4d-0000-1111-2222-333344445555" not in problem


async def test_url_without_scheme_is_a_problem(make_config):
    config = make_config(TEAMS_WEBHOOK_URL="prod-00.westus.logic.azure.com/workflows/x")
    assert "teams" not in config.channels and "scheme" in config.problems["teams"]


async def test_size_counts_the_text_as_it_travels(recorder, make_config):
    recorder.respond(reply(202, text=""))
    note = Notification(title="t", content="长\n" * 6000)  # 12,000 characters; 5 bytes each as sent ("长" + \n\n)
    report = await send(make_config(TEAMS_WEBHOOK_URL=hook(recorder)), note)
    assert report.status == "delivered", report
    text = card_of(recorder.last)["body"][1]["text"]
    assert text.endswith(MARKER.replace("\n", "\n\n"))
    assert 23_900 < len(json.dumps(text, ensure_ascii=False).encode()) - 2 <= 24_000
    assert len(recorder.last.body) < 28_000
