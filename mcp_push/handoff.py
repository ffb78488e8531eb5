"""Local hand-off: a `send`, `event` or `hook` beside a running mcp-push server costs one local round trip
instead of a cold start.

A running server (stdio or the hub) listens on a Unix socket in the state directory (0600, in a 0700
directory: only the same user can connect). The client half of this module imports only the standard
library and runs before anything else is imported (`mcp_push.__main__`): it checks the arguments as the
command would, sends them with its environment, working directory and piped input, and prints what comes
back. The server loads the client's configuration from that environment and directory and takes the
command only when it equals its own (same channels, same settings), then runs it exactly as the command
would run (`cli.handed`), with its warm connections and with guards of the command's own, and returns its
output and exit code. The client falls back to doing the work itself when there is no server, when the
server does not take it within ACK_S, or when the configurations differ, so the result is always that of
a direct run. A PermissionRequest is never handed off: its wait is for a human, not for a cold start.
"""

from __future__ import annotations

import _socket
import io
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcp_push.config import Config

SOCKET = "server.sock"
ACK_S = 0.5  # how long a client waits for the server to take its command
COMMANDS = ("send", "event", "hook")
STDIN_MAX = 16 * 1024 * 1024
LINE_MAX = 64 * 1024 * 1024  # one request: the environment, the arguments, piped input
FALSE = ("0", "false", "no", "off")


def socket_path(environ: dict[str, str] | os._Environ[str]) -> Path:
    """Where a server of this state directory listens (`Settings.state_dir`, from the environment alone)."""
    home = environ.get("MCP_PUSH_HOME")
    if home:
        return Path(home).expanduser() / SOCKET
    base = environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "mcp-push" / SOCKET


# ---- the client: standard library only --------------------------------------------------------------


def hand_off(argv: list[str]) -> int | None:
    """The exit code of the command as a running server ran it, or None to run it here."""
    if not hasattr(_socket, "AF_UNIX") or os.environ.get("MCP_PUSH_HANDOFF", "").strip().lower() in FALSE:
        return None
    if argv[0] not in COMMANDS or "--print-config" in argv:  # the config names this process's Python
        return None
    path = socket_path(os.environ)
    if not path.exists():
        return None
    from mcp_push.args import stdin_wanted

    wanted = stdin_wanted(argv)
    if wanted is None:
        return None
    piped = sys.stdin.buffer.read(STDIN_MAX).decode("utf-8", "replace") if wanted and _piped_stdin() else None
    if argv[0] == "hook" and _event(piped if piped is not None else argv[-1]) == "PermissionRequest":
        return _unread(piped)  # Claude Code's and Codex's: the wait is for a human, and its output for the agent
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.settimeout(ACK_S)
        sock.connect(str(path))
        request = {"v": 1, "argv": argv, "cwd": os.getcwd(), "env": dict(os.environ), "stdin": piped}
        sock.sendall(json.dumps(request).encode() + b"\n")
        lines = _Lines(sock)
        taken = json.loads(lines.next(4096) or b"{}").get("taken") is True
    except (OSError, ValueError, AttributeError):
        sock.close()
        return _unread(piped)
    if not taken:
        sock.close()
        return _unread(piped)
    try:
        sock.settimeout(_patience(argv[0]))
        answer = json.loads(lines.next(LINE_MAX))
        sys.stdout.write(answer["stdout"])
        sys.stderr.write(answer["stderr"])
        return int(answer["code"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        # It was taken, so it may have gone out: running it here too could send it twice.
        problem = f"the running mcp-push server took the command but did not report back ({type(exc).__name__})"
        if argv[0] == "hook":
            _idle(argv[1])
            print(f"mcp-push hook: {problem}", file=sys.stderr)
            return 0
        print(f"mcp-push: {problem}", file=sys.stderr)
        return 1
    finally:
        sock.close()


class _Lines:
    """Lines from a socket; `_socket` and not `socket`, whose import (selectors and all) costs ~5 ms."""

    def __init__(self, sock: Any) -> None:
        self.sock = sock
        self.buffer = b""

    def next(self, limit: int) -> bytes:
        while b"\n" not in self.buffer:
            if len(self.buffer) > limit:
                raise ValueError("line over the limit")
            chunk = self.sock.recv(1024 * 1024)
            if not chunk:
                raise ValueError("the server closed the connection")
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line


def _idle(agent: str) -> None:
    """The agent's own stdout for "no decision", so that a hook the server lost still lets it go on
    (a rare path: importing the agent here costs nothing that matters)."""
    try:
        from mcp_push.hooks import load

        text = load(agent).output(None)
    except Exception:  # noqa: BLE001 - a hook must never fail the agent
        return
    if text is not None:
        print(text)


def _piped_stdin() -> bool:
    return sys.stdin is not None and not sys.stdin.isatty()


def _unread(piped: str | None) -> None:
    """Put back what was read from stdin, for the command to run here after all."""
    if piped is not None:
        sys.stdin = io.TextIOWrapper(io.BytesIO(piped.encode()), encoding="utf-8")
    return None


def _event(piped: str | None) -> str | None:
    try:
        payload = json.loads(piped or "")
    except ValueError:
        return None
    return payload.get("hook_event_name") if isinstance(payload, dict) else None


def _patience(command: str) -> float:
    """Long enough for the server to do what the command would: its deadline, and a margin."""
    name = "MCP_PUSH_HOOK_DEADLINE" if command == "hook" else "MCP_PUSH_DEADLINE"
    try:
        return float(os.environ.get(name) or (5 if command == "hook" else 30)) + 15
    except ValueError:
        return 45.0


# ---- the server ---------------------------------------------------------------------------------------


# Beyond the settings and every channel's variables: what else changes how a send goes out.
OTHER_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "SSL_CERT_FILE", "SSL_CERT_DIR")


def fingerprint(config: Config) -> tuple[tuple[str, str], ...]:
    """What makes two configurations send the same way: every variable mcp-push reads, as set."""
    from channels import REGISTRY, load
    from mcp_push.config import Settings

    names = {*Settings.model_fields, *OTHER_VARIABLES, *(n.lower() for n in OTHER_VARIABLES)}
    for channel in REGISTRY:
        names |= set(load(channel).Settings.model_fields)
    names.discard("MCP_PUSH_HANDOFF")
    values = {name: config.env[name] for name in names if config.env.get(name, "").strip()}
    values["(state dir)"] = str(config.settings.state_dir)
    return tuple(sorted(values.items()))


class Listener:
    """A running server's hand-off socket; a second server of the same state directory finds it taken
    and tries again now and then, so one of them always listens."""

    RETRY_S = 15.0

    def __init__(self, config: Config) -> None:
        self.config = config
        self.path = config.settings.state_dir / SOCKET
        self._server: Any = None
        self._mine: tuple[int, int] | None = None  # the socket file we made (device, inode)
        self._fingerprint: tuple[tuple[str, str], ...] | None = None

    async def run(self) -> None:
        """Listen for the life of the caller's task (cancel it to stop)."""
        import asyncio

        if not hasattr(_socket, "AF_UNIX") or not self.config.settings.MCP_PUSH_HANDOFF:
            return
        try:
            while not await self._listen():
                await asyncio.sleep(self.RETRY_S)
            await asyncio.Event().wait()
        finally:
            self.close()

    async def _listen(self) -> bool:
        import asyncio
        import logging

        log = logging.getLogger("mcp_push")
        self._fingerprint = await asyncio.to_thread(fingerprint, self.config)
        path = self.path
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if path.exists():
            if await _alive(path):
                return False  # another server of this state directory has it
            path.unlink(missing_ok=True)  # left behind by a server that died
        umask = os.umask(0o177)  # the socket is 0600 from its first instant
        try:
            self._server = await asyncio.start_unix_server(self._serve, path=str(path), limit=LINE_MAX)
        except OSError as exc:  # a path too long for a socket, a read-only directory: send directly then
            log.info("no hand-off socket at %s: %s", path, exc)
            return True
        finally:
            os.umask(umask)
        info = path.stat()
        self._mine = (info.st_dev, info.st_ino)
        log.info("taking hand-offs at %s", path)
        return True

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        try:
            info = self.path.stat()
            if self._mine == (info.st_dev, info.st_ino):
                self.path.unlink()
        except OSError:
            pass
        self._mine = None

    async def _serve(self, reader: Any, writer: Any) -> None:
        import asyncio
        import logging

        from mcp_push import cli, console
        from mcp_push.config import Config

        log = logging.getLogger("mcp_push")
        try:
            request = json.loads(await asyncio.wait_for(reader.readline(), 5))
            argv, env, cwd, stdin = request["argv"], request["env"], request["cwd"], request.get("stdin")
            if not (
                request.get("v") == 1
                and isinstance(argv, list)
                and all(isinstance(a, str) for a in argv)
                and argv[:1] in ([c] for c in COMMANDS)
                and isinstance(env, dict)
                and all(isinstance(k, str) and isinstance(v, str) for k, v in env.items())
                and isinstance(cwd, str)
                and (stdin is None or isinstance(stdin, str))
            ):
                raise ValueError("not a hand-off request")
            theirs = await asyncio.to_thread(Config.load, env, Path(cwd))
            same = await asyncio.to_thread(fingerprint, theirs) == self._fingerprint
            writer.write(json.dumps({"taken": same}).encode() + b"\n")
            await writer.drain()
            if not same:
                return
            with console.captured() as (out, err):
                code = await cli.handed(argv, stdin, self.config.sibling(), source=f"{argv[0]}+handoff")
            writer.write(
                json.dumps({"stdout": out.getvalue(), "stderr": err.getvalue(), "code": code}).encode() + b"\n"
            )
            await writer.drain()
        except Exception as exc:  # noqa: BLE001 - a broken hand-off is the client's to fall back from
            log.info("a hand-off failed: %s", f"{type(exc).__name__}: {exc}")
        finally:
            writer.close()


async def _alive(path: Path) -> bool:
    import asyncio

    try:
        _, writer = await asyncio.wait_for(asyncio.open_unix_connection(str(path)), 1)
    except (OSError, asyncio.TimeoutError):
        return False
    writer.close()
    return True
