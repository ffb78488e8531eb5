"""`python -m bench fanout|coldstart|throughput|all|startup|answer|handoff|rest|hub|plot|report`; see
docs/benchmarks.md."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from bench.common import RESULTS


def counts(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def _or(value: int | None, default: int) -> int:
    return default if value is None else value


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description="mcp-push benchmarks (local server only).")
    benchmarks = [
        "fanout",
        "coldstart",
        "throughput",
        "all",
        "startup",
        "answer",
        "handoff",
        "rest",
        "hub",
        "plot",
        "report",
    ]
    p.add_argument("benchmark", choices=benchmarks)
    p.add_argument("--results", type=Path, default=RESULTS, help=f"where JSON results go (default {RESULTS})")
    p.add_argument("--reps", type=int, help="repetitions per contender (fanout 9, coldstart 15, startup 15, answer 10)")
    p.add_argument("--warmup", type=int, help="untimed runs per contender first (fanout 2, coldstart 1)")
    p.add_argument("--delay", type=float, default=0.3, help="seconds each channel waits before answering (0.3)")
    p.add_argument("--channels", type=counts, default=[1, 8, 25], help="fan-out channel counts, e.g. 1,8,25")
    p.add_argument("--no-process", action="store_true", help="fanout: skip the whole-process contenders")
    p.add_argument("--rounds", type=int, default=3, help="throughput rounds (3)")
    p.add_argument("--calls", type=int, default=1000, help="throughput: measured calls (1000)")
    p.add_argument("--total", type=int, default=5000, help="throughput: calls before the second RSS reading (5000)")
    p.add_argument("--concurrency", type=int, default=10, help="throughput: calls in flight (10)")
    p.add_argument(
        "--code",
        type=Path,
        help="measure the mcp_push/ and channels/ in this directory (e.g. a `git archive` export; a COMMIT file in it "
        "names the commit) instead of the installed ones",
    )
    p.add_argument("--out", type=Path, help="plot: PNG path (default: next to the latest fanout results)")
    args = p.parse_args(argv)
    if args.total < args.calls:
        p.error("--total must be at least --calls")
    if args.code:
        code = args.code.resolve()
        if not (code / "mcp_push" / "__init__.py").exists():
            p.error(f"{code} has no mcp_push package")
        os.environ["BENCH_CODE"] = str(code)
        sys.path.insert(0, str(code))

    if args.benchmark in ("fanout", "all"):
        from bench import fanout

        fanout.main(args.channels, args.reps or 9, args.delay, not args.no_process, args.results, _or(args.warmup, 2))
    if args.benchmark in ("coldstart", "all"):
        from bench import coldstart

        coldstart.main(args.reps or 15, args.delay, args.results, _or(args.warmup, 1))
    if args.benchmark in ("throughput", "all"):
        from bench import throughput

        throughput.main(args.rounds, args.calls, args.total, args.concurrency, args.results)
    if args.benchmark == "startup":
        from bench import startup

        startup.main(args.reps or 15, args.results)
    if args.benchmark in ("handoff", "rest", "hub"):
        from bench import hub

        hub.main(args.benchmark, args.reps or 15, args.delay, _or(args.warmup, 1), args.rounds, args.calls,
                 args.concurrency, args.results)  # fmt: skip
    if args.benchmark == "answer":
        from bench import answer

        answer.main(args.reps or 10, args.results)
    if args.benchmark == "plot":
        from bench.plot import plot_fanout

        latest = args.results / "fanout-latest.json"
        if not latest.exists():
            p.error(f"no {latest}: run `python -m bench fanout` first")
        print(plot_fanout(latest, args.out or latest.with_suffix(".png")))
    if args.benchmark == "report":
        from bench.report import report

        print(report(args.results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
