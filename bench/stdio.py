"""A minimal MCP client over stdio: newline-delimited JSON-RPC to a child process.

Deliberately thin (no SDK): on a 2-core machine the client shares the CPU with the server it measures, so
the less it does per call, the more the numbers say about the server. It knows `initialize`,
`notifications/initialized` and `tools/call`, and it reads the server's RSS from /proc.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.common import cpu_seconds, rss_kib

PROTOCOL = "2025-06-18"
INITIALIZE = {
    "protocolVersion": PROTOCOL,
    "capabilities": {},
    "clientInfo": {"name": "mcp-push-bench", "version": "0"},
}


class RpcError(Exception):
    pass


def initialize_line(request_id: int = 1) -> bytes:
    message = {"jsonrpc": "2.0", "id": request_id, "method": "initialize", "params": INITIALIZE}
    return json.dumps(message).encode() + b"\n"


class Session:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self._next = 1
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def start(cls, cmd: Sequence[str], env: dict[str, str], cwd: Path, initialize: bool = True) -> Session:
        proc = await asyncio.create_subprocess_exec(
            *cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            limit=2**24,
        )
        session = cls(proc)
        if initialize:
            await session.initialize()
        return session

    @property
    def pid(self) -> int:
        return self.proc.pid

    def rss_kib(self) -> int | None:
        return rss_kib(self.proc.pid)

    def cpu_seconds(self) -> float | None:
        return cpu_seconds(self.proc.pid)

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        while True:
            line = await self.proc.stdout.readline()
            if not line:
                break
            message = json.loads(line)
            if "id" in message and "method" not in message:
                future = self._waiting.pop(message["id"], None)
                if future is not None and not future.done():
                    future.set_result(message)
            # notifications (logging) and server-initiated requests are not used by the benchmarks
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(RpcError("the server closed its stdout"))

    def _send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(message).encode() + b"\n")

    async def request(self, method: str, params: dict[str, Any], timeout: float = 60) -> dict[str, Any]:
        request_id = self._next
        self._next += 1
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = future
        self._send({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        message = await asyncio.wait_for(future, timeout)
        if "error" in message:
            raise RpcError(f"{method}: {message['error']}")
        return message["result"]

    async def initialize(self) -> dict[str, Any]:
        result = await self.request("initialize", INITIALIZE)
        self._send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return result

    async def call_tool(self, name: str, arguments: dict[str, Any], timeout: float = 60) -> dict[str, Any]:
        return await self.request("tools/call", {"name": name, "arguments": arguments}, timeout)

    async def timed_call(self, name: str, arguments: dict[str, Any]) -> tuple[float, dict[str, Any]]:
        started = time.perf_counter()
        result = await self.call_tool(name, arguments)
        return time.perf_counter() - started, result

    async def close(self) -> None:
        if self.proc.stdin is not None and not self.proc.stdin.is_closing():
            self.proc.stdin.close()
        try:
            await asyncio.wait_for(self.proc.wait(), 5)
        except asyncio.TimeoutError:
            self.proc.kill()
            await self.proc.wait()
        self._reader.cancel()


def spawn_to_initialize(cmd: Sequence[str], env: dict[str, str], cwd: Path, timeout: float = 30) -> float:
    """Seconds from spawning the server to reading its `initialize` reply (request written at once)."""
    import selectors

    started = time.perf_counter()
    proc = subprocess.Popen(
        list(cmd), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd=cwd
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(initialize_line())
        proc.stdin.flush()
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            if not sel.select(timeout):
                raise TimeoutError(f"no initialize reply from {cmd} within {timeout} s")
            line = proc.stdout.readline()
        elapsed = time.perf_counter() - started
        reply = json.loads(line)
        if "result" not in reply:
            raise RpcError(f"initialize failed: {reply}")
        return elapsed
    finally:
        proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
