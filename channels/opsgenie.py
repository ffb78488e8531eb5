"""Opsgenie: an alert through the Alert API, which notifies whoever is on call for the integration's team.

The key is an API integration's key (a team's Integrations → API), sent as `Authorization: GenieKey <key>`,
and the integration decides whose on-call is notified. An account lives in one region, each region has its own
API host (api.opsgenie.com, api.eu.opsgenie.com), and a key only works at its own region's host.

The title is the alert's `message`, which Opsgenie caps at 130 characters; the text is its `description`
(15,000 characters). Opsgenie folds an alert into an open one with the same `alias` (its count goes up and
nobody is notified again), so the alias decides what counts as one alert:
- an `error` event is keyed by its run_id: a failing job is one alert, its further errors counted on it;
- a run's other events are keyed by run_id and kind (`build-42:update`): repeated updates do not page again,
  and an open "start" alert cannot swallow the run's error. They are priority P5 (informational): they report
  progress, not a problem;
- any other notification gets a key drawn once per message, so a retry is folded into the first attempt.
OPSGENIE_PRIORITY (P1-P5; default Opsgenie's own, P3) applies to everything but those progress events.

Opsgenie answers 202 {"result": "Request will be processed", "requestId"}: the alert is made afterwards, and
what fails then (an unknown responder, say) only shows in Opsgenie. Refusals are JSON {"message", "errors"},
429 is retried. Atlassian is retiring Opsgenie (announced end: 5 April 2027); Jira Service Management's
alerts, its successor, have an API of their own.
"""

from __future__ import annotations

import secrets
import socket
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator

from channels.base import Channel, ChannelSettings, Request, snippet
from channels.limits import Limits, Size
from mcp_push.models import Notification

HOSTS = {"us": "api.opsgenie.com", "eu": "api.eu.opsgenie.com"}
PROGRESS = ("start", "update", "end")


class Settings(ChannelSettings):
    OPSGENIE_API_KEY: SecretStr = Field(description="The key of an API integration (a team's Integrations → API).")
    OPSGENIE_REGION: Literal["us", "eu"] = Field("us", description="us (api.opsgenie.com) or eu; default us.")
    OPSGENIE_PRIORITY: Literal["P1", "P2", "P3", "P4", "P5"] | None = Field(
        None, description="P1 (critical) to P5 (informational); default Opsgenie's own, P3."
    )

    @field_validator("OPSGENIE_REGION", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @field_validator("OPSGENIE_PRIORITY", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


class Opsgenie(Channel[Settings]):
    name = "opsgenie"
    label = "Opsgenie"
    group = "international"
    docs = "https://docs.opsgenie.com/docs/alert-api#create-alert"
    Settings = Settings
    limits = Limits(title=Size(130), content=Size(15_000))

    def alert(self, note: Notification) -> dict[str, Any]:
        s = self.settings
        if note.run_id and note.event == "error":
            alias = note.run_id
        elif note.run_id and note.event:
            alias = f"{note.run_id}:{note.event}"
        else:
            alias = f"mcp-push-{secrets.token_hex(16)}"  # drawn once per message: its retries are the same alert
        body: dict[str, Any] = {
            "message": note.title,
            "description": note.content,
            "alias": alias,
            "source": socket.gethostname(),
        }
        priority = "P5" if note.event in PROGRESS else s.OPSGENIE_PRIORITY
        if priority:
            body["priority"] = priority
        if note.run_id:
            body["details"] = {"run_id": note.run_id} | ({"event": note.event} if note.event else {})
        return body

    def build(self, note: Notification) -> Request:
        s = self.settings
        return Request(
            "POST",
            f"https://{HOSTS[s.OPSGENIE_REGION]}/v2/alerts",
            headers={"Authorization": f"GenieKey {s.secret('OPSGENIE_API_KEY')}"},
            json=self.alert(note),
            idempotent=True,  # an open alert's alias takes no second one
        )

    def check(self, response):
        body = response.json()
        if response.is_success:
            return None if body.get("requestId") else f"no requestId in the answer: {snippet(response)}"
        errors = body.get("errors")
        detail = "; ".join(f"{k}: {v}" for k, v in errors.items()) if isinstance(errors, dict) and errors else ""
        message = str(body.get("message") or "")
        if message and detail:
            return f"{message} ({detail})"
        return message or detail or snippet(response)


CHANNEL = Opsgenie
