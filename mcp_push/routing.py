"""When and where a notification goes: quiet hours, routes, and the digest of what quiet hours held.

- Quiet hours (`MCP_PUSH_QUIET_HOURS=22:00-07:00`, local time or `MCP_PUSH_TZ`): only urgent notifications
  go out then (an error, a permission prompt, a question, anything that needs you); the rest are held in
  the history and summed up in one digest push after quiet hours end, sent by a running server or by the
  next send, whichever comes first (the store hands the held ones to exactly one of them).
- Routes (`MCP_PUSH_ROUTES=error=telegram,pagerduty; end=ntfy; project:acme-*=slack`): a notification of a
  kind (an event kind, or a hook's: attention, permission; or question) or about a project (a glob on its
  directory's name) goes to those channels only; when several rules match, to all of theirs; when none
  does, to every channel. A call that names its own channels is not routed. A routed channel that is not
  configured is left out (and logged), since a route is configuration, not a request.

Standard library only, parsing included, so `Settings` can check both values when the configuration loads.
"""

from __future__ import annotations

import fnmatch
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timezone, tzinfo
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcp_push.config import Config, Settings
    from mcp_push.models import DeliveryReport, Notification

log = logging.getLogger("mcp_push")

CLOCK = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
KINDS = ("start", "update", "end", "error", "attention", "permission", "question")
DIGEST_LINES = 30


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time
    zone: tzinfo | None  # None: this machine's local time

    def covers(self, when: datetime) -> bool:
        now = when.astimezone(self.zone).time()
        if self.start <= self.end:
            return self.start <= now < self.end
        return now >= self.start or now < self.end  # across midnight

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def quiet_hours(text: str, zone_name: str = "") -> QuietHours | None:
    """`22:00-07:00` (empty: none); ValueError with what is wrong."""
    text = text.strip()
    if not text or text.lower() in ("off", "none", "false"):
        return None
    start, sep, end = text.partition("-")
    first, last = CLOCK.fullmatch(start.strip()), CLOCK.fullmatch(end.strip())
    if not sep or not first or not last:
        raise ValueError("must be HH:MM-HH:MM, e.g. 22:00-07:00")
    begin, finish = time(int(first[1]), int(first[2])), time(int(last[1]), int(last[2]))
    if begin == finish:
        raise ValueError("starts and ends at the same time")
    return QuietHours(begin, finish, zone(zone_name))


def zone(name: str) -> tzinfo | None:
    if not name.strip():
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not a time zone this machine knows (e.g. Europe/Berlin)") from None


@dataclass(frozen=True)
class Route:
    kind: str | None  # match the notification's kind, or
    project: str | None  # a glob on its project's name
    channels: tuple[str, ...]


def routes(text: str) -> list[Route]:
    """`error=telegram,pagerduty; end=ntfy; project:acme-*=slack`; ValueError with what is wrong."""
    found = []
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        key, sep, names = part.partition("=")
        key, channels = key.strip(), tuple(n.strip().lower() for n in names.split(",") if n.strip())
        if not sep or not key or not channels:
            raise ValueError(f"{part!r} is not KIND=CHANNEL[,CHANNEL] (e.g. error=telegram)")
        if key.startswith("project:"):
            found.append(Route(None, key.removeprefix("project:").strip() or "*", channels))
        elif key.lower() in KINDS:
            found.append(Route(key.lower(), None, channels))
        else:
            raise ValueError(f"{key!r} is neither a kind ({', '.join(KINDS)}) nor project:GLOB")
    return found


def routed(settings: Settings, note: Notification, configured: Iterable[str]) -> list[str] | None:
    """The channels MCP_PUSH_ROUTES sends `note` to, among the configured ones; None for all of them."""
    rules = routes(settings.MCP_PUSH_ROUTES)
    kind, project = note.kind or note.event, note.project
    matched = [
        r
        for r in rules
        if (r.kind is not None and r.kind == kind)
        or (r.project is not None and project is not None and fnmatch.fnmatchcase(project, r.project))
    ]
    if not matched:
        return None
    names = list(configured)
    chosen = [n for n in dict.fromkeys(c for r in matched for c in r.channels) if n in names or _part_of(n, names)]
    missing = [c for r in matched for c in r.channels if c not in chosen]
    if missing:
        log.info("routes name channels that are not configured: %s", ", ".join(dict.fromkeys(missing)))
    return chosen or None


def _part_of(name: str, configured: list[str]) -> bool:
    return any(n.startswith(f"{name}:") for n in configured)  # apprise -> apprise:discord


def clock() -> datetime:
    """Now, as an aware time (tests set their own)."""
    return datetime.now().astimezone()


def quiet_now(settings: Settings) -> QuietHours | None:
    """The quiet hours if they are on now."""
    hours = quiet_hours(settings.MCP_PUSH_QUIET_HOURS, settings.MCP_PUSH_TZ)
    return hours if hours is not None and hours.covers(clock()) else None


def digest(held: list[dict[str, Any]], where: tzinfo | None = None) -> Notification:
    """One push for everything quiet hours held: how many, and a line each with its time (the latest last)."""
    from mcp_push.models import Notification

    def at(epoch: float) -> str:
        return datetime.fromtimestamp(epoch, timezone.utc).astimezone(where).strftime("%H:%M")

    lines = [f"{at(entry['created'])} {entry['title']}" for entry in held[-DIGEST_LINES:]]
    more = len(held) - len(lines)
    content = ("\n".join(lines) + (f"\n… and {more} earlier" if more else "")).strip()
    title = f"🌙 While it was quiet: {len(held)} notification{'s' if len(held) != 1 else ''}"
    return Notification.model_construct(title=title, content=content or title, kind="digest", urgent=False)


async def send_digest(config: Config) -> DeliveryReport | None:
    """The digest of what quiet hours held, once they are over and if anything was held; the store gives
    the held ones to one caller only, so a server and a CLI send never both send it."""
    from mcp_push.dispatch import dispatch

    if not config.settings.MCP_PUSH_QUIET_HOURS or quiet_now(config.settings) is not None:
        return None
    held = await config.store.run(config.store.take_held)
    if not held:
        return None
    note = digest(held, zone(config.settings.MCP_PUSH_TZ))
    report = await dispatch(config, note, source="digest", held_check=False)
    log.info("digest of %d held notification(s): %s", len(held), report.summary)
    return report
