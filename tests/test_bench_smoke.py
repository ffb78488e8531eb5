"""The benchmarks (`python -m bench ...`) still run: each once, with tiny sizes, on the local server only.

Not a measurement: no number is checked, only that every contender delivered and the results were written.
Skipped unless the optional `bench` extra (apprise, requests, matplotlib) is installed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

for module in ("apprise", "requests", "matplotlib"):
    pytest.importorskip(module, reason="the optional `bench` extra is not installed")

ROOT = Path(__file__).parent.parent

if shutil.which("apprise") is None and not Path(sys.executable).with_name("apprise").exists():
    pytest.skip("the apprise command is not installed", allow_module_level=True)


def bench(results: Path, *args: str) -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", "bench", *args, "--results", str(results)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads((results / f"{args[0]}-latest.json").read_text())


def test_fanout(tmp_path):
    doc = bench(tmp_path, "fanout", "--channels", "2", "--reps", "1", "--warmup", "0", "--delay", "0")
    assert set(doc["samples"]["2"]) == {
        f"{who} {mode}" for who in ("mcp-push", "apprise", "threads") for mode in ("warm", "process")
    }
    assert all(len(v) == 1 for v in doc["samples"]["2"].values())
    assert list(tmp_path.glob("fanout-*.png"))


def test_coldstart(tmp_path):
    doc = bench(tmp_path, "coldstart", "--reps", "1", "--warmup", "0", "--delay", "0")
    assert set(doc["medians"]) == {
        "mcp-push send",
        "apprise CLI",
        "threads script",
        "stack floor: imports only, + D",
        "mcp-push server",
        "bare FastMCP",
    }
    assert [t["met"] is not None for t in doc["targets"]] == [True, True, True]


def test_throughput_and_report(tmp_path):
    doc = bench(tmp_path, "throughput", "--rounds", "1", "--calls", "20", "--total", "30", "--concurrency", "4")
    assert doc["rounds"]["mcp-push"][0]["server_requests"] == 3 * (4 + 30)  # warm-up + all calls, 3 channels
    assert doc["medians"]["bare FastMCP"]["calls_per_s"] > 0
    report = subprocess.run(
        [sys.executable, "-m", "bench", "report", "--results", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    assert "### throughput: run" in report and "| target |" in report


def test_answer_latency(tmp_path):
    doc = bench(tmp_path, "answer", "--reps", "1")
    assert set(doc["printed"]) == {"telegram", "ntfy", "telegram, another asker reads"}
    assert all(len(v) == 1 for v in doc["printed"].values())
    assert [t["met"] is not None for t in doc["targets"]] == [True, True, True]


def test_handoff_and_rest(tmp_path):
    doc = bench(tmp_path, "handoff", "--reps", "1", "--warmup", "0", "--delay", "0")
    assert set(doc["medians"]) == {
        "notify.py cold send",
        "mcp-push send, no server",
        "mcp-push send, server running",
        "mcp-push hook claude-code, server running",
        "interpreter only",
    }
    doc = bench(tmp_path, "rest", "--rounds", "1", "--calls", "20", "--concurrency", "4")
    assert set(doc["medians"]) == {"hub REST", "stdio server"}
    assert [t["met"] is not None for t in doc["targets"]] == [True, True]
