"""Ask the user and wait for the answer: the one flow behind `notify.ask`, `mcp-push ask` and approvals.

A question goes to every chosen channel at once: with buttons where the channel carries answers
(`Channel.carries`), as text saying where to answer everywhere else. Each choice is a signed, single-use
token that expires with the question (`mcp_push.answers`). While it waits, this process reads the answer
sources of its channels, taking turns with other processes through the store; the first valid answer
wins, whichever channel it came by. Then every question message shows the outcome.

The wait never outlasts the question's timeout. Showing the outcome afterwards takes at most SETTLE_S
more; a caller that must answer at once (a hook printing its decision, a server returning the tool
result) gets the outcome through `on_outcome` first. Questions skip the abuse guards (an agent asking
the same thing twice must get two answers) and are always recorded, history or not: the answer travels
through the store, and an approval needs its audit trail.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mcp_push import answers, routing
from mcp_push.config import Config
from mcp_push.dispatch import fan_out, record, select
from mcp_push.models import TITLE_MAX_CHARS, Ask, AskResult, ChannelResult, Notification, Question, printable
from mcp_push.redact import redact

if TYPE_CHECKING:
    from channels.base import Channel
    from mcp_push.config import Settings
    from mcp_push.store import Store

log = logging.getLogger("mcp_push")

SETTLE_S = 3.0  # showing the outcome on every question message, after the answer
LINK = "link"  # where an answer came from when it was a link to the hub's answer page
ANSWER_PATH = "/v1/answer/"
LOOK_S = 0.2  # how often a waiter looks in the store for an answer another process took
PROGRESS_S = 5.0

Progress = Callable[[float, float, str], Awaitable[None]]


@dataclass(frozen=True)
class Prompt:
    """A question ready to push: how it reads, its choices, how long it waits, and how each outcome shows
    on the question's messages afterwards."""

    note: Notification
    choices: tuple[str, ...]
    timeout: float
    verdicts: tuple[str, ...] = ()  # per choice, e.g. "✅ Allowed"; default ✅ Answered “choice”
    expired: str = "⌛ No answer in time"
    fallback: str = "where your agent runs"  # where to answer when no channel can carry it

    def verdict(self, index: int) -> str:
        return self.verdicts[index] if index < len(self.verdicts) else f"✅ Answered “{self.choices[index]}”"


def prompt_for(request: Ask, settings: Settings) -> Prompt:
    """The push for a plain question: its first line as the title, the whole question (or, when the title
    already says it all, the choices) as the body."""
    text = request.question.strip()
    first = text.splitlines()[0].strip()
    title = request.title or _cut(f"❓ {first}", TITLE_MAX_CHARS)
    whole = request.title is None and title == f"❓ {first}" and first == text
    content = " · ".join(request.options) if whole else text
    timeout = request.timeout_seconds or settings.MCP_PUSH_ASK_TIMEOUT
    note = Notification(title=title, content=content, kind="question", urgent=True)
    return Prompt(note, tuple(request.options), timeout)


async def ask(
    config: Config,
    prompt: Prompt,
    *,
    channels: Sequence[str] | None = None,
    source: str = "cli",
    progress: Progress | None = None,
    on_outcome: Callable[[AskResult], None] | None = None,
    fallback: bool = True,
) -> AskResult:
    """Push the question, wait for the first valid answer or the timeout, show the outcome everywhere.

    With no channel that can carry an answer, the question still goes out as text saying to answer
    `prompt.fallback` when `fallback` is set, and the result says so at once (`no_reply_channel`).
    Raises only `UsageError` (a channel name the caller got wrong) and cancellation."""
    if config.settings.MCP_PUSH_SERVER:  # the hub asks, waits and keeps the record
        from mcp_push import forward

        result = await forward.ask(config, prompt, channels, fallback)
        return _told(config, result, on_outcome)
    return await _ask(config, prompt, channels, source, progress, on_outcome, fallback)


def _told(config: Config, result: AskResult, on_outcome: Callable[[AskResult], None] | None) -> AskResult:
    """Tell the caller (at once) and the watchers (metrics) the outcome."""
    if on_outcome is not None:
        on_outcome(result)
    for watcher in config.watchers:
        try:
            watcher.answered(result)
        except Exception as exc:  # noqa: BLE001 - an observer must never cost the answer
            log.warning("a question watcher failed: %s", exc)
    return result


async def _ask(
    config: Config,
    prompt: Prompt,
    channels: Sequence[str] | None,
    source: str,
    progress: Progress | None,
    on_outcome: Callable[[AskResult], None] | None,
    fallback: bool,
) -> AskResult:
    started = time.monotonic()
    until = started + prompt.timeout
    targets, _ = select(config, channels or routing.routed(config.settings, prompt.note, config.channels))
    store, settings = config.store, config.settings
    key = await asyncio.to_thread(answers.load_key, settings.state_dir)
    qid, expires = answers.new_id(), time.time() + prompt.timeout
    tokens = tuple(answers.sign(key, qid, i, choice, expires) for i, choice in enumerate(prompt.choices))
    question = Question(qid, prompt.choices, tokens, expires, elsewhere="")
    carriers = [channel for channel in targets if channel.carries(question)]
    linked = settings.MCP_PUSH_PUBLIC_URL  # a hub answers links: every channel carries the question then
    ways = [channel.label for channel in carriers] + (["a link"] if linked else [])
    where = " or ".join(ways) if ways else prompt.fallback
    if linked:
        links = "\n".join(f"{c}: {linked}{ANSWER_PATH}{t}" for c, t in zip(prompt.choices, tokens, strict=True))
        intro = f"Answer in {' or '.join(ways[:-1])}, or open a link" if carriers else "Answer by opening a link"
        question = dataclasses.replace(question, elsewhere=f"{intro}:\n{links}")
    elif carriers:
        question = dataclasses.replace(question, elsewhere=f"Answer in {where}: {' / '.join(prompt.choices)}.")
    else:
        question = dataclasses.replace(question, elsewhere=f"Answer {prompt.fallback}.")
        if not fallback or not targets:
            return _told(config, _unanswerable(started, [], {}), on_outcome)

    # The question is on record before any button exists, so whoever reads an answer can check it.
    nid = await store.run(store.add, prompt.note, source)
    origins = {channel.name: channel.answerer for channel in carriers} | ({LINK: LINK} if linked else {})
    await store.run(store.add_question, qid, nid, expires=expires, choices=list(prompt.choices), origins=origins)
    taken = answers.waiter(qid)
    collector = answers.Collector(store, key)
    problems: dict[str, str] = {}
    since = time.time() - 1  # answer sources are read from here on: nothing pressed after sending is missed
    readers: list[asyncio.Future[None]] = []
    carried: list[tuple[Channel, str]] = []
    try:
        results = await fan_out(config, targets, prompt.note, question=question, budget=prompt.timeout)
        results = [r.model_copy(update={"pending": False}) for r in results]  # a late question is no question
        await record(config, nid, results)
        sent = {r.name: r for r in results}
        carried = [(c, sent[c.name]._ref or "") for c in carriers if sent[c.name].ok]
        if not carried and not (linked and any(r.ok for r in results)):
            await store.run(store.close_question, qid, "undelivered")
            if not carriers and not linked:
                return _told(config, _unanswerable(started, results, problems, nid), on_outcome)
            failed = _result(config, prompt, None, started, results, problems, nid, "not_delivered")
            return _told(config, failed, on_outcome)
        owner = f"{os.getpid()}:{qid}"
        for channel in {c.listener: c for c, _ in carried}.values():  # one reader per source
            reading = answers.listen(channel, collector, since=since, until=until, owner=owner, problems=problems)
            readers.append(asyncio.ensure_future(reading))
        await _tell(progress, 0, prompt.timeout, f"asked on {where}")
        row = await _wait(store, qid, until, taken, readers, _reporter(progress, prompt.timeout, where, started))
    except asyncio.CancelledError:
        row = store.close_question(qid, "cancelled")
        _in_background(_settle(config, prompt, carried, row))
        raise
    finally:
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        answers.forget(qid)
    status = {"answered": None, "expired": "timeout", "cancelled": "cancelled"}.get(row["status"], "no_reply_channel")
    result = _told(config, _result(config, prompt, row, started, results, problems, nid, status), on_outcome)
    await asyncio.gather(_settle(config, prompt, carried, row), collector.drain(SETTLE_S))
    return result


async def _wait(
    store: Store,
    qid: str,
    until: float,
    taken: asyncio.Event,
    readers: list[asyncio.Future[None]],
    report: Callable[[], Awaitable[None]],
) -> dict[str, Any]:
    """The question once it is answered, or closed as expired at `until`."""
    while True:
        taken.clear()
        row = await store.run(store.question, qid)
        if row["status"] != "waiting":
            return row
        now = time.monotonic()
        if now >= until:
            return await store.run(store.close_question, qid, "expired")
        if readers and all(reader.done() for reader in readers):  # no source can be read: nobody can answer
            return await store.run(store.close_question, qid, "unreadable")
        await report()
        try:
            await asyncio.wait_for(taken.wait(), min(LOOK_S, until - now))
        except asyncio.TimeoutError:
            pass


def _reporter(progress: Progress | None, timeout: float, where: str, started: float) -> Callable[[], Awaitable[None]]:
    """A progress step every PROGRESS_S while waiting, when the caller wants them."""
    due = started + PROGRESS_S

    async def report() -> None:
        nonlocal due
        now = time.monotonic()
        if now >= due:
            due = now + PROGRESS_S
            await _tell(progress, now - started, timeout, f"waiting for an answer on {where}")

    return report


async def _tell(progress: Progress | None, done: float, total: float, message: str) -> None:
    if progress is not None:
        try:
            await progress(done, total, message)
        except Exception as exc:  # noqa: BLE001 - a progress report must never cost the answer
            log.debug("progress report failed: %s", exc)


def _label(config: Config, name: str | None) -> str:
    if name == LINK:
        return "a link"
    channel = config.channels.get(name or "")
    return channel.label if channel is not None else (name or "?")


def _result(
    config: Config,
    prompt: Prompt,
    row: dict[str, Any] | None,
    started: float,
    results: list[ChannelResult],
    problems: dict[str, str],
    nid: int | None,
    reason: str | None,
) -> AskResult:
    elapsed = round(time.monotonic() - started, 1)
    common = {"id": nid, "problems": problems or None, "results": results}
    if row is not None and row["status"] == "answered":
        answered = row["elapsed_s"] if row["elapsed_s"] is not None else elapsed
        summary = f"Answered “{row['answer']}” from {_label(config, row['channel'])} after {answered:g} s."
        return AskResult(
            answered=True, answer=row["answer"], channel=row["channel"], elapsed_s=answered, summary=summary, **common
        )
    if reason == "timeout":
        summary = f"No answer within {prompt.timeout:g} s."
    elif reason == "cancelled":
        summary = "Withdrawn before an answer came."
    elif reason == "not_delivered":
        failed = "; ".join(f"{r.name} ({r.error})" for r in results if not r.ok)
        summary = f"The question reached no channel that can carry an answer: {failed}."
    else:
        summary = "No channel could read answers: " + "; ".join(f"{n} ({p})" for n, p in problems.items()) + "."
    return AskResult(answered=False, reason=reason, elapsed_s=elapsed, summary=redact(summary), **common)


def _unanswerable(
    started: float, results: list[ChannelResult], problems: dict[str, str], nid: int | None = None
) -> AskResult:
    from channels import REGISTRY, load

    able = " or ".join(cls.label for cls in map(load, REGISTRY) if cls.can_answer())
    summary = f"No configured channel can carry an answer back ({able} can); ask in the conversation instead."
    if results:
        summary += f" The question went to {', '.join(r.name for r in results if r.ok) or 'no channel'} as text."
    return AskResult(
        answered=False,
        reason="no_reply_channel",
        elapsed_s=round(time.monotonic() - started, 1),
        summary=summary,
        id=nid,
        problems=problems or None,
        results=results,
    )


async def _settle(config: Config, prompt: Prompt, carried: list[tuple[Channel, str]], row: dict[str, Any]) -> None:
    """Show the outcome on every message that carried the question, buttons gone; bounded by SETTLE_S."""
    from channels.limits import fit

    if not carried:
        return
    if row["status"] == "answered":
        when = time.strftime("%H:%M", time.localtime(row["answered"]))
        text = f"{prompt.verdict(row['answer_index'])} from {_label(config, row['channel'])} at {when}"
    elif row["status"] == "cancelled":
        text = "✖ Withdrawn: nothing waits for this answer any more"
    else:
        text = prompt.expired
    shown = prompt.note.model_copy(update={"content": f"{text}\n\n{prompt.note.content}"})

    async def one(channel: Channel, ref: str) -> None:
        try:
            await asyncio.wait_for(channel.settle(fit(shown, channel.limits, "truncate")[0], ref), SETTLE_S)
        except Exception as exc:  # noqa: BLE001 - the answer stands; only its display is stale
            log.info("%s: could not show the outcome: %s", channel.name, redact(f"{type(exc).__name__}: {exc}"))

    await asyncio.gather(*(one(channel, ref) for channel, ref in carried))


_background: set[asyncio.Future[None]] = set()


def _in_background(work: Awaitable[None]) -> None:
    """Run cleanup that must outlive a cancelled caller (a withdrawn question's messages), held so that
    the event loop does not drop it."""
    task = asyncio.ensure_future(work)
    _background.add(task)
    task.add_done_callback(_background.discard)


async def finish_background(timeout: float = SETTLE_S) -> None:
    """Give cleanup still running (a withdrawn question's messages) until `timeout` before the server's
    HTTP clients close under it, as the server exits."""
    if _background:
        await asyncio.wait(set(_background), timeout=timeout)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# ---- approvals: an agent's permission prompt, answered from the phone ---------------------------------

ALLOW, DENY = "Allow", "Deny"
# What the agent wants to do, in the order a person reads it; other fields follow.
DETAIL_KEYS = ("command", "description", "file_path", "path", "url", "pattern", "query", "prompt")
DETAIL_CHARS = {"command": 1000}
DETAIL_MAX_LINES = 8


def approval(
    settings: Settings, *, agent: str, project: str, tool: str, tool_input: Any, context: Sequence[str] = ()
) -> Prompt:
    """The push for a permission prompt: e.g. `🔐 acme-api: Claude wants to run Bash`, then what it wants
    to do, long values cut and every secret mcp-push knows masked, then `context` (project, session)."""
    verb = "run" if tool == "Bash" else "use"
    title = _cut(printable(f"🔐 {project}: {agent} wants to {verb} {tool or 'a tool'}"), TITLE_MAX_CHARS)
    lines = details(tool_input) or [f"{agent} asks for permission to use {tool or 'a tool'}."]
    content = redact("\n".join(lines) + ("\n\n" + "\n".join(printable(c) for c in context) if context else ""))
    deny = settings.MCP_PUSH_ASK_DEFAULT == "deny"
    expired = "denied (MCP_PUSH_ASK_DEFAULT=deny)" if deny else "answer in the terminal"
    return Prompt(
        Notification(title=title, content=content, kind="permission", project=project, urgent=True),
        (ALLOW, DENY),
        settings.MCP_PUSH_ASK_TIMEOUT,
        verdicts=("✅ Allowed", "🚫 Denied"),
        expired=f"⌛ Expired: {expired}",
        fallback="in the terminal",
    )


def details(tool_input: Any) -> list[str]:
    if not isinstance(tool_input, dict):
        return []
    keys = [k for k in DETAIL_KEYS if k in tool_input] + [k for k in tool_input if k not in DETAIL_KEYS]
    lines = []
    for name in keys[:DETAIL_MAX_LINES]:
        value = tool_input[name]
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
        text = printable(text).strip()
        if text:
            lines.append(f"{_cut(printable(str(name)), 40)}: {_cut(text, DETAIL_CHARS.get(name, 300))}")
    return lines


def decision(result: AskResult, config: Config) -> dict[str, Any] | None:
    """The permission decision, in the shape Claude Code's and Codex's PermissionRequest hooks share, or
    None to leave the choice to the agent's own prompt."""
    if result.answered:
        if result.answer == ALLOW:
            return {"behavior": "allow"}
        return {"behavior": "deny", "message": f"Denied from {_label(config, result.channel)}"}
    if result.reason == "timeout" and config.settings.MCP_PUSH_ASK_DEFAULT == "deny":
        wait = config.settings.MCP_PUSH_ASK_TIMEOUT
        return {"behavior": "deny", "message": f"No answer within {wait:g} s; denied by MCP_PUSH_ASK_DEFAULT=deny"}
    return None
