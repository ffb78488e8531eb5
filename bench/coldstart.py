"""Cold start: what one notification costs from a fresh process, and how soon a new server is ready.

- `send`: spawn to exit of `python -m mcp_push send` to one local channel (the custom webhook), of
  `apprise -t -b URL` to one local `json://` URL and of the thread-per-channel script to one URL; the
  channel answers after D.
- `floor`: spawn to exit of a process that only does what any send on mcp-push's stack must: import asyncio,
  httpx and pydantic and build one pydantic model (the first costs ~30 ms of lazy imports), with trio and
  httpx's CLI blocked and the garbage collector handled as mcp-push's entry point does. It sends nothing:
  the least a cold `send` can cost with these dependencies, shown plus D beside the contenders.
- `initialize`: spawn to the `initialize` reply of `python -m mcp_push` (one channel configured) and of a
  bare FastMCP server with one no-op tool (`bench/bare_server.py`).
Runs alternate (the order rotates every repetition); medians are reported.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.common import (
    CONTENT,
    GUARDS_OFF,
    PY,
    RESULTS,
    TITLE,
    LocalServer,
    Run,
    Target,
    apprise_cli,
    clean_env,
    median,
    ms,
    ratio,
    rotate,
    script,
    table,
    targets_table,
    timed_run,
    workdir,
)
from bench.stdio import spawn_to_initialize

SEND = ("mcp-push send", "apprise CLI", "threads script")
INIT = ("mcp-push server", "bare FastMCP")
FLOOR = "stack floor: imports only, + D"
STACK = (  # imported the way mcp-push's entry point imports (no collection while importing, none at exit)
    "import gc, sys; gc.disable(); sys.modules.setdefault('trio', None); sys.modules.setdefault('httpx._main', None); "
    "import asyncio, httpx; from pydantic import create_model; create_model('Note', title=(str, ...)); gc.freeze()"
)


def commands(server: LocalServer, work: Path) -> dict[str, tuple[list[str], dict[str, str]]]:
    hook = {"WEBHOOK_URL": f"{server.base}/webhook", **GUARDS_OFF}
    cli = apprise_cli()
    found = {
        "mcp-push send": ([PY, "-m", "mcp_push", "send", TITLE, CONTENT], clean_env(work, **hook)),
        "threads script": (
            [PY, script("threaded_notify.py"), TITLE, CONTENT],
            clean_env(work, BENCH_URLS=f"{server.base}/threads/0"),
        ),
        FLOOR: ([PY, "-c", STACK], clean_env(work)),
        "mcp-push server": ([PY, "-m", "mcp_push"], clean_env(work, **hook)),
        "bare FastMCP": ([PY, script("bare_server.py")], clean_env(work)),
    }
    if cli is not None:
        found["apprise CLI"] = (
            [cli, "-t", TITLE, "-b", CONTENT, f"json://127.0.0.1:{server.port}/apprise/0"],
            clean_env(work),
        )
    return found


def main(reps: int, delay: float, results: Path = RESULTS, warmup: int = 1) -> dict[str, Any]:
    run = Run("coldstart", {"reps": reps, "delay_s": delay, "warmup": warmup}, results)
    print(run.header(), flush=True)
    samples: dict[str, list[float]] = {}
    with workdir() as work, LocalServer(delay) as server:
        cmds = commands(server, work)
        names = [n for n in (*SEND, FLOOR, *INIT) if n in cmds]
        samples = {n: [] for n in names}
        for name in names * warmup:  # untimed runs first: page cache, .pyc files
            cmd, env = cmds[name]
            if name in INIT:
                spawn_to_initialize(cmd, env, work)
            else:
                timed_run(cmd, env, work)
        for rep in range(reps):
            for name in rotate(names, rep):
                cmd, env = cmds[name]
                if name in INIT:
                    samples[name].append(spawn_to_initialize(cmd, env, work))
                    continue
                server.reset()
                elapsed, code, err = timed_run(cmd, env, work)
                if code != 0 or server.stats()["total"] != (0 if name == FLOOR else 1):
                    raise AssertionError(f"{name} did not deliver exactly once (exit {code}): {err}")
                samples[name].append(elapsed + (delay if name == FLOOR else 0))
    med = {n: median(v) for n, v in samples.items()}
    mine = med.get("mcp-push send")
    send_rows = [
        [n, ms(med[n]), ms(med[n] - delay) if med[n] is not None else "–", ratio(med[n], mine)]
        for n in (*SEND, FLOOR)
        if n in med
    ]
    init_rows = [[n, ms(med[n]), ratio(med[n], med.get("bare FastMCP"))] for n in INIT]
    text = (
        table(["one send to one channel", "median ms", "minus D ms", "x mcp-push"], send_rows)
        + "\n\n"
        + table(["spawn to initialize reply", "median ms", "x bare FastMCP"], init_rows)
    )
    targets = [
        Target("cold send vs thread-per-channel script", _ratio(mine, med.get("threads script")), 1.0, "x"),
        Target("cold send vs Apprise CLI", _ratio(mine, med.get("apprise CLI")), 0.7, "x"),
        Target(
            "spawn to initialize vs bare FastMCP",
            _ratio(med.get("mcp-push server"), med.get("bare FastMCP")),
            1.05,
            "x",
        ),
    ]
    print(f"\nCold start, D = {delay * 1000:.0f} ms, medians of {reps}:\n{text}\n\n{targets_table(targets)}")
    path = run.save({"samples": samples, "medians": med}, targets, {"coldstart": text})
    print(f"\nresults: {path}")
    return {"samples": samples, "medians": med}


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a and b else None
