"""Abuse guards: a looping agent must not be able to spam its user or get a bot banned.

Each rule returns a reason to skip; a skip is reported as such (not as an error) so the agent learns
why and stops. State lives for the life of the process, which for the MCP server is the session.
"""

from __future__ import annotations

import hashlib
import time
from collections import deque

from mcp_push.config import Settings
from mcp_push.models import Notification


class Guards:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.events = {e.strip() for e in settings.MCP_PUSH_EVENTS.split(",") if e.strip()}
        self._recent: dict[str, float] = {}  # digest of title+content -> when it was last sent
        self._updates: dict[str, float] = {}  # run_id -> when its last update was sent
        self._sent: deque[float] = deque()  # send times within the last minute

    def admit(self, note: Notification, now: float | None = None) -> str | None:
        """None to send (and count it), or the reason it is skipped."""
        s = self.settings
        now = time.monotonic() if now is None else now
        if note.event and note.event not in self.events:
            return f"Not sent: '{note.event}' events are not pushed (MCP_PUSH_EVENTS={s.MCP_PUSH_EVENTS})."
        digest = hashlib.sha256(f"{note.title}\0{note.content}".encode("utf-8", "surrogatepass")).hexdigest()
        last = self._recent.get(digest)
        if s.MCP_PUSH_DEDUPE_SECONDS and last is not None and now - last < s.MCP_PUSH_DEDUPE_SECONDS:
            return (
                f"Not sent: an identical notification went out {now - last:.0f} s ago "
                f"(duplicates within {s.MCP_PUSH_DEDUPE_SECONDS:g} s are dropped)."
            )
        if note.event == "update" and note.run_id and s.MCP_PUSH_UPDATE_INTERVAL:
            last = self._updates.get(note.run_id)
            if last is not None and now - last < s.MCP_PUSH_UPDATE_INTERVAL:
                return (
                    f"Not sent: an update for run '{note.run_id}' went out {now - last:.0f} s ago; at most one "
                    f"per {s.MCP_PUSH_UPDATE_INTERVAL:g} s. Push the end or error event when the run finishes."
                )
        while self._sent and now - self._sent[0] >= 60:
            self._sent.popleft()
        if s.MCP_PUSH_MAX_PER_MINUTE and len(self._sent) >= s.MCP_PUSH_MAX_PER_MINUTE:
            return (
                f"Not sent: {len(self._sent)} notifications were pushed in the last minute, the cap "
                f"(MCP_PUSH_MAX_PER_MINUTE={s.MCP_PUSH_MAX_PER_MINUTE}). Stop notifying now; send one summary when "
                "the task is done."
            )
        self._recent = {k: t for k, t in self._recent.items() if now - t < s.MCP_PUSH_DEDUPE_SECONDS}
        self._recent[digest] = now
        if note.event == "update" and note.run_id:
            self._updates[note.run_id] = now
        self._sent.append(now)
        return None
