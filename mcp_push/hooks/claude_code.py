"""Claude Code: its hooks (`settings.json`) send one JSON object on stdin per event, with the common fields
`session_id`, `transcript_path`, `cwd`, `permission_mode`, `hook_event_name` and each event's own.

Announced: Stop (a finished turn), SubagentStop, StopFailure (an API error ended the turn; 2.1.78 and
newer), Notification (a permission or idle prompt, a question from an MCP server; the informational ones
such as a successful login are dropped), and PermissionRequest, answered from the phone. A Stop repeated
because another Stop hook made Claude go on (`stop_hook_active`) was announced already. Timing comes from
the transcript (JSON lines): the first timestamp, and your last prompt.

Claude Code parses all of stdout as one JSON object: `{"continue": true, "suppressOutput": true}` lets it go
on and keeps our line out of the transcript view, and a permission decision is merged into it as
`hookSpecificOutput`.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from mcp_push.hooks.base import NOT_A_PAYLOAD, Agent, Turn, read_transcript, string

HOOK_OUTPUT: dict[str, Any] = {"continue": True, "suppressOutput": True}
# Informational notifications that need nothing from the user.
QUIET_NOTIFICATIONS = {"auth_success", "elicitation_complete", "elicitation_response"}
ACTION_TITLES = {
    "permission_prompt": "Claude needs your permission",
    "idle_prompt": "Claude is waiting for your input",
    "elicitation_dialog": "Claude needs your answer",
}


class ClaudeCode(Agent):
    name = "claude-code"
    who = "Claude"
    docs = "https://docs.claude.com/en/docs/claude-code/hooks"

    def turn(self, payload: Any, args: argparse.Namespace) -> Turn | str:
        if not isinstance(payload, dict):
            return NOT_A_PAYLOAD
        event = payload.get("hook_event_name")
        if event in ("Stop", "SubagentStop") and payload.get("stop_hook_active"):
            return "a Stop hook already made Claude continue; this stop was announced before"
        if event not in ("Stop", "SubagentStop", "StopFailure", "Notification", "PermissionRequest"):
            return f"{event!r} is not an event mcp-push announces"
        ntype = string(payload.get("notification_type"))
        if event == "Notification" and ntype in QUIET_NOTIFICATIONS:
            return f"'{ntype}' notifications need nothing from you"
        subagent = event == "SubagentStop"
        path = payload.get("agent_transcript_path") if subagent else None
        transcript = read_transcript(path or payload.get("transcript_path"))
        cwd = string(payload.get("cwd")) or os.getcwd()
        common = {"cwd": cwd, "session": string(payload.get("session_id")), "transcript": transcript}
        if event == "PermissionRequest":
            return Turn(
                "permission", tool=string(payload.get("tool_name")), tool_input=payload.get("tool_input"), **common
            )
        if event == "StopFailure":
            kind = string(payload.get("error_type")) or "unknown"
            code = string(payload.get("error"))
            text = string(payload.get("error_message")) or transcript.last_reply or "The turn ended on an API error."
            return Turn(
                "failed",
                text=text,
                details=[f"error: {kind}" + (f" ({code})" if code and code != kind else "")],
                **common,
            )
        if event == "Notification":
            headline = ACTION_TITLES.get(ntype, "Claude needs your action")
            return Turn("attention", text=string(payload.get("message")), headline=headline, **common)
        who = f"subagent {string(payload.get('agent_type')) or 'task'}" if subagent else ""
        reply = string(payload.get("last_assistant_message"))
        # Older Claude Code versions end a turn that hit an API error with a Stop and a synthetic reply.
        failed = transcript.api_error and not reply
        return Turn("failed" if failed else "finished", text=reply or transcript.last_reply, who=who, **common)

    def output(self, decision: dict[str, Any] | None) -> str:
        extra = {"hookSpecificOutput": {"hookEventName": "PermissionRequest", "decision": decision}} if decision else {}
        return json.dumps({**HOOK_OUTPUT, **extra})

    def configuration(self, command: str, approvals: bool, wait: float) -> str:
        """The `hooks` block for settings.json. Notification has no matcher: older Claude Code versions send
        no `notification_type` to match on, and the hook drops the informational ones. The timeout is only a
        backstop; the hook stops itself at its deadline, and a PermissionRequest's is above the question's."""
        entry = [{"hooks": [{"type": "command", "command": command, "timeout": 30}]}]
        hooks: dict[str, Any] = {"Stop": entry, "StopFailure": entry, "Notification": entry}
        if approvals:
            hooks["PermissionRequest"] = [
                {"hooks": [{"type": "command", "command": command, "timeout": int(wait) + 30}]}
            ]
        return json.dumps({"hooks": hooks}, indent=2)


AGENT = ClaudeCode
