"""Fan one notification out to the chosen channels at once and gather one result per channel.

The server, the CLI and the hooks all call `dispatch`; nothing here knows any particular service.
A channel that raises, hangs or answers a business failure becomes a failed result; the dispatcher
itself only raises `UsageError`, for a channel name the caller got wrong. Every notification and
outcome goes to the local history, where a delivery that failed for a passing reason stays pending
until `redeliver` gets it through.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from channels import INBOX, REGISTRY
from mcp_push import redact, routing
from mcp_push.config import Config
from mcp_push.models import ChannelResult, DeliveryReport, Notification, Question

if TYPE_CHECKING:
    from channels.base import Channel
    from mcp_push.store import Claim

log = logging.getLogger("mcp_push")

HITOKOTO_URL = "https://v1.hitokoto.cn/"
SETUP_HINT = (
    "No push channel is configured, so it was saved only to the local inbox (`mcp-push inbox`). "
    "To get pushes, set a channel's env vars (e.g. NTFY_TOPIC, or TG_BOT_TOKEN and TG_USER_ID) in the "
    "environment or in config.env; `mcp-push channels` lists every channel and its variables."
)
PRUNE_EVERY = 200  # notifications between two retention passes

Progress = Callable[[int, int, ChannelResult], Awaitable[None]]


class UsageError(ValueError):
    """The caller asked for something that cannot be done as asked (an unknown channel name...)."""


def select(config: Config, names: Sequence[str] | None) -> tuple[list[Channel], bool]:
    """The channels to send to (all configured ones, or exactly the named ones), and whether the
    local inbox was named too."""
    if not names:
        return list(config.channels.values()), False
    chosen, inbox = [], False
    for name in dict.fromkeys(n.strip().lower() for n in names):
        if name == INBOX:
            inbox = True
        elif name in config.channels:
            chosen.append(config.channels[name])
        elif parts := [c for n, c in config.channels.items() if n.startswith(f"{name}:")]:
            chosen += parts  # a channel that stands for several targets (apprise:discord, apprise:mailto)
        elif name in config.problems:
            raise UsageError(f"channel '{name}' is misconfigured: {config.problems[name]}")
        elif name in REGISTRY:
            from channels import load

            fields = load(name).Settings.model_fields
            required = [var for var, field in fields.items() if field.is_required()]
            needs = " and ".join(required) if required else " or ".join(REGISTRY[name])  # one of several ways in
            raise UsageError(f"channel '{name}' is not configured: set {needs}")
        else:
            raise UsageError(f"unknown channel '{name}'; known channels: {', '.join([*REGISTRY, INBOX])}")
    return chosen, inbox


async def dispatch(
    config: Config,
    note: Notification,
    channels: Sequence[str] | None = None,
    *,
    source: str = "cli",
    progress: Progress | None = None,
    held_check: bool = True,
) -> DeliveryReport:
    settings = config.settings
    if note.title in settings.skip_titles:
        return DeliveryReport(status="skipped", summary="Not sent: the title is listed in SKIP_PUSH_TITLE.")
    if settings.MCP_PUSH_SERVER:  # the hub owns the channels, the guards and the history
        from mcp_push import forward

        return _told(config, await forward.deliver(config, note, channels, source))
    targets, inbox = select(config, channels or routing.routed(settings, note, config.channels))
    reason = config.guards.admit(note)
    if reason:
        log.info("%s", reason)
        return DeliveryReport(status="skipped", summary=reason)
    if held_check and settings.MCP_PUSH_QUIET_HOURS:
        quiet = routing.quiet_now(settings)
        if quiet is not None and not note.urgent:
            return _told(config, await _hold(config, note, source, quiet))
        await routing.send_digest(config)  # quiet hours are over: what they held goes out first
    fallback = not targets and not inbox
    inbox = inbox or fallback
    if settings.HITOKOTO and targets:
        note = await _with_hitokoto(note, settings.MCP_PUSH_TIMEOUT)

    # The inbox *is* the history store, so an inbox-bound notification is stored even with history off.
    # The record is written while the channels send, not before: no push waits for the disk.
    stored = (
        asyncio.ensure_future(config.store.run(config.store.add, note, source))
        if settings.MCP_PUSH_HISTORY or inbox
        else None
    )
    results = await fan_out(config, targets, note, progress)
    nid, store_error = None, None
    if stored is not None:
        try:
            nid = await stored
        except Exception as exc:  # noqa: BLE001 - a broken store must not hide the pushes' results
            store_error = f"local history unavailable: {exc}"
            log.warning("%s", store_error)
    if inbox:
        results.append(
            ChannelResult(
                name=INBOX, ok=nid is not None, status="delivered" if nid else "failed", error=store_error, elapsed_ms=0
            )
        )
    if not channels:
        results += [
            ChannelResult(name=n, ok=False, status="failed", error=f"misconfigured: {p}", elapsed_ms=0)
            for n, p in config.problems.items()
        ]
    if nid is None or not settings.MCP_PUSH_HISTORY:
        results = [r.model_copy(update={"pending": False}) for r in results]
    if nid is not None:
        await record(config, nid, results)
    return _told(config, _report(results, fallback=fallback and not config.problems, nid=nid))


async def _hold(config: Config, note: Notification, source: str, quiet: routing.QuietHours) -> DeliveryReport:
    nid = await config.store.run(config.store.add, note, source)
    await config.store.run(config.store.hold, nid)
    summary = f"Held: quiet hours ({quiet}); it comes in one digest when they end at {quiet.end:%H:%M}."
    return DeliveryReport(status="held", summary=summary, id=nid)


def _told(config: Config, report: DeliveryReport) -> DeliveryReport:
    for watcher in config.watchers:
        try:
            watcher.delivered(report)
        except Exception as exc:  # noqa: BLE001 - an observer (metrics) must never cost a delivery
            log.warning("a delivery watcher failed: %s", exc)
    return report


async def redeliver(config: Config, claim: Claim, progress: Progress | None = None) -> DeliveryReport:
    """Send a stored notification again, to the channels it still owes, and record the outcome."""
    if config.settings.MCP_PUSH_SERVER:
        from mcp_push import forward

        return _told(config, await forward.redeliver(config, claim))
    targets = [config.channels[name] for name in claim.channels if name in config.channels]
    results = await fan_out(config, targets, claim.note, progress)
    gone = [name for name in claim.channels if name not in config.channels]
    results += [
        ChannelResult(name=n, ok=False, status="failed", error="no longer configured", elapsed_ms=0) for n in gone
    ]
    await record(config, claim.id, results)
    return _told(config, _report(results, fallback=False, nid=claim.id))


async def fan_out(
    config: Config,
    targets: Sequence[Channel],
    note: Notification,
    progress: Progress | None = None,
    *,
    question: Question | None = None,
    budget: float | None = None,
) -> list[ChannelResult]:
    """Send to every target at once (a `question` with buttons where a channel carries it); each stops
    itself at the deadline, `budget` seconds or MCP_PUSH_DEADLINE, and this waits no longer."""
    if not targets:
        return []
    budget = min(budget or config.settings.MCP_PUSH_DEADLINE, config.settings.MCP_PUSH_DEADLINE)
    started = time.perf_counter()
    deadline = time.monotonic() + budget
    done_count = 0

    async def one(channel: Channel) -> ChannelResult:
        nonlocal done_count
        result = await channel.send(note, deadline, question)
        done_count += 1
        if progress is not None:
            try:
                await progress(done_count, len(targets), result)
            except Exception as exc:  # noqa: BLE001 - a progress report must never cost a delivery
                log.debug("progress report failed: %s", exc)
        return result

    tasks = {asyncio.ensure_future(one(channel)): channel for channel in targets}
    done, pending = await asyncio.wait(tasks, timeout=budget + 0.5)  # backstop only
    for task in pending:
        task.cancel()
    elapsed = round((time.perf_counter() - started) * 1000)
    results = []
    for task, channel in tasks.items():
        if task in done:
            results.append(task.result())
        else:
            error = f"overall deadline of {budget:g} s passed"
            results.append(
                ChannelResult(
                    name=channel.name, ok=False, status="failed", error=error, pending=True, elapsed_ms=elapsed
                )
            )
    return results


async def record(config: Config, nid: int, results: list[ChannelResult]) -> None:
    try:
        await config.store.run(config.store.record, nid, results, backoff=config.settings.MCP_PUSH_PENDING_BACKOFF)
        if nid % PRUNE_EVERY == 0:
            await asyncio.to_thread(config.store.prune)
    except Exception as exc:  # noqa: BLE001 - the pushes happened; only their record is lost
        log.warning("could not record delivery results: %s", exc)


def _report(results: list[ChannelResult], *, fallback: bool, nid: int | None) -> DeliveryReport:
    ok = [r.name for r in results if r.ok]
    failed = [r for r in results if not r.ok]
    if fallback and ok:
        return DeliveryReport(status="no_channels", summary=SETUP_HINT, results=results, id=nid)
    if not failed:
        status, summary = "delivered", f"Delivered to {len(ok)} of {len(results)} channel(s): {', '.join(ok)}."
    else:
        reasons = "; ".join(f"{r.name} ({r.error})" for r in failed)
        if ok:
            status, summary = "partial", f"Delivered to {len(ok)} of {len(results)} channel(s); failed: {reasons}."
        else:
            status, summary = "failed", f"Not delivered; every channel failed: {reasons}."
        later = [r.name for r in failed if r.pending]
        if later:
            summary += f" Pending, will be re-sent: {', '.join(later)}."
    return DeliveryReport(status=status, summary=redact.redact(summary), results=results, id=nid)


async def _with_hitokoto(note: Notification, timeout: float) -> Notification:
    """Append a quote, as qinglong does; a slow or broken quote service never holds the message back."""
    from mcp_push import http

    try:
        response = await http.client().get(HITOKOTO_URL, timeout=min(timeout, 3.0))
        body = response.json()
        quote = f"\n\n{body['hitokoto']}    ----{body.get('from', '')}"
    except Exception as exc:  # noqa: BLE001 - decoration only
        log.warning("hitokoto skipped: %s", exc)
        return note
    return note.model_copy(update={"content": note.content + quote})
