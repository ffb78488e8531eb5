"""The durable record: every notification, every channel's outcome, and what is still owed.

SQLite in WAL mode with a busy timeout, so a running server, CLI sends and hooks can write at once.
Writes are short `BEGIN IMMEDIATE` transactions on the process's one connection. Async callers go through
`Store.run`: a write takes tens of microseconds when the file is free, far less than handing it to a
worker thread, so it runs right there and only waits for a busy file in a thread.

Questions live here too, because the answer travels through this file: whichever process reads a bot's
or a topic's answers (one per source, holding a lease in `listeners`) records them in `questions`, and the
process that asked reads its answer from there. A question's first valid answer wins (one conditional
UPDATE), which makes every answer token single-use across processes.

A failed delivery that may succeed later stays *pending* for that channel; a claim with a lease makes
sure one re-send happens at a time, whoever (CLI `retry`, the server) runs it.
Text passes through `redact` on the way in, so no secret can reach the file.
"""

from __future__ import annotations

import json
import os
import sqlite3
import statistics
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from mcp_push.models import ChannelResult, Notification
from mcp_push.redact import redact

SCHEMA = """
CREATE TABLE IF NOT EXISTS notifications (
    id INTEGER PRIMARY KEY,
    created REAL NOT NULL,
    source TEXT NOT NULL,
    title TEXT NOT NULL,
    content TEXT NOT NULL,
    run_id TEXT,
    event TEXT
);
CREATE TABLE IF NOT EXISTS attempts (
    id INTEGER PRIMARY KEY,
    notification_id INTEGER NOT NULL REFERENCES notifications(id) ON DELETE CASCADE,
    channel TEXT NOT NULL,
    ok INTEGER NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    http_status INTEGER,
    tries INTEGER NOT NULL,
    elapsed_ms INTEGER NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS pending (
    notification_id INTEGER NOT NULL REFERENCES notifications(id) ON DELETE CASCADE,
    channel TEXT NOT NULL,
    rounds INTEGER NOT NULL DEFAULT 0,
    next_at REAL NOT NULL,
    claimed_until REAL,
    PRIMARY KEY (notification_id, channel)
);
CREATE TABLE IF NOT EXISTS questions (
    id TEXT PRIMARY KEY,
    notification_id INTEGER NOT NULL REFERENCES notifications(id) ON DELETE CASCADE,
    created REAL NOT NULL,
    expires REAL NOT NULL,
    choices TEXT NOT NULL,
    origins TEXT NOT NULL,
    status TEXT NOT NULL,
    answer INTEGER,
    channel TEXT,
    sender TEXT,
    answered REAL
);
CREATE TABLE IF NOT EXISTS held (
    notification_id INTEGER PRIMARY KEY REFERENCES notifications(id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS listeners (
    key TEXT PRIMARY KEY,
    owner TEXT,
    lease_until REAL NOT NULL DEFAULT 0,
    cursor TEXT
);
CREATE INDEX IF NOT EXISTS attempts_by_notification ON attempts(notification_id);
CREATE INDEX IF NOT EXISTS questions_by_notification ON questions(notification_id);
CREATE INDEX IF NOT EXISTS attempts_by_time ON attempts(created);
CREATE INDEX IF NOT EXISTS notifications_by_run ON notifications(run_id);
"""
INBOX = "inbox"
T = TypeVar("T")


@dataclass(frozen=True)
class Claim:
    """Deliveries owed for one notification, leased to the caller for a while."""

    id: int
    note: Notification
    channels: list[str]


class Store:
    def __init__(self, path: Path, *, max_days: float = 30, max_rows: int = 10_000, busy_ms: int = 10_000) -> None:
        self.path = path
        self.max_days = max_days
        self.max_rows = max_rows
        self.busy_ms = busy_ms
        self._conn: sqlite3.Connection | None = None
        # One connection for the process, used by one thread at a time: opening one per operation cost
        # more than the write itself and made concurrent calls queue on SQLite's busy back-off.
        self._lock = threading.RLock()
        self._patient = True  # the connection's busy timeout is busy_ms (else 0)

    async def run(self, operation: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a store operation for async code without blocking its event loop for long: on the loop
        when the connection and the file are free, else in a worker thread that waits its turn."""
        import asyncio

        # The first use opens (maybe creates) the file: that, and any wait for a busy file, in a thread.
        if self._conn is not None and self._lock.acquire(blocking=False):
            try:
                self._set_patience(False)
                return operation(*args, **kwargs)
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
            finally:
                self._set_patience(True)
                self._lock.release()
        return await asyncio.to_thread(operation, *args, **kwargs)

    def _set_patience(self, patient: bool) -> None:
        if self._conn is not None and patient != self._patient:
            self._conn.execute(f"PRAGMA busy_timeout={self.busy_ms if patient else 0}")
            self._patient = patient

    # ---- plumbing -----------------------------------------------------------------------------

    @contextmanager
    def _db(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        with self._lock:
            db = self._conn or self._open()
            if not write:
                yield db
                return
            db.execute("BEGIN IMMEDIATE")  # take the write lock up front: no deadlock on upgrade
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Create the file private before SQLite opens it; SQLite keeps its -wal/-shm at the same mode.
        os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        db = sqlite3.connect(self.path, timeout=self.busy_ms / 1000, isolation_level=None, check_same_thread=False)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        db.executescript(SCHEMA)
        self._conn, self._patient = db, True
        return db

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # ---- writing ------------------------------------------------------------------------------

    def add(self, note: Notification, source: str) -> int:
        with self._db(write=True) as db:
            cursor = db.execute(
                "INSERT INTO notifications (created, source, title, content, run_id, event) VALUES (?,?,?,?,?,?)",
                (time.time(), source, redact(note.title), redact(note.content), note.run_id, note.event),
            )
            return int(cursor.lastrowid)

    def record(self, nid: int, results: Iterable[ChannelResult], *, backoff: float) -> None:
        """Store each outcome; a pending result (re)schedules its channel, any other clears it."""
        now = time.time()
        with self._db(write=True) as db:
            for r in results:
                db.execute(
                    "INSERT INTO attempts (notification_id, channel, ok, status, error, http_status, tries,"
                    " elapsed_ms, created) VALUES (?,?,?,?,?,?,?,?,?)",
                    (nid, r.name, r.ok, r.status, redact(r.error or ""), r.http_status, r.attempts, r.elapsed_ms, now),
                )
                if r.pending:
                    db.execute(
                        "INSERT INTO pending (notification_id, channel, rounds, next_at) VALUES (?,?,0,?)"
                        " ON CONFLICT(notification_id, channel) DO UPDATE SET rounds = rounds + 1,"
                        " claimed_until = NULL, next_at = ? + min(? * (1 << rounds), 3600)",
                        (nid, r.name, now + backoff, now, backoff * 2),
                    )
                else:
                    db.execute("DELETE FROM pending WHERE notification_id = ? AND channel = ?", (nid, r.name))

    def claim(
        self,
        *,
        horizon_s: float,
        nid: int | None = None,
        due_only: bool = True,
        failed_too: bool = False,
        lease_s: float = 120,
    ) -> list[Claim]:
        """Lease what is owed: pending deliveries (due ones, or all), optionally every failed channel too.
        Pending entries older than the horizon are dropped: that notification is given up on."""
        now = time.time()
        with self._db(write=True) as db:
            db.execute(
                "DELETE FROM pending WHERE notification_id IN (SELECT id FROM notifications WHERE created < ?)",
                (now - horizon_s,),
            )
            if failed_too:  # channels whose latest attempt failed, pending or not (after fixing a token, say)
                db.execute(
                    "INSERT OR IGNORE INTO pending (notification_id, channel, next_at)"
                    " SELECT a.notification_id, a.channel, ? FROM attempts a JOIN notifications n"
                    " ON n.id = a.notification_id WHERE n.created >= ? AND a.channel != ? AND (? IS NULL OR n.id = ?)"
                    " AND a.id = (SELECT max(id) FROM attempts b WHERE b.notification_id = a.notification_id"
                    " AND b.channel = a.channel) AND a.ok = 0",
                    (now, now - horizon_s, INBOX, nid, nid),
                )
            rows = db.execute(
                "SELECT p.notification_id, p.channel, n.title, n.content, n.run_id, n.event FROM pending p"
                " JOIN notifications n ON n.id = p.notification_id"
                " WHERE (claimed_until IS NULL OR claimed_until < ?) AND (? = 0 OR next_at <= ?)"
                " AND (? IS NULL OR p.notification_id = ?) ORDER BY p.notification_id",
                (now, due_only, now, nid, nid),
            ).fetchall()
            db.executemany(
                "UPDATE pending SET claimed_until = ? WHERE notification_id = ? AND channel = ?",
                [(now + lease_s, row["notification_id"], row["channel"]) for row in rows],
            )
        claims: dict[int, Claim] = {}
        for row in rows:
            if row["notification_id"] not in claims:
                note = Notification.model_construct(
                    title=row["title"], content=row["content"], run_id=row["run_id"], event=row["event"]
                )
                claims[row["notification_id"]] = Claim(row["notification_id"], note, [])
            claims[row["notification_id"]].channels.append(row["channel"])
        return list(claims.values())

    # ---- questions and the processes that read their answers -------------------------------------

    def add_question(self, qid: str, nid: int, *, expires: float, choices: list[str], origins: dict[str, str]) -> None:
        with self._db(write=True) as db:
            db.execute(
                "INSERT INTO questions (id, notification_id, created, expires, choices, origins, status)"
                " VALUES (?,?,?,?,?,?,'waiting')",
                (qid, nid, time.time(), expires, json.dumps(choices), json.dumps(origins)),
            )

    def note(self, nid: int) -> dict[str, Any] | None:
        with self._db() as db:
            row = db.execute("SELECT title, content FROM notifications WHERE id = ?", (nid,)).fetchone()
        return dict(row) if row else None

    def question(self, qid: str) -> dict[str, Any] | None:
        with self._db() as db:
            row = db.execute("SELECT * FROM questions WHERE id = ?", (qid,)).fetchone()
        return _question(row) if row else None

    def answer(self, qid: str, index: int, *, channel: str, sender: str) -> bool:
        """Take this answer if the question still waits for one: True for the first valid answer only."""
        now = time.time()
        with self._db(write=True) as db:
            taken = db.execute(
                "UPDATE questions SET status = 'answered', answer = ?, channel = ?, sender = ?, answered = ?"
                " WHERE id = ? AND status = 'waiting' AND expires >= ?",
                (index, channel, redact(sender), now, qid, now),
            ).rowcount
        return taken == 1

    def close_question(self, qid: str, status: str) -> dict[str, Any]:
        """End a question that has no answer (expired, cancelled, undelivered) unless one just arrived; the
        question as it now stands."""
        with self._db(write=True) as db:
            db.execute("UPDATE questions SET status = ? WHERE id = ? AND status = 'waiting'", (status, qid))
            row = db.execute("SELECT * FROM questions WHERE id = ?", (qid,)).fetchone()
        return _question(row)

    def lease(self, key: str, owner: str, seconds: float) -> tuple[bool, str | None]:
        """Become (or stay) the one reader of answer source `key` for `seconds`; whether that worked, and
        where the last reader stopped (its cursor)."""
        now = time.time()
        with self._db(write=True) as db:
            db.execute("INSERT OR IGNORE INTO listeners (key) VALUES (?)", (key,))
            held = db.execute(
                "UPDATE listeners SET owner = ?, lease_until = ? WHERE key = ? AND (owner = ? OR lease_until < ?)",
                (owner, now + seconds, key, owner, now),
            ).rowcount
            cursor = db.execute("SELECT cursor FROM listeners WHERE key = ?", (key,)).fetchone()[0]
        return held == 1, cursor

    def advance(self, key: str, owner: str, cursor: str | None) -> None:
        with self._db(write=True) as db:
            db.execute("UPDATE listeners SET cursor = ? WHERE key = ? AND owner = ?", (cursor, key, owner))

    def release(self, key: str, owner: str) -> None:
        with self._db(write=True) as db:
            db.execute("UPDATE listeners SET lease_until = 0 WHERE key = ? AND owner = ?", (key, owner))

    # ---- quiet hours ----------------------------------------------------------------------------

    def hold(self, nid: int) -> None:
        with self._db(write=True) as db:
            db.execute("INSERT OR IGNORE INTO held (notification_id) VALUES (?)", (nid,))

    def take_held(self) -> list[dict[str, Any]]:
        """Everything quiet hours held, oldest first, and no longer held: one caller gets each."""
        with self._db(write=True) as db:
            rows = db.execute(
                "SELECT n.id, n.created, n.title FROM held h JOIN notifications n ON n.id = h.notification_id"
                " ORDER BY n.id"
            ).fetchall()
            db.execute("DELETE FROM held")
        return [{"id": r["id"], "created": r["created"], "title": r["title"]} for r in rows]

    def prune(self) -> int:
        """Bound the file by age and by count; returns how many notifications were removed."""
        with self._db(write=True) as db:
            cutoff = time.time() - self.max_days * 86400
            removed = db.execute("DELETE FROM notifications WHERE created < ?", (cutoff,)).rowcount
            removed += db.execute(
                "DELETE FROM notifications WHERE id <="
                " (SELECT id FROM notifications ORDER BY id DESC LIMIT 1 OFFSET ?)",
                (self.max_rows,),
            ).rowcount
            return removed

    # ---- reading ------------------------------------------------------------------------------

    def history(
        self, *, limit: int = 20, failed: bool = False, run_id: str | None = None, channel: str | None = None
    ) -> list[dict[str, Any]]:
        """Newest first; each notification with its attempts (oldest first) and its pending channels."""
        where, args = ["1=1"], []
        if run_id:
            where.append("n.run_id = ?")
            args.append(run_id)
        if channel:
            where.append("EXISTS (SELECT 1 FROM attempts a WHERE a.notification_id = n.id AND a.channel = ?)")
            args.append(channel)
        if failed:
            where.append(
                "EXISTS (SELECT 1 FROM attempts a WHERE a.notification_id = n.id AND a.ok = 0 AND a.id ="
                " (SELECT max(id) FROM attempts b WHERE b.notification_id = a.notification_id"
                " AND b.channel = a.channel))"
            )
        with self._db() as db:
            rows = db.execute(
                f"SELECT * FROM notifications n WHERE {' AND '.join(where)} ORDER BY n.id DESC LIMIT ?",
                (*args, limit),
            ).fetchall()
            ids = [row["id"] for row in rows]
            marks = ",".join("?" * len(ids))
            attempts = db.execute(
                f"SELECT * FROM attempts WHERE notification_id IN ({marks}) ORDER BY id", ids
            ).fetchall()
            pending = db.execute(
                f"SELECT notification_id, channel FROM pending WHERE notification_id IN ({marks})", ids
            ).fetchall()
            questions = {
                row["notification_id"]: _question(row)
                for row in db.execute(f"SELECT * FROM questions WHERE notification_id IN ({marks})", ids)
            }
            held = {
                row[0]
                for row in db.execute(f"SELECT notification_id FROM held WHERE notification_id IN ({marks})", ids)
            }
        out = []
        for row in rows:
            out.append(
                {
                    "id": row["id"],
                    "time": _iso(row["created"]),
                    "source": row["source"],
                    "title": row["title"],
                    "content": row["content"],
                    "run_id": row["run_id"],
                    "event": row["event"],
                    "attempts": [
                        {
                            "channel": a["channel"],
                            "ok": bool(a["ok"]),
                            "status": a["status"],
                            "error": a["error"] or None,
                            "http_status": a["http_status"],
                            "tries": a["tries"],
                            "elapsed_ms": a["elapsed_ms"],
                            "time": _iso(a["created"]),
                        }
                        for a in attempts
                        if a["notification_id"] == row["id"]
                    ],
                    "pending": sorted(p["channel"] for p in pending if p["notification_id"] == row["id"]),
                    "question": questions.get(row["id"]),
                    "held": row["id"] in held,
                }
            )
        return out

    def stats(self, *, since_s: float) -> list[dict[str, Any]]:
        """Per channel over the window: attempts sent, failed, success rate, p50/p95 latency."""
        with self._db() as db:
            rows = db.execute(
                "SELECT channel, ok, elapsed_ms FROM attempts WHERE created >= ? AND channel != ? ORDER BY channel",
                (time.time() - since_s, INBOX),
            ).fetchall()
        by_channel: dict[str, list[sqlite3.Row]] = {}
        for row in rows:
            by_channel.setdefault(row["channel"], []).append(row)
        out = []
        for name, items in by_channel.items():
            latencies = sorted(r["elapsed_ms"] for r in items)
            failed = sum(1 for r in items if not r["ok"])
            out.append(
                {
                    "channel": name,
                    "sent": len(items),
                    "failed": failed,
                    "success_rate": round((len(items) - failed) / len(items), 4),
                    "p50_ms": round(statistics.median(latencies)),
                    "p95_ms": latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))],
                }
            )
        return out

    def counts(self) -> dict[str, int]:
        with self._db() as db:
            return {
                table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("notifications", "attempts", "pending")
            }


def _question(row: sqlite3.Row) -> dict[str, Any]:
    choices = json.loads(row["choices"])
    answer = row["answer"]
    return {
        "id": row["id"],
        "notification_id": row["notification_id"],
        "status": row["status"],
        "choices": choices,
        "origins": json.loads(row["origins"]),
        "expires": row["expires"],
        "time": _iso(row["created"]),
        "answer": choices[answer] if answer is not None and 0 <= answer < len(choices) else None,
        "answer_index": answer,
        "channel": row["channel"],
        "sender": row["sender"],
        "answered": row["answered"],
        "elapsed_s": round(row["answered"] - row["created"], 1) if row["answered"] else None,
    }


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)
