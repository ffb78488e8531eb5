"""The part every agent's hook shares: what a hook call becomes, and the contract an agent fills in.

An agent does not always remember to call `notify.*` when it is done, and a session waiting for your
permission is exactly when you want a ping. Agents run shell hooks on those events; an agent module
(`hooks/<agent>.py`) reads its agent's payload into a `Turn` (finished, failed, needs you, asks permission)
and says what its agent expects back on stdout, and this module does the rest once: the notification, the
skip of short turns (MCP_PUSH_HOOK_MIN_SECONDS, judged from the transcript), the deadline, the question on
your phone for a permission prompt (`mcp_push.ask.approval`), and the contract that a hook never fails its
agent.

A hook runs on every turn, so it must be cheap (no MCP SDK, only the configured channels), quiet (short
turns and repeated stops are skipped), bounded (`MCP_PUSH_HOOK_DEADLINE`) and harmless: whatever happens
it exits 0 and prints what its agent expects. A hook exiting 2 on Stop would make Claude keep working, and
any other failure shows up as an error in the user's session.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shlex
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from mcp_push import console
from mcp_push.config import Config
from mcp_push.models import EVENT_ICONS, TITLE_MAX_CHARS, AskResult, DeliveryReport, Notification, printable

if TYPE_CHECKING:
    from mcp_push.ask import Prompt

log = logging.getLogger("mcp_push")

STDIN_MAX_BYTES = 16 * 1024 * 1024
HEAD_BYTES = 64 * 1024  # the first timestamp is in the first lines
TAIL_BYTES = 1024 * 1024  # the last prompt and reply are near the end; transcripts grow to many MiB
EXCERPT_CHARS = 1500  # push screens show a few lines; the full reply is in the session


@dataclass
class Turn:
    """What one hook call says happened, in any agent's terms."""

    kind: Literal["finished", "failed", "attention", "permission"]
    cwd: str
    session: str = ""
    text: str = ""  # the reply, the error, the agent's own message
    headline: str = ""  # instead of "<who> finished" / "<who> stopped on an error"
    who: str = ""  # instead of the agent's name: "subagent Explore"
    transcript: Transcript | None = None  # for how long it worked, and the last reply
    details: list[str] = field(default_factory=list)  # extra lines under the text ("error: rate_limit (429)")
    tool: str = ""  # a permission prompt's tool and what it wants to do with it
    tool_input: Any = None


class Agent:
    """The contract an agent module fills in (`AGENT = <its class>`)."""

    name: ClassVar[str]  # the subcommand: `mcp-push hook <name>`
    who: ClassVar[str]  # how the pushes name the agent: "Claude", "Codex"
    docs: ClassVar[str]  # the agent's hook documentation
    json_payload: ClassVar[bool] = True  # the payload is JSON (else the raw text: a piped log)

    def turn(self, payload: Any, args: argparse.Namespace) -> Turn | Notification | str:
        """What the payload (the parsed JSON, or the raw text when it is not JSON) reports: a `Turn`, a
        ready `Notification`, or why there is nothing to push. Payloads change between agent versions:
        read every field defensively."""
        raise NotImplementedError

    def output(self, decision: dict[str, Any] | None) -> str | None:
        """What the agent expects on stdout, given a permission decision (None: none, or not a permission
        prompt); None to print nothing."""
        return None

    def configuration(self, command: str, approvals: bool, wait: float) -> str:
        """The agent's own configuration snippet that runs `command` (`--print-config`): its format, its
        events; with `approvals`, the permission prompt too, with a timeout above `wait` seconds."""
        raise NotImplementedError

    def command(self) -> str:
        """This hook run by this very Python, so that any venv works."""
        return f"{shlex.quote(sys.executable)} -m mcp_push hook {self.name}"


class Output:
    """The hook's stdout, printed once: as soon as a decision is known (an agent parses all of stdout,
    and waits for it), or at the end without one."""

    def __init__(self, agent: Agent) -> None:
        self.agent = agent
        self.printed = False

    def emit(self, decision: dict[str, Any] | None = None) -> None:
        if not self.printed:
            self.printed = True
            text = self.agent.output(decision)
            if text is not None:
                print(text, file=console.out(), flush=True)


def run(agent: Agent, args: argparse.Namespace) -> int:
    """The `hook` command. Never raises and always returns 0; its own failures go to stderr."""
    if getattr(args, "print_config", False):
        try:
            wait = Config.load().settings.MCP_PUSH_ASK_TIMEOUT
        except Exception:  # noqa: BLE001 - a broken config must not stop printing a snippet
            wait = 120.0
        print(agent.configuration(agent.command(), getattr(args, "approvals", False), wait))
        return 0
    output = Output(agent)
    try:
        from mcp_push import http
        from mcp_push.cli import setup_logging

        raw = args.payload if getattr(args, "payload", None) is not None else read_stdin()
        config = Config.load()
        setup_logging(config)
        http.run(handle(agent, args, raw, config, output))
    except Exception as exc:  # noqa: BLE001 - a hook must never fail the agent
        warn(f"{type(exc).__name__}: {exc}")
    output.emit()
    return 0


async def handed(agent: Agent, args: argparse.Namespace, raw: str, config: Config, source: str) -> int:
    """A hook a running server runs for another process (`mcp_push.handoff`), on its configuration."""
    output = Output(agent)
    raw = args.payload if getattr(args, "payload", None) is not None else raw  # Codex's notify: the argument
    try:
        await handle(agent, args, raw, config, output, source)
    except Exception as exc:  # noqa: BLE001 - a hook must never fail the agent
        warn(f"{type(exc).__name__}: {exc}")
    output.emit()
    return 0


async def handle(
    agent: Agent, args: argparse.Namespace, raw: str, config: Config, output: Output, source: str = "hook"
) -> None:
    """One hook call: its payload `raw`, sent with the send deadline cut to the hook's, so the agent waits
    seconds, not 30."""
    deadline = min(config.settings.MCP_PUSH_DEADLINE, config.settings.MCP_PUSH_HOOK_DEADLINE)
    config = config.sibling(MCP_PUSH_DEADLINE=deadline)
    try:
        payload: Any = json.loads(raw) if agent.json_payload and raw.strip() else raw
    except ValueError:
        payload = raw
    found = agent.turn(payload, args)
    if isinstance(found, str):
        log.info("hook: not sent: %s", found)
        if found.startswith("!"):  # the payload itself is wrong: say so where the user can see it
            warn(found[1:])
        return
    if isinstance(found, Turn) and found.kind == "permission":
        await approve(agent, config, found, args.channel, output)
        return
    note = found if isinstance(found, Notification) else notification(agent, found, config)
    if note is None:
        return
    report = await send(config, note, args.channel, source)
    if not report.delivered or report.status in ("partial", "no_channels"):
        warn(f"{report.status}: {report.summary}")


NOT_A_PAYLOAD = "!stdin is not a hook payload (a JSON object); nothing sent"


def worked(turn: Turn, now: datetime) -> float | None:
    """Seconds since your last prompt (or since the session began), from the transcript, if any."""
    if turn.transcript is None:
        return None
    return seconds(now, turn.transcript.last_prompt or turn.transcript.started)


def notification(agent: Agent, turn: Turn, config: Config) -> Notification | None:
    """The push for a turn, or None when it was too short to be worth one."""
    now = datetime.now(timezone.utc)
    spent, least = worked(turn, now), config.settings.MCP_PUSH_HOOK_MIN_SECONDS
    who = turn.who or agent.who
    if spent is not None and spent < least:
        log.info("hook: not sent: %s worked %.0f s, less than MCP_PUSH_HOOK_MIN_SECONDS=%g", who, spent, least)
        return None
    project = Path(turn.cwd).name or turn.cwd
    session = turn.session[:8] or "unknown"
    kind: str | None = {"finished": "end", "failed": "error"}.get(turn.kind)
    default = {"finished": f"{who} finished", "failed": f"{who} stopped on an error"}.get(turn.kind)
    headline = turn.headline or default or f"{who} needs your action"
    text = turn.text or (turn.transcript.last_reply if turn.transcript else "")
    body = excerpt(text) if turn.kind == "finished" else text
    body = (body or ("(no reply text)" if turn.kind == "finished" else headline)) + "".join(
        f"\n\n{line}" for line in turn.details
    )
    icon = EVENT_ICONS[kind] if kind else "🔔"
    lines = [
        f"project: {turn.cwd}",
        f"session: {session}" + (durations(now, turn.transcript) if turn.transcript else ""),
    ]
    content = printable(body) + "\n\n" + printable("\n".join(lines))
    title = printable(f"{icon} {project}: {headline}")[:TITLE_MAX_CHARS]
    # run_id and event let the guards and the history group a session's notifications. "Needs your action"
    # has no event kind, so MCP_PUSH_EVENTS never hides it.
    run_id = f"{agent.name}/{project}/{session}"[:128]
    return Notification(
        title=title,
        content=content,
        run_id=run_id,
        event=kind,
        kind=kind or turn.kind,
        project=project,
        urgent=turn.kind != "finished",
    )


async def send(config: Config, note: Notification, channels: list[str] | None, source: str) -> DeliveryReport:
    from mcp_push.dispatch import dispatch

    try:
        # dispatch keeps its own deadline; this bounds what happens around it (a quote fetch, cleanup).
        sending = dispatch(config, note, channels, source=source)
        return await asyncio.wait_for(sending, config.settings.MCP_PUSH_DEADLINE + 1)
    except asyncio.TimeoutError:
        return DeliveryReport(status="failed", summary=f"gave up after {config.settings.MCP_PUSH_DEADLINE:g} s")


async def approve(agent: Agent, config: Config, turn: Turn, channels: list[str] | None, output: Output) -> None:
    """Ask on the phone whether the agent may do what it asks; print the decision the moment it is known."""
    from mcp_push.ask import ask, decision

    prompt, why = approval_prompt(agent, config, turn)
    if prompt is None:
        log.info("hook: not asked: %s", why)
        return

    def decide(result: AskResult) -> None:
        if output.printed:
            return
        output.emit(decision(result, config))
        if not result.answered:
            warn(f"no decision: {result.summary}")

    decide(await ask(config, prompt, channels=channels, source="hook", on_outcome=decide, fallback=False))


def approval_prompt(agent: Agent, config: Config, turn: Turn) -> tuple[Prompt | None, str]:
    """The question for a permission prompt, or None and why it is not asked."""
    from mcp_push.ask import approval

    since = worked(turn, datetime.now(timezone.utc))
    least = config.settings.MCP_PUSH_HOOK_MIN_SECONDS
    if since is not None and since < least:
        return None, f"you were active {since:.0f} s ago, within MCP_PUSH_HOOK_MIN_SECONDS={least:g}"
    config.channels  # noqa: B018 - registers their secrets, which the question's text must not carry
    prompt = approval(
        config.settings,
        agent=agent.who,
        project=Path(turn.cwd).name or turn.cwd,
        tool=turn.tool,
        tool_input=turn.tool_input,
        context=[f"project: {turn.cwd}", f"session: {turn.session[:8] or 'unknown'}"],
    )
    return prompt, "asked"


@dataclass
class Transcript:
    """What a notification needs from a Claude Code transcript (JSON lines, one entry per line)."""

    started: datetime | None = None  # the first timestamp: when the session began
    last_prompt: datetime | None = None  # when you last typed something: the current turn's start
    last_reply: str = ""  # the text of the last assistant entry that has text
    api_error: bool = False  # the last assistant entry is Claude Code's synthetic API error reply


@dataclass
class Ends:
    """A transcript's head and tail, which is all any agent's notification needs from it: transcripts
    grow to many MiB, and reading only the ends keeps a long session's hook at milliseconds."""

    head: bytes
    tail: bytes
    cut: bool  # the tail starts mid-file

    def lines(self) -> list[bytes]:
        return self.tail.splitlines()[1 if self.cut else 0 :]  # the first line of a cut tail is partial


def ends(path: Any) -> Ends | None:
    """A payload's transcript path read at both ends; None when it names nothing readable."""
    if not isinstance(path, str) or not path:
        return None
    try:
        with open(os.path.expanduser(path), "rb") as f:
            head = f.read(HEAD_BYTES)
            start = max(f.seek(0, os.SEEK_END) - TAIL_BYTES, 0)
            f.seek(start)
            return Ends(head, f.read(), start > 0)
    except OSError:
        return None


def entries(lines: Any) -> Any:
    """The JSON objects among JSON lines, skipping what does not parse (a line being written, say)."""
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            yield entry


def when(value: Any) -> datetime | None:
    """An ISO 8601 timestamp as agents write them (2026-02-19T14:30:00.000Z), aware; None if it is not one."""
    if not isinstance(value, str):
        return None
    try:  # Python 3.10's fromisoformat does not take the Z
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def blocks_text(content: Any) -> str:
    """A message's text: a string, or its text blocks (Anthropic-style content lists) joined."""
    if isinstance(content, str):
        return content.strip()
    if not isinstance(content, list):
        return ""
    parts = [string(b.get("text")) for b in content if isinstance(b, dict) and b.get("type") == "text"]
    return "\n\n".join(p for p in parts if p)


def first_time(end: Ends) -> datetime | None:
    """The first `timestamp` in a JSON-lines transcript's head: when its session began."""
    for entry in entries(end.head.splitlines()):
        found = when(entry.get("timestamp"))
        if found:
            return found
    return None


def read_transcript(path: Any) -> Transcript:
    """Claude Code's transcript: JSON lines, one entry per line."""
    found = Transcript()
    end = ends(path)
    if end is None:
        return found
    found.started = first_time(end)
    seen_assistant = False
    for entry in entries(reversed(end.lines())):
        kind = entry.get("type")
        message = entry.get("message") if isinstance(entry.get("message"), dict) else {}
        if kind == "assistant":
            if not seen_assistant:
                seen_assistant = True
                found.api_error = bool(entry.get("isApiErrorMessage"))
            if not found.last_reply:
                found.last_reply = blocks_text(message.get("content"))
        elif kind == "user" and _is_prompt(entry, message.get("content")):
            found.last_prompt = when(entry.get("timestamp"))
            break
    return found


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


def seconds(now: datetime, since: datetime | None) -> float | None:
    return None if since is None else (now - since).total_seconds()


def durations(now: datetime, transcript: Transcript) -> str:
    worked = seconds(now, transcript.last_prompt)
    total = seconds(now, transcript.started)
    if total is None:
        return ""
    if worked is not None and total - worked >= 1:
        return f" · {human(worked)} since your last prompt ({human(total)} in all)"
    return f" · {human(total)}"


def human(elapsed: float) -> str:
    s = max(int(elapsed), 0)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    return f"{s // 3600}h {s % 3600 // 60:02d}m"


def excerpt(text: str) -> str:
    text = text.strip()
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS].rstrip() + " …"


def string(value: Any) -> str:
    """A payload's string field, trimmed; anything else (absent, a number, a list) is empty."""
    return value.strip() if isinstance(value, str) else ""


def read_stdin() -> str:
    """The hook's input; nothing when stdin is a terminal (run by hand) or closed."""
    stream = sys.stdin
    if stream is None or stream.isatty():
        return ""
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        return buffer.read(STDIN_MAX_BYTES).decode("utf-8", "replace")
    return stream.read(STDIN_MAX_BYTES)


def warn(message: str) -> None:
    from mcp_push.redact import redact

    print(f"mcp-push hook: {redact(message)}", file=console.err())
