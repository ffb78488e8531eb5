"""Matrix: a text message into a room, sent by an account (a bot user) through its homeserver's client API.

Sending is a PUT to a transaction id the client chooses, and the homeserver answers a repeated transaction
with the event it already made. `build` draws the id once per message and the base retries that same
request, so a retry after a lost answer or a 500 never posts the message twice.

The room id (`!opaque:example.org`; in room version 12 just `!opaque`) goes in the URL path, so its `!` and
`:` are percent-encoded. Only a room id works there, so an alias (`#ops:example.org`) is refused as a setting
rather than sent to fail at the server; Element shows the id under Room settings → Advanced. MATRIX_HOMESERVER
is the client-API base URL, which is not always the host in your user id: a server named example.org may serve
clients at matrix.example.org (Element shows it at sign-in), and mcp-push does not look it up through
.well-known.

The message carries its text twice: `body` as plain text for every client, and `formatted_body` as HTML,
escaped so that `<b>` in a build log shows as typed, with the title in bold. A whole event must fit 65,536
bytes of JSON including the server's signatures; the text is held to 30,000 bytes (even one made entirely of
line breaks and quotes, which JSON writes as two bytes each, then fits) and the HTML copy is left out when
both copies would not fit together.

Homeservers throttle messages (Synapse by default: a burst of 10, then one every 5 s) and answer
429 M_LIMIT_EXCEEDED with the wait in a `Retry-After` header or, before spec v1.10, in `retry_after_ms`;
that wait is what the retry waits. Other failures are JSON {"errcode": "M_...", "error": "..."}.
"""

from __future__ import annotations

import json
import secrets
from typing import Any
from urllib.parse import quote

from pydantic import Field, SecretStr, field_validator

from channels.base import BaseUrl, Channel, ChannelSettings, Request, Transient, html_text, joined, retry_after, snippet
from channels.limits import Limits, Size
from mcp_push.models import Notification

EVENT_BUDGET = 60_000  # bytes of content JSON; the rest of the 65,536 is the event's envelope and signatures

HINTS = {
    "M_FORBIDDEN": "the account must be a member of the room (invite it, then join with it)",
    "M_UNKNOWN_TOKEN": "MATRIX_ACCESS_TOKEN is not valid (any more): log in again to get a new one",
    "M_MISSING_TOKEN": "no access token reached the server: a reverse proxy may drop the Authorization header",
}


class Settings(ChannelSettings):
    MATRIX_HOMESERVER: BaseUrl = Field(
        description="The homeserver's client-API base URL, e.g. https://matrix-client.matrix.org."
    )
    MATRIX_ACCESS_TOKEN: SecretStr = Field(description="The sending account's access token (Element: Help & About).")
    MATRIX_ROOM_ID: str = Field(description="The room id, !...:server (Room settings → Advanced), not a #alias.")

    @field_validator("MATRIX_ROOM_ID")
    @classmethod
    def _room_id(cls, value: str) -> str:
        if value.startswith("#"):
            raise ValueError("is a room alias; give the room id (!...), shown under Room settings → Advanced")
        if not value.startswith("!"):
            raise ValueError("must be a room id, which starts with ! (Room settings → Advanced)")
        return value


class Matrix(Channel[Settings]):
    name = "matrix"
    label = "Matrix"
    group = "self-hosted"
    docs = "https://spec.matrix.org/latest/client-server-api/#put_matrixclientv3roomsroomidsendeventtypetxnid"
    Settings = Settings
    limits = Limits(content=Size(30_000, "bytes"), joined=True)

    def message(self, note: Notification) -> dict[str, Any]:
        content = {"msgtype": "m.text", "body": joined(note)}
        formatted = {
            "format": "org.matrix.custom.html",
            "formatted_body": f"<b>{html_text(note.title)}</b><br><br>{html_text(note.content)}",
        }
        if len(json.dumps(content | formatted, ensure_ascii=False).encode()) <= EVENT_BUDGET:
            content |= formatted
        return content

    def build(self, note: Notification) -> Request:
        s = self.settings
        txn = f"mcp-push-{secrets.token_hex(16)}"  # one per message: every retry of it reuses the same URL
        return Request(
            "PUT",
            f"{s.MATRIX_HOMESERVER}/_matrix/client/v3/rooms/{quote(s.MATRIX_ROOM_ID, safe='')}"
            f"/send/m.room.message/{txn}",
            headers={"Authorization": f"Bearer {s.secret('MATRIX_ACCESS_TOKEN')}"},
            json=self.message(note),
            idempotent=True,  # the homeserver drops a repeat of one txnId
        )

    def check(self, response):
        body = response.json()
        if response.is_success:
            return None if body.get("event_id") else f"no event_id in the answer: {snippet(response)}"
        code = body.get("errcode")
        problem = ": ".join(str(body[k]) for k in ("errcode", "error") if body.get(k)) or snippet(response)
        if code == "M_LIMIT_EXCEEDED":
            wait = retry_after(response)
            if wait is None and isinstance(body.get("retry_after_ms"), (int, float)):
                wait = max(body["retry_after_ms"], 0) / 1000
            raise Transient(problem, wait)
        return f"{problem} ({HINTS[code]})" if code in HINTS else problem


CHANNEL = Matrix
