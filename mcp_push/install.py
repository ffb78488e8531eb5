"""`mcp-push install|uninstall AGENT`: the MCP server and the hooks written into an agent's own config files.

Each agent is one small target (`_targets`): which files, in which format, and what belongs in them. The
hooks are what the agent's adapter prints for `hook AGENT --print-config`, parsed, so this module never
spells a hook entry itself; the MCP server is `python -m mcp_push` run by this very Python, so any venv works.

These files are the user's, often hand-edited and full of other tools' settings, so the merge is written to
be trusted: it edits the text around the spot it inserts (JSON, comments and trailing commas included) or
goes through tomlkit (TOML), so everything outside our entries stays byte for byte the same; it never
rewrites, reorders or removes an entry that is not ours, and it recognises ours by the command it runs
(`-m mcp_push`, `-m mcp_push hook ...`), not by position. A second install changes nothing, a backup is
written before any change, `--dry-run` shows the diff and writes nothing, and a file it cannot read is
refused, never overwritten.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NoReturn, Protocol

from mcp_push import console

SERVER = "mcp-push"  # the name every agent knows the MCP server by
BACKUP_SUFFIX = ".mcp-push.bak"
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

# Plain data for the command line (`mcp_push.args` builds `install AGENT` from it without importing more).
AGENTS: dict[str, str] = {
    "claude-code": "Claude Code: ~/.claude/settings.json hooks, the MCP server at user scope",
    "claude-desktop": "Claude Desktop: claude_desktop_config.json (MCP server only: it has no hooks)",
    "codex": "Codex: ~/.codex/config.toml (MCP server, hooks)",
    "gemini": "Gemini CLI: ~/.gemini/settings.json (MCP server, hooks)",
    "copilot": "GitHub Copilot CLI: ~/.copilot/mcp-config.json and ~/.copilot/hooks/mcp-push.json",
    "cursor": "Cursor: ~/.cursor/mcp.json and ~/.cursor/hooks.json",
    "opencode": "opencode: ~/.config/opencode/opencode.json and a plugin file in its plugins directory",
}
HINTS = {
    "codex": "Restart Codex, then trust the new hooks in its /hooks screen: Codex runs no hook it has not trusted.",
}

# What our entries run. A hook runs `<python> -m mcp_push hook <agent> ...`; the server is `<python> -m mcp_push`
# and nothing after it. A user's own `python -m mcp_push send ...` in a hook is neither, so it is never touched.
OUR_HOOK = re.compile(r"(?:^|\s)-m\s+mcp_push\s+hook(?:\s|$)")
OUR_SERVER = re.compile(r"(?:^|\s)-m\s+mcp_push\s*$")
# mcp-push's hook as a user may have written it by hand (the console script): not ours to remove, but there.
ANY_HOOK = re.compile(r"(?:-m\s+mcp_push|\bmcp-push)\s+hook(?:\s|$)")
COMMAND_KEYS = ("command", "bash", "powershell")


class Refused(Exception):
    """A file install will not touch, and why: it cannot be read, or not edited without harm."""


class _Misshapen(Refused):
    """A key where our entries go holds something else (a string where a list belongs): named with its file
    by `_edit`."""


@dataclass(frozen=True)
class Entry:
    """An MCP server's entry: added whole, removed whole, never merged into a user's entry of the same name;
    in one of ours, only what it runs is brought up to date (`_entry`)."""

    value: Any


@dataclass
class Target:
    """One file an agent reads. `want` is what must be in it: a nested dict for JSON and TOML (dicts merge,
    a list of objects is a list of entries that ours join, anything else is one value), or the whole text
    of a file that is ours alone."""

    path: Path
    format: Literal["json", "jsonc", "toml", "text"]
    want: Any
    secret: bool = True  # may hold tokens (an MCP server's env): created 0600


@dataclass
class Change:
    path: Path
    before: str | None  # None: the file does not exist
    after: str | None  # None: the file is removed
    notes: list[str] = field(default_factory=list)
    secret: bool = True


# ---------------------------------------------------------------------------------------------- the command


def run(args: argparse.Namespace) -> int:
    """`install AGENT` / `uninstall AGENT`. Every file is worked out before any is written, so a refusal of
    one leaves all of them as they were."""
    removing = args.command == "uninstall"
    out, err = console.out(), console.err()
    try:
        changes = plan(args.agent, getattr(args, "approvals", False), removing)
        claude = _claude_cli(removing) if args.agent == "claude-code" else None
    except Refused as exc:
        print(f"mcp-push: {exc}; nothing was changed", file=err)
        return EXIT_USAGE
    changed, failed = False, False
    for change in changes:
        for note in change.notes:
            print(f"{_show(change.path)}: note: {note}", file=out)
        if change.before == change.after:
            print(f"{_show(change.path)}: up to date", file=out)
            continue
        changed = True
        if args.dry_run:
            print(_diff(change), file=out, end="")
            continue
        try:
            print(f"{_show(change.path)}: {_write(change)}", file=out)
        except OSError as exc:
            print(f"mcp-push: cannot write {_show(change.path)}: {exc}", file=err)
            failed = True
    if claude is not None:
        ran, ok = _run_claude(claude, args.dry_run, out, err)
        changed, failed = changed or ran, failed or not ok
    title = AGENTS[args.agent].split(":")[0]
    if args.dry_run:
        print("dry run: nothing was written", file=out)
    elif not changed:
        print(f"mcp-push is {'not' if removing else 'already'} installed for {title}: nothing to change", file=out)
    elif not removing and not failed:
        print(HINTS.get(args.agent, f"Restart {title} to load it."), file=out)
    return EXIT_FAILED if failed else EXIT_OK


def _show(path: Path) -> str:
    home = str(Path.home())
    text = str(path)
    return "~" + text[len(home) :] if home not in ("", "/") and text.startswith(home + os.sep) else text


def _diff(change: Change) -> str:
    name = str(change.path)
    lines = difflib.unified_diff(
        (change.before or "").splitlines(keepends=True),
        (change.after or "").splitlines(keepends=True),
        fromfile=name if change.before is not None else "/dev/null",
        tofile=name if change.after is not None else "/dev/null",
    )
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


def _write(change: Change) -> str:
    """Applies one change: the old text to `<file>.mcp-push.bak` first, then the new one atomically (a temp
    file renamed over it), keeping the file's mode. A symlinked config is written through the link."""
    backup = ""
    if change.before is not None:
        saved = _backup(change.path)
        shutil.copy2(change.path, saved)  # through a symlink: the text itself
        backup = f" (backup: {_show(saved)})"
    if change.after is None:
        change.path.unlink()
        return "removed" + backup
    path = change.path.resolve() if change.path.is_symlink() else change.path
    created = change.before is None
    if created:
        _mkdir(path.parent)
        umask = os.umask(0o077)
        os.umask(umask)
        mode = 0o600 if change.secret else 0o666 & ~umask
    else:
        mode = path.stat().st_mode & 0o7777
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(change.after)
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return "created" if created else "updated" + backup


def _read(path: Path) -> str:
    """The text as it is on disk: no newline translation (`read_text` would turn CRLF into LF)."""
    return path.read_bytes().decode("utf-8")


def _backup(path: Path) -> Path:
    return path.with_name(path.name + BACKUP_SUFFIX)


def _mkdir(directory: Path) -> None:
    """Directories this creates hold config that may carry tokens: 0700, as the agents create theirs."""
    missing = [p for p in (directory, *directory.parents) if not p.exists()]
    for p in reversed(missing):
        p.mkdir(mode=0o700)


# ------------------------------------------------------------------------------------------- the agents


def _python() -> str:
    return sys.executable


def _server(**extra: Any) -> dict[str, Any]:
    return {**extra, "command": _python(), "args": ["-m", "mcp_push"]}


def _hooks(agent: str, approvals: bool) -> str:
    """What `hook AGENT --print-config [--approvals]` prints, on the same ask timeout."""
    from mcp_push.config import Config
    from mcp_push.hooks import load

    try:
        wait = Config.load().settings.MCP_PUSH_ASK_TIMEOUT
    except Exception:  # noqa: BLE001 - a broken channel config must not stop an install
        wait = 120.0
    adapter = load(agent)
    return adapter.configuration(adapter.command(), approvals, wait)


def _json_hooks(agent: str, approvals: bool) -> dict[str, Any]:
    text = _hooks(agent, approvals)
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise Refused(f"the {agent} adapter's configuration is not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise Refused(f"the {agent} adapter's configuration is not a JSON object")
    return value


def _env_dir(variable: str, default: Path) -> Path:
    value = os.environ.get(variable)
    return Path(value).expanduser() if value else default


def _xdg_config() -> Path:
    value = os.environ.get("XDG_CONFIG_HOME")
    return Path(value).expanduser() if value else Path.home() / ".config"


def claude_dir() -> Path:
    return _env_dir("CLAUDE_CONFIG_DIR", Path.home() / ".claude")


def claude_json() -> Path:
    """Claude Code's own state file, where `claude mcp add --scope user` writes: ~/.claude.json, or
    $CLAUDE_CONFIG_DIR/.claude.json when that is set."""
    base = os.environ.get("CLAUDE_CONFIG_DIR")
    return (Path(base).expanduser() if base else Path.home()) / ".claude.json"


def claude_desktop_config(platform: str | None = None) -> Path:
    """macOS and Windows are Anthropic's builds; Linux has only community builds, which use XDG."""
    platform = platform or sys.platform
    if platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "Claude" / "claude_desktop_config.json"
    if platform.startswith("win"):
        appdata = os.environ.get("APPDATA")
        base = Path(appdata) if appdata else Path.home() / "AppData" / "Roaming"
        return base / "Claude" / "claude_desktop_config.json"
    return _xdg_config() / "Claude" / "claude_desktop_config.json"


def _claude_code(approvals: bool) -> list[Target]:
    targets = [Target(claude_dir() / "settings.json", "json", _json_hooks("claude-code", approvals), secret=False)]
    if shutil.which("claude") is None:  # else `claude mcp add` registers the server (`_claude_cli`)
        server = {"mcpServers": {SERVER: Entry({"type": "stdio", **_server(), "env": {}})}}
        targets.append(Target(claude_json(), "json", server))
    return targets


def _claude_desktop(approvals: bool) -> list[Target]:
    return [Target(claude_desktop_config(), "json", {"mcpServers": {SERVER: Entry(_server())}})]


def _codex(approvals: bool) -> list[Target]:
    try:
        hooks = _toml_loads(_hooks("codex", approvals))
    except ValueError as exc:
        raise Refused(f"the codex adapter's configuration is not TOML ({exc})") from None
    home = _env_dir("CODEX_HOME", Path.home() / ".codex")
    server = {"mcp_servers": {SERVER: Entry(_server())}}
    if (home / "hooks.json").exists():  # Codex warns when one layer has hooks in both forms: join the user's
        return [Target(home / "config.toml", "toml", server), Target(home / "hooks.json", "json", hooks, False)]
    return [Target(home / "config.toml", "toml", _combine(server, hooks))]


def _gemini(approvals: bool) -> list[Target]:
    home = _env_dir("GEMINI_CLI_HOME", Path.home())
    want = _combine({"mcpServers": {SERVER: Entry(_server())}}, _json_hooks("gemini", approvals))
    return [Target(home / ".gemini" / "settings.json", "jsonc", want)]


def _copilot(approvals: bool) -> list[Target]:
    home = _env_dir("COPILOT_HOME", Path.home() / ".copilot")
    server = {"mcpServers": {SERVER: Entry({"type": "local", **_server(), "tools": ["*"]})}}
    return [
        Target(home / "mcp-config.json", "jsonc", server),
        # Copilot CLI reads every *.json in its hooks directory: a file of our own touches nobody else's.
        Target(home / "hooks" / "mcp-push.json", "jsonc", _json_hooks("copilot", approvals), secret=False),
    ]


def _cursor(approvals: bool) -> list[Target]:
    home = Path.home() / ".cursor"
    return [
        Target(home / "mcp.json", "jsonc", {"mcpServers": {SERVER: Entry(_server())}}),
        Target(home / "hooks.json", "jsonc", _json_hooks("cursor", approvals), secret=False),
    ]


def opencode_dir() -> Path:
    return _xdg_config() / "opencode"


def _opencode(approvals: bool) -> list[Target]:
    base = opencode_dir()
    config = base / "opencode.jsonc" if (base / "opencode.jsonc").exists() else base / "opencode.json"
    server = {"mcp": {SERVER: Entry({"type": "local", "command": [_python(), "-m", "mcp_push"], "enabled": True})}}
    plugin = _hooks("opencode", approvals)
    return [
        Target(config, "jsonc", server),
        # opencode loads every {plugin,plugins}/*.{js,ts} in its config directory.
        Target(base / "plugins" / "mcp-push.js", "text", plugin if plugin.endswith("\n") else plugin + "\n", False),
    ]


TARGETS: dict[str, Callable[[bool], list[Target]]] = {
    "claude-code": _claude_code,
    "claude-desktop": _claude_desktop,
    "codex": _codex,
    "gemini": _gemini,
    "copilot": _copilot,
    "cursor": _cursor,
    "opencode": _opencode,
}


def _targets(agent: str, approvals: bool) -> list[Target]:
    try:
        make = TARGETS[agent]
    except KeyError:
        raise Refused(f"unknown agent {agent!r}: one of {', '.join(TARGETS)}") from None
    try:
        return make(approvals)
    except ModuleNotFoundError as exc:  # an adapter not written yet
        raise Refused(f"mcp-push has no {agent} hook adapter ({exc})") from None


def _combine(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    merged = dict(a)
    for key, value in b.items():
        if isinstance(merged.get(key), dict) and isinstance(value, dict):
            merged[key] = _combine(merged[key], value)
        else:
            merged[key] = value
    return merged


# ---------------------------------------------------------------------------------- Claude Code's own CLI


@dataclass
class _ClaudeCall:
    argv: list[list[str]]  # the `claude` runs to make, in order
    notes: list[str]
    backup: Path


def _claude_cli(removing: bool) -> _ClaudeCall | None:
    """With the `claude` command on PATH, the MCP server goes through `claude mcp add|remove --scope user`, as
    Claude Code's own docs say, rather than editing the large state file it rewrites while it runs. What is
    registered already is read from that file, so a second run changes nothing."""
    claude = shutil.which("claude")
    if claude is None:
        return None
    path = claude_json()
    current = None
    if path.exists():
        try:
            text = _read(path)
            document = json.loads(text) if text.strip() else {}
        except (OSError, ValueError) as exc:
            raise Refused(f"{_show(path)} is not valid JSON ({exc})") from None
        servers = document.get("mcpServers") if isinstance(document, dict) else None
        current = servers.get(SERVER) if isinstance(servers, dict) else None
    add = [claude, "mcp", "add", "--scope", "user", SERVER, "--", _python(), "-m", "mcp_push"]
    remove = [claude, "mcp", "remove", "--scope", "user", SERVER]
    ours = current is not None and _owned(current)
    notes = []
    if current is not None and not ours:
        notes.append(f"an MCP server named {SERVER} of your own is registered; left as is")
    if removing:
        argv = [remove] if ours else []
    elif current is None:
        argv = [add]
    elif ours and (current.get("command"), current.get("args")) != (_python(), ["-m", "mcp_push"]):
        argv = [remove, add]  # ours, from another Python (another venv)
    else:
        argv = []
    return _ClaudeCall(argv, notes, path)


def _run_claude(call: _ClaudeCall, dry_run: bool, out: Any, err: Any) -> tuple[bool, bool]:
    """Runs (or, dry, shows) the `claude` calls: whether anything was (to be) done, and whether it worked."""
    shown = _show(call.backup)
    for note in call.notes:
        print(f"{shown}: note: {note}", file=out)
    if not call.argv:
        print(f"{shown}: MCP server {SERVER}: up to date", file=out)
        return False, True
    if not dry_run and call.backup.exists():
        shutil.copy2(call.backup, _backup(call.backup))
    for argv in call.argv:
        line = shlex.join(["claude", *argv[1:]])
        if dry_run:
            print(f"would run: {line}", file=out)
            continue
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            print(f"mcp-push: `{line}` failed: {exc}", file=err)
            return True, False
        if done.returncode != 0:
            print(f"mcp-push: `{line}` failed ({done.returncode}): {done.stderr.strip()}", file=err)
            return True, False
        print(f"ran: {line}", file=out)
    return True, True


# ------------------------------------------------------------------------------------------ the merge


def plan(agent: str, approvals: bool, removing: bool) -> list[Change]:
    """What `install`/`uninstall AGENT` would make of each of the agent's files, nothing written yet."""
    targets = _targets(agent, approvals)
    # Uninstall does not know whether install had --approvals: the exact undo tries both.
    others = _targets(agent, not approvals) if removing else targets
    return [_change(t, removing, [t.want, o.want]) for t, o in zip(targets, others, strict=True)]


def _change(target: Target, removing: bool, wants: list[Any]) -> Change:
    """What installing (or uninstalling) `target` makes of its file. Uninstalling gives back the backup's
    text when the file is exactly what installing over that backup made of it (nothing changed since), so
    an install then an uninstall leave the file as it was, byte for byte, even the `{}` a user had; else
    ours are taken out one by one, recognised by what they run."""
    path = target.path
    try:
        before = _read(path) if path.exists() else None
    except (OSError, UnicodeDecodeError) as exc:
        raise Refused(f"cannot read {_show(path)}: {exc}") from None
    notes: list[str] = []
    after: str | None
    if not removing:
        after = _installed(target, before, notes)
    elif before is None:
        after = None
    else:
        restored = _restored(target, before, wants)
        after = _uninstalled(target, before, notes, _origin(target)) if restored is False else restored
    return Change(path, before, after, notes, target.secret)


def _installed(target: Target, before: str | None, notes: list[str]) -> str:
    if target.format == "text":
        if before is not None and before != target.want and not _owned_text(before):
            raise Refused(f"{_show(target.path)} exists and is not mcp-push's: move it away to install")
        return target.want
    return _edit(target, before, remove=False, notes=notes)


def _uninstalled(target: Target, before: str, notes: list[str], origin: Any) -> str | None:
    if target.format == "text":
        return None if _owned_text(before) else before
    return _edit(target, before, remove=True, notes=notes, origin=origin)


def _origin(target: Target) -> Any:
    """The file as it was before install, parsed, from the backup install wrote; `_UNKNOWN` without one. It
    tells a setting install added (Gemini's `hooksConfig.enabled`, which runs no command to recognise it
    by) from the same setting a user had."""
    try:
        text = _read(_backup(target.path)).lstrip("\ufeff")
        if not text.strip():
            return _ABSENT
        if target.format == "toml":
            return _toml_loads(text)
        return _JsonText(text, True, "the backup").root.plain()
    except (OSError, UnicodeDecodeError, ValueError, Refused):
        return _UNKNOWN


def _restored(target: Target, current: str, wants: list[Any]) -> str | Literal[False] | None:
    """The text the file had before install (None: it had none), when installing over it provably gives
    `current`; False when no such text is known."""
    candidates: list[str | None] = []
    backup = _backup(target.path)
    try:
        if backup.is_file():
            candidates.append(_read(backup))
    except (OSError, UnicodeDecodeError):
        pass
    candidates.append(None)
    for original in candidates:
        if original == current:
            continue
        for want in wants:
            try:
                again = Target(target.path, target.format, want, target.secret)
                if _installed(again, original, []) == current:
                    return original
            except Refused:
                continue
    return False


def _edit(target: Target, before: str | None, remove: bool, notes: list[str], origin: Any = None) -> str:
    # A byte order mark (Windows editors write one) is kept as it is, and the text after it edited.
    bom = "\ufeff" if before and before.startswith("\ufeff") else ""
    text = before[len(bom) :] if before is not None else None
    walk = _Walk(remove, notes, _UNKNOWN if origin is None else origin)
    try:
        if target.format == "toml":
            return bom + _edit_toml(target, text, walk)
        return bom + _edit_json(target, text, walk)
    except _Misshapen as exc:
        raise Refused(f"{_show(target.path)}: {exc}") from None


def _scalar(value: Any) -> bool:
    return not isinstance(value, dict) and not _entries(value)


def _entries(value: Any) -> bool:
    """A list of objects (hook entries): ours join the user's, never replace them."""
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _commands(value: Any, top: bool = True) -> Iterator[str]:
    """The command lines in a value: a hook's `command` (Copilot: `bash`, `powershell`), an MCP server's
    `command` with its `args` (opencode: `command` as a list), or the value itself when it is an argv
    (Codex's `notify`). Other lists of strings in an entry (`tools`, `matcher`s) are not commands."""
    if isinstance(value, list):
        if top and value and all(isinstance(v, str) for v in value):
            yield " ".join(value)
            return
        for item in value:
            if isinstance(item, (dict, list)):
                yield from _commands(item, top=False)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key in COMMAND_KEYS and isinstance(item, str):
                args = value.get("args") if key == "command" else None
                extra = args if isinstance(args, list) and all(isinstance(a, str) for a in args) else []
                yield " ".join([item, *extra])
            elif key == "command" and isinstance(item, list) and all(isinstance(a, str) for a in item):
                yield " ".join(item)
            elif isinstance(item, (dict, list)):
                yield from _commands(item, top=False)


def _owned(value: Any) -> bool:
    """Ours: everything it runs is mcp-push's hook or server as install writes them (any Python)."""
    found = list(_commands(value))
    return bool(found) and all(OUR_HOOK.search(c) or OUR_SERVER.search(c) for c in found)


def _mentions_hook(value: Any) -> bool:
    return any(ANY_HOOK.search(c) for c in _commands(value))


def _owned_text(text: str) -> bool:
    """A file of ours alone (opencode's plugin): it runs mcp-push's hook, as a command line or an argv."""
    return bool(re.search(r"-m['\",\s]+mcp_push['\",\s]+hook", text))


class _Node(Protocol):
    """A place in a parsed config file, JSON or TOML, with the few edits the merge needs. One edit at a time:
    the merge starts again from the top after each (`_merge`), so positions are never stale."""

    parent: _Node | None
    key: str | int | None  # where it is in its parent

    @property
    def kind(self) -> Literal["object", "array", "value"]: ...
    def get(self, key: str) -> _Node | None: ...
    def children(self) -> list[_Node]: ...
    def value(self) -> Any: ...  # as plain Python
    def add(self, key: str, value: Any) -> None: ...  # a new key, after the last one
    def append(self, value: Any) -> None: ...
    def replace(self, key: str, value: Any) -> None: ...
    def remove(self, key: str | int) -> None: ...


def _plain(value: Any) -> Any:
    if isinstance(value, Entry):
        return _plain(value.value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


_UNKNOWN = object()  # what the file held before install cannot be told (no backup)
_ABSENT = object()  # the backup shows this key was not there before install


@dataclass
class _Walk:
    remove: bool  # taking ours out (uninstall), else putting them in
    notes: list[str]  # what the user should know: something of theirs left where ours would go
    origin: Any = _UNKNOWN  # the file before install (`_origin`), for uninstall

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)


def _merge(root: Callable[[], _Node], want: dict[str, Any], walk: _Walk) -> set[str]:
    """Brings the document to `want` (or takes ours out of it), one edit per pass, until a pass finds nothing
    to do; the kinds of edit made. `root` parses the document as it is now."""
    done: set[str] = set()
    for _ in range(10_000):
        op = _step(root(), want, "", walk, walk.origin)
        if not op:
            return done
        done.add(op)
    raise Refused("the merge did not settle")  # a bug, not the user's file: refuse rather than loop


def _drop(node: _Node, key: str | int) -> None:
    """Removes node[key], and with it every container above that held nothing else: the `hooks` object and
    `Stop` list that install created go away with our entry, a user's other entries stay."""
    while node.parent is not None and len(node.children()) == 1:
        node, key = node.parent, node.key  # type: ignore[assignment]
    node.remove(key)  # type: ignore[arg-type]


def _entry(node: _Node, key: str, child: _Node | None, value: Any, walk: _Walk, here: str) -> str:
    """An MCP server's entry. One of ours from another Python gets this one's command and args, and keeps the
    rest: the `env` a user gave it (channel tokens) stays."""
    if child is None:
        if walk.remove:
            return ""
        node.add(key, _plain(value))
        return "add"
    have = child.value()
    if not _owned(have):
        if not walk.remove:
            walk.note(f"{here} is there already and runs something else (yours): left as is")
        return ""
    if walk.remove:
        _drop(node, key)
        return "remove"
    for name in ("command", "args"):
        if name in value and isinstance(have, dict) and have.get(name) != value[name]:
            (child.replace if name in have else child.add)(name, value[name])
            return "replace"
    return ""


def _setting(node: _Node, key: str, child: _Node | None, wanted: Any, walk: _Walk, here: str, origin: Any) -> str:
    """One value (a flag, a version, an argv): set when missing; a user's other value is kept. Uninstall
    takes it out when it runs mcp-push, or when the backup shows install added it."""
    if child is None:
        if walk.remove:
            return ""
        node.add(key, wanted)
        return "add"
    have = child.value()
    if walk.remove:
        if _owned(have) or (have == wanted and origin is _ABSENT):
            _drop(node, key)
            return "remove"
        return ""
    if have == wanted:
        return ""
    if _owned(have):  # ours, from another Python or an older mcp-push
        node.replace(key, wanted)
        return "replace"
    walk.note(f"{here} is {json.dumps(have)} in your file, not {json.dumps(wanted)}: left as is")
    return ""


def _entry_list(child: _Node, wanted: list[Any], walk: _Walk, here: str) -> str:
    """Hook entries: ours join the user's, after them. A stale or repeated one of ours (another Python) is
    taken out for the current one; a user's own mcp-push hook there means none is added."""
    values = [c.value() for c in child.children()]
    if walk.remove:
        for index, have in enumerate(values):
            if _owned(have):
                _drop(child, index)
                return "remove"
            if _mentions_hook(have):
                walk.note(f"{here}[{index}] runs mcp-push's hook among your own: left as is")
        return ""
    for index, have in enumerate(values):
        if _owned(have) and (have not in wanted or values.index(have) != index):
            child.remove(index)
            return "replace"
    if any(_mentions_hook(v) and not _owned(v) for v in values):
        walk.note(f"{here} runs mcp-push's hook already (an entry of yours): left as is")
        return ""
    for item in wanted:
        if item not in values:
            child.append(item)
            return "add"
    return ""


def _step(node: _Node, want: dict[str, Any], path: str, walk: _Walk, origin: Any) -> str:
    """One edit towards `want` under `node`, and its kind ("add", "replace", "remove"); "" when there is
    nothing left to do there. `origin` is the same place in the file before install."""
    for key, wanted in want.items():
        here = f"{path}.{key}" if path else key
        child = node.get(key)
        before = origin.get(key, _ABSENT) if isinstance(origin, dict) else origin
        if isinstance(wanted, Entry):
            op = _entry(node, key, child, wanted.value, walk, here)
        elif _scalar(wanted):
            op = _setting(node, key, child, wanted, walk, here, before)
        elif child is None:
            op = "" if walk.remove else "add"
            if op:
                node.add(key, _plain(wanted))
        elif isinstance(wanted, dict):
            if child.kind != "object":
                if walk.remove:
                    continue
                raise _Misshapen(f"{here} is not an object, so mcp-push's entries cannot go in it")
            op = _step(child, wanted, here, walk, before)
        elif child.kind != "array":
            if walk.remove:
                continue
            raise _Misshapen(f"{here} is not a list, so mcp-push's entries cannot go in it")
        else:
            op = _entry_list(child, _plain(wanted), walk, here)
        if op:
            return op
    return ""


# ------------------------------------------------------------------------------------------ JSON, as text

_WS = re.compile(r"[ \t\r\n]*")
_STRING = re.compile(r'"(?:[^"\\\x00-\x1f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"')
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_LITERALS = ("true", "false", "null")
_DECODER = json.JSONDecoder()


class _JsonText:
    """JSON, or JSONC (comments, trailing commas) when `lenient`: validated once, then walked lazily. A value
    is skipped with the standard library's C decoder where it holds no comment, so a Claude Code state file
    of megabytes is read in milliseconds; only the containers on our path are looked into."""

    def __init__(self, text: str, lenient: bool, name: str) -> None:
        self.text, self.lenient, self.name = text, lenient, name
        try:
            plain = isinstance(json.loads(text), dict)
        except ValueError:
            plain = False
        self.plain = plain  # no comment, no trailing comma anywhere: the C decoder reads every value
        if not plain:
            self.end(self.start())  # the slow, exact check, which says where a file is broken
        self.root = _J(self, self.start())

    def fail(self, what: str, pos: int) -> NoReturn:
        line = self.text.count("\n", 0, pos) + 1
        column = pos - (self.text.rfind("\n", 0, pos) + 1) + 1
        kind = "JSON with comments" if self.lenient else "JSON"
        raise Refused(f"{self.name} is not valid {kind}: {what} at line {line}, column {column}")

    def start(self) -> int:
        at = self.skip(0)
        if not self.text.startswith("{", at):
            self.fail("the top level is not an object", at)
        return at

    def skip(self, at: int) -> int:
        """Past whitespace and comments."""
        text = self.text
        while True:
            at = _WS.match(text, at).end()  # type: ignore[union-attr]
            if not (text.startswith("//", at) or text.startswith("/*", at)):
                return at
            if not self.lenient:
                self.fail("a comment (this agent reads plain JSON)", at)
            if text.startswith("//", at):
                end = text.find("\n", at)
                at = len(text) if end < 0 else end
            else:
                end = text.find("*/", at + 2)
                if end < 0:
                    self.fail("an unterminated comment", at)
                at = end + 2

    def end(self, at: int, top: bool = True) -> int:
        """Where the value at `at` ends; for the document (`top`), also that nothing follows it."""
        if self.plain:
            return _DECODER.raw_decode(self.text, at)[1]
        end = self._value(at)
        if top and self.skip(end) != len(self.text):
            self.fail("text after the end of the object", self.skip(end))
        return end

    def _value(self, at: int) -> int:
        text = self.text
        char = text[at : at + 1]
        if char in ("{", "["):
            close = "}" if char == "{" else "]"
            at, first = at + 1, True
            while True:
                at = self.skip(at)
                if text.startswith(close, at):
                    if not first and not self.lenient:
                        self.fail("a trailing comma", at)
                    return at + 1
                if char == "{":
                    match = _STRING.match(text, at)
                    if not match:
                        self.fail("expected a key in double quotes", at)
                    at = self.skip(match.end())
                    if not text.startswith(":", at):
                        self.fail("expected ':'", at)
                    at += 1
                at = self.skip(self._value(self.skip(at)))
                first = False
                if text.startswith(",", at):
                    at += 1
                elif text.startswith(close, at):
                    return at + 1
                else:
                    self.fail(f"expected ',' or {close!r}", at)
        if char == '"':
            match = _STRING.match(text, at)
            if not match:
                self.fail("a broken string", at)
            return match.end()
        match = _NUMBER.match(text, at)
        if match and match.end() > at:
            return match.end()
        for word in _LITERALS:
            if text.startswith(word, at):
                return at + len(word)
        self.fail(f"unexpected {char!r}" if char else "unexpected end of file", at)


class _J:
    """A value in the text: [start, end), its kind, and (looked into only when asked) its children."""

    def __init__(self, doc: _JsonText, start: int) -> None:
        self.doc, self.start = doc, start
        char = doc.text[start]
        self.kind: Literal["object", "array", "value"] = (
            "object" if char == "{" else "array" if char == "[" else "value"
        )
        self.end = doc.end(start, top=False)
        self._children: list[tuple[str | None, int, _J]] | None = None

    @property
    def children(self) -> list[tuple[str | None, int, _J]]:
        """(key, or None in an array; where the child starts: its key, or itself; its value)."""
        if self._children is None:
            doc, text, kids = self.doc, self.doc.text, []
            at = self.start + 1
            while True:
                at = doc.skip(at)
                if text[at] in "}]":
                    break
                key, begin = None, at
                if self.kind == "object":
                    match = _STRING.match(text, at)
                    key = json.loads(match.group())  # type: ignore[union-attr]
                    at = doc.skip(doc.skip(match.end()) + 1)  # type: ignore[union-attr]
                child = _J(doc, at)
                kids.append((key, begin, child))
                at = doc.skip(child.end)
                if text[at] == ",":
                    at += 1
            self._children = kids
        return self._children

    def plain(self) -> Any:
        if self.doc.plain or self.kind == "value":
            return json.loads(self.doc.text[self.start : self.end])
        if self.kind == "object":
            return {k: v.plain() for k, _, v in self.children}
        return [v.plain() for _, _, v in self.children]


class _JsonDoc:
    """The file's text, re-read after each edit. Edits are text splices, so nothing else moves."""

    def __init__(self, text: str, lenient: bool, name: str) -> None:
        self.text, self.lenient, self.name = text, lenient, name
        self.newline = "\r\n" if "\r\n" in text else "\n"
        self.removed, self.inserted = "", ""  # every character the edits took out and put in
        self.parse()

    def parse(self) -> None:
        self.parsed = _JsonText(self.text, self.lenient, self.name)
        self.unit = _indent_unit(self.text, self.parsed.root) or "  "

    def splice(self, *edits: tuple[int, int, str]) -> None:
        for start, end, insert in sorted(edits, reverse=True):
            self.removed += self.text[start:end]
            self.inserted += insert
            self.text = self.text[:start] + insert + self.text[end:]
        self.parse()

    def node(self) -> _JsonNode:
        return _JsonNode(self, self.parsed.root, None, None, inline=False)


def _line_indent(text: str, pos: int) -> str:
    start = text.rfind("\n", 0, pos) + 1
    match = re.match(r"[ \t]*", text[start:pos])
    return match.group() if match else ""


def _indent_unit(text: str, root: _J) -> str:
    """One level of the file's indentation, as the top object's first child, or a child's, shows it."""
    for node in [root, *(v for _, _, v in root.children[:8] if v.kind != "value")]:
        kids = node.children
        if kids and "\n" in text[node.start : kids[0][1]]:
            outer, inner = _line_indent(text, node.start), _line_indent(text, kids[0][1])
            if inner.startswith(outer) and len(inner) > len(outer):
                return inner[len(outer) :]
    return ""


class _JsonNode(_Node):
    def __init__(self, doc: _JsonDoc, j: _J, parent: _JsonNode | None, key: str | int | None, inline: bool) -> None:
        self.doc, self.j, self.parent, self.key = doc, j, parent, key
        kids = j.children if j.kind != "value" else []
        # One child per line, or all on one line (a compact file): what is added follows suit. An empty
        # container takes its parent's layout.
        self.inline = "\n" not in doc.text[j.start : kids[0][1]] if kids else inline

    @property
    def kind(self) -> Literal["object", "array", "value"]:
        return self.j.kind

    def get(self, key: str) -> _JsonNode | None:
        found = [value for k, _, value in self.j.children if k == key] if self.kind == "object" else []
        if len(found) > 1:
            raise Refused(f"{self.doc.name} has the key {key!r} twice in one object, so it cannot be edited safely")
        return _JsonNode(self.doc, found[0], self, key, self.inline) if found else None

    def children(self) -> list[_Node]:
        return [
            _JsonNode(self.doc, v, self, k if k is not None else i, self.inline)
            for i, (k, _, v) in enumerate(self.j.children)
        ]

    def value(self) -> Any:
        return self.j.plain()

    def render(self, value: Any, indent: str) -> str:
        if self.inline:
            return json.dumps(value, ensure_ascii=False)
        text = json.dumps(value, ensure_ascii=False, indent=self.doc.unit)
        return text.replace("\n", self.doc.newline + indent)

    def _insert(self, piece: Callable[[str], str]) -> None:
        """Adds a child after the last one (or into an empty container) in the container's own layout.
        `piece(indent)` is the child's text."""
        text, j, nl = self.doc.text, self.j, self.doc.newline
        kids = j.children
        if kids:
            at = kids[-1][2].end
            if self.inline:
                self.doc.splice((at, at, ", " + piece("")))
            else:
                indent = _line_indent(text, kids[0][1])
                self.doc.splice((at, at, "," + nl + indent + piece(indent)))
            return
        inner = text[j.start + 1 : j.end - 1]
        outer = _line_indent(text, j.start)
        indent = outer + self.doc.unit
        if self.inline:
            self.doc.splice((j.start + 1, j.start + 1, piece("")))
        elif inner.strip():  # only comments inside: keep them, add after the opening bracket
            self.doc.splice((j.start + 1, j.start + 1, nl + indent + piece(indent)))
        else:
            self.doc.splice((j.start + 1, j.end - 1, nl + indent + piece(indent) + nl + outer))

    def add(self, key: str, value: Any) -> None:
        self._insert(lambda indent: json.dumps(key, ensure_ascii=False) + ": " + self.render(value, indent))

    def append(self, value: Any) -> None:
        self._insert(lambda indent: self.render(value, indent))

    def replace(self, key: str, value: Any) -> None:
        child = self.get(key)
        assert child is not None
        indent = _line_indent(self.doc.text, child.j.start)
        self.doc.splice((child.j.start, child.j.end, self.render(value, indent)))

    def remove(self, key: str | int) -> None:
        """Takes out one child and one comma, the inverse of `_insert`: the comma after it, or, for the last
        child, the one before it; comments around it stay."""
        text, j, skip = self.doc.text, self.j, self.doc.parsed.skip
        kids = j.children
        index = key if isinstance(key, int) else next(i for i, (k, _, _) in enumerate(kids) if k == key)
        _, start, value = kids[index]
        end = value.end
        ws = start
        while ws > j.start + 1 and text[ws - 1] in " \t\r\n":
            ws -= 1
        after = skip(end)
        if len(kids) == 1:
            rest = text[j.start + 1 : ws] + text[end : j.end - 1]
            if rest.strip() in ("", ","):
                self.doc.splice((j.start + 1, j.end - 1, ""))
            else:
                self.doc.splice((ws, end, "") if text[after] != "," else (ws, after + 1, ""))
        elif text[after] == ",":
            self.doc.splice((ws, end, ""), (after, after + 1, ""))
        else:
            comma = skip(kids[index - 1][2].end)
            self.doc.splice((ws, end, ""), (comma, comma + 1, ""))


def _edit_json(target: Target, before: str | None, walk: _Walk) -> str:
    name, remove = _show(target.path), walk.remove
    original = before if before is not None and before.strip() else None
    if original is None and remove:
        return before  # type: ignore[return-value]
    doc = _JsonDoc(original if original is not None else "{}\n", target.format == "jsonc", name)
    done = _merge(doc.node, target.want, walk)
    # The guarantee, checked on the edits actually made: an install only adds text (at most the whitespace
    # inside an empty `{ }` it fills goes), an uninstall only takes some away. An install that replaced an
    # outdated entry of ours (another Python) is the one exception.
    if doc.inserted if remove else doc.removed.strip() if done <= {"add"} else "":
        raise Refused(f"{name} could not be edited without changing text that is not mcp-push's")
    return doc.text


def _subsequence(small: str, big: str) -> bool:
    """Every character of `small` is in `big`, in order: `big` is `small` with text added."""
    it = iter(big)
    return all(char in it for char in small)


# ------------------------------------------------------------------------------------------ TOML, via tomlkit


class _TomlNode(_Node):
    def __init__(self, item: Any, parent: _TomlNode | None, key: str | int | None) -> None:
        self.item, self.parent, self.key = item, parent, key

    @property
    def kind(self) -> Literal["object", "array", "value"]:
        # Tables, inline tables, the document, and a table whose parts are spread over the file.
        if isinstance(self.item, Mapping):
            return "object"
        return "array" if isinstance(self.item, list) else "value"

    def get(self, key: str) -> _TomlNode | None:
        return _TomlNode(self.item[key], self, key) if self.kind == "object" and key in self.item else None

    def children(self) -> list[_Node]:
        if self.kind == "object":
            return [_TomlNode(self.item[k], self, k) for k in list(self.item.keys())]
        return [_TomlNode(v, self, i) for i, v in enumerate(self.item)]

    def value(self) -> Any:
        return self.item.unwrap() if hasattr(self.item, "unwrap") else self.item

    def _item(self, value: Any) -> Any:
        from tomlkit.items import Array, InlineTable

        inline = isinstance(self.item, (InlineTable, Array))
        return _toml_item(value, inline)

    def add(self, key: str, value: Any) -> None:
        self.item[key] = self._item(value)

    def append(self, value: Any) -> None:
        item = self._item(value)
        if self.item and hasattr(item, "trivia"):
            item.trivia.indent = "\n"  # a blank line between the user's last [[table]] and ours
        self.item.append(item)

    def replace(self, key: str, value: Any) -> None:
        self.item[key] = self._item(value)

    def remove(self, key: str | int) -> None:
        del self.item[key]


def _toml_item(value: Any, inline: bool) -> Any:
    """A tomlkit item for `value`: tables as `[a.b]` sections (a table of tables is a super table, so no
    empty `[a]` header is written) and lists of tables as `[[a]]`, a blank line after each; inside an inline
    table or an array, inline tables."""
    import tomlkit

    if isinstance(value, dict):
        if inline:
            table = tomlkit.inline_table()
            for k, v in value.items():
                table[k] = _toml_item(v, True)
            return table
        nested = bool(value) and all(isinstance(v, dict) or _entries(v) for v in value.values())
        table = tomlkit.table(is_super_table=nested)
        for k, v in value.items():
            table[k] = _toml_item(v, False)
        if not nested:
            table.add(tomlkit.nl())
        return table
    if _entries(value):
        if inline:
            array = tomlkit.array()
            for v in value:
                array.append(_toml_item(v, True))
            return array
        aot = tomlkit.aot()
        for v in value:
            aot.append(_toml_item(v, False))
        return aot
    if isinstance(value, list):
        array = tomlkit.array()
        for v in value:
            array.append(_toml_item(v, True))
        return array
    return tomlkit.item(value)


def _toml_loads(text: str) -> dict[str, Any]:
    """The standard library's reader where there is one (3.11+), tomlkit's on 3.10. Both raise ValueError."""
    try:
        import tomllib
    except ModuleNotFoundError:
        import tomlkit

        return tomlkit.parse(text).unwrap()
    return tomllib.loads(text)


def _edit_toml(target: Target, before: str | None, walk: _Walk) -> str:
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    name, remove = _show(target.path), walk.remove
    original = before if before is not None and before.strip() else None
    if original is not None:
        try:
            _toml_loads(original)
            doc = tomlkit.parse(original)
        except (ValueError, TOMLKitError) as exc:
            raise Refused(f"{name} is not valid TOML ({exc})") from None
        if tomlkit.dumps(doc) != original:
            raise Refused(f"{name} cannot be edited without changing text that is not mcp-push's")
    elif remove:
        return before  # type: ignore[return-value]
    else:
        doc = tomlkit.document()
    done = _merge(lambda: _TomlNode(doc, None, None), target.want, walk)
    after = tomlkit.dumps(doc)
    if original is None:
        return after.strip("\n") + "\n"
    # Blank lines: the ones tomlkit adds and ours may double up. Where the user's file has no run of three
    # newlines, none in the result is theirs to keep; at its end, likewise for two.
    if "\n\n\n" not in original:
        after = re.sub(r"\n{3,}", "\n\n", after)
    if not original.endswith("\n\n") and after.endswith("\n\n"):
        after = after.rstrip("\n") + "\n"
    try:
        _toml_loads(after)
    except ValueError as exc:  # tomlkit wrote something TOML does not allow: keep the file
        raise Refused(f"{name} could not be edited into valid TOML ({exc})") from None
    if remove or done <= {"add"}:  # as for JSON (`_edit_json`), here checked on the texts
        small, big = (after, original) if remove else (original, after)
        if not _subsequence(small, big):
            raise Refused(f"{name} could not be edited without changing text that is not mcp-push's")
    return after
