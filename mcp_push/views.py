"""`inbox`, `history` and `stats`: the local store as text that fits an 80-column terminal, or as JSON.

Widths are display columns, not characters: a CJK character or an emoji takes two, so titles in Chinese
line up as well as English ones. The JSON forms are the store's rows with sorted keys: stable to parse.
"""

from __future__ import annotations

import argparse
import unicodedata
from typing import Any

from mcp_push.config import Config
from mcp_push.store import INBOX, dumps

WIDTH = 80
INDENT = " " * 8  # under the title, past the id (clip folds white space, so it goes outside)


def columns(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 0 if unicodedata.combining(ch) else 1 for ch in text)


def clip(text: str, width: int) -> str:
    """One line of at most `width` columns, with … when cut, padded to exactly `width`."""
    text = " ".join(text.split())
    if columns(text) > width:
        out, used = "", 0
        for ch in text:
            w = columns(ch)
            if used + w > width - 1:
                break
            out, used = out + ch, used + w
        text = out + "…"
    return text + " " * (width - columns(text))


def marks(entry: dict[str, Any]) -> str:
    """Each channel with its attempts in order (✓ delivered, ✗ failed), ⟳ while a re-send is pending."""
    by_channel: dict[str, str] = {}
    for attempt in entry["attempts"]:
        by_channel[attempt["channel"]] = by_channel.get(attempt["channel"], "") + ("✓" if attempt["ok"] else "✗")
    return " ".join(f"{name}{ticks}{'⟳' if name in entry['pending'] else ''}" for name, ticks in by_channel.items())


OUTCOMES = {
    "waiting": "waiting for an answer",
    "expired": "no answer in time",
    "cancelled": "withdrawn",
    "undelivered": "not delivered",
    "unreadable": "answers could not be read",
}


def outcome(question: dict[str, Any]) -> str:
    """A question's line: its choices and what became of it (the audit trail of remote approvals)."""
    choices = " / ".join(question["choices"])
    if question["status"] == "answered":
        return (
            f"❓ {choices} → “{question['answer']}” via {question['channel']} after {question['elapsed_s']:g} s"
            f" ({question['sender']})"
        )
    return f"❓ {choices} → {OUTCOMES.get(question['status'], question['status'])}"


def history(config: Config, args: argparse.Namespace) -> int:
    entries = config.store.history(limit=args.limit, failed=args.failed, run_id=args.run)
    if args.json:
        print(dumps(entries))
        return 0
    if not entries:
        print("No notifications recorded yet." if not (args.failed or args.run) else "Nothing matches.")
        return 0
    print(clip("    ID  TIME (UTC)   TITLE", WIDTH).rstrip())
    for entry in entries:
        when = entry["time"][5:16].replace("T", " ")
        print(f"{entry['id']:>6}  {when}  {clip(entry['title'], WIDTH - 21).rstrip()}")
        print(INDENT + clip(marks(entry), WIDTH - len(INDENT)).rstrip())
        if entry.get("question"):
            print(INDENT + clip(outcome(entry["question"]), WIDTH - len(INDENT)).rstrip())
        latest = {a["channel"]: a for a in entry["attempts"]}
        for attempt in latest.values():
            if not attempt["ok"] and attempt["error"]:
                print(INDENT + clip(f"✗ {attempt['channel']}: {attempt['error']}", WIDTH - len(INDENT)).rstrip())
    return 0


def stats(config: Config, args: argparse.Namespace) -> int:
    rows = config.store.stats(since_s=args.days * 86400)
    if args.json:
        print(dumps(rows))
        return 0
    if not rows:
        print(f"No deliveries in the last {args.days:g} days.")
        return 0
    print(f"Deliveries in the last {args.days:g} days")
    print(f"{'CHANNEL':<16}{'SENT':>8}{'FAILED':>8}{'SUCCESS':>10}{'P50 MS':>10}{'P95 MS':>10}")
    for row in rows:
        print(
            f"{row['channel'][:16]:<16}{row['sent']:>8}{row['failed']:>8}{row['success_rate']:>10.1%}"
            f"{row['p50_ms']:>10}{row['p95_ms']:>10}"
        )
    return 0


def inbox(config: Config, args: argparse.Namespace) -> int:
    entries = config.store.history(limit=args.limit, channel=INBOX)
    if args.json:
        print(dumps(entries))
        return 0
    if not entries:
        print(f"The local inbox is empty ({config.store.path}).")
    for entry in reversed(entries):
        print(f"[{entry['time']}] #{entry['id']} {entry['title']}\n{entry['content']}\n")
    return 0
