"""The hub's two goals (issue 13), each measured side by side in one run.

`handoff`: whole processes, spawn to exit, one notification to one local webhook answering after D:
- `notify.py cold send`: the thread-per-channel script (`bench/threaded_notify.py`), qinglong's way;
- `mcp-push send, no server`: a cold `python -m mcp_push send`;
- `mcp-push send, server running` and `mcp-push hook claude-code, server running` (a Stop event): the same
  commands with a stdio server of the same configuration running, so they hand off over its socket;
- `interpreter only`: `python -c pass`, the floor of any process (plus one local round trip).
Goal: each hand-off ≤ 0.35 × the notify.py cold send.

`rest`: `POST /v1/notify` to the hub (`serve --http`, one keep-alive client, `concurrency` requests in
flight) against `notify.send` to a stdio server (`bench/throughput.py`'s round), both with the same 3
channels answering at once. Goals: calls/s ≥ 0.5 × the stdio server's, p99 < 100 ms.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

from bench import targets as chan
from bench.common import (
    GUARDS_OFF,
    PY,
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
    timed_run,
    workdir,
)

TOKEN = "mph_bench_token_0123456789abcdefghijk"
NOTIFY_PY = "notify.py cold send"
COLD = "mcp-push send, no server"
SEND = "mcp-push send, server running"
HOOK = "mcp-push hook claude-code, server running"
FLOOR = "interpreter only"
CONTENDERS = (NOTIFY_PY, COLD, SEND, HOOK, FLOOR)


def stop_payload(work: Path) -> Path:
    from bench.hook_timing import stop_payload as make

    path = work / "stop.json"
    path.write_bytes(make(work))
    return path


def hand_off_runs(reps: int, delay: float, warmup: int, results: Path) -> dict[str, Any]:
    run = Run("handoff", {"reps": reps, "delay": delay, "warmup": warmup}, results)
    print(run.header(), flush=True)
    samples: dict[str, list[float]] = {n: [] for n in CONTENDERS}
    with workdir() as work, LocalServer(delay) as server:
        url = f"{server.base}/webhook"
        mine = clean_env(work, **GUARDS_OFF, WEBHOOK_URL=url, MCP_PUSH_HOOK_MIN_SECONDS="0")
        cold = {**mine, "MCP_PUSH_HANDOFF": "false"}
        payload = stop_payload(work)
        commands = {
            NOTIFY_PY: ([PY, script("threaded_notify.py"), TITLE, "x"], clean_env(work, BENCH_URLS=url)),
            COLD: ([PY, "-m", "mcp_push", "send", TITLE, "x"], cold),
            SEND: ([PY, "-m", "mcp_push", "send", TITLE, "x"], mine),
            HOOK: ([PY, "-m", "mcp_push", "hook", "claude-code"], mine),
            FLOOR: ([PY, "-c", "pass"], mine),
        }
        stdio = subprocess.Popen(
            [PY, "-m", "mcp_push"], env=mine, cwd=work, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL
        )
        try:
            end = time.monotonic() + 30
            while not (work / "state" / "server.sock").exists():
                if time.monotonic() > end:
                    raise RuntimeError("the stdio server made no hand-off socket")
                time.sleep(0.02)
            for rep in range(warmup + reps):
                for name in rotate(CONTENDERS, rep):
                    cmd, env = commands[name]
                    server.reset()
                    if name == HOOK:
                        with payload.open("rb") as stdin:
                            started = time.perf_counter()
                            code = subprocess.run(cmd, env=env, cwd=work, stdin=stdin, capture_output=True).returncode
                            elapsed = time.perf_counter() - started
                    else:
                        elapsed, code, _ = timed_run(cmd, env, work)
                    sent = server.stats()["total"]
                    if code != 0 or sent != (0 if name == FLOOR else 1):
                        raise AssertionError(f"{name}: exit {code}, {sent} notifications")
                    if rep >= warmup:
                        samples[name].append(elapsed)
        finally:
            stdio.stdin.close()  # type: ignore[union-attr]
            stdio.wait(timeout=30)
    med = {n: median(v) for n, v in samples.items()}
    base = med[NOTIFY_PY]
    rows = [[n, f"{(med[n] or 0) * 1000:.0f}", f"{(med[n] or 0) / base:.2f}" if base else "–"] for n in CONTENDERS]
    text = table([f"one notification, D = {delay * 1000:.0f} ms", "median ms", "x notify.py"], rows)
    targets = [
        Target("send with a server running vs notify.py's cold send", (med[SEND] or 0) / base, 0.35, "x"),
        Target("hook with a server running vs notify.py's cold send", (med[HOOK] or 0) / base, 0.35, "x"),
    ]
    print(f"\nHand-off, medians of {reps}:\n{text}\n\n{targets_table(targets)}")
    path = run.save({"samples": samples, "medians": med}, targets, {"handoff": text})
    print(f"\nresults: {path}")
    return {"samples": samples, "medians": med}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def rest_round(server: LocalServer, work: Path, calls: int, concurrency: int) -> dict[str, Any]:
    import httpx

    port = free_port()
    env = clean_env(
        work, **GUARDS_OFF, **chan.env_for(3, server.port, server.smtp_port), MCP_PUSH_API_TOKENS=TOKEN,
        MCP_PUSH_API_RATE="1000000000", MCP_PUSH_API_CONNECTIONS="1000",
    )  # fmt: skip
    command = [PY, "-m", "mcp_push", "serve", "--http", "--port", str(port)]
    hub = subprocess.Popen(command, env=env, cwd=work, stderr=subprocess.DEVNULL)
    latencies: list[float] = []
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60,
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        ) as client:  # fmt: skip
            end = time.monotonic() + 30
            while True:
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > end:
                    raise RuntimeError("the hub did not start")
                await asyncio.sleep(0.05)

            async def drive(count: int, timed: bool) -> None:
                left = count

                async def worker() -> None:
                    nonlocal left
                    while left > 0:
                        left -= 1
                        started = time.perf_counter()
                        answer = await client.post("/v1/notify", json={"title": TITLE, "content": content()})
                        if answer.status_code != 200 or answer.json()["status"] != "delivered":
                            raise AssertionError(f"REST call not delivered: {answer.text[:300]}")
                        if timed:
                            latencies.append(time.perf_counter() - started)

                await asyncio.gather(*(worker() for _ in range(concurrency)))

            await drive(concurrency, timed=False)  # warm-up
            started = time.perf_counter()
            await drive(calls, timed=True)
            wall = time.perf_counter() - started
    finally:
        hub.terminate()
        hub.wait(timeout=40)
    return {
        "calls_per_s": calls / wall,
        "p50_ms": (percentile(latencies, 50) or 0) * 1000,
        "p99_ms": (percentile(latencies, 99) or 0) * 1000,
    }


def rest_runs(rounds: int, calls: int, concurrency: int, results: Path) -> dict[str, Any]:
    from bench.throughput import one_round

    run = Run("rest", {"rounds": rounds, "calls": calls, "concurrency": concurrency, "channels": 3}, results)
    print(run.header(), flush=True)
    found: dict[str, list[dict[str, Any]]] = {"hub REST": [], "stdio server": []}

    async def rounds_async() -> None:
        with workdir() as work, LocalServer(0.0) as server:
            for r in range(rounds):
                for name in rotate(list(found), r):
                    server.reset()
                    if name == "hub REST":
                        result = await rest_round(server, work, calls, concurrency)
                    else:
                        result = await one_round("mcp-push", server, work, calls, calls, concurrency, 600)
                    found[name].append(result)
                    print(f"  round {r + 1} {name}: {result['calls_per_s']:.0f} calls/s", flush=True)

    asyncio.run(rounds_async())
    med = {n: {k: median([r[k] for r in v]) for k in ("calls_per_s", "p50_ms", "p99_ms")} for n, v in found.items()}
    rows = [[n, f"{m['calls_per_s']:.0f}", f"{m['p50_ms']:.1f}", f"{m['p99_ms']:.1f}"] for n, m in med.items()]
    text = table(["3 channels at 0 ms", "calls/s", "p50 ms", "p99 ms"], rows)
    hub, stdio = med["hub REST"], med["stdio server"]
    targets = [
        Target("REST calls/s vs the stdio server's", hub["calls_per_s"] / stdio["calls_per_s"], 0.5, "x", True),
        Target("REST p99 latency", hub["p99_ms"], 100, "ms"),
    ]
    heading = f"REST vs stdio, {calls} calls at concurrency {concurrency}, medians of {rounds}"
    print(f"\n{heading}:\n{text}\n\n{targets_table(targets)}")
    path = run.save({"rounds": found, "medians": med}, targets, {"rest": text})
    print(f"\nresults: {path}")
    return {"rounds": found, "medians": med}


def main(
    kind: str, reps: int, delay: float, warmup: int, rounds: int, calls: int, concurrency: int, results: Path
) -> None:
    if kind in ("handoff", "hub"):
        hand_off_runs(reps, delay, warmup, results)
    if kind in ("rest", "hub"):
        rest_runs(rounds, calls, concurrency, results)
