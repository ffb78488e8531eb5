"""Agent hooks: `mcp-push hook claude-code` and `mcp-push hook generic`.

An agent does not always remember to call `notify.*` when it is done, and a session waiting for your
permission is exactly when you want a ping. Agents run shell hooks on those events, so this module turns
one hook call into one notification through the normal `dispatch`, and a `PermissionRequest` into a
question on your phone (`mcp_push.ask.approval`) whose answer becomes Claude Code's decision.

A hook runs on every turn, so it must be cheap (no MCP SDK, only the configured channels), quiet (short
turns and repeated Stop hooks are skipped), bounded (`MCP_PUSH_HOOK_DEADLINE`) and harmless: whatever
happens it exits 0 and prints the JSON Claude Code expects. A hook exiting 2 on Stop would make Claude
keep working, and any other failure shows up as an error in the user's session.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shlex
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcp_push import console
from mcp_push.config import Config
from mcp_push.models import EVENT_ICONS, TITLE_MAX_CHARS, AskResult, DeliveryReport, Event, Notification, printable

if TYPE_CHECKING:
    from mcp_push.ask import Prompt

log = logging.getLogger("mcp_push")

# Universal hook output fields: let the agent go on, and keep our line out of its transcript view.
HOOK_OUTPUT: dict[str, Any] = {"continue": True, "suppressOutput": True}
STDIN_MAX_BYTES = 16 * 1024 * 1024
HEAD_BYTES = 64 * 1024  # the first timestamp is in the first lines
TAIL_BYTES = 1024 * 1024  # the last prompt and reply are near the end; transcripts grow to many MiB
EXCERPT_CHARS = 1500  # push screens show a few lines; the full reply is in the session
# Informational notifications that need nothing from the user.
QUIET_NOTIFICATIONS = {"auth_success", "elicitation_complete", "elicitation_response"}
ACTION_TITLES = {
    "permission_prompt": "Claude needs your permission",
    "idle_prompt": "Claude is waiting for your input",
    "elicitation_dialog": "Claude needs your answer",
}


class Output:
    """The hook's one JSON object on stdout, printed once: as soon as a decision is known (the agent
    parses all of stdout, and waits for it), or at the end with the usual fields alone."""

    def __init__(self) -> None:
        self.printed = False

    def emit(self, extra: dict[str, Any] | None = None) -> None:
        if not self.printed:
            self.printed = True
            print(json.dumps({**HOOK_OUTPUT, **(extra or {})}), file=console.out(), flush=True)


def run(args: argparse.Namespace) -> int:
    """The `hook` command. Never raises and always returns 0; its own failures go to stderr."""
    if getattr(args, "print_config", False):
        print(json.dumps(claude_code_settings(approvals=getattr(args, "approvals", False)), indent=2))
        return 0
    output = Output()
    try:
        from mcp_push import http
        from mcp_push.cli import setup_logging

        raw = _read_stdin()
        config = Config.load()
        setup_logging(config)
        http.run(handle(args, raw, config, output))
    except Exception as exc:  # noqa: BLE001 - a hook must never fail the agent
        _warn(f"{type(exc).__name__}: {exc}")
    output.emit()
    return 0


async def handed(args: argparse.Namespace, raw: str, config: Config, source: str) -> int:
    """A hook a running server runs for another process (`mcp_push.handoff`), on its configuration."""
    output = Output()
    try:
        await handle(args, raw, config, output, source)
    except Exception as exc:  # noqa: BLE001 - a hook must never fail the agent
        _warn(f"{type(exc).__name__}: {exc}")
    output.emit()
    return 0


def claude_code_settings(approvals: bool = False) -> dict[str, Any]:
    """The `hooks` block for Claude Code's settings.json, run by this very Python so any venv works.

    Notification has no matcher: older Claude Code versions send no `notification_type` to match on, and
    the hook itself drops the informational ones. StopFailure (an API error ended the turn) needs Claude
    Code 2.1.78 or newer. The timeout is only a backstop; the hook stops itself at its deadline. With
    `approvals`, PermissionRequest too, with a timeout above the question's own (MCP_PUSH_ASK_TIMEOUT).
    """
    command = f"{shlex.quote(sys.executable)} -m mcp_push hook claude-code"
    entry = [{"hooks": [{"type": "command", "command": command, "timeout": 30}]}]
    hooks = {"Stop": entry, "StopFailure": entry, "Notification": entry}
    if approvals:
        try:
            wait = Config.load().settings.MCP_PUSH_ASK_TIMEOUT
        except Exception:  # noqa: BLE001 - a broken config must not stop printing a snippet
            wait = 120.0
        timeout = int(wait) + 30
        hooks["PermissionRequest"] = [{"hooks": [{"type": "command", "command": command, "timeout": timeout}]}]
    return {"hooks": hooks}


async def handle(args: argparse.Namespace, raw: str, config: Config, output: Output, source: str = "hook") -> None:
    """One hook call: its payload `raw`, sent with the send deadline cut to the hook's, so the agent waits
    seconds, not 30."""
    deadline = min(config.settings.MCP_PUSH_DEADLINE, config.settings.MCP_PUSH_HOOK_DEADLINE)
    config = config.sibling(MCP_PUSH_DEADLINE=deadline)
    if args.agent == "generic":
        note = generic_notification(args.event, raw, run_id=args.run_id, title=args.title)
    else:
        try:
            payload = json.loads(raw) if raw.strip() else None
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            _warn("stdin is not a hook payload (a JSON object); nothing sent")
            return
        if payload.get("hook_event_name") == "PermissionRequest":
            await _approve(config, payload, args.channel, output)
            return
        note, reason = claude_code_notification(payload, config.settings.MCP_PUSH_HOOK_MIN_SECONDS)
        if note is None:
            log.info("hook: not sent: %s", reason)
            return
    report = await _send(config, note, args.channel, source)
    if not report.delivered or report.status in ("partial", "no_channels"):
        _warn(f"{report.status}: {report.summary}")


async def _send(config: Config, note: Notification, channels: list[str] | None, source: str) -> DeliveryReport:
    from mcp_push.dispatch import dispatch

    try:
        # dispatch keeps its own deadline; this bounds what happens around it (a quote fetch, cleanup).
        sending = dispatch(config, note, channels, source=source)
        return await asyncio.wait_for(sending, config.settings.MCP_PUSH_DEADLINE + 1)
    except asyncio.TimeoutError:
        return DeliveryReport(status="failed", summary=f"gave up after {config.settings.MCP_PUSH_DEADLINE:g} s")


async def _approve(config: Config, payload: dict[str, Any], channels: list[str] | None, output: Output) -> None:
    """Ask on the phone whether Claude may do what it asks; print the decision the moment it is known."""
    from mcp_push.ask import ask, decision

    prompt, why = claude_code_approval(config, payload)
    if prompt is None:
        log.info("hook: not asked: %s", why)
        return

    def decide(result: AskResult) -> None:
        if output.printed:
            return
        verdict = decision(result, config)
        if verdict is not None:
            output.emit({"hookSpecificOutput": {"hookEventName": "PermissionRequest", "decision": verdict}})
        else:
            output.emit()
        if not result.answered:
            _warn(f"no decision: {result.summary}")

    decide(await ask(config, prompt, channels=channels, source="hook", on_outcome=decide, fallback=False))


def claude_code_approval(config: Config, payload: dict[str, Any]) -> tuple[Prompt | None, str]:
    """The question for a PermissionRequest, or None and why it is not asked."""
    from mcp_push.ask import approval

    transcript = read_transcript(payload.get("transcript_path"))
    now = datetime.now(timezone.utc)
    since = _seconds(now, transcript.last_prompt or transcript.started)
    min_seconds = config.settings.MCP_PUSH_HOOK_MIN_SECONDS
    if since is not None and since < min_seconds:
        return None, f"you were active {since:.0f} s ago, within MCP_PUSH_HOOK_MIN_SECONDS={min_seconds:g}"
    config.channels  # noqa: B018 - registers their secrets, which the question's text must not carry
    cwd = _text(payload.get("cwd")) or os.getcwd()
    session = _text(payload.get("session_id"))[:8] or "unknown"
    prompt = approval(
        config.settings,
        agent="Claude",
        project=Path(cwd).name or cwd,
        tool=_text(payload.get("tool_name")),
        tool_input=payload.get("tool_input"),
        context=[f"project: {cwd}", f"session: {session}"],
    )
    return prompt, "asked"


def claude_code_notification(payload: dict[str, Any], min_seconds: float) -> tuple[Notification | None, str]:
    """What to push for one Claude Code hook payload, or None and why not."""
    event = payload.get("hook_event_name")
    if event in ("Stop", "SubagentStop") and payload.get("stop_hook_active"):
        return None, "a Stop hook already made Claude continue; this stop was announced before"
    if event not in ("Stop", "SubagentStop", "StopFailure", "Notification"):
        return None, f"{event!r} is not an event mcp-push announces"
    ntype = _text(payload.get("notification_type"))
    if event == "Notification" and ntype in QUIET_NOTIFICATIONS:
        return None, f"'{ntype}' notifications need nothing from you"

    subagent = event == "SubagentStop"
    path = payload.get("agent_transcript_path") if subagent else None
    transcript = read_transcript(path or payload.get("transcript_path"))
    now = datetime.now(timezone.utc)
    worked = _seconds(now, transcript.last_prompt or transcript.started)
    if worked is not None and worked < min_seconds:
        return None, f"Claude worked {worked:.0f} s, less than MCP_PUSH_HOOK_MIN_SECONDS={min_seconds:g}"

    cwd = _text(payload.get("cwd")) or os.getcwd()
    project = Path(cwd).name or cwd
    session = _text(payload.get("session_id"))[:8] or "unknown"
    who = f"subagent {_text(payload.get('agent_type')) or 'task'}" if subagent else "Claude"
    kind: str | None
    if event == "StopFailure":
        kind, headline = "error", "Claude stopped on an error"
        detail = _text(payload.get("error_type")) or "unknown"
        code = _text(payload.get("error"))
        body = _text(payload.get("error_message")) or transcript.last_reply or "The turn ended on an API error."
        body += f"\n\nerror: {detail}" + (f" ({code})" if code and code != detail else "")
    elif event == "Notification":
        kind, headline = None, ACTION_TITLES.get(ntype, "Claude needs your action")
        body = _text(payload.get("message")) or headline
    else:
        reply = _text(payload.get("last_assistant_message")) or transcript.last_reply
        # Older Claude Code versions end a turn that hit an API error with a Stop and a synthetic reply.
        kind = "error" if transcript.api_error and not payload.get("last_assistant_message") else "end"
        headline = f"{who} stopped on an error" if kind == "error" else f"{who} finished"
        body = _excerpt(reply) or "(no reply text)"

    icon = EVENT_ICONS[kind] if kind else "🔔"
    lines = [f"project: {cwd}", f"session: {session}" + _durations(now, transcript)]
    content = printable(body) + "\n\n" + printable("\n".join(lines))
    title = printable(f"{icon} {project}: {headline}")[:TITLE_MAX_CHARS]
    # run_id and event let the guards and the history group a session's notifications; a model without
    # those fields ignores them. "Needs your action" has no event kind, so MCP_PUSH_EVENTS never hides it.
    run_id = f"claude-code/{project}/{session}"[:128]
    return Notification(title=title, content=content, run_id=run_id, event=kind), "sent"


def generic_notification(event: str, message: str, *, run_id: str | None, title: str | None) -> Notification:
    """`hook generic`: one lifecycle event for any agent or script, the message read from stdin."""
    event = event.strip().lower()
    if event not in EVENT_ICONS:
        raise ValueError(f"--event must be one of {', '.join(EVENT_ICONS)}, not {event!r}")
    text = printable(message).strip()
    if len(text) > 8000:  # a piped log: its end says how it went
        text = "…" + text[-8000:]
    run = printable(run_id or "").strip() or Path.cwd().name or "hook"
    note = Event(run_id=run[:128], event=event, message=text or f"{event} (no message)").to_notification()
    if title and title.strip():
        note = note.model_copy(update={"title": printable(title)[:TITLE_MAX_CHARS]})
    return note


@dataclass
class Transcript:
    """What a notification needs from a Claude Code transcript (JSON lines, one entry per line)."""

    started: datetime | None = None  # the first timestamp: when the session began
    last_prompt: datetime | None = None  # when you last typed something: the current turn's start
    last_reply: str = ""  # the text of the last assistant entry that has text
    api_error: bool = False  # the last assistant entry is Claude Code's synthetic API error reply


def read_transcript(path: Any) -> Transcript:
    """Reads only the head and the tail, so a long session's transcript costs milliseconds."""
    found = Transcript()
    if not isinstance(path, str) or not path:
        return found
    try:
        with open(os.path.expanduser(path), "rb") as f:
            head = f.read(HEAD_BYTES)
            size = f.seek(0, os.SEEK_END)
            start = max(size - TAIL_BYTES, 0)
            f.seek(start)
            tail = f.read()
    except OSError:
        return found
    for entry in _entries(head.splitlines()):
        found.started = _timestamp(entry)
        if found.started:
            break
    lines = tail.splitlines()[1 if start else 0 :]  # the first line of a cut tail is partial
    seen_assistant = False
    for entry in _entries(reversed(lines)):
        kind = entry.get("type")
        message = entry.get("message") if isinstance(entry.get("message"), dict) else {}
        if kind == "assistant":
            if not seen_assistant:
                seen_assistant = True
                found.api_error = bool(entry.get("isApiErrorMessage"))
            if not found.last_reply:
                found.last_reply = _blocks_text(message.get("content"))
        elif kind == "user" and _is_prompt(entry, message.get("content")):
            found.last_prompt = _timestamp(entry)
            break
    return found


def _entries(lines: Any) -> Any:
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            yield entry


def _is_prompt(entry: dict[str, Any], content: Any) -> bool:
    """A message you typed, as opposed to a tool result or text Claude Code injected."""
    if entry.get("isMeta") or entry.get("isCompactSummary"):
        return False
    if isinstance(content, str):
        return bool(content.strip())
    if isinstance(content, list):
        types = {b.get("type") for b in content if isinstance(b, dict)}
        return "text" in types and "tool_result" not in types
    return False


def _blocks_text(content: Any) -> str:
    if isinstance(content, str):
        return content.strip()
    if not isinstance(content, list):
        return ""
    parts = [b.get("text", "") for b in content if isinstance(b, dict) and b.get("type") == "text"]
    return "\n\n".join(p.strip() for p in parts if isinstance(p, str) and p.strip())


def _timestamp(entry: dict[str, Any]) -> datetime | None:
    value = entry.get("timestamp")
    if not isinstance(value, str):
        return None
    try:
        # Claude Code writes 2026-02-19T14:30:00.000Z; Python 3.10's fromisoformat does not take the Z.
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _seconds(now: datetime, since: datetime | None) -> float | None:
    return None if since is None else (now - since).total_seconds()


def _durations(now: datetime, transcript: Transcript) -> str:
    worked = _seconds(now, transcript.last_prompt)
    total = _seconds(now, transcript.started)
    if total is None:
        return ""
    if worked is not None and total - worked >= 1:
        return f" · {_human(worked)} since your last prompt ({_human(total)} in all)"
    return f" · {_human(total)}"


def _human(seconds: float) -> str:
    s = max(int(seconds), 0)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    return f"{s // 3600}h {s % 3600 // 60:02d}m"


def _excerpt(text: str) -> str:
    text = text.strip()
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS].rstrip() + " …"


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _read_stdin() -> str:
    """The hook's input; nothing when stdin is a terminal (run by hand) or closed."""
    stream = sys.stdin
    if stream is None or stream.isatty():
        return ""
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        return buffer.read(STDIN_MAX_BYTES).decode("utf-8", "replace")
    return stream.read(STDIN_MAX_BYTES)


def _warn(message: str) -> None:
    from mcp_push.redact import redact

    print(f"mcp-push hook: {redact(message)}", file=console.err())
