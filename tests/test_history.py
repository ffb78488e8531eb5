"""The local history: nothing lost when the network is down, and a readable record of what happened."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.shared.memory import create_connected_server_and_client_session as connect

from mcp_push.cli import EXIT_OK, main
from mcp_push.dispatch import dispatch
from mcp_push.models import Notification
from mcp_push.server import PushServer
from mcp_push.store import Store
from tests.recorder import Recorder, reply
from tests.test_stdio import clean_env

pytestmark = pytest.mark.usefixtures("process_env")

NOTE = Notification(title="Backup finished", content="3.2 GB in 4 min")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_down_then_retry_delivers_exactly_once(make_config, monkeypatch, capsys):
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    report = await dispatch(make_config(WEBHOOK_URL=url), NOTE)
    (result,) = report.results
    assert report.status == "failed" and result.pending
    assert "Pending, will be re-sent: webhook" in report.summary

    recorder = Recorder(port)  # the channel comes back
    try:
        recorder.respond(reply(200, {"ok": True}))
        monkeypatch.setenv("WEBHOOK_URL", url)
        assert await asyncio.to_thread(main, ["retry"]) == EXIT_OK
        assert await asyncio.to_thread(main, ["retry"]) == EXIT_OK  # nothing left: no second delivery
        assert len(recorder.requests) == 1
        assert recorder.last.json() == {"title": NOTE.title, "content": NOTE.content}
        capsys.readouterr()
        assert await asyncio.to_thread(main, ["history", "--json"]) == EXIT_OK
    finally:
        recorder.close()
    (entry,) = json.loads(capsys.readouterr().out)
    assert [a["ok"] for a in entry["attempts"]] == [False, True]
    assert entry["pending"] == []


async def test_permanent_failure_is_not_pending(recorder, make_config):
    recorder.respond(reply(401, text="bad token"))
    config = make_config(WEBHOOK_URL=recorder.url)
    report = await dispatch(config, NOTE)
    assert not report.results[0].pending
    assert config.store.claim(horizon_s=3600, due_only=False) == []
    claims = config.store.claim(horizon_s=3600, due_only=False, failed_too=True)  # retry --all
    assert [(c.id, c.channels) for c in claims] == [(report.id, ["webhook"])]


async def test_a_claim_is_leased_so_two_retriers_never_double_send(make_config):
    config = make_config(WEBHOOK_URL=f"http://127.0.0.1:{free_port()}/x")
    await dispatch(config, NOTE)
    first = config.store.claim(horizon_s=3600, due_only=False)
    second = config.store.claim(horizon_s=3600, due_only=False)
    assert len(first) == 1 and second == []


async def test_running_stdio_server_delivers_pending_by_itself(tmp_path):
    port = free_port()
    env = clean_env(
        tmp_path,
        WEBHOOK_URL=f"http://127.0.0.1:{port}/hook",
        MCP_PUSH_PENDING_BACKOFF="0.5",
        MCP_PUSH_RETRY_BACKOFF="0.05",
    )
    params = StdioServerParameters(command=sys.executable, args=["-m", "mcp_push"], env=env, cwd=str(tmp_path))
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        result = await session.call_tool("notify.send", {"title": "offline", "content": "sent while down"})
        assert result.structuredContent["status"] == "failed"
        assert result.structuredContent["results"][0]["pending"] is True
        recorder = Recorder(port)  # the network is back
        try:
            recorder.respond(reply(200, {"ok": True}))
            for _ in range(100):
                if recorder.requests:
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.5)  # and it is not sent a second time
        finally:
            recorder.close()
    assert [r.json()["content"] for r in recorder.requests] == ["sent while down"]


WRITER = """
import asyncio, sys
from mcp_push.config import Config
from mcp_push.dispatch import dispatch
from mcp_push.models import Notification

async def main():
    config = Config.load()
    for i in range(200):
        await dispatch(config, Notification(title=f"{sys.argv[1]}-{i}", content="c"))

asyncio.run(main())
"""


def test_two_processes_writing_at_once_lose_nothing(recorder, tmp_path):
    recorder.respond(reply(200, {"ok": True}))
    env = clean_env(
        tmp_path,
        WEBHOOK_URL=recorder.url,
        NTFY_TOPIC="t0123",
        NTFY_URL=recorder.url,
        MCP_PUSH_DEDUPE_SECONDS="0",
        MCP_PUSH_MAX_PER_MINUTE="0",
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, name], env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True)
        for name in ("a", "b")
    ]
    errors = [p.communicate(timeout=180)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errors
    assert not any("locked" in e for e in errors), errors
    from mcp_push.store import Store

    counts = Store(tmp_path / "state" / "history.db").counts()
    assert counts == {"notifications": 400, "attempts": 800, "pending": 0}


async def test_store_file_is_private_and_history_can_be_off(make_config, tmp_path, recorder):
    recorder.respond(reply(200, {"ok": True}))
    config = make_config(WEBHOOK_URL=recorder.url)
    await dispatch(config, NOTE)
    assert oct(os.stat(config.store.path).st_mode & 0o777) == "0o600"
    off = make_config(WEBHOOK_URL=recorder.url, MCP_PUSH_HISTORY="off")
    report = await dispatch(off, Notification(title="t2", content="c2"))
    assert report.id is None and off.store.counts()["notifications"] == 1  # only the first one


async def test_retention_by_count(make_config):
    config = make_config(MCP_PUSH_HISTORY_MAX="5")
    for i in range(8):
        config.store.add(Notification(title=f"n{i}", content="c"), "cli")
    assert config.store.prune() == 3
    assert [e["title"] for e in config.store.history(limit=10)] == ["n7", "n6", "n5", "n4", "n3"]


async def test_history_and_stats_fit_80_columns(recorder, make_config, monkeypatch, capsys):
    recorder.respond(reply(200, {"ok": True}), path="/ok")
    recorder.respond(reply(403, text="forbidden " * 20), path="/bad")
    monkeypatch.setenv("WEBHOOK_URL", recorder.url + "/ok")
    monkeypatch.setenv("BARK_PUSH", recorder.url + "/bad")
    monkeypatch.setenv("MCP_PUSH_DEDUPE_SECONDS", "0")
    for title in ("构建完成：所有测试都通过了，部署到生产环境已经结束，请检查" * 2, "short"):
        await asyncio.to_thread(main, ["send", title, "body"])
    capsys.readouterr()
    assert await asyncio.to_thread(main, ["history"]) == EXIT_OK
    text = capsys.readouterr().out
    from mcp_push.views import columns

    assert all(columns(line) <= 80 for line in text.splitlines()), text
    assert "webhook✓" in text and "bark✗" in text and "✗ bark: HTTP 403" in text
    assert await asyncio.to_thread(main, ["stats"]) == EXIT_OK
    stats = capsys.readouterr().out
    assert all(columns(line) <= 80 for line in stats.splitlines())
    assert "50.0%" not in stats and "100.0%" in stats and "0.0%" in stats
    assert await asyncio.to_thread(main, ["history", "--failed", "--json"]) == EXIT_OK
    failed = json.loads(capsys.readouterr().out)
    assert len(failed) == 2 and all(set(e) >= {"id", "time", "title", "attempts", "pending"} for e in failed)
    assert await asyncio.to_thread(main, ["stats", "--json"]) == EXIT_OK
    rows = {r["channel"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["bark"]["failed"] == 2 and rows["webhook"]["success_rate"] == 1.0


async def test_history_by_run(recorder, make_config, monkeypatch, capsys):
    recorder.respond(reply(200, {"ok": True}))
    monkeypatch.setenv("WEBHOOK_URL", recorder.url)
    await asyncio.to_thread(main, ["event", "nightly", "end", "done"])
    await asyncio.to_thread(main, ["event", "other", "end", "done"])
    capsys.readouterr()
    await asyncio.to_thread(main, ["history", "--run", "nightly", "--json"])
    (entry,) = json.loads(capsys.readouterr().out)
    assert entry["run_id"] == "nightly" and entry["event"] == "end"


async def test_progress_one_step_per_channel(recorder, make_config):
    recorder.respond(reply(200, {"id": "1", "ok": True}))
    server = PushServer(make_config(WEBHOOK_URL=recorder.url, NTFY_TOPIC="t0123", NTFY_URL=recorder.url))
    steps: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress, total, message):
        steps.append((progress, total, message))

    async with connect(server) as client:
        await client.call_tool("notify.send", {"title": "t", "content": "c"}, progress_callback=on_progress)
        await asyncio.sleep(0.05)
    assert sorted(s[0] for s in steps) == [1, 2] and {s[1] for s in steps} == {2}
    assert {s[2] for s in steps} == {"webhook delivered", "ntfy delivered"}


async def test_resources_list_channels_and_history(recorder, make_config):
    recorder.respond(reply(200, {"ok": True}))
    server = PushServer(make_config(WEBHOOK_URL=recorder.url, TG_BOT_TOKEN="123:secret-token-0123456789"))
    async with connect(server) as client:
        await client.call_tool("notify.send", {"title": "t", "content": "c"})
        uris = {str(r.uri) for r in (await client.list_resources()).resources}
        channels = json.loads((await client.read_resource("mcp-push://channels")).contents[0].text)
        history = json.loads((await client.read_resource("mcp-push://history")).contents[0].text)
    assert uris == {"mcp-push://channels", "mcp-push://history"}
    assert {r["name"]: r["status"] for r in channels}["telegram"] == "misconfigured"
    assert "secret-token-0123456789" not in json.dumps(channels)
    assert history[0]["title"] == "t" and history[0]["source"] == "mcp"


async def test_no_secret_reaches_the_store(recorder, make_config):
    token, topic = "echoed-token-9f8e7d6c5b4a", "echoed-topic-1a2b3c4d5e6f"
    recorder.respond(lambda request: reply(401, text=f"bad credentials for {request.target} {request.headers}"))
    config = make_config(
        NTFY_TOPIC=topic, NTFY_URL=recorder.url, NTFY_TOKEN=token, WEBHOOK_URL=recorder.url + "/" + token
    )
    report = await dispatch(config, Notification(title="t", content="c"))
    assert report.status == "failed" and "***" in report.results[0].error
    raw = b"".join(p.read_bytes() for p in config.store.path.parent.iterdir() if p.name.startswith("history.db"))
    assert raw and token.encode() not in raw and topic.encode() not in raw


async def test_store_run_works_inline_once_the_file_is_open(tmp_path: Path) -> None:
    store = Store(tmp_path / "run.db")
    threads: list[int] = []

    def add(note: Notification, source: str) -> int:
        threads.append(threading.get_ident())
        return store.add(note, source)

    try:
        first = await store.run(add, NOTE, "test")  # opens (creates) the file: in a worker thread
        second = await store.run(add, NOTE, "test")
    finally:
        store.close()
    assert threads[0] != threading.get_ident() and threads[1] == threading.get_ident()
    assert second == first + 1


async def test_store_run_waits_for_a_locked_file_off_the_loop(tmp_path: Path) -> None:
    store = Store(tmp_path / "run.db")
    await store.run(store.counts)  # the connection is open from here on
    other = sqlite3.connect(store.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process's write in progress
    threads: list[int] = []
    ticks: list[float] = []

    def add(note: Notification, source: str) -> int:
        threads.append(threading.get_ident())
        return store.add(note, source)

    async def tick() -> None:
        while True:
            ticks.append(time.monotonic())
            await asyncio.sleep(0.01)

    async def release() -> None:
        await asyncio.sleep(0.2)
        other.execute("COMMIT")

    ticker, releaser = asyncio.create_task(tick()), asyncio.create_task(release())
    started = time.monotonic()
    try:
        # Were the wait on the loop, the COMMIT (issued from the loop) could not run before the busy timeout.
        nid = await asyncio.wait_for(store.run(add, NOTE, "test"), 5)
        waited = time.monotonic() - started
    finally:
        ticker.cancel()
        await releaser
        other.close()
    try:
        assert waited >= 0.15 and len(ticks) >= 10
        assert max(b - a for a, b in itertools.pairwise(ticks)) < 0.1  # the loop was never blocked
        assert threads[0] == threading.get_ident() and threads[-1] != threading.get_ident()  # tried inline, waited off
        assert [e["id"] for e in store.history()] == [nid]
    finally:
        store.close()
