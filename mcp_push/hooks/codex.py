"""Codex (OpenAI's Codex CLI) reaches mcp-push two ways, and this one module reads both.

Its `notify` program (`notify = [argv...]`, a top-level key of ~/.codex/config.toml): when a turn ends,
Codex appends ONE JSON argument and runs the program detached, stdin and stdout on /dev/null
(codex-rs/hooks/src/legacy_notify.rs): `{"type": "agent-turn-complete", "thread-id", "turn-id", "cwd",
"client", "input-messages": [...], "last-assistant-message": str | null}`. Other types are skipped.

Its hooks (inline `[[hooks.<Event>]]` tables in config.toml, or hooks.json; on by default since 0.124, and
Codex runs a hook of yours only after you trust it in `/hooks`): one JSON object on stdin with
`session_id`, `turn_id`, `transcript_path` (the rollout; may be null), `cwd`, `hook_event_name`, `model`,
`permission_mode`, and each event's own. Announced: Stop (`last_assistant_message`; a Stop repeated because
another Stop hook made Codex go on, `stop_hook_active`, was announced already), SubagentStop, StopFailure
(only the newest Codex: `error`, `error_details`) and PermissionRequest (`tool_name` such as Bash,
NetworkAccess or an MCP tool's mcp__server__tool; `tool_input`), answered from the phone.

Codex reads stdout only when the hook exits 0, and empty stdout is "no opinion" for every event, while JSON
not of the event's shape fails the hook; so only a permission decision is printed, as
`{"hookSpecificOutput": {"hookEventName": "PermissionRequest", "decision": {...}}}`. Not Claude's
`suppressOutput`: Codex rejects it on a PermissionRequest and drops the decision with it
(codex-rs/hooks/src/engine/output_parser.rs). Any deny from any hook wins; no decision falls back to
Codex's own prompt.

Timing comes from the rollout, JSON lines of `{"timestamp", "type", "payload"}`: the first timestamp is
when the session began, the last `event_msg` of type `user_message` your last prompt. The notify payload
names no file; the rollout is looked up by thread id as $CODEX_HOME/sessions/YYYY/MM/DD/rollout-*-<id>.jsonl
(a layout seen in third-party readers, not documented: when nothing matches, the push just has no timing).

`--print-config` prints the hooks tables, and the notify line only as a comment, for a Codex without
hooks: with both, every turn would push twice. StopFailure is left out because older Codex versions do not
know the table; the same table under [[hooks.StopFailure]] reports turns an API error ended.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import shlex
from typing import Any

from mcp_push.hooks.base import NOT_A_PAYLOAD, Agent, Transcript, Turn, ends, entries, string, when

EVENTS = ("Stop", "SubagentStop", "StopFailure", "PermissionRequest")
THREAD_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z_-]{7,63}")  # a uuid in practice; never a glob or a path
FIRST_TIMESTAMP = re.compile(rb'"timestamp"\s*:\s*"([^"]{10,40})"')


class Codex(Agent):
    name = "codex"
    who = "Codex"
    docs = "https://developers.openai.com/codex/hooks"

    def turn(self, payload: Any, args: argparse.Namespace) -> Turn | str:
        if not isinstance(payload, dict):
            return NOT_A_PAYLOAD
        if "hook_event_name" not in payload and "type" in payload:
            if payload.get("type") != "agent-turn-complete":
                return f"notify type {payload.get('type')!r} is not one mcp-push announces"
            thread = string(payload.get("thread-id"))
            return Turn(
                "finished",
                cwd=string(payload.get("cwd")) or os.getcwd(),
                session=thread,
                text=string(payload.get("last-assistant-message")),
                transcript=read_rollout(find_rollout(thread)),
            )
        event = payload.get("hook_event_name")
        if event not in EVENTS:
            return f"{event!r} is not an event mcp-push announces"
        if event in ("Stop", "SubagentStop") and payload.get("stop_hook_active") is True:
            return "a Stop hook already made Codex continue; this stop was announced before"
        subagent = event == "SubagentStop"
        path = payload.get("agent_transcript_path") if subagent else None
        common = {
            "cwd": string(payload.get("cwd")) or os.getcwd(),
            "session": string(payload.get("session_id")),
            "transcript": read_rollout(path or payload.get("transcript_path")),
        }
        if event == "PermissionRequest":
            tool = string(payload.get("tool_name"))
            return Turn("permission", tool=tool, tool_input=payload.get("tool_input"), **common)
        reply = string(payload.get("last_assistant_message"))
        if event == "StopFailure":
            text = string(payload.get("error_details")) or reply or "The turn ended on an API error."
            return Turn("failed", text=text, details=[f"error: {string(payload.get('error')) or 'unknown'}"], **common)
        who = f"subagent {string(payload.get('agent_type')) or 'task'}" if subagent else ""
        return Turn("finished", text=reply, who=who, **common)

    def output(self, decision: dict[str, Any] | None) -> str | None:
        if decision is None:
            return None
        return json.dumps({"hookSpecificOutput": {"hookEventName": "PermissionRequest", "decision": decision}})

    def configuration(self, command: str, approvals: bool, wait: float) -> str:
        """TOML for ~/.codex/config.toml. Codex's timeouts are seconds (600 by default) and only a backstop:
        the hook stops itself at its deadline, and a PermissionRequest's is above the question's."""

        def table(event: str, timeout: int) -> str:
            return (
                f"[[hooks.{event}]]\n[[hooks.{event}.hooks]]\n"
                f'type = "command"\ncommand = {_toml(command)}\ntimeout = {timeout}\n'
            )

        argv = "[" + ", ".join(_toml(part) for part in shlex.split(command)) + "]"
        lines = [
            "# mcp-push for Codex, in ~/.codex/config.toml. Codex runs these hooks once you trust them in /hooks.",
            "# A Codex without hooks: instead of [[hooks.Stop]], this top-level key, above every [table]:",
            f"# notify = {argv}",
            "",
            table("Stop", 30),
        ]
        if approvals:
            lines.append(table("PermissionRequest", int(wait) + 30))
        return "\n".join(lines).rstrip("\n")


def find_rollout(thread: str) -> str | None:
    if not THREAD_ID.fullmatch(thread):
        return None
    home = os.environ.get("CODEX_HOME") or os.path.join(os.path.expanduser("~"), ".codex")
    pattern = os.path.join(glob.escape(home), "sessions", "*", "*", "*", f"rollout-*-{thread}.jsonl")
    found = sorted(glob.glob(pattern))
    return found[-1] if found else None


def read_rollout(path: Any) -> Transcript:
    """When the session began, your last prompt and the last reply; a rollout's first line (the session's
    instructions) can outgrow the head, so its first timestamp is found by pattern."""
    found = Transcript()
    end = ends(path)
    if end is None:
        return found
    first = FIRST_TIMESTAMP.search(end.head)
    found.started = when(first.group(1).decode("utf-8", "replace")) if first else None
    for entry in entries(reversed(end.lines())):
        event = entry.get("payload") if entry.get("type") == "event_msg" else None
        kind = event.get("type") if isinstance(event, dict) else None
        if kind == "agent_message" and not found.last_reply:
            found.last_reply = string(event.get("message"))
        elif kind == "user_message":
            found.last_prompt = when(entry.get("timestamp"))
            break
    return found


def _toml(text: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's, and non-ASCII stays as it is (no surrogate pairs)."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


AGENT = Codex
