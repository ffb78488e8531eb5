"""How services count message size and how fast they accept messages, and fitting text to those rules.

Services count differently: WeCom counts UTF-8 bytes (1,800 Chinese characters are 5,400 bytes, far
over its 2,048), Telegram counts UTF-16 code units (an emoji is two), most others count characters.
A limit says which, so a cut is measured the service's way and always lands on a character boundary.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from mcp_push.models import Notification

Unit = Literal["chars", "bytes", "utf16"]
MARKER = "\n…[truncated]"


@dataclass(frozen=True)
class Size:
    limit: int
    unit: Unit = "chars"

    def measure(self, text: str) -> int:
        if self.unit == "bytes":
            return len(text.encode("utf-8"))
        if self.unit == "utf16":
            return len(text.encode("utf-16-le")) // 2
        return len(text)

    def cut(self, text: str, room: int) -> str:
        """The longest prefix of `text` that measures at most `room`."""
        if self.measure(text) <= room:
            return text
        if self.unit == "chars":
            return text[: max(room, 0)]
        low, high = 0, len(text)  # binary search on characters keeps multi-byte characters whole
        while low < high:
            mid = (low + high + 1) // 2
            if self.measure(text[:mid]) <= room:
                low = mid
            else:
                high = mid - 1
        return text[:low]


@dataclass(frozen=True)
class Limits:
    """A channel's size rules. `joined`: the service gets `title\\n\\ncontent` as one text, so the content
    limit covers the title too."""

    title: Size | None = None
    content: Size | None = None
    joined: bool = False


def fit(note: Notification, limits: Limits, overflow: Literal["truncate", "split"]) -> list[Notification]:
    """The notification as one message that fits (truncated with a visible marker) or as numbered parts."""
    title = note.title
    if limits.title and limits.title.measure(title) > limits.title.limit:
        title = limits.title.cut(title, limits.title.limit - 1) + "…"
    size = limits.content
    if size is None:
        return [note if title == note.title else note.model_copy(update={"title": title})]

    def room(for_title: str) -> int:
        return size.limit - (size.measure(f"{for_title}\n\n") if limits.joined else 0)

    if size.measure(note.content) <= room(title):
        return [note.model_copy(update={"title": title})]
    if overflow == "truncate":
        kept = size.cut(note.content, room(title) - size.measure(MARKER))
        return [note.model_copy(update={"title": title, "content": kept + MARKER})]
    return _split(note, title, size, room)


def _split(note: Notification, title: str, size: Size, room: Callable[[str], int]) -> list[Notification]:
    # Titles grow by " (k/n)"; reserve for the widest suffix so every part fits.
    estimate = 2
    while True:
        suffix = f" ({estimate}/{estimate})"
        budget = room(title + suffix)
        if budget <= 0:
            raise ValueError("the title alone does not fit the service's size limit")
        chunks = _chunks(note.content, size, budget)
        if len(str(len(chunks))) <= len(str(estimate)):
            break
        estimate = len(chunks)
    total = len(chunks)
    return [
        note.model_copy(update={"title": f"{title} ({i}/{total})", "content": chunk})
        for i, chunk in enumerate(chunks, 1)
    ]


def _chunks(text: str, size: Size, budget: int) -> list[str]:
    """Cut into pieces within budget, preferring a line break in the last fifth of a piece."""
    chunks = []
    while text:
        piece = size.cut(text, budget)
        if len(piece) < len(text):
            newline = piece.rfind("\n")
            if newline > len(piece) * 4 // 5:
                piece = piece[: newline + 1]
        chunks.append(piece)
        text = text[len(piece) :]
    return chunks


@dataclass(frozen=True)
class Rate:
    """At most `count` messages per `per` seconds, as the service documents it."""

    count: int
    per: float


class RateLimited(Exception):
    """The next free slot lies past the deadline; sending now would get the bot throttled or banned."""


@dataclass
class Limiter:
    """Sliding-window limiter over scheduled send times. A reservation is made before any await, so
    concurrent sends of one channel queue up instead of racing past the limit."""

    rates: tuple[Rate, ...]
    _times: dict[Rate, deque[float]] = field(default_factory=dict)

    async def wait(self, deadline: float) -> None:
        now = time.monotonic()
        start = now
        for rate in self.rates:
            times = self._times.setdefault(rate, deque(maxlen=rate.count))
            if len(times) == rate.count:
                start = max(start, times[0] + rate.per)
        if start > deadline:
            slowest = max(self.rates, key=lambda r: r.per / r.count)
            raise RateLimited(
                f"rate limit: the service allows {slowest.count} message(s) per {slowest.per:g} s; "
                f"the next slot is in {start - now:.0f} s, after the deadline"
            )
        for rate in self.rates:
            self._times[rate].append(start)
        if start > now:
            await asyncio.sleep(start - now)
