"""opencode has no shell hooks, only JS/TS plugins; `--print-config` prints one (for
`~/.config/opencode/plugins/mcp-push.js`, or a project's `.opencode/plugins/`; opencode loads `*.js` from
`plugin/` and `plugins/`) that runs this hook with one small JSON object on stdin:

    {"event": "session.idle", "session_id": "ses_…", "directory": "/src/app", "worktree": "/src/app",
     "message": "<the last reply>", "error": {"name": "APIError", "message": "…"},
     "prompted_at": <ms>, "started_at": <ms>}

with, for a permission (`permission.asked`; `permission.updated` before opencode 1.1), `title`, `permission`
and `patterns`, and for the question tool (`question.asked`) `title` and `options`. A raw opencode event
(`{"type": ..., "properties": {...}}`) is read as well.

The plugin follows the bus: when you last prompted (the user message's `time.created`), the session's own
creation, the last assistant text part, and a `session.error`, which it hands to the `session.idle` that
ends the turn (opencode always goes idle after an error or a cancel, and sends `session.status` idle besides
the deprecated `session.idle`: one of the two is announced). Subagent sessions (those with a `parentID`)
are left out: their parent's turn is the one you wait for.

Announced: an idle session as a finished turn, or a failed one when an error ended it; not when the error
is `MessageAbortedError`, which is you interrupting it. A permission or a question is a push that needs
your action. MCP_PUSH_HOOK_MIN_SECONDS applies, timed from `prompted_at`.

Output: nothing; the plugin ignores what the hook prints. It spawns the command from an argument array (no
shell), writes the JSON to its stdin and does not wait for it, so opencode never does either.

Permissions: a plugin could answer one (its `permission.ask` hook sets allow/deny, or the SDK replies to
the request), but this one only reports; `--approvals` changes nothing.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
from datetime import datetime, timezone
from typing import Any

from mcp_push.hooks.base import NOT_A_PAYLOAD, Agent, Transcript, Turn, string

PERMISSION_EVENTS = ("permission.asked", "permission.updated")
EVENTS = ("session.idle", "session.status", "session.error", *PERMISSION_EVENTS, "question.asked")


class Opencode(Agent):
    name = "opencode"
    who = "opencode"
    docs = "https://opencode.ai/docs/plugins/"

    def turn(self, payload: Any, args: argparse.Namespace) -> Turn | str:
        if not isinstance(payload, dict):
            return NOT_A_PAYLOAD
        payload = flat(payload)
        event = string(payload.get("event"))
        if event == "session.status":  # only from a raw event; the plugin sends it as session.idle
            status = payload.get("status")
            event = "session.idle" if isinstance(status, dict) and status.get("type") == "idle" else ""
        if event not in EVENTS or event == "session.status":
            return f"{payload.get('event')!r} is not an event mcp-push announces"
        session = string(payload.get("session_id")) or string(payload.get("sessionID"))
        common = {
            "cwd": string(payload.get("directory")) or string(payload.get("worktree")) or os.getcwd(),
            "session": session.removeprefix("ses_"),  # opencode's prefix would fill the 8 characters shown
            "transcript": timing(payload),
        }
        if event in PERMISSION_EVENTS:
            return Turn("attention", headline="opencode needs your permission", text=permission(payload), **common)
        if event == "question.asked":
            listed = payload.get("options") if isinstance(payload.get("options"), list) else []
            options = [string(o) for o in listed if string(o)]
            details = [f"options: {' / '.join(options)}"] if options else []
            text = string(payload.get("title")) or "opencode is waiting for your answer"
            return Turn("attention", headline="opencode has a question for you", text=text, details=details, **common)
        error = payload.get("error") if isinstance(payload.get("error"), dict) else {}
        kind = string(error.get("name"))
        if kind == "MessageAbortedError":
            return "you interrupted opencode yourself"
        if error:
            text = string(error.get("message")) or string(payload.get("message")) or "The turn ended on an error."
            return Turn("failed", text=text, details=[f"error: {kind}"] if kind else [], **common)
        if event == "session.error":  # a raw event: the plugin hands errors to the idle that follows
            return "an error without its message"
        return Turn("finished", text=string(payload.get("message")), **common)

    def configuration(self, command: str, approvals: bool, wait: float) -> str:
        """The plugin file. The command goes in as a JSON array (a valid JS literal), never through a shell.
        `approvals` adds nothing (see the module docstring)."""
        return PLUGIN.replace("__COMMAND__", json.dumps(shlex.split(command)))


def flat(payload: dict[str, Any]) -> dict[str, Any]:
    """The plugin's JSON as it is, or a raw opencode event `{"type", "properties"}` in the same terms."""
    properties = payload.get("properties")
    if "event" in payload or not isinstance(payload.get("type"), str) or not isinstance(properties, dict):
        return payload
    found = {**properties, "event": payload["type"]}
    if isinstance(properties.get("error"), dict):
        error = properties["error"]
        data = error.get("data") if isinstance(error.get("data"), dict) else {}
        found["error"] = {"name": error.get("name"), "message": data.get("message") or error.get("message")}
    return found


def permission(payload: dict[str, Any]) -> str:
    """`permission.updated` has a title; `permission.asked` only the kind and its patterns."""
    title = string(payload.get("title"))
    kind = string(payload.get("permission")) or string(payload.get("type"))
    patterns = payload.get("patterns", payload.get("pattern"))
    patterns = [patterns] if isinstance(patterns, str) else patterns if isinstance(patterns, list) else []
    wanted = " ".join(string(p) for p in patterns if string(p))
    what = f"{kind}: {wanted}" if kind and wanted else kind or wanted
    return title or what or "opencode is waiting for your permission"


def timing(payload: dict[str, Any]) -> Transcript | None:
    """How long the turn has run, for MCP_PUSH_HOOK_MIN_SECONDS and the push's durations."""
    prompted, started = moment(payload.get("prompted_at")), moment(payload.get("started_at"))
    if prompted is None and started is None:
        return None
    return Transcript(started=started or prompted, last_prompt=prompted)


def moment(value: Any) -> datetime | None:
    """opencode's milliseconds since the epoch (an ISO string is read too)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0:
        try:
            return datetime.fromtimestamp(value / 1000, timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str) and value.strip():
        try:
            when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        return when if when.tzinfo else when.replace(tzinfo=timezone.utc)
    return None


PLUGIN = """\
// mcp-push for opencode: a push to your phone when a session finishes, fails, or waits for you.
// Save as ~/.config/opencode/plugins/mcp-push.js (all projects) or <project>/.opencode/plugins/mcp-push.js.
// Printed by `mcp-push hook opencode --print-config`, which names the Python that printed it.
// It runs that command from an argument array (no shell) with one JSON object on stdin, and never waits
// for it. It only reports: permissions and questions are still answered in opencode.
import { spawn } from "node:child_process"

const COMMAND = __COMMAND__

export const McpPush = async ({ directory, worktree }) => {
  const children = new Set() // subagent sessions: their parent's turn is the one you wait for
  const roles = new Map() // message id -> "user" | "assistant"
  const replies = new Map() // session id -> the last assistant text
  const prompted = new Map() // session id -> when you last prompted (ms)
  const started = new Map() // session id -> when the session was created (ms)
  const errors = new Map() // session id -> the error that ended its turn
  const announced = new Set() // sessions whose idle went out; session.status and session.idle both say it
  const text = (value) => (typeof value === "string" ? value : "")
  const when = (value) => (typeof value === "number" ? value : undefined)

  const run = (payload) => {
    try {
      const child = spawn(COMMAND[0], COMMAND.slice(1), {
        stdio: ["pipe", "ignore", "ignore"],
        detached: process.platform !== "win32", // a push still goes out when opencode exits right after
        windowsHide: true,
      })
      child.on("error", () => {})
      child.stdin.on("error", () => {})
      child.stdin.end(JSON.stringify(payload))
      child.unref()
    } catch {}
  }

  const send = (event, sessionID, extra) => {
    if (!sessionID || children.has(sessionID)) return
    run({
      event,
      session_id: sessionID,
      directory: text(directory),
      worktree: text(worktree),
      prompted_at: prompted.get(sessionID),
      started_at: started.get(sessionID),
      ...extra,
    })
  }

  const idle = (sessionID) => {
    if (!sessionID || announced.has(sessionID)) return
    announced.add(sessionID)
    const error = errors.get(sessionID)
    errors.delete(sessionID)
    send("session.idle", sessionID, { message: replies.get(sessionID) ?? "", error })
    replies.delete(sessionID)
  }

  return {
    event: async (input) => {
      try {
        const event = input?.event
        const type = event?.type
        const p = event?.properties ?? {}
        if (type === "session.created" || type === "session.updated") {
          const info = p.info ?? {}
          if (info.id && info.parentID) children.add(info.id)
          if (info.id && when(info.time?.created)) started.set(info.id, info.time.created)
        } else if (type === "message.updated") {
          const info = p.info ?? {}
          if (roles.size > 10000) roles.clear()
          if (info.id) roles.set(info.id, info.role)
          if (info.role === "user" && info.sessionID) {
            announced.delete(info.sessionID)
            if (when(info.time?.created)) prompted.set(info.sessionID, info.time.created)
          }
        } else if (type === "message.part.updated") {
          const part = p.part ?? {}
          if (part.type === "text" && !part.synthetic && part.sessionID && roles.get(part.messageID) === "assistant") {
            replies.set(part.sessionID, text(part.text))
          }
        } else if (type === "session.status") {
          if (p.status?.type === "busy") announced.delete(p.sessionID)
          if (p.status?.type === "idle") idle(p.sessionID)
        } else if (type === "session.idle") {
          idle(p.sessionID)
        } else if (type === "session.error") {
          const error = p.error ?? {}
          const message = text(error.data?.message) || text(error.message)
          if (p.sessionID) errors.set(p.sessionID, { name: text(error.name), message })
        } else if (type === "permission.asked" || type === "permission.updated") {
          const patterns = [].concat(p.patterns ?? p.pattern ?? []).filter((s) => typeof s === "string")
          send(type, p.sessionID, { title: text(p.title), permission: text(p.permission) || text(p.type), patterns })
        } else if (type === "question.asked") {
          const first = (Array.isArray(p.questions) && p.questions[0]) || {}
          const options = (Array.isArray(first.options) ? first.options : []).map((o) => text(o?.label)).filter(Boolean)
          send(type, p.sessionID, { title: text(first.question) || text(first.header), options })
        }
      } catch {}
    },
  }
}
"""


AGENT = Opencode
