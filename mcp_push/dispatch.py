"""Fan one notification out to the chosen channels at once and gather one result per channel.

The server, the CLI and the hooks all call `dispatch`; nothing here knows any particular service.
A channel that raises, hangs or answers a business failure becomes a failed result; the dispatcher
itself only raises `UsageError`, for a channel name the caller got wrong.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

from mcp_push import redact
from mcp_push.config import Config
from mcp_push.models import ChannelResult, DeliveryReport, Notification

log = logging.getLogger("mcp_push")

HITOKOTO_URL = "https://v1.hitokoto.cn/"
SETUP_HINT = (
    "No push channel is configured, so it was saved only to the local inbox ({path}). "
    "To get pushes, set a channel's env vars (e.g. NTFY_TOPIC, or TG_BOT_TOKEN and TG_USER_ID) in the "
    "environment or in config.env; `mcp-push channels` lists every channel and its variables."
)


class UsageError(ValueError):
    """The caller asked for something that cannot be done as asked (an unknown channel name...)."""


def select(config: Config, names: Sequence[str] | None) -> list:
    """The channels to send to: all configured ones, or exactly the named ones."""
    if not names:
        return list(config.channels.values())
    from channels import BUILTIN, REGISTRY

    chosen = []
    for name in dict.fromkeys(n.strip().lower() for n in names):
        if name == "inbox":
            chosen.append(config.inbox)
        elif name in config.channels:
            chosen.append(config.channels[name])
        elif name in config.problems:
            raise UsageError(f"channel '{name}' is misconfigured: {config.problems[name]}")
        elif name in REGISTRY:
            needs = " and ".join(REGISTRY[name])
            raise UsageError(f"channel '{name}' is not configured: set {needs}")
        else:
            known = ", ".join([*REGISTRY, *BUILTIN])
            raise UsageError(f"unknown channel '{name}'; known channels: {known}")
    return chosen


async def dispatch(config: Config, note: Notification, channels: Sequence[str] | None = None) -> DeliveryReport:
    if note.title in config.settings.skip_titles:
        return DeliveryReport(status="skipped", summary="Not sent: the title is listed in SKIP_PUSH_TITLE.")
    targets = select(config, channels)
    reason = config.guards.admit(note)
    if reason:
        log.info("%s", reason)
        return DeliveryReport(status="skipped", summary=reason)
    fallback = not targets
    if fallback:
        targets = [config.inbox]
    if config.settings.HITOKOTO and not fallback:
        note = await _with_hitokoto(note, config.settings.MCP_PUSH_TIMEOUT)

    budget = config.settings.MCP_PUSH_DEADLINE
    started = time.perf_counter()
    deadline = time.monotonic() + budget
    tasks = {asyncio.ensure_future(channel.send(note, deadline)): channel for channel in targets}
    # Channels stop themselves at the deadline with a specific error; this is only the backstop.
    done, pending = await asyncio.wait(tasks, timeout=budget + 0.5)
    for task in pending:
        task.cancel()
    elapsed = round((time.perf_counter() - started) * 1000)
    results = []
    for task, channel in tasks.items():
        if task in done:
            results.append(task.result())
        else:
            error = f"overall deadline of {budget:g} s passed"
            results.append(ChannelResult(name=channel.name, ok=False, status="failed", error=error, elapsed_ms=elapsed))
    if not channels:
        results += [
            ChannelResult(name=n, ok=False, status="failed", error=f"misconfigured: {p}", elapsed_ms=0)
            for n, p in config.problems.items()
        ]
    return _report(results, fallback=fallback and not config.problems, inbox_path=str(config.inbox_path))


def _report(results: list[ChannelResult], *, fallback: bool, inbox_path: str) -> DeliveryReport:
    ok = [r.name for r in results if r.ok]
    failed = [r for r in results if not r.ok]
    if fallback and ok:
        return DeliveryReport(status="no_channels", summary=SETUP_HINT.format(path=inbox_path), results=results)
    if not failed:
        status, summary = "delivered", f"Delivered to {len(ok)} of {len(results)} channel(s): {', '.join(ok)}."
    else:
        reasons = "; ".join(f"{r.name} ({r.error})" for r in failed)
        if ok:
            status, summary = "partial", f"Delivered to {len(ok)} of {len(results)} channel(s); failed: {reasons}."
        else:
            status, summary = "failed", f"Not delivered; every channel failed: {reasons}."
    return DeliveryReport(status=status, summary=redact.redact(summary), results=results)


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
