"""Fan-out: one notification to N channels that each answer after D seconds.

Six contenders, alternated (the order rotates every repetition) so that drift in machine load hits all
of them alike:
- mcp-push warm: `tools/call notify.send` on an already running `python -m mcp_push` (stdio), timed at
  the client from writing the request to reading the report; the ideal is D.
- Apprise warm: `Apprise.notify()` on an `Apprise` object holding N `json://` URLs, in this process.
- threads warm: `bench.threaded_notify.send()` (one thread and one `requests.post` per channel) in this process.
- mcp-push / Apprise / threads process: spawn to exit of `python -m mcp_push send`, `apprise -t -b URL...`
  and `python bench/threaded_notify.py`.
Every sample is checked: all N channels must report success.
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
    apprise_cli,
    clean_env,
    content,
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
from bench.stdio import Session

WARM = ("mcp-push", "apprise", "threads")
CONTENDERS = (*(f"{c} warm" for c in WARM), *(f"{c} process" for c in WARM))


def mcp_push_cmd(n: int, *args: str) -> list[str]:
    """`python -m mcp_push ...`, or the redirecting launcher when a fixed-host channel is among the n."""
    return [PY, script("redirect.py"), *args] if chan.needs_redirect(n) else [PY, "-m", "mcp_push", *args]


def mcp_push_env(n: int, server: LocalServer, work: Path) -> dict[str, str]:
    env = clean_env(work, **GUARDS_OFF, **chan.env_for(n, server.port, server.smtp_port))
    if chan.needs_redirect(n):
        env["BENCH_REDIRECT_PORT"] = str(server.port)
    return env


def min_spacing(n: int) -> float:
    """Seconds between two warm mcp-push calls so that no channel's documented rate limit (`rates`, e.g.
    Telegram 1/s, DingTalk 20/min) makes mcp-push pace a send: the benchmark times delivery, not pacing."""
    from channels import load

    worst = 0.0
    for name in chan.chosen(n):
        for rate in getattr(load(name), "rates", ()):
            worst = max(worst, rate.per / rate.count)
    return worst * 1.05


def check_report(result: dict[str, Any], n: int) -> dict[str, float]:
    """Assert all n channels delivered; each channel's own elapsed time (s), as mcp-push measured it."""
    report = result.get("structuredContent") or {}
    channels = report.get("results", [])
    failed = [f"{r['name']}: {r['error']}" for r in channels if not r["ok"]]
    if report.get("status") != "delivered" or len(channels) != n:
        raise AssertionError(f"mcp-push did not deliver to all {n}: {report.get('summary')} {failed}")
    return {r["name"]: r["elapsed_ms"] / 1000 for r in channels}


class Contenders:
    """Everything one channel count needs, set up once and warmed."""

    def __init__(self, n: int, server: LocalServer, work: Path, process: bool, warmup: int) -> None:
        self.n, self.server, self.work, self.process, self.warmup = n, server, work, process, warmup
        self.urls_apprise = [f"json://127.0.0.1:{server.port}/apprise/{i}" for i in range(n)]
        self.urls_threads = [f"{server.base}/threads/{i}" for i in range(n)]
        self.session: Session | None = None
        self.channel_path: list[float] = []
        self.per_channel: list[dict[str, float]] = []
        self.spacing = min_spacing(n)
        self.last_call = -1e9

    async def setup(self) -> None:
        import apprise

        from bench import threaded_notify

        self.threaded = threaded_notify
        self.session = await Session.start(
            mcp_push_cmd(self.n), mcp_push_env(self.n, self.server, self.work), self.work
        )
        self.apprise = apprise.Apprise()
        for url in self.urls_apprise:
            if not self.apprise.add(url):
                raise RuntimeError(f"Apprise refused {url}")
        # Warm-up: imports done, connections open, WeCom's token cached; not measured.
        for _ in range(self.warmup):
            await self.mcp_push_warm()
            self.apprise_warm()
            self.threads_warm()
        self.channel_path.clear()
        self.per_channel.clear()

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()

    async def mcp_push_warm(self) -> float:
        assert self.session is not None
        wait = self.last_call + self.spacing - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)  # untimed: see min_spacing
        self.last_call = time.monotonic()
        elapsed, result = await self.session.timed_call("notify.send", {"title": TITLE, "content": content()})
        per_channel = check_report(result, self.n)
        self.per_channel.append(per_channel)
        self.channel_path.append(max(per_channel.values()))
        return elapsed

    def apprise_warm(self) -> float:
        started = time.perf_counter()
        ok = self.apprise.notify(body=content(), title=TITLE)
        elapsed = time.perf_counter() - started
        if not ok:
            raise AssertionError(f"Apprise did not deliver to all {self.n}")
        return elapsed

    def threads_warm(self) -> float:
        started = time.perf_counter()
        delivered = self.threaded.send(TITLE, content(), self.urls_threads, echo=False)
        elapsed = time.perf_counter() - started
        if delivered != self.n:
            raise AssertionError(f"threads delivered to {delivered} of {self.n}")
        return elapsed

    def spawn(self, who: str) -> float:
        work, n = self.work, self.n
        if who == "mcp-push":
            cmd, env = mcp_push_cmd(n, "send", TITLE, content()), mcp_push_env(n, self.server, work)
        elif who == "apprise":
            cli = apprise_cli()
            if cli is None:
                raise RuntimeError("the apprise command is not installed")
            cmd, env = [cli, "-t", TITLE, "-b", content(), *self.urls_apprise], clean_env(work)
        else:
            cmd = [PY, script("threaded_notify.py"), TITLE, content()]
            env = clean_env(work, BENCH_URLS=" ".join(self.urls_threads))
        elapsed, code, err = timed_run(cmd, env, work)
        if code != 0:
            raise AssertionError(f"{who} process exited {code}: {err}")
        return elapsed

    async def measure(self, contender: str) -> float:
        who, mode = contender.split(" ")
        if mode == "process":
            return self.spawn(who)
        if who == "mcp-push":
            return await self.mcp_push_warm()
        return self.apprise_warm() if who == "apprise" else self.threads_warm()


async def run_async(counts: list[int], reps: int, delay: float, process: bool, warmup: int) -> dict[str, Any]:
    contenders = [c for c in CONTENDERS if process or c.endswith("warm")]
    samples: dict[str, dict[str, list[float]]] = {str(n): {c: [] for c in contenders} for n in counts}
    channel_path: dict[str, list[float]] = {}
    per_channel: dict[str, list[dict[str, float]]] = {}
    requests: dict[str, dict[str, list[int]]] = {str(n): {c: [] for c in contenders} for n in counts}
    with workdir() as work, LocalServer(delay) as server:
        for n in counts:
            group = Contenders(n, server, work, process, warmup)
            try:
                await group.setup()
                for rep in range(reps):
                    for contender in rotate(contenders, rep + n):
                        server.reset()
                        samples[str(n)][contender].append(await group.measure(contender))
                        requests[str(n)][contender].append(server.stats()["total"])
                channel_path[str(n)] = group.channel_path
                per_channel[str(n)] = group.per_channel
            finally:
                await group.close()
            print(f"  {n} channel(s): done", flush=True)
    return {"samples": samples, "channel_path": channel_path, "per_channel": per_channel, "server_requests": requests}


def summarize(data: dict[str, Any], counts: list[int], delay: float) -> tuple[dict[str, Any], list[Target], str]:
    medians = {n: {c: median(v) for c, v in data["samples"][n].items()} for n in data["samples"]}
    channel_path = {n: median(v) for n, v in data["channel_path"].items()}
    rows = []
    for n in map(str, counts):
        m = medians[n]
        for mode in ("warm", "process"):
            mine = m.get(f"mcp-push {mode}")
            if mine is None:
                continue
            app, thr = m.get(f"apprise {mode}"), m.get(f"threads {mode}")
            rows.append([n, mode, ms(mine), ms(app), ms(thr), ratio(app, mine), ratio(thr, mine), ratio(mine, delay)])
    text = table(
        [
            "channels",
            "mode",
            "mcp-push ms",
            "Apprise ms",
            "threads ms",
            "Apprise/mcp-push",
            "threads/mcp-push",
            "mcp-push/D",
        ],
        rows,
    )
    extra = table(
        ["channels", "mcp-push warm ms", "slowest channel inside mcp-push ms", "overhead ms"],
        [
            [
                n,
                ms(medians[n].get("mcp-push warm")),
                ms(channel_path.get(n)),
                ms((medians[n].get("mcp-push warm") or 0) - (channel_path.get(n) or 0)),
            ]
            for n in map(str, counts)
            if channel_path.get(n) is not None
        ],
    )
    largest = str(max(counts))
    calls = data["per_channel"].get(largest) or []
    if calls:
        by_channel = {name: median([c[name] for c in calls]) for name in calls[0]}
        slowest = sorted(by_channel.items(), key=lambda item: -item[1])[:5]
        extra += "\n\n" + table(
            [f"slowest channels inside mcp-push at {largest}", "median ms"], [[k, ms(v)] for k, v in slowest]
        )
    targets = []
    if "25" in medians and delay > 0:
        warm25 = medians["25"].get("mcp-push warm")
        targets.append(Target("warm fan-out to 25 channels", warm25 and warm25 * 1000, 1100 * delay, "ms"))
    return {"medians": medians, "channel_path_median": channel_path}, targets, text + "\n\n" + extra


def main(
    counts: list[int], reps: int, delay: float, process: bool, results: Path = RESULTS, warmup: int = 2
) -> dict[str, Any]:
    params = {"counts": counts, "reps": reps, "delay_s": delay, "process": process, "warmup": warmup}
    run = Run("fanout", params, results)
    print(run.header(), flush=True)
    data = asyncio.run(run_async(counts, reps, delay, process, warmup))
    summary, targets, text = summarize(data, counts, delay)
    print(f"\nFan-out, D = {delay * 1000:.0f} ms, medians of {reps}:\n{text}")
    if targets:
        print("\n" + targets_table(targets))
    path = run.save({**data, **summary}, targets, {"fanout": text})
    print(f"\nresults: {path}")
    try:
        from bench.plot import plot_fanout

        png = plot_fanout(path, path.with_suffix(".png"))
        print(f"plot: {png}")
    except ImportError:
        print("plot skipped: matplotlib is not installed")
    return {**data, **summary}
