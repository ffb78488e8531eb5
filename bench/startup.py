"""Where a cold `send` spends its time: the median wall time of fresh interpreters doing a little more each step.

Each step is its own process (`python -c ...`), run `reps` times in rotation; the difference between two
rows is what that step adds. Complements `python -X importtime -m mcp_push send ...` (per module, but
inflated by the tracing itself) with plain wall-clock numbers.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

from bench.common import PY, RESULTS, LocalServer, Run, clean_env, median, rotate, table, workdir

NO_TRIO = "import sys; sys.modules['trio'] = None; "  # what httpcore would see if trio were not installed


def steps(url: str) -> list[tuple[str, str]]:
    send = (
        "import runpy, sys; sys.argv = ['mcp_push', 'send', 'T', 'B']; "
        "runpy.run_module('mcp_push', run_name='__main__', alter_sys=True)"
    )
    client = (
        "import asyncio, httpx\n"
        "async def main():\n"
        "    async with httpx.AsyncClient() as c:\n"
        f"        (await c.post('{url}', json={{'a': 1}})).raise_for_status()\n"
        "asyncio.run(main())"
    )
    return [
        ("python -c pass", "pass"),
        ("import asyncio", "import asyncio"),
        ("import pydantic BaseModel", "from pydantic import BaseModel, Field, SecretStr"),
        ("+ pydantic_settings", "from pydantic import BaseModel; import pydantic_settings"),
        ("import mcp_push.cli", "import mcp_push.cli"),
        ("import httpx", "import httpx"),
        ("import httpx, trio blocked", NO_TRIO + "import httpx"),
        ("httpx AsyncClient + 1 POST", client),
        ("httpx AsyncClient + 1 POST, trio blocked", NO_TRIO + client),
        ("import requests", "import requests"),
        ("requests.post", f"import requests; requests.post('{url}', json={{'a': 1}}).raise_for_status()"),
        ("mcp_push send", send),
        ("mcp_push send, trio blocked", NO_TRIO + send),
    ]


def main(reps: int, results: Path = RESULTS) -> dict[str, Any]:
    run = Run("startup", {"reps": reps}, results)
    print(run.header(), flush=True)
    with workdir() as work, LocalServer(0.0) as server:
        url = f"{server.base}/webhook"
        env = clean_env(work, WEBHOOK_URL=url, MCP_PUSH_DEDUPE_SECONDS="0")
        todo = steps(url)
        samples: dict[str, list[float]] = {name: [] for name, _ in todo}
        for rep in range(reps + 1):
            for name, code in rotate(todo, rep):
                started = time.perf_counter()
                subprocess.run([PY, "-c", code], env=env, cwd=work, check=True, stdout=subprocess.DEVNULL)
                if rep:  # the first round only warms the page cache
                    samples[name].append(time.perf_counter() - started)
    med = {name: median(v) for name, v in samples.items()}
    base = med["python -c pass"] or 0
    rows = [[name, f"{m * 1000:.0f}", f"{(m - base) * 1000:+.0f}"] for name, m in med.items() if m is not None]
    text = table(["fresh process doing", "median ms", "vs python -c pass"], rows)
    print(f"\nStartup costs, medians of {reps}:\n{text}")
    path = run.save({"samples": samples, "medians": med}, [], {"startup": text})
    print(f"\nresults: {path}")
    return {"medians": med}
