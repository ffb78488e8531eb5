"""How long Claude Code waits on the hook: `python -m mcp_push hook claude-code`, the whole process.

    python bench/hook_timing.py [-n 20] [--delay 0.0]

Each run spawns the hook exactly as the printed settings.json does, feeds it a Stop payload for a
ten-minute session (with a real JSONL transcript) and sends to one custom webhook on 127.0.0.1, which
answers after `--delay` seconds. Prints the median wall time from spawn to exit; the goal is under 1 s.
Standalone on purpose: it shares nothing with the other benchmarks in this directory.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def serve(delay: float) -> tuple[ThreadingHTTPServer, list[bytes]]:
    bodies: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            bodies.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            time.sleep(delay)
            body = b'{"ok": true}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, bodies


def stop_payload(workdir: Path) -> bytes:
    """A Stop hook's input for a session that began ten minutes ago, as Claude Code sends it."""

    def ts(ago: float) -> str:
        return (datetime.now(timezone.utc) - timedelta(seconds=ago)).isoformat(timespec="milliseconds")

    entries = [
        {"type": "user", "timestamp": ts(600), "message": {"role": "user", "content": "Fix the failing tests"}},
        {
            "type": "assistant",
            "timestamp": ts(590),
            "message": {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "Bash"}]},
        },
        {
            "type": "assistant",
            "timestamp": ts(1),
            "message": {"role": "assistant", "content": [{"type": "text", "text": "All 42 tests pass now."}]},
        },
    ]
    transcript = workdir / "session.jsonl"
    transcript.write_text("".join(json.dumps(e) + "\n" for e in entries), encoding="utf-8")
    payload = {
        "session_id": "3f9a2c71-8d4e-4b6a-9f1e-2a7c5d0e8b41",
        "transcript_path": str(transcript),
        "cwd": str(workdir),
        "permission_mode": "default",
        "hook_event_name": "Stop",
        "stop_hook_active": False,
    }
    return json.dumps(payload).encode()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-n", type=int, default=20, help="runs (20)")
    p.add_argument("--delay", type=float, default=0.0, help="seconds the channel waits before answering (0)")
    args = p.parse_args()

    server, bodies = serve(args.delay)
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": tmp,
            "XDG_CONFIG_HOME": str(workdir / "xdg"),
            "MCP_PUSH_HOME": str(workdir / "state"),
            "WEBHOOK_URL": f"http://127.0.0.1:{server.server_address[1]}/hook",
        }
        command = [sys.executable, "-m", "mcp_push", "hook", "claude-code"]
        for _ in range(args.n):
            data = stop_payload(workdir)
            started = time.perf_counter()
            proc = subprocess.run(command, input=data, env=env, cwd=tmp, capture_output=True, timeout=60)
            times.append(time.perf_counter() - started)
            if proc.returncode != 0 or json.loads(proc.stdout) != {"continue": True, "suppressOutput": True}:
                print(f"unexpected result: rc={proc.returncode} {proc.stdout!r} {proc.stderr!r}", file=sys.stderr)
                return 1
    server.shutdown()
    if len(bodies) != args.n:
        print(f"the channel got {len(bodies)} of {args.n} notifications", file=sys.stderr)
        return 1
    median = statistics.median(times)
    print(
        f"hook claude-code, Stop -> 1 local webhook (answers after {args.delay:g} s), {args.n} runs: "
        f"median {median * 1000:.0f} ms, min {min(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms "
        f"({'under' if median < 1 else 'OVER'} the 1 s goal)"
    )
    return 0 if median < 1 else 1


if __name__ == "__main__":
    sys.exit(main())
