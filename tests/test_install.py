"""`mcp-push install|uninstall AGENT` on real files in a temporary home: what a user already has stays byte for
byte, ours go in once and come out exactly, and a file that cannot be edited safely is refused untouched."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

from mcp_push.cli import EXIT_OK, EXIT_USAGE, main
from mcp_push.hooks import load
from mcp_push.install import AGENTS, _JsonText, _subsequence, _toml_loads, claude_desktop_config

pytestmark = pytest.mark.usefixtures("process_env")

PY = sys.executable
HOOK = f"{PY} -m mcp_push hook"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home of its own, nothing of the real one: HOME, XDG and APPDATA point into it, no agent's override
    variable is set, and PATH holds no `claude` (the tests that want one put a fake there)."""
    home = tmp_path / "home"
    home.mkdir()
    (tmp_path / "bin").mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("USERPROFILE", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("APPDATA", str(home / "AppData" / "Roaming"))
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    for name in ("CLAUDE_CONFIG_DIR", "CODEX_HOME", "GEMINI_CLI_HOME", "COPILOT_HOME"):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def claude_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake `claude` on PATH that records each call's arguments, one JSON list a line."""
    log = tmp_path / "claude.log"
    fake = tmp_path / "bin" / "claude"
    fake.write_text(
        f"#!{PY}\nimport json, os, sys\n"
        "with open(os.environ['FAKE_CLAUDE_LOG'], 'a') as f:\n    f.write(json.dumps(sys.argv[1:]) + '\\n')\n"
    )
    fake.chmod(0o755)
    monkeypatch.setenv("FAKE_CLAUDE_LOG", str(log))
    return log


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def read(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    return _toml_loads(text) if path.suffix == ".toml" else _JsonText(text, True, str(path)).root.plain()


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def commands(value: Any) -> list[str]:
    """Every hook command line in a parsed config, in order."""
    if isinstance(value, dict):
        found = [v for k, v in value.items() if k in ("command", "bash") and isinstance(v, str)]
        return found + [c for v in value.values() for c in commands(v)]
    if isinstance(value, list):
        return [c for v in value for c in commands(v)]
    return []


# What a user might already have, per agent: their own servers and hooks, comments where the agent takes
# them, unusual layout (tabs, one-line objects, aligned TOML, CRLF), and a value the test edits later.
EXISTING: dict[str, dict[str, str]] = {
    "claude-code": {
        ".claude/settings.json": (
            "{\r\n"
            '\t"$schema": "https://json.schemastore.org/claude-code-settings.json",\r\n'
            '\t"model": "opus",\r\n'
            '\t"permissions": {"allow": ["Bash(npm test)"], "deny": []},\r\n'
            '\t"hooks": {\r\n'
            '\t\t"Stop": [\r\n'
            '\t\t\t{"matcher": "", "hooks": [{"type": "command", "command": "afplay Glass.aiff"}]}\r\n'
            "\t\t],\r\n"
            '\t\t"PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "./guard.sh"}]}]\r\n'
            "\t}\r\n"
            "}\r\n"
        ),
        ".claude.json": json.dumps(
            {
                "numStartups": 12,
                "mcpServers": {"github": {"type": "stdio", "command": "npx", "args": ["-y", "gh"], "env": {}}},
                "projects": {"/home/u/p": {"allowedTools": ["Bash"], "history": [{"display": "fix it"}]}},
            },
            indent=2,
        ),
    },
    "claude-desktop": {
        ".config/Claude/claude_desktop_config.json": (
            '{\n  "globalShortcut": "Alt+Space",\n  "mcpServers": {\n'
            '    "filesystem": {"command": "npx", "args": ["-y", "server-filesystem", "/Users/me"]}\n  }\n}\n'
        ),
    },
    "codex": {
        ".codex/config.toml": (
            "# my Codex\n"
            'model          = "o3"          # aligned, with comments\n'
            'approval_policy = "on-request"\n'
            'notify = ["notify-send", "Codex"]\n'
            "\n"
            "[mcp_servers.docs]\n"
            'command = "docs-server"\n'
            "args = [ 'serve' ]\n"
            "\n"
            "[profiles.fast]\n"
            'model = "o4-mini"\n'
            "\n"
            "[[hooks.Stop]]\n"
            "[[hooks.Stop.hooks]]\n"
            'type = "command"\n'
            "command = 'say done'\n"
        ),
    },
    "gemini": {
        ".gemini/settings.json": (
            "{\n"
            "  // my Gemini settings\n"
            '  "theme": "Dracula",\n'
            '  "mcpServers": {\n'
            '    "git": { "command": "uvx", "args": ["mcp-server-git"] }, // git tools\n'
            "  },\n"
            '  "hooks": {\n'
            '    "AfterAgent": [\n'
            '      { "matcher": "*", "hooks": [{ "type": "command", "command": "notify-send done" }] },\n'
            "    ],\n"
            "  },\n"
            "  /* the end */\n"
            "}\n"
        ),
    },
    "copilot": {
        ".copilot/mcp-config.json": (
            '{"mcpServers": {"azure": {"type": "stdio", "command": "npx", "args": ["-y", "@azure/mcp"],'
            ' "tools": ["*"]}}}'
        ),
        ".copilot/hooks/audit.json": (
            '{"version": 1, "hooks": {"sessionStart": [{"type": "command", "bash": "log"}]}}\n'
        ),
    },
    "cursor": {
        ".cursor/mcp.json": '{\n\t"mcpServers": {\n\t\t"linear": {"url": "https://mcp.linear.app/sse"}\n\t}\n}\n',
        ".cursor/hooks.json": (
            '{\n    "version": 1,\n    "hooks": {\n'
            '        "afterFileEdit": [{"command": "./format.sh"}],\n'
            '        "stop": [\n            {"command": "say done", "timeout": 5}\n        ]\n    }\n}\n'
        ),
    },
    "opencode": {
        ".config/opencode/opencode.jsonc": (
            "{\n"
            '  "$schema": "https://opencode.ai/config.json",\n'
            "  // my model\n"
            '  "model": "anthropic/claude-sonnet-4-5",\n'
            '  "mcp": {\n'
            '    "jira": {"type": "remote", "url": "https://jira.example.com/mcp", "enabled": true},\n'
            "  },\n"
            "}\n"
        ),
        ".config/opencode/plugins/other.js": "export const Other = async () => ({})\n",
    },
}

# Where each agent's files are in a fresh home, and which hold the MCP server (0600: its env may hold tokens).
FRESH: dict[str, dict[str, bool]] = {
    "claude-code": {".claude/settings.json": False, ".claude.json": True},
    "claude-desktop": {".config/Claude/claude_desktop_config.json": True},
    "codex": {".codex/config.toml": True},
    "gemini": {".gemini/settings.json": True},
    "copilot": {".copilot/mcp-config.json": True, ".copilot/hooks/mcp-push.json": False},
    "cursor": {".cursor/mcp.json": True, ".cursor/hooks.json": False},
    "opencode": {".config/opencode/opencode.json": True, ".config/opencode/plugins/mcp-push.js": False},
}

# A change the user makes between install and uninstall: (file, old text, new text).
USER_EDIT = {
    "claude-code": (".claude/settings.json", '"model": "opus"', '"model": "sonnet"'),
    "claude-desktop": (".config/Claude/claude_desktop_config.json", "Alt+Space", "Ctrl+Space"),
    "codex": (".codex/config.toml", '"o4-mini"', '"o3-mini"'),
    "gemini": (".gemini/settings.json", "Dracula", "GitHub"),
    "copilot": (".copilot/mcp-config.json", "@azure/mcp", "@azure/mcp@latest"),
    "cursor": (".cursor/hooks.json", "./format.sh", "./fmt.sh"),
    "opencode": (".config/opencode/opencode.jsonc", "claude-sonnet-4-5", "claude-opus-4-1"),
}


def server_of(agent: str, home: Path) -> Any:
    """The mcp-push MCP server entry as the agent's config file holds it."""
    if agent == "claude-code":
        return read(home / ".claude.json")["mcpServers"]["mcp-push"]
    if agent == "codex":
        return read(home / ".codex/config.toml")["mcp_servers"]["mcp-push"]
    if agent == "opencode":
        base = home / ".config/opencode"
        config = base / "opencode.jsonc" if (base / "opencode.jsonc").exists() else base / "opencode.json"
        return read(config)["mcp"]["mcp-push"]
    path = next(home / p for p, secret in FRESH[agent].items() if secret)
    return read(path)["mcpServers"]["mcp-push"]


def hook_commands(agent: str, home: Path) -> list[str]:
    if agent == "claude-desktop":
        return []
    if agent == "opencode":
        return ["plugin"] if (home / ".config/opencode/plugins/mcp-push.js").exists() else []
    path = {
        "claude-code": ".claude/settings.json",
        "codex": ".codex/config.toml",
        "gemini": ".gemini/settings.json",
        "copilot": ".copilot/hooks/mcp-push.json",
        "cursor": ".cursor/hooks.json",
    }[agent]
    return [c for c in commands(read(home / path)) if c.startswith(HOOK)] if (home / path).exists() else []


def write_existing(agent: str, home: Path) -> dict[str, bytes]:
    for name, text in EXISTING[agent].items():
        path = home / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode())
    return snapshot(home)


def test_every_agent_is_offered() -> None:
    assert list(AGENTS) == ["claude-code", "claude-desktop", "codex", "gemini", "copilot", "cursor", "opencode"]


@pytest.mark.parametrize("agent", list(FRESH))
def test_fresh_home_install_is_idempotent_and_uninstall_leaves_nothing(agent, home, capsys):
    code, out, err = run(capsys, "install", agent)
    assert code == EXIT_OK, err
    for name, secret in FRESH[agent].items():
        path = home / name
        assert path.is_file(), out
        assert f"{name}: created" in out
        if secret:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
    server = server_of(agent, home)
    if agent != "opencode":
        assert (server["command"], server["args"]) == (PY, ["-m", "mcp_push"])
    if agent == "opencode":
        assert server == {"type": "local", "command": [PY, "-m", "mcp_push"], "enabled": True}
        plugin = (home / ".config/opencode/plugins/mcp-push.js").read_text()
        adapter = load("opencode")
        assert plugin.rstrip("\n") == adapter.configuration(adapter.command(), False, 120.0).rstrip("\n")
    elif agent != "claude-desktop":
        assert hook_commands(agent, home), "no hook was installed"

    installed = snapshot(home)
    code, out, _ = run(capsys, "install", agent)
    assert code == EXIT_OK and "nothing to change" in out
    assert snapshot(home) == installed, "a second install changed something"

    code, out, err = run(capsys, "uninstall", agent)
    assert code == EXIT_OK, err
    left = {name for name in snapshot(home) if not name.endswith(".mcp-push.bak")}
    assert left == set(), f"uninstall left {left}"
    code, out, _ = run(capsys, "uninstall", agent)
    assert code == EXIT_OK and "not installed" in out


@pytest.mark.parametrize("agent", list(EXISTING))
def test_existing_config_is_kept_byte_for_byte(agent, home, capsys):
    before = write_existing(agent, home)
    code, _, err = run(capsys, "install", agent)
    assert code == EXIT_OK, err
    after = snapshot(home)
    for name, text in before.items():
        # Nothing of the user's was removed or changed: every byte is still there, in order.
        assert _subsequence(text.decode(), after[name].decode()), name
        if name in after and after[name] != text:
            backup = home / (name + ".mcp-push.bak")
            assert backup.read_bytes() == text, f"no backup of {name}"
    # The user's own servers and hooks are still there, before ours.
    if agent != "opencode":
        for name in EXISTING[agent]:
            theirs = [c for c in commands(read(home / name)) if c != PY and not c.startswith(HOOK)]
            assert theirs == commands(_parse(EXISTING[agent][name], name)), name
    assert server_of(agent, home)
    installed = snapshot(home)
    assert run(capsys, "install", agent)[0] == EXIT_OK
    assert snapshot(home) == installed

    code, _, err = run(capsys, "uninstall", agent)
    assert code == EXIT_OK, err
    restored = {k: v for k, v in snapshot(home).items() if not k.endswith(".mcp-push.bak")}
    assert restored == before


def _parse(text: str, name: str) -> Any:
    return _toml_loads(text) if name.endswith(".toml") else _JsonText(text, True, name).root.plain()


@pytest.mark.parametrize("agent", list(EXISTING))
def test_uninstall_after_a_user_edit_removes_exactly_ours(agent, home, capsys):
    """The user changed their file after install: no backup matches it any more, so ours are found by what
    they run and taken out one by one, and the user's edit stays."""
    before = write_existing(agent, home)
    assert run(capsys, "install", agent)[0] == EXIT_OK
    name, old, new = USER_EDIT[agent]
    path = home / name
    path.write_bytes(path.read_bytes().replace(old.encode(), new.encode()))
    code, _, err = run(capsys, "uninstall", agent)
    assert code == EXIT_OK, err
    expected = {k: v.replace(old.encode(), new.encode()) if k == name else v for k, v in before.items()}
    restored = {k: v for k, v in snapshot(home).items() if not k.endswith(".mcp-push.bak")}
    assert restored == expected
    assert not hook_commands(agent, home)


@pytest.mark.parametrize("agent", ["cursor", "codex", "claude-code"])
def test_dry_run_shows_the_diff_and_writes_nothing(agent, home, capsys):
    before = write_existing(agent, home)
    code, out, err = run(capsys, "install", agent, "--dry-run")
    assert code == EXIT_OK, err
    assert snapshot(home) == before
    assert "dry run: nothing was written" in out
    assert f"--- {home}/" in out and f"+++ {home}/" in out
    lines = out.splitlines()
    added = {line[1:].rstrip(",") for line in lines if line.startswith("+") and not line.startswith("+++")}
    assert any("mcp_push" in line for line in added)
    # A line of the user's shows as removed only where a comma was added after it.
    removed = [line[1:] for line in lines if line.startswith("-") and not line.startswith("---")]
    assert all(line.rstrip(",") in added for line in removed), removed

    assert run(capsys, "install", agent)[0] == EXIT_OK
    installed = snapshot(home)
    code, out, _ = run(capsys, "uninstall", agent, "--dry-run")
    assert snapshot(home) == installed
    assert any(line.startswith("-") and "mcp_push" in line for line in out.splitlines())


def test_dry_run_of_a_new_file_diffs_against_nothing(home, capsys):
    code, out, _ = run(capsys, "install", "claude-desktop", "--dry-run")
    assert code == EXIT_OK
    assert "--- /dev/null" in out and '+    "mcp-push": {' in out
    assert not (home / ".config").exists()


def test_claude_code_uses_the_claude_command_when_there_is_one(home, claude_log, capsys):
    settings = home / ".claude/settings.json"
    code, out, err = run(capsys, "install", "claude-code")
    assert code == EXIT_OK, err
    calls = [json.loads(line) for line in claude_log.read_text().splitlines()]
    assert calls == [["mcp", "add", "--scope", "user", "mcp-push", "--", PY, "-m", "mcp_push"]]
    assert not (home / ".claude.json").exists(), "the state file is claude's to write"
    assert hook_commands("claude-code", home) == [f"{HOOK} claude-code"] * 3
    assert "ran: claude mcp add --scope user mcp-push --" in out

    # What `claude mcp add` writes; a second install sees it there and calls nothing.
    state = {"numStartups": 3, "mcpServers": {"mcp-push": {"type": "stdio", "command": PY, "args": ["-m", "mcp_push"]}}}
    (home / ".claude.json").write_text(json.dumps(state, indent=2))
    installed = settings.read_bytes()
    code, out, _ = run(capsys, "install", "claude-code")
    assert code == EXIT_OK and "nothing to change" in out
    assert len(claude_log.read_text().splitlines()) == 1 and settings.read_bytes() == installed

    # Dry run: says what it would run, runs nothing.
    code, out, _ = run(capsys, "uninstall", "claude-code", "--dry-run")
    assert "would run: claude mcp remove --scope user mcp-push" in out
    assert len(claude_log.read_text().splitlines()) == 1

    code, out, _ = run(capsys, "uninstall", "claude-code")
    assert code == EXIT_OK
    assert json.loads(claude_log.read_text().splitlines()[-1]) == ["mcp", "remove", "--scope", "user", "mcp-push"]
    assert not settings.exists()


def test_claude_code_leaves_a_server_of_the_users_own_name(home, claude_log, capsys):
    state = {"mcpServers": {"mcp-push": {"type": "stdio", "command": "uvx", "args": ["mcp-push"]}}}
    (home / ".claude.json").write_text(json.dumps(state))
    code, out, _ = run(capsys, "install", "claude-code")
    assert code == EXIT_OK
    assert "of your own is registered; left as is" in out
    assert not claude_log.exists()
    run(capsys, "uninstall", "claude-code")
    assert not claude_log.exists()


def test_approvals_add_the_permission_hooks_and_uninstall_takes_them_too(home, capsys):
    before = write_existing("claude-code", home)
    assert run(capsys, "install", "claude-code", "--approvals")[0] == EXIT_OK
    hooks = read(home / ".claude/settings.json")["hooks"]
    assert commands(hooks["PermissionRequest"]) == [f"{HOOK} claude-code"]
    assert run(capsys, "uninstall", "claude-code")[0] == EXIT_OK
    assert {k: v for k, v in snapshot(home).items() if not k.endswith(".mcp-push.bak")} == before


def test_an_empty_mcp_servers_object_comes_back_as_it_was(home, capsys):
    """`"mcpServers": {}` and a missing key look alike once ours is gone: the backup tells them apart."""
    path = home / ".cursor/mcp.json"
    path.parent.mkdir()
    path.write_text('{\n  "mcpServers": {}\n}\n')
    before = snapshot(home)
    assert run(capsys, "install", "cursor")[0] == EXIT_OK
    assert read(path)["mcpServers"]["mcp-push"]["command"] == PY
    assert run(capsys, "uninstall", "cursor")[0] == EXIT_OK
    assert {k: v for k, v in snapshot(home).items() if not k.endswith(".mcp-push.bak")} == before


@pytest.mark.parametrize(
    ("agent", "name", "text", "message"),
    [
        ("claude-code", ".claude/settings.json", '{"model": "opus",,}', "is not valid JSON"),
        ("claude-desktop", ".config/Claude/claude_desktop_config.json", '{\n  // mine\n  "a": 1\n}\n', "a comment"),
        ("codex", ".codex/config.toml", 'model = "o3\n[mcp_servers\n', "is not valid TOML"),
        ("gemini", ".gemini/settings.json", '{"hooks": {"AfterAgent": "notify-send"}}', "is not a list"),
        ("cursor", ".cursor/hooks.json", '{"version": 1, "hooks": [] }', "is not an object"),
        ("copilot", ".copilot/mcp-config.json", '{"mcpServers": {}} trailing', "text after the end"),
        ("opencode", ".config/opencode/plugins/mcp-push.js", "// someone else's plugin\n", "is not mcp-push's"),
        ("cursor", ".cursor/mcp.json", '{"mcpServers": {"a": 1}, "mcpServers": {"b": 2}}', "twice"),
    ],
)
def test_a_file_that_cannot_be_edited_safely_is_refused_untouched(agent, name, text, message, home, capsys):
    path = home / name
    path.parent.mkdir(parents=True)
    path.write_text(text)
    before = snapshot(home)
    code, _, err = run(capsys, "install", agent)
    assert code == EXIT_USAGE
    assert message in err and "nothing was changed" in err, err
    assert snapshot(home) == before, "a refused install wrote something (another file of the agent, a backup)"
    assert "Traceback" not in err


def test_another_pythons_entries_are_brought_up_to_date_keeping_the_users_env(home, capsys):
    """A venv moved: ours from the old Python are replaced (not doubled); the token the user gave our server
    stays; a user's own mcp-push hook, written by hand, is left alone and not doubled."""
    (home / ".cursor").mkdir()
    old = "/old/venv/bin/python"
    mcp = {"mcpServers": {"mcp-push": {"command": old, "args": ["-m", "mcp_push"], "env": {"NTFY_TOPIC": "t0123"}}}}
    (home / ".cursor/mcp.json").write_text(json.dumps(mcp, indent=2))
    hooks = {
        "version": 1,
        "hooks": {
            "stop": [{"command": f"{old} -m mcp_push hook cursor", "timeout": 30}, {"command": "say done"}],
            "afterAgentResponse": [{"command": "mcp-push hook cursor"}],
        },
    }
    (home / ".cursor/hooks.json").write_text(json.dumps(hooks, indent=2))
    assert run(capsys, "install", "cursor")[0] == EXIT_OK
    server = read(home / ".cursor/mcp.json")["mcpServers"]["mcp-push"]
    assert server == {"command": PY, "args": ["-m", "mcp_push"], "env": {"NTFY_TOPIC": "t0123"}}
    stop = read(home / ".cursor/hooks.json")["hooks"]["stop"]
    assert [e["command"] for e in stop] == ["say done", f"{HOOK} cursor"]
    assert read(home / ".cursor/hooks.json")["hooks"]["afterAgentResponse"] == [{"command": "mcp-push hook cursor"}]


def test_a_users_own_use_of_mcp_push_in_a_hook_is_never_taken_for_ours(home, capsys):
    settings = home / ".claude/settings.json"
    settings.parent.mkdir()
    mine = [{"hooks": [{"type": "command", "command": f"{PY} -m mcp_push send 'Claude' 'stopped'"}]}]
    settings.write_text(json.dumps({"hooks": {"Stop": mine, "StopFailure": [{"hooks": []}]}}, indent=2))
    assert run(capsys, "install", "claude-code")[0] == EXIT_OK
    assert read(settings)["hooks"]["Stop"][0] == mine[0]
    settings.write_text(settings.read_text() + "\n")  # a user edit: uninstall must find ours by what they run
    assert run(capsys, "uninstall", "claude-code")[0] == EXIT_OK
    assert read(settings)["hooks"] == {"Stop": mine, "StopFailure": [{"hooks": []}]}


def test_modes_are_kept_and_symlinks_written_through(home, tmp_path, capsys):
    real = tmp_path / "dotfiles" / "settings.json"
    real.parent.mkdir()
    real.write_text('{"theme": "Dracula"}\n')
    real.chmod(0o640)
    (home / ".gemini").mkdir()
    link = home / ".gemini/settings.json"
    link.symlink_to(real)
    assert run(capsys, "install", "gemini")[0] == EXIT_OK
    assert link.is_symlink() and read(real)["mcpServers"]["mcp-push"]["command"] == PY
    assert stat.S_IMODE(real.stat().st_mode) == 0o640


def test_agent_home_variables_are_honoured(home, tmp_path, monkeypatch, capsys):
    places = {
        "CODEX_HOME": ("codex", tmp_path / "codex", "config.toml"),
        "CLAUDE_CONFIG_DIR": ("claude-code", tmp_path / "claude", "settings.json"),
        "COPILOT_HOME": ("copilot", tmp_path / "copilot", "mcp-config.json"),
        "GEMINI_CLI_HOME": ("gemini", tmp_path / "gemini", ".gemini/settings.json"),
    }
    for variable, (agent, where, name) in places.items():
        monkeypatch.setenv(variable, str(where))
        assert run(capsys, "install", agent)[0] == EXIT_OK
        assert (where / name).is_file(), variable
    assert (tmp_path / "claude" / ".claude.json").is_file()
    assert not [p for p in home.rglob("*") if p.is_file()], "something went to the default home instead"


def test_codex_hooks_join_an_existing_hooks_json(home, capsys):
    """Codex warns when one config layer has hooks both in hooks.json and inline in config.toml."""
    (home / ".codex").mkdir()
    (home / ".codex/hooks.json").write_text('{"hooks": {"Stop": [{"hooks": [{"type": "command", "command": "x"}]}]}}')
    assert run(capsys, "install", "codex")[0] == EXIT_OK
    assert commands(read(home / ".codex/hooks.json")) == ["x", f"{HOOK} codex"]
    assert set(read(home / ".codex/config.toml")) == {"mcp_servers"}


def test_opencode_uses_an_existing_jsonc_config(home, capsys):
    base = home / ".config/opencode"
    base.mkdir(parents=True)
    (base / "opencode.jsonc").write_text("{\n  // mine\n}\n")
    assert run(capsys, "install", "opencode")[0] == EXIT_OK
    assert not (base / "opencode.json").exists()
    assert "// mine" in (base / "opencode.jsonc").read_text()
    assert read(base / "opencode.jsonc")["mcp"]["mcp-push"]["command"][0] == PY


def test_claude_desktop_locations(home: Path) -> None:
    home = Path.home()
    mac = claude_desktop_config("darwin")
    assert mac == home / "Library/Application Support/Claude/claude_desktop_config.json"
    assert claude_desktop_config("win32") == Path(os.environ["APPDATA"]) / "Claude/claude_desktop_config.json"
    assert claude_desktop_config("linux") == Path(os.environ["XDG_CONFIG_HOME"]) / "Claude/claude_desktop_config.json"


def test_unknown_agent_is_a_usage_error(home, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["install", "windsurf"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
