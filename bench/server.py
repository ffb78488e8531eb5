"""The benchmarks' local server: HTTP/1.1 (keep-alive) and a tiny SMTP responder, answering after a delay.

asyncio, one process of its own (so its work never shares a GIL with a measured client), any number of
slow requests at once: each request sleeps `delay` seconds on the event loop, then gets the success body
its channel expects (`bench/targets.py`). Listens on 127.0.0.1 only and stops by itself after
`--max-seconds`, or when its stdin closes.

    python -m bench.server --delay 0.3          # prints {"http": PORT, "smtp": PORT} on one line

Control paths (never delayed): GET /__stats (requests counted per route), POST /__reset,
POST /__delay?s=0.3 (change the delay).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections import Counter
from urllib.parse import parse_qs, urlsplit

try:
    from bench.targets import answer
except ImportError:  # run as a file
    from targets import answer  # type: ignore[no-redef]

REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found"}


class BenchServer:
    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.counts: Counter[str] = Counter()
        self.inflight = 0
        self.peak_inflight = 0
        self.connections = 0

    # ---- HTTP -------------------------------------------------------------------------------------

    async def http(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, target, version = [*lines[0].split(" ", 2), "", ""][:3]
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                await self._read_body(reader, headers)
                keep = headers.get("connection", "").lower() != "close" and version.upper() == "HTTP/1.1"
                status, ctype, body = await self._respond(method, target, headers.get("host", ""))
                writer.write(
                    (
                        f"HTTP/1.1 {status} {REASONS.get(status, 'OK')}\r\nContent-Type: {ctype}\r\n"
                        f"Content-Length: {len(body)}\r\nConnection: {'keep-alive' if keep else 'close'}\r\n\r\n"
                    ).encode()
                    + body
                )
                await writer.drain()
                if not keep:
                    return
        except ConnectionError:
            return
        finally:
            writer.close()

    @staticmethod
    async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            chunks = []
            while True:
                size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while (await reader.readline()) not in (b"\r\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(await reader.readexactly(size))
                await reader.readline()
        length = int(headers.get("content-length") or 0)
        return await reader.readexactly(length) if length else b""

    async def _respond(self, method: str, target: str, host: str) -> tuple[int, str, bytes]:
        path = urlsplit(target).path
        if path.startswith("/__"):
            return self._control(method, target)
        route, (status, ctype, body) = answer(host, target)
        self.counts[route] += 1
        self.inflight += 1
        self.peak_inflight = max(self.peak_inflight, self.inflight)
        try:
            if self.delay > 0:
                await asyncio.sleep(self.delay)
        finally:
            self.inflight -= 1
        return status, ctype, body

    def _control(self, method: str, target: str) -> tuple[int, str, bytes]:
        parts = urlsplit(target)
        if parts.path == "/__stats":
            stats = {
                "counts": dict(self.counts),
                "total": sum(self.counts.values()),
                "peak": self.peak_inflight,
                "connections": self.connections,
            }
            return 200, "application/json", json.dumps(stats).encode()
        if parts.path == "/__reset" and method == "POST":
            self.counts.clear()
            self.peak_inflight = 0
            self.connections = 0
            return 200, "application/json", b"{}"
        if parts.path == "/__delay" and method == "POST":
            self.delay = float(parse_qs(parts.query).get("s", ["0"])[0])
            return 200, "application/json", json.dumps({"delay": self.delay}).encode()
        return 404, "text/plain", b"unknown control path"

    # ---- SMTP: enough of RFC 5321 for one plain (no TLS, no AUTH) delivery per connection ----------

    async def smtp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        def say(line: str) -> None:
            writer.write(line.encode() + b"\r\n")

        try:
            say("220 bench ESMTP")
            await writer.drain()
            while True:
                line = await reader.readline()
                if not line:
                    return
                verb = line[:4].decode("latin-1").upper()
                if verb in ("EHLO", "HELO"):
                    say("250-bench\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 10485760")
                elif verb == "DATA":
                    say("354 end with <CRLF>.<CRLF>")
                    await writer.drain()
                    while (await reader.readline()) not in (b".\r\n", b""):
                        pass
                    self.counts["smtp"] += 1
                    if self.delay > 0:
                        await asyncio.sleep(self.delay)
                    say("250 OK queued")
                elif verb == "QUIT":
                    say("221 bye")
                    await writer.drain()
                    return
                else:  # MAIL, RCPT, RSET, NOOP
                    say("250 OK")
                await writer.drain()
        except ConnectionError:
            return
        finally:
            writer.close()


async def run(delay: float, port: int, smtp_port: int, max_seconds: float) -> None:
    bench = BenchServer(delay)
    http = await asyncio.start_server(bench.http, "127.0.0.1", port, backlog=1024, limit=2**22)
    smtp = await asyncio.start_server(bench.smtp, "127.0.0.1", smtp_port, backlog=256)
    ports = {"http": http.sockets[0].getsockname()[1], "smtp": smtp.sockets[0].getsockname()[1]}
    print(json.dumps(ports), flush=True)
    loop = asyncio.get_running_loop()
    stdin_closed = loop.run_in_executor(None, sys.stdin.read)  # returns when the parent closes our stdin
    await asyncio.wait([asyncio.ensure_future(stdin_closed)], timeout=max_seconds)
    http.close()
    smtp.close()
    # Leave at once: open keep-alive connections need no goodbye, and the thread blocked on stdin can't be joined.
    sys.stdout.flush()
    os._exit(0)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--delay", type=float, default=0.3, help="seconds before each answer (default 0.3)")
    p.add_argument("--port", type=int, default=0, help="HTTP port (default: any free one)")
    p.add_argument("--smtp-port", type=int, default=0)
    p.add_argument("--max-seconds", type=float, default=3600, help="stop by itself after this long")
    args = p.parse_args()
    try:
        asyncio.run(run(args.delay, args.port, args.smtp_port, args.max_seconds))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
