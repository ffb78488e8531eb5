"""Shared by the benchmarks: the local server process, clean environments, statistics, tables, results."""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
PY = sys.executable
TITLE = "Bench"
CONTENT = "Benchmark message from bench/."
# mcp-push's abuse guards (duplicate suppression, a per-minute cap) would skip most benchmark sends; the
# benchmarks measure delivery, so they switch them off. Unknown names are ignored by older versions.
GUARDS_OFF = {"MCP_PUSH_DEDUPE_SECONDS": "0", "MCP_PUSH_MAX_PER_MINUTE": "0"}
_serial = 0


def content() -> str:
    """The benchmark message, numbered: every notification differs, as real ones do."""
    global _serial
    _serial += 1
    return f"{CONTENT} #{_serial}"


# ---- machine ---------------------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def package_version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


def machine() -> dict[str, Any]:
    return {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu_model": cpu_model(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "loadavg_start": list(os.getloadavg()),
        "code": code_under_test(),
        "versions": {n: package_version(n) for n in ("mcp-push", "mcp", "httpx", "pydantic", "apprise", "requests")},
    }


# ---- statistics ------------------------------------------------------------------------------------


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def ms(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds * 1000:.0f}"


def ratio(a: float | None, b: float | None) -> str:
    return "–" if not a or not b else f"{a / b:.2f}"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub-markdown table, also readable as plain text."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    out = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |" for row in cells]
    out.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)


@dataclass
class Target:
    name: str
    value: float | None
    limit: float
    unit: str
    higher_is_better: bool = False

    @property
    def met(self) -> bool | None:
        if self.value is None:
            return None
        return self.value >= self.limit if self.higher_is_better else self.value <= self.limit

    def row(self) -> list[str]:
        op = "≥" if self.higher_is_better else "≤"
        verdict = {True: "met", False: "MISSED", None: "not measured"}[self.met]
        value = "–" if self.value is None else f"{self.value:.{2 if self.unit == 'x' else 0}f}"
        limit = f"{self.limit:.{2 if self.unit == 'x' else 0}f}"
        return [self.name, f"{value} {self.unit}", f"{op} {limit} {self.unit}", verdict]

    def as_dict(self) -> dict[str, Any]:
        op = "≥" if self.higher_is_better else "≤"
        return {
            "name": self.name,
            "value": self.value,
            "limit": self.limit,
            "op": op,
            "unit": self.unit,
            "met": self.met,
        }


def targets_table(targets: Sequence[Target]) -> str:
    return table(["target", "measured", "limit", "verdict"], [t.row() for t in targets])


# ---- results ---------------------------------------------------------------------------------------


@dataclass
class Run:
    name: str
    params: dict[str, Any]
    results_dir: Path = RESULTS
    run_id: str = field(default_factory=lambda: datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ"))
    started: float = field(default_factory=time.time)
    machine: dict[str, Any] = field(default_factory=machine)

    def save(self, data: dict[str, Any], targets: Sequence[Target], tables: dict[str, str]) -> Path:
        self.machine["loadavg_end"] = list(os.getloadavg())
        doc = {
            "benchmark": self.name,
            "run_id": self.run_id,
            "duration_s": round(time.time() - self.started, 1),
            "params": self.params,
            "machine": self.machine,
            "targets": [t.as_dict() for t in targets],
            "tables": tables,
            **data,
        }
        self.results_dir.mkdir(parents=True, exist_ok=True)
        path = self.results_dir / f"{self.name}-{self.run_id}.json"
        text = json.dumps(doc, indent=2, ensure_ascii=False)
        path.write_text(text)
        (self.results_dir / f"{self.name}-latest.json").write_text(text)
        return path

    def header(self) -> str:
        m = self.machine
        return (
            f"# {self.name} — run {self.run_id} — {m['nproc']} cores {m['cpu_model']}, Python {m['python']}, "
            f"load {m['loadavg_start'][0]:.2f}"
        )


# ---- processes and environments -------------------------------------------------------------------


@contextmanager
def workdir() -> Iterator[Path]:
    """A scratch directory used as cwd and HOME, so no ./config.env or ~/.apprise can leak in."""
    with tempfile.TemporaryDirectory(prefix="mcp-push-bench-") as tmp:
        path = Path(tmp)
        (path / "home").mkdir()
        yield path


def clean_env(work: Path, **extra: str) -> dict[str, str]:
    """Only what a process needs; nothing of the caller's channel settings, proxies or config files."""
    keep = ("PATH", "LANG", "LC_ALL", "TZ", "SYSTEMROOT", "TMPDIR")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(
        HOME=str(work / "home"),
        XDG_CONFIG_HOME=str(work / "home" / ".config"),
        XDG_STATE_HOME=str(work / "home" / ".state"),
        MCP_PUSH_HOME=str(work / "state"),
        NO_PROXY="*",
        PYTHONUNBUFFERED="1",
    )
    code = os.environ.get("BENCH_CODE")
    if code:  # benchmark another copy of mcp-push (e.g. `git archive` of a commit) than the installed one
        env["PYTHONPATH"] = code
    env.update(extra)
    return env


def code_under_test() -> dict[str, str | None]:
    """Which mcp-push is measured: the directory its package comes from and, if known, its commit."""
    code = os.environ.get("BENCH_CODE") or str(ROOT)
    commit = None
    marker = Path(code) / "COMMIT"
    if marker.exists():
        commit = marker.read_text().strip()
    elif (Path(code) / ".git").exists():
        proc = subprocess.run(["git", "-C", code, "rev-parse", "HEAD"], capture_output=True, text=True, check=False)
        dirty = subprocess.run(
            ["git", "-C", code, "status", "--porcelain", "--", "mcp_push", "channels"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        commit = proc.stdout.strip() + (" (with uncommitted changes)" if dirty else "")
    return {"path": code, "commit": commit}


def script(name: str) -> str:
    return str(BENCH / name)


def apprise_cli() -> str | None:
    beside = Path(PY).with_name("apprise")
    return str(beside) if beside.exists() else shutil.which("apprise")


class LocalServer:
    """`bench/server.py` in a process of its own."""

    def __init__(self, delay: float, max_seconds: float = 3600) -> None:
        self.proc = subprocess.Popen(
            [PY, script("server.py"), "--delay", str(delay), "--max-seconds", str(max_seconds)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the local bench server did not start")
        ports = json.loads(line)
        self.port: int = ports["http"]
        self.smtp_port: int = ports["smtp"]
        self.delay = delay

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _control(self, path: str, method: str = "GET") -> dict[str, Any]:
        request = urllib.request.Request(self.base + path, method=method, data=b"" if method == "POST" else None)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never a proxy
        with opener.open(request, timeout=10) as response:
            return json.loads(response.read())

    def stats(self) -> dict[str, Any]:
        return self._control("/__stats")

    def reset(self) -> None:
        self._control("/__reset", "POST")

    def set_delay(self, seconds: float) -> None:
        self._control(f"/__delay?s={seconds}", "POST")
        self.delay = seconds

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> LocalServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def timed_run(cmd: Sequence[str], env: dict[str, str], cwd: Path, timeout: float = 120) -> tuple[float, int, str]:
    """Spawn to exit, in seconds; (elapsed, exit code, stderr tail)."""
    started = time.perf_counter()
    proc = subprocess.run(
        list(cmd),
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=timeout,
        check=False,
    )
    elapsed = time.perf_counter() - started
    return elapsed, proc.returncode, proc.stderr.decode(errors="replace")[-2000:]


def rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time a process has used so far (all its threads)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rotate(items: Sequence[Any], k: int) -> list[Any]:
    """The k-th rotation, so that over the repetitions every contender goes first equally often."""
    k %= len(items)
    return list(items[k:]) + list(items[:k])
