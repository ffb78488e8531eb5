"""The answer collector: signed answer tokens, and one reader per answer source for the whole machine.

Each choice of a question goes out as a token `<question id>.<choice>.<mac>`: the mac is HMAC-SHA256, cut
to 128 bits, over the question id, the choice's number and text and the question's expiry, keyed with a
per-install key kept 0600 in the state directory. A token fits Telegram's 64-byte `callback_data` and
may pass through places others can read (an ntfy topic), so it proves only what the key signed. Single
use comes from the store: the first valid answer closes the question, for every process at once.

A bot allows one `getUpdates` at a time (409 Conflict otherwise), so the processes of a machine take
turns. The one holding a source's lease in the store polls it and records every answer it reads,
whichever process asked; the others read their answer from the store. The lease is renewed each round
and released when its holder stops waiting, so the next process takes over within a quarter of a second,
from the stored cursor: nothing is lost, since a bot keeps unconfirmed updates and ntfy serves messages
since an id. Every inbound answer is hostile until proven otherwise: a malformed, forged, replayed,
expired or foreign-chat answer is logged (its token cut short) and ignored, and never ends a wait.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import os
import re
import secrets
import time
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcp_push.redact import redact

if TYPE_CHECKING:
    from channels.base import Channel, Reply
    from mcp_push.store import Store

log = logging.getLogger("mcp_push.answers")

KEY_FILE = "answer.key"
ROUND = 10.0  # seconds one long poll may wait; the lease outlives it by the request timeout and a margin
TAKEOVER = 0.25  # how often a process that does not hold a source's lease asks for it
TOKEN = re.compile(r"([A-Za-z0-9_-]{16})\.([0-9])\.([A-Za-z0-9_-]{22})")

# Set when this process takes an answer, so a waiter here need not wait for its next look at the store.
_taken: dict[str, asyncio.Event] = {}


def load_key(state_dir: Path) -> bytes:
    """The install's signing key, created on first use; concurrent first uses agree on one key."""
    path = state_dir / KEY_FILE
    for _ in range(50):
        try:
            key = path.read_bytes()
        except FileNotFoundError:
            key = b""
        if len(key) == 32:
            return key
        if not path.exists():
            state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            draft = state_dir / f".{KEY_FILE}.{secrets.token_hex(8)}"
            fd = os.open(draft, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(secrets.token_bytes(32))
            try:
                os.link(draft, path)  # complete or absent, never half-written, and never replaced
            except FileExistsError:
                pass
            finally:
                draft.unlink()
            continue
        time.sleep(0.01)  # a key of the wrong size: a broken file, or one this instant is still writing
    raise RuntimeError(f"{path} is not a 32-byte key; delete it and a new one is made")


def new_id() -> str:
    return secrets.token_urlsafe(12)  # 16 characters


def _mac(key: bytes, qid: str, index: int, choice: str, expires: float) -> str:
    message = f"mcp-push answer v1\n{qid}\n{index}\n{choice}\n{int(expires)}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign(key: bytes, qid: str, index: int, choice: str, expires: float) -> str:
    return f"{qid}.{index}.{_mac(key, qid, index, choice, expires)}"


def short(token: str) -> str:
    """What a log line shows of a token: enough to find the question, too little to answer it."""
    return repr(token[:8] + "…") if len(token) > 8 else repr(token)


class Collector:
    """Checks each answer this process reads against the store, takes the first valid one per question,
    and tells the person who pressed the button what became of it."""

    def __init__(self, store: Store, key: bytes) -> None:
        self.store = store
        self.key = key
        self._acks: set[asyncio.Future[None]] = set()

    async def take(self, source: str, reply: Reply) -> None:
        """Judge and record an answer that came by `source` (a channel's name); store work only, so the
        reader stores its cursor right after. The acknowledgement goes out on its own, and outlives the
        reader (`drain`)."""
        _, verdict = await self.judge(source, reply)
        if reply.ack is not None:
            task = asyncio.ensure_future(self._ack(source, reply, verdict))
            self._acks.add(task)
            task.add_done_callback(self._acks.discard)

    async def drain(self, timeout: float) -> None:
        """Let the acknowledgements still on their way arrive, for at most `timeout` seconds."""
        if self._acks:
            await asyncio.wait(set(self._acks), timeout=timeout)

    @staticmethod
    async def _ack(source: str, reply: Reply, verdict: str) -> None:
        try:
            await reply.ack(verdict)  # type: ignore[misc]
        except Exception as exc:  # noqa: BLE001 - the answer is recorded; the toast is a courtesy
            log.info("%s: could not acknowledge an answer: %s", source, redact(f"{type(exc).__name__}: {exc}"))

    async def peek(self, token: str) -> tuple[dict[str, Any], int] | None:
        """The question a well-signed token belongs to and its choice, changing nothing (an answer page's
        GET, which chat apps and mail scanners fetch on their own)."""
        found = TOKEN.fullmatch(token)
        row = await self.store.run(self.store.question, found.group(1)) if found else None
        if found is None or row is None:
            return None
        index = int(found.group(2))
        if index >= len(row["choices"]):
            return None
        expected = _mac(self.key, row["id"], index, row["choices"][index], row["expires"])
        return (row, index) if hmac.compare_digest(found.group(3), expected) else None

    async def judge(self, source: str, reply: Reply) -> tuple[bool, str]:
        """Whether the answer was taken, and a line for the person who gave it."""

        def ignored(why: str, level: int = logging.WARNING) -> None:
            who, token = reply.sender, short(reply.token)
            log.log(level, "%s: ignored an answer from %s (token %s): %s", source, who, token, why)

        found = TOKEN.fullmatch(reply.token.strip()) if isinstance(reply.token, str) else None
        if found is None:
            ignored("not an answer token mcp-push sent")
            return False, "Not accepted: this is not an answer mcp-push sent"
        qid, index, mac = found.group(1), int(found.group(2)), found.group(3)
        row = await self.store.run(self.store.question, qid)
        if row is None:
            ignored("no such question on this machine")
            return False, "Not accepted: unknown question"
        choices = row["choices"]
        signed = index < len(choices) and hmac.compare_digest(
            mac, _mac(self.key, qid, index, choices[index], row["expires"])
        )
        if not signed:
            ignored("the signature does not match (forged or tampered)")
            return False, "Not accepted: the answer's signature does not match"
        expected = row["origins"].get(source)
        if expected is None or expected not in reply.origins:
            ignored("it did not come from the configured chat")
            return False, "Not accepted: answers are taken only from the configured chat"
        if await self.store.run(self.store.answer, qid, index, channel=source, sender=reply.sender):
            log.info("%s: question %s answered %r by %s", source, qid[:8], choices[index], reply.sender)
            event = _taken.get(qid)
            if event is not None:
                event.set()
            return True, f"✅ {choices[index]}"
        row = await self.store.run(self.store.question, qid) or row
        if row["status"] == "answered":
            # The same press read twice (a poller took over before storing its cursor) is routine; another
            # answer after the first is a replay or a late second thought.
            same = row["answer_index"] == index and row["channel"] == source
            ignored("the question was already answered", logging.INFO if same else logging.WARNING)
            return False, f"Already answered: {row['answer']}"
        ignored(f"the question is {row['status'] if row['status'] != 'waiting' else 'expired'}")
        return False, "Not accepted: this question has expired"


def waiter(qid: str) -> asyncio.Event:
    return _taken.setdefault(qid, asyncio.Event())


def forget(qid: str) -> None:
    _taken.pop(qid, None)


async def listen(
    channel: Channel, collector: Collector, *, since: float, until: float, owner: str, problems: dict[str, str]
) -> None:
    """Read `channel`'s answer source until the monotonic time `until` (or cancellation) whenever this
    process holds its lease; a source that cannot be read at all is put in `problems`."""
    from channels.base import ChannelError, Transient

    store = collector.store
    key = channel.listener
    lease_s = ROUND + channel.policy.timeout + 5
    try:
        while (left := until - time.monotonic()) > 0:
            holding, cursor = await store.run(store.lease, key, owner, lease_s)
            if not holding:
                await asyncio.sleep(min(TAKEOVER, left))
                continue
            try:
                replies, after = await channel.replies(cursor, since, max(min(ROUND, left), 1.0))
            except Transient as exc:
                log.info("%s: reading answers: %s; trying again", channel.name, redact(str(exc)))
                await asyncio.sleep(min(1.0, left))
                continue
            except ChannelError as exc:
                problems[channel.name] = redact(str(exc))
                log.warning("%s: cannot read answers: %s", channel.name, problems[channel.name])
                return
            except Exception as exc:  # the network, as `classify` sees it: keep trying until the question ends
                if channel.classify(exc) is None:
                    raise
                log.info("%s: reading answers: %s; trying again", channel.name, redact(f"{type(exc).__name__}: {exc}"))
                await asyncio.sleep(min(1.0, left))
                continue
            for reply in replies:
                await collector.take(channel.name, reply)
            if after != cursor:
                await store.run(store.advance, key, owner, after)
    except Exception as exc:  # a bug: nobody can answer through this source now, so say so
        problems[channel.name] = f"reading answers failed inside mcp-push ({type(exc).__name__}); see its log"
        log.error("%s: reading answers failed", channel.name, exc_info=exc)
    finally:
        with suppress(Exception):  # the next process takes over now rather than when the lease runs out
            await store.run(store.release, key, owner)
