"""Cursor: its hooks (`~/.cursor/hooks.json` or a project's `.cursor/hooks.json`, `{"version": 1, "hooks":
{...}}`) get one JSON object on stdin, with the common fields `conversation_id`, `generation_id`, `model`,
`hook_event_name`, `cursor_version`, `workspace_roots`, `user_email` and `transcript_path`, plus each
event's own.

Announced: `stop`, the end of the agent loop, by its `status`: `completed` is a finished turn, `error` a
failed one, and an unknown status a finished one that says which. `aborted` is not announced: you stopped
the agent yourself, so you know. A stop after another hook's `followup_message` is announced too (it says
how many follow-ups came before it): Cursor documents `loop_count` as counted "for this conversation", and
whether that count starts again at your next prompt is not documented, so skipping on it could silence every
later turn, while announcing costs at most the few pushes of Cursor's `loop_limit`.

The project is the first of `workspace_roots` (else `cwd`, else Cursor's `CURSOR_PROJECT_DIR`), the session
the `conversation_id`. The reply comes from the transcript, JSON lines of `{"role": ..., "message":
{"content": [{"type": "text", "text": ...}]}}` (the older plain-text transcripts give none). Neither the
payload nor the transcript says when the turn began, so MCP_PUSH_HOOK_MIN_SECONDS cannot apply: every
completed turn is announced.

Output: `{}`, which asks for nothing. Cursor reads the stop hook's stdout as JSON, and a non-empty
`followup_message` would be submitted as your next message: never sent. Exit 0 is success; 2 would block.

Permissions: Cursor has no event for "waiting for your approval"; its `beforeShellExecution`,
`beforeMCPExecution` and `preToolUse` hooks can decide `allow`/`deny` themselves, which this module leaves
out, so `--approvals` changes nothing.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from mcp_push.hooks.base import NOT_A_PAYLOAD, Agent, Turn, blocks_text, ends, entries, string


class Cursor(Agent):
    name = "cursor"
    who = "Cursor"
    docs = "https://cursor.com/docs/agent/hooks"

    def turn(self, payload: Any, args: argparse.Namespace) -> Turn | str:
        if not isinstance(payload, dict):
            return NOT_A_PAYLOAD
        event = payload.get("hook_event_name")
        status = string(payload.get("status")).lower()
        if event != "stop" and not (event is None and status):  # early versions may not name the event
            return f"{event!r} is not an event mcp-push announces"
        if status == "aborted":
            return "you stopped the agent yourself"
        details = [f"status: {status}"] if status not in ("", "completed", "error") else []
        loops = payload.get("loop_count")
        if isinstance(loops, int) and not isinstance(loops, bool) and loops > 0:
            details.append(f"after {loops} automatic follow-up{'s' if loops > 1 else ''}")
        common = {
            "cwd": workspace(payload),
            "session": string(payload.get("conversation_id")) or string(payload.get("session_id")),
            "details": details,
        }
        text = last_reply(payload.get("transcript_path"))
        if status == "error":
            return Turn("failed", text=text or "The agent loop ended on an error.", **common)
        return Turn("finished", text=text, **common)

    def output(self, decision: dict[str, Any] | None) -> str:
        return "{}"

    def configuration(self, command: str, approvals: bool, wait: float) -> str:
        """A hooks.json. No `loop_limit`: the hook never asks for a follow-up. The timeout is only a
        backstop; the hook stops itself at its deadline. `approvals` adds nothing (see the module docstring)."""
        return json.dumps({"version": 1, "hooks": {"stop": [{"command": command, "timeout": 30}]}}, indent=2)


def workspace(payload: dict[str, Any]) -> str:
    roots = payload.get("workspace_roots")
    for root in roots if isinstance(roots, list) else []:
        if string(root):
            return string(root)
    # A user-level hook runs in ~/.cursor/, which names no project: the current directory is the last resort.
    return string(payload.get("cwd")) or string(os.environ.get("CURSOR_PROJECT_DIR")) or os.getcwd()


def last_reply(path: Any) -> str:
    """The last assistant text in the transcript's tail (the reply is at its end)."""
    end = ends(path)
    for entry in entries(reversed(end.lines()) if end else ()):
        if (entry.get("role") or entry.get("type")) != "assistant":
            continue
        message = entry.get("message")
        text = blocks_text(message.get("content") if isinstance(message, dict) else entry.get("content"))
        if text:
            return text
    return ""


AGENT = Cursor
