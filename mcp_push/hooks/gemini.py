"""Gemini CLI: its hooks (`hooks` in ~/.gemini/settings.json) send one JSON object on stdin per event, with
the common fields `session_id`, `transcript_path`, `cwd`, `hook_event_name` and `timestamp`, and each event's
own (docs/hooks/reference.md and packages/core/src/hooks/ in google-gemini/gemini-cli).

Announced: AfterAgent, once per turn, with the reply as `prompt_response` (Gemini sends the placeholder
"[no response text]" when it has none); one with `stop_hook_active` is the retry another AfterAgent hook
asked for, and its turn was announced already. Notification: only `notification_type` "ToolPermission" so
far, sent just before the confirmation dialog, with `message` ("Tool Confirm Shell Command requires
execution") and `details` (type, title, and command, filePath, serverName/toolName or urls by kind). It is
a push, never a decision: Gemini ignores what a Notification hook answers, so `--approvals` adds nothing.
Gemini has no event for a turn that failed.

Gemini waits for every hook, the Notification one before showing its dialog, so the hook's deadline matters.
It parses stdout as JSON when the hook exits 0 and falls back to stderr when stdout is empty, turning our
warnings into a message on the user's screen; so the hook always prints `{}`, the neutral answer. Exit 2
would block the turn or force a retry, another code shows a warning: the hook always exits 0.

Gemini may run hooks with an environment cleaned of anything named like a token, key or secret
(`security.environmentVariableRedaction.enabled`, and always on GitHub Actions): keep channel credentials
in mcp-push's config file, or list them in that setting's `allowed`.

Timing comes from the session file: JSON lines since Gemini 0.39 (metadata first, with `startTime`; then
one message a line, `{"id", "timestamp", "type": "user" | "gemini" | ..., "content"}`), one JSON object
with `startTime` and `messages` before. Tool results are "user" messages too; a prompt is one with text
and no function response. An old-format file over a MiB has no timing, and its turns are always pushed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from typing import Any

from mcp_push.hooks.base import NOT_A_PAYLOAD, Agent, Transcript, Turn, ends, entries, string, when

NO_REPLY = "[no response text]"
DETAIL_KEYS = ("command", "filePath", "serverName", "toolName", "urls", "prompt")
START_TIME = re.compile(rb'"startTime"\s*:\s*"([^"]{10,40})"')


class Gemini(Agent):
    name = "gemini"
    who = "Gemini"
    docs = "https://geminicli.com/docs/hooks/reference"

    def turn(self, payload: Any, args: argparse.Namespace) -> Turn | str:
        if not isinstance(payload, dict):
            return NOT_A_PAYLOAD
        event = payload.get("hook_event_name")
        if event not in ("AfterAgent", "Notification"):
            return f"{event!r} is not an event mcp-push announces"
        if event == "AfterAgent" and payload.get("stop_hook_active") is True:
            return "another AfterAgent hook made Gemini retry; this turn was announced before"
        common = {
            "cwd": string(payload.get("cwd")) or string(os.environ.get("GEMINI_CWD")) or os.getcwd(),
            "session": string(payload.get("session_id")) or string(os.environ.get("GEMINI_SESSION_ID")),
            "transcript": read_session(payload.get("transcript_path")),
        }
        if event == "AfterAgent":
            reply = string(payload.get("prompt_response"))
            return Turn("finished", text="" if reply == NO_REPLY else reply, **common)
        from mcp_push.ask import details

        found = payload.get("details")
        lines = details({k: found[k] for k in DETAIL_KEYS if k in found}) if isinstance(found, dict) else []
        text = "\n".join([string(payload.get("message")), *lines]).strip()
        permission = string(payload.get("notification_type")) == "ToolPermission"
        headline = "Gemini needs your permission" if permission else "Gemini needs your action"
        return Turn("attention", text=text, headline=headline, **common)

    def output(self, decision: dict[str, Any] | None) -> str:
        return "{}"

    def configuration(self, command: str, approvals: bool, wait: float) -> str:
        """The settings.json block. Gemini's timeouts are milliseconds (60000 by default) and only a backstop:
        the hook stops itself at its deadline. No matcher: these events have nothing to match on."""
        entry = [
            {
                "hooks": [
                    {
                        "name": "mcp-push",
                        "type": "command",
                        "command": command,
                        "timeout": 30000,
                        "description": "push the finished turn or the permission prompt to your phone",
                    }
                ]
            }
        ]
        # Hooks are on by default since Gemini 0.28; 0.26 and 0.27 need the switch.
        settings = {"hooksConfig": {"enabled": True}, "hooks": {"AfterAgent": entry, "Notification": entry}}
        return json.dumps(settings, indent=2)


def read_session(path: Any) -> Transcript:
    """When the session began and your last prompt: JSON lines since Gemini 0.39, one JSON document before."""
    found = Transcript()
    end = ends(path)
    if end is None:
        return found
    first = START_TIME.search(end.head)
    found.started = when(first.group(1).decode("utf-8", "replace")) if first else None
    messages: list[Any] = []
    if not end.cut:
        whole = _json(end.tail)
        if isinstance(whole, dict) and isinstance(whole.get("messages"), list):  # before Gemini 0.39
            messages = whole["messages"]
    for message in reversed(messages or list(entries(end.lines()))):
        if isinstance(message, dict) and message.get("type") == "user" and _typed(message.get("content")):
            found.last_prompt = when(message.get("timestamp"))
            break
    return found


def _typed(content: Any) -> bool:
    """A message you typed, as opposed to a tool result, which Gemini records as a user message too."""
    if isinstance(content, str):
        return bool(content.strip())
    parts = content if isinstance(content, list) else [content]
    parts = [p for p in parts if isinstance(p, dict)]
    return any(isinstance(p.get("text"), str) for p in parts) and not any("functionResponse" in p for p in parts)


def _json(text: bytes) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


AGENT = Gemini
