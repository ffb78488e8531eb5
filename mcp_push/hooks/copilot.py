"""GitHub Copilot CLI: its command hooks (`{"version": 1, "hooks": {...}}` in `~/.copilot/hooks/*.json` or a
repository's `.github/hooks/*.json`) get one JSON object on stdin per event.

Announced: `agentStop` (the main agent finished a turn), `notification` of the kinds that wait for you
(`permission_prompt`, `elicitation_dialog`, and any kind this module does not know, which may), and an
`errorOccurred` that Copilot reports as not recoverable. Dropped: the informational notifications (a
background shell or agent finished), recoverable errors (Copilot goes on by itself), a subagent's stop (its
parent's turn is the one you wait for), and an `agentStop` repeated because another hook's `"block"` made
Copilot go on (`stop_hook_active`): its first stop was announced.

Copilot sends camelCase payloads for camelCase event names (`sessionId`, `transcriptPath`, a millisecond
`timestamp`; only `notification` carries `hook_event_name`) and snake_case ones for the VS Code compatible
PascalCase names (`Stop`, `session_id`, `transcript_path`), so the event is told by its fields when it is
not named, and both spellings are read. The transcript is Copilot's own event log (JSON lines of
`{"type": "user.message" | "assistant.message", "data": {"content": ...}, "timestamp": ISO}`): the first
timestamp is when the session began, the last `user.message` your last prompt. That `transcriptPath` points
at that log is an assumption; with anything else the turn is simply announced without its duration.

Output: nothing. Copilot parses a hook's stdout as one JSON object and treats empty output as "no
decision"; exit 0 is success (2 would be a warning, or a denial for the permission events). Nothing here is
meant to steer Copilot, so nothing is printed.

Permissions: Copilot can take a decision from a hook (`permissionRequest` answering `behavior`, `preToolUse`
answering `permissionDecision`), but this module leaves approvals out on purpose: `--approvals` changes
nothing, and permission prompts only reach your phone as a `notification`.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from mcp_push.hooks.base import NOT_A_PAYLOAD, Agent, Transcript, Turn, ends, entries, first_time, string, when

# Background work finishing: Copilot tells the agent, and nothing waits for you.
QUIET_NOTIFICATIONS = {"shell_completed", "shell_detached_completed", "agent_completed", "agent_idle"}
HEADLINES = {
    "permission_prompt": "Copilot needs your permission",
    "elicitation_dialog": "Copilot needs your answer",
}
# hook_event_name in either spelling, lower-cased, to the camelCase event it is.
EVENT_NAMES = {
    "agentstop": "agentStop",
    "stop": "agentStop",
    "notification": "notification",
    "erroroccurred": "errorOccurred",
    "subagentstop": "subagentStop",
}


class Copilot(Agent):
    name = "copilot"
    who = "Copilot"
    docs = "https://docs.github.com/en/copilot/reference/hooks-reference"

    def turn(self, payload: Any, args: argparse.Namespace) -> Turn | str:
        if not isinstance(payload, dict):
            return NOT_A_PAYLOAD
        event = event_of(payload)
        if event not in ("agentStop", "notification", "errorOccurred"):
            return f"{event!r} is not an event mcp-push announces"
        common = {
            "cwd": string(payload.get("cwd")) or os.getcwd(),
            "session": string(payload.get("sessionId")) or string(payload.get("session_id")),
        }
        if event == "agentStop":
            if payload.get("stop_hook_active") is True or payload.get("stopHookActive") is True:
                return "a hook already made Copilot continue; this stop was announced before"
            path = payload.get("transcriptPath") or payload.get("transcript_path")
            return Turn("finished", transcript=read_events(path), **common)
        if event == "notification":
            kind = string(payload.get("notification_type")) or string(payload.get("notificationType"))
            if kind in QUIET_NOTIFICATIONS:
                return f"'{kind}' notifications need nothing from you"
            text = string(payload.get("message")) or string(payload.get("title"))
            return Turn("attention", text=text, headline=HEADLINES.get(kind, "Copilot needs your action"), **common)
        if payload.get("recoverable") is not False:
            return "Copilot reports this error as recoverable and goes on by itself"
        error = payload.get("error") if isinstance(payload.get("error"), dict) else {}
        name = string(error.get("name"))
        where = string(payload.get("errorContext")) or string(payload.get("error_context"))
        message = string(error.get("message")) or string(payload.get("error")) or "The session stopped on an error."
        details = [f"error: {name or 'unknown'}" + (f" ({where})" if where else "")] if name or where else []
        return Turn("failed", text=message, details=details, **common)

    def configuration(self, command: str, approvals: bool, wait: float) -> str:
        """A hooks file (e.g. ~/.copilot/hooks/mcp-push.json). `notification` has no matcher so that a kind
        of prompt Copilot adds later still gets through; the hook drops the informational ones. PowerShell
        needs `&` to run a quoted program path. The timeout is only a backstop: the hook stops itself at its
        deadline. `approvals` adds nothing (see the module docstring)."""
        entry = [{"type": "command", "bash": command, "powershell": f"& {command}", "timeoutSec": 30}]
        hooks = {"agentStop": entry, "notification": entry, "errorOccurred": entry}
        return json.dumps({"version": 1, "hooks": hooks}, indent=2)


def event_of(payload: dict[str, Any]) -> str:
    """The camelCase event a payload is for: camelCase payloads other than `notification` do not say, so
    their fields tell."""
    named = payload.get("hook_event_name") or payload.get("hookEventName")
    if isinstance(named, str) and named.strip():
        return EVENT_NAMES.get(named.strip().lower(), named.strip())
    if "notification_type" in payload or "notificationType" in payload:
        return "notification"
    if isinstance(payload.get("error"), dict) or "errorContext" in payload:
        return "errorOccurred"
    if any(key in payload for key in ("agentName", "agentId", "agentType", "agent_id")):
        return "subagentStop" if "stopReason" in payload else "subagentStart"
    if any(key in payload for key in ("toolName", "toolArgs", "prompt", "reason", "source", "trigger")):
        return "a tool, prompt, session or compaction event"
    if "stopReason" in payload or "stop_reason" in payload or "transcriptPath" in payload:
        return "agentStop"
    return "an unknown event"


def read_events(path: Any) -> Transcript:
    """When the session began, when you last prompted, and the last reply, from Copilot's event log."""
    found = Transcript()
    end = ends(path)
    if end is None:
        return found
    found.started = first_time(end)
    for entry in entries(reversed(end.lines())):
        data = entry.get("data") if isinstance(entry.get("data"), dict) else {}
        content = string(data.get("content"))
        if entry.get("type") == "assistant.message" and content and not found.last_reply:
            found.last_reply = content
        elif entry.get("type") == "user.message" and content:
            found.last_prompt = when(entry.get("timestamp"))
            break
    return found


AGENT = Copilot
