"""`hook generic`: one lifecycle event for any agent or script, the message read from stdin, for the agents
that have no module of their own (and cron jobs, CI steps): `--event` start/update/end/error, `--run-id`
(default: the current directory's name), `--title`. Like every hook it exits 0 whatever happens.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from mcp_push.hooks.base import Agent
from mcp_push.models import EVENT_ICONS, TITLE_MAX_CHARS, Event, Notification, printable

TAIL_CHARS = 8000  # a piped log: its end says how it went


class Generic(Agent):
    name = "generic"
    who = "the job"
    docs = ""  # no agent of its own: `mcp-push hook generic --help`
    json_payload = False

    def turn(self, payload: Any, args: argparse.Namespace) -> Notification:
        message = payload if isinstance(payload, str) else ""
        event = args.event.strip().lower()
        if event not in EVENT_ICONS:
            raise ValueError(f"--event must be one of {', '.join(EVENT_ICONS)}, not {event!r}")
        text = printable(message).strip()
        if len(text) > TAIL_CHARS:
            text = "…" + text[-TAIL_CHARS:]
        run = printable(args.run_id or "").strip() or Path.cwd().name or "hook"
        note = Event(run_id=run[:128], event=event, message=text or f"{event} (no message)").to_notification()
        if args.title and args.title.strip():
            note = note.model_copy(update={"title": printable(args.title)[:TITLE_MAX_CHARS]})
        return note

    def output(self, decision: dict[str, Any] | None) -> str:
        return '{"continue": true, "suppressOutput": true}'

    def configuration(self, command: str, approvals: bool, wait: float) -> str:
        return f"some-job 2>&1 | tail -n 20 | {command} --event end --run-id some-job"


AGENT = Generic
