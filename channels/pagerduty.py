"""PagerDuty: an alert on a service through the Events API v2, which opens an incident and pages whoever is on call.

An incident tool wants a job's life mapped onto an incident, not every message turned into a page:
- an `error` event triggers an alert whose `dedup_key` is the run_id, so a failing job is one incident and
  its further errors are added to it rather than paging again;
- an `end` event resolves that run's incident (nothing happens if none is open) and is also recorded as a
  change event;
- `start` and `update` events are change events: they appear on the service's timeline, next to whatever
  incident follows, and page nobody. Sent as triggers they would page at once, and a run's later error
  would be folded into the alert its start had opened;
- any other notification triggers an alert of its own, keyed by the run_id when it has one, else by a key
  drawn once per message, so a retry after a 5xx is de-duplicated by PagerDuty rather than paging twice.
Every trigger has PAGERDUTY_SEVERITY (default error), which urgency rules on the service may act on.

The routing key (the integration key of an "Events API v2" integration on the service; a change event may use
the same key) travels in the JSON body, not in a header, so it is a secret like any token. The summary,
what phone calls, SMS and the incident list show, holds at most 1,024 characters: it is the title and the
start of the text on one line; the whole text goes in `custom_details`. Success is 202
{"status": "success", "dedup_key"}; a refusal is 400 {"status": "invalid event", "message", "errors": [...]};
429 means too many events for the key and is retried.
"""

from __future__ import annotations

import secrets
import socket
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator

from channels.base import Channel, ChannelSettings, Request
from mcp_push.models import Notification

SUMMARY_MAX = 1024
EVENTS = "https://events.pagerduty.com/v2/enqueue"
CHANGES = "https://events.pagerduty.com/v2/change/enqueue"

Severity = Literal["critical", "error", "warning", "info"]


class Settings(ChannelSettings):
    PAGERDUTY_ROUTING_KEY: SecretStr = Field(
        description="Integration key of an Events API v2 integration (service → Integrations), 32 characters."
    )
    PAGERDUTY_SEVERITY: Severity = Field("error", description="critical, error, warning or info; default error.")

    @field_validator("PAGERDUTY_ROUTING_KEY")
    @classmethod
    def _routing_key(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) != 32:
            raise ValueError(
                "must be the 32-character integration key of an Events API v2 integration, not a REST API key"
            )
        return value

    @field_validator("PAGERDUTY_SEVERITY", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value


def summary(note: Notification) -> str:
    """Title and text on one line, cut to PagerDuty's 1,024 characters."""
    line = " ".join(f"{note.title} — {note.content}".split())
    return line if len(line) <= SUMMARY_MAX else line[: SUMMARY_MAX - 1] + "…"


class PagerDuty(Channel[Settings]):
    name = "pagerduty"
    label = "PagerDuty"
    group = "international"
    docs = "https://developer.pagerduty.com/docs/events-api-v2-overview"
    Settings = Settings

    def details(self, note: Notification) -> dict[str, Any]:
        extra = {"run_id": note.run_id, "event": note.event}
        return {"title": note.title, "content": note.content} | {k: v for k, v in extra.items() if v}

    def event(self, action: str, dedup_key: str, payload: dict[str, Any] | None = None) -> Request:
        body: dict[str, Any] = {
            "routing_key": self.settings.secret("PAGERDUTY_ROUTING_KEY"),
            "event_action": action,
            "dedup_key": dedup_key,
        }
        if payload is not None:
            body |= {"client": "mcp-push", "payload": payload}
        return Request("POST", EVENTS, json=body, idempotent=True)  # events of one dedup_key merge

    def change(self, note: Notification) -> Request:
        payload = {"summary": summary(note), "source": socket.gethostname(), "custom_details": self.details(note)}
        body = {"routing_key": self.settings.secret("PAGERDUTY_ROUTING_KEY"), "payload": payload}
        return Request("POST", CHANGES, json=body)

    def build(self, note: Notification) -> list[Request]:
        if note.event == "end":
            return [self.event("resolve", note.run_id), self.change(note)] if note.run_id else [self.change(note)]
        if note.event in ("start", "update"):
            return [self.change(note)]
        payload = {
            "summary": summary(note),
            "source": socket.gethostname(),
            "severity": self.settings.PAGERDUTY_SEVERITY,
            "custom_details": self.details(note),
        }
        # Drawn here, once per message: the base retries this very request, so PagerDuty sees one alert.
        return [self.event("trigger", note.run_id or f"mcp-push-{secrets.token_hex(16)}", payload)]

    def check(self, response):
        body = response.json()
        if body.get("status") == "success":
            return None
        errors = [str(e) for e in body.get("errors") or []]
        return "; ".join([str(body.get("message") or f"status {body.get('status')!r}"), *errors])


CHANNEL = PagerDuty
