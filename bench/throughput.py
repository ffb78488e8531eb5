"""Throughput: one stdio session, many `notify.send` calls in flight at once, channels answering at once.

Per round, for mcp-push (3 channels: webhook, ntfy, gotify) and for the bare FastMCP server (no-op tool
with the same arguments), each in a fresh process: `warmup` calls (one per worker, not counted), then
`calls` calls from `concurrency` workers (calls/s over the wall time, p50 and p99 of each call's latency at
the client), the server's RSS, then calls up to `total`, and the RSS again. Rounds alternate which server
goes first; medians over rounds are reported. Every mcp-push call must report all 3 channels delivered.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from bench import targets as chan
from bench.common import (
    GUARDS_OFF,
    PY,
    RESULTS,
    TITLE,
    LocalServer,
    Run,
    Target,
    clean_env,
    content,
    median,
    percentile,
    rotate,
    script,
    table,
    targets_table,
    workdir,
)
from bench.stdio import Session

CHANNELS = 3
SERVERS = ("mcp-push", "bare FastMCP")
EXTRA = ("server_requests", "server_connections")


async def drive(session: Session, tool: str, calls: int, concurrency: int, verify: bool, limit_s: float) -> list[float]:
    latencies: list[float] = []
    left = calls

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            elapsed, result = await session.timed_call(tool, {"title": TITLE, "content": content()})
            if verify:
                report = result.get("structuredContent") or {}
                if report.get("status") != "delivered":
                    raise AssertionError(f"mcp-push call not delivered: {report.get('summary')}")
            elif result.get("isError"):
                raise AssertionError(f"bare server call failed: {result}")
            latencies.append(elapsed)

    await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(concurrency))), limit_s)
    return latencies


async def one_round(
    name: str, server: LocalServer, work: Path, calls: int, total: int, concurrency: int, limit_s: float
) -> dict[str, Any]:
    if name == "mcp-push":
        cmd = [PY, "-m", "mcp_push"]
        env = clean_env(work, **GUARDS_OFF, **chan.env_for(CHANNELS, server.port, server.smtp_port))
        tool = "notify.send"
    else:
        cmd, env, tool = [PY, script("bare_server.py")], clean_env(work), "send"
    session = await Session.start(cmd, env, work)
    try:
        verify = name == "mcp-push"
        rss_start = session.rss_kib()
        await drive(session, tool, concurrency, concurrency, verify, limit_s)  # warm-up
        cpu_before = session.cpu_seconds()
        started = time.perf_counter()
        latencies = await drive(session, tool, calls, concurrency, verify, limit_s)
        wall = time.perf_counter() - started
        cpu_used = (session.cpu_seconds() or 0) - (cpu_before or 0)
        rss_first = session.rss_kib()
        await drive(session, tool, total - calls, concurrency, verify, limit_s)
        rss_total = session.rss_kib()
    finally:
        await session.close()
    return {
        "calls_per_s": calls / wall,
        "p50_ms": percentile(latencies, 50) * 1000,  # type: ignore[operator]
        "p99_ms": percentile(latencies, 99) * 1000,  # type: ignore[operator]
        "max_ms": max(latencies) * 1000,
        "server_cpu_ms_per_call": cpu_used * 1000 / calls,
        "rss_start_kib": rss_start,
        "rss_first_kib": rss_first,
        "rss_total_kib": rss_total,
    }


async def run_async(rounds: int, calls: int, total: int, concurrency: int, limit_s: float) -> dict[str, list]:
    found: dict[str, list[dict[str, Any]]] = {s: [] for s in SERVERS}
    with workdir() as work, LocalServer(0.0) as server:
        for r in range(rounds):
            for name in rotate(SERVERS, r):
                server.reset()
                result = await one_round(name, server, work, calls, total, concurrency, limit_s)
                if name == "mcp-push":
                    stats = server.stats()
                    result["server_requests"], result["server_connections"] = stats["total"], stats["connections"]
                found[name].append(result)
                print(f"  round {r + 1} {name}: {result['calls_per_s']:.0f} calls/s", flush=True)
    return found


def main(rounds: int, calls: int, total: int, concurrency: int, results: Path = RESULTS) -> dict[str, Any]:
    params = {"rounds": rounds, "calls": calls, "total": total, "concurrency": concurrency, "channels": CHANNELS}
    run = Run("throughput", params, results)
    print(run.header(), flush=True)
    data = asyncio.run(run_async(rounds, calls, total, concurrency, limit_s=600))
    med = {
        s: {k: median([r[k] for r in data[s] if r[k] is not None]) for k in data[s][0] if k not in EXTRA}
        for s in SERVERS
    }
    rows = [
        [
            s,
            f"{m['calls_per_s']:.0f}",
            f"{m['p50_ms']:.1f}",
            f"{m['p99_ms']:.1f}",
            f"{m['server_cpu_ms_per_call']:.2f}",
            f"{m['rss_first_kib'] / 1024:.1f}",
            f"{m['rss_total_kib'] / 1024:.1f}",
            f"{m['rss_total_kib'] / m['rss_first_kib']:.3f}",
        ]
        for s, m in med.items()
    ]
    text = table(
        [
            "server",
            "calls/s",
            "p50 ms",
            "p99 ms",
            "server CPU ms/call",
            f"RSS after {calls} MiB",
            f"RSS after {total} MiB",
            "RSS ratio",
        ],
        rows,
    )
    mine, bare = med["mcp-push"], med["bare FastMCP"]
    targets = [
        Target("calls/s vs bare FastMCP", mine["calls_per_s"] / bare["calls_per_s"], 0.5, "x", higher_is_better=True),
        Target("p99 latency", mine["p99_ms"], 100, "ms"),
        Target(f"RSS after {total} vs after {calls} calls", mine["rss_total_kib"] / mine["rss_first_kib"], 1.10, "x"),
    ]
    print(
        f"\nThroughput, {calls} calls at concurrency {concurrency}, {CHANNELS} channels at 0 ms, medians of "
        f"{rounds} round(s):\n{text}\n\n{targets_table(targets)}"
    )
    path = run.save({"rounds": data, "medians": med}, targets, {"throughput": text})
    print(f"\nresults: {path}")
    return {"rounds": data, "medians": med}
