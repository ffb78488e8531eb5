"""The Claude Desktop bundle: its manifest is generated and current, the official MCPB CLI accepts it, and the
packed bundle runs its server the way Claude Desktop starts it, on a Python that has nothing but the bundle.

The CLI is the pinned `@anthropic-ai/mcpb` of bundle/package-lock.json: `.ci/run` installs it into
bundle/node_modules; on a machine without that, npm installs it once into a cache directory. Claude Desktop's
own substitution of `${__dirname}` and `${user_config.KEY}` is that package's `getMcpConfigForManifest`, so
the tests start the server from what it returns.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from channels import REGISTRY, load
from mcp_push import __version__
from tests.fakes import FakeNtfy

ROOT = Path(__file__).parent.parent
BUNDLE = ROOT / "bundle"
PIN = json.loads((BUNDLE / "package.json").read_text(encoding="utf-8"))["devDependencies"]["@anthropic-ai/mcpb"]
UNDERSCORE = {"notify_send", "notify_event", "notify_ask"}
TOPIC = "bundle-topic-0123456789abcdef"
# Each channel's variables as the issue asks for them, and which of them are secrets: not read from the generator.
EXPECTED = {
    "TG_BOT_TOKEN": True,
    "TG_USER_ID": False,
    "NTFY_TOPIC": True,
    "NTFY_URL": False,
    "SLACK_WEBHOOK_URL": True,
    "DISCORD_WEBHOOK_URL": True,
    "PUSHOVER_TOKEN": True,
    "PUSHOVER_USER": True,
    "BARK_PUSH": True,
    "DD_BOT_TOKEN": True,
    "DD_BOT_SECRET": True,
    "FSKEY": True,
    "QYWX_KEY": True,
    "SMTP_SERVER": False,
    "SMTP_EMAIL": False,
    "SMTP_PASSWORD": True,
    "GOTIFY_URL": False,
    "GOTIFY_TOKEN": True,
}
# Claude Desktop's substitution, by the code it uses: the manifest and the user's answers in, mcp_config out.
SUBSTITUTE = """
import { getMcpConfigForManifest } from "@anthropic-ai/mcpb";
import { readFileSync } from "node:fs";
import { join, sep } from "node:path";
const given = JSON.parse(readFileSync(0, "utf8"));
const manifest = JSON.parse(readFileSync(join(given.dir, "manifest.json"), "utf8"));
const config = await getMcpConfigForManifest({
  manifest, extensionPath: given.dir, systemDirs: given.dirs, userConfig: given.userConfig, pathSeparator: sep,
});
process.stdout.write(JSON.stringify(config ?? null));
"""


def build_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bundle_build", BUNDLE / "build.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(argv: list[str], *, timeout: float = 60, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False, **kwargs)


def installed(prefix: Path) -> Path | None:
    """The CLI's script under prefix if the pinned version is installed there."""
    package = prefix / "node_modules" / "@anthropic-ai" / "mcpb"
    try:
        meta = json.loads((package / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return package / meta["bin"] if meta.get("version") == PIN else None


class Mcpb:
    """The official CLI, and the directory whose node_modules holds it (for importing its library)."""

    def __init__(self, node: str, prefix: Path, script: Path) -> None:
        self.node, self.prefix, self.script = node, prefix, script

    def __call__(self, *args: str | Path) -> subprocess.CompletedProcess[str]:
        return run([self.node, str(self.script), *map(str, args)])

    def substitute(self, directory: Path, user_config: dict[str, Any], home: Path) -> dict[str, Any]:
        dirs = {name: str(home / name.title()) for name in ("DESKTOP", "DOCUMENTS", "DOWNLOADS")}
        given = {"dir": str(directory), "userConfig": user_config, "dirs": {"HOME": str(home), **dirs}}
        done = run([self.node, "--input-type=module", "-e", SUBSTITUTE], input=json.dumps(given), cwd=self.prefix)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)


@pytest.fixture(scope="session")
def mcpb() -> Mcpb:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed: the official MCPB CLI cannot run")
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mcp-push" / f"mcpb-{PIN}"
    for prefix in (BUNDLE, cache):
        if script := installed(prefix):
            return Mcpb(node, prefix, script)
    npm = shutil.which("npm")
    assert npm, "Node.js is here but npm is not: install npm, or run `npm ci --prefix bundle` elsewhere"
    cache.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="mcpb-", dir=cache.parent))  # xdist workers may race: one rename wins
    for name in ("package.json", "package-lock.json"):
        shutil.copy(BUNDLE / name, staging / name)
    done = run([npm, "ci", "--prefix", str(staging), "--no-audit", "--no-fund"], timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    try:
        staging.rename(cache)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
    script = installed(cache)
    assert script, f"npm ci did not install @anthropic-ai/mcpb {PIN} into {cache}"
    return Mcpb(node, cache, script)


@pytest.fixture(scope="session")
def packed(mcpb: Mcpb, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundle as a user builds it, unpacked by the official CLI, as Claude Desktop unpacks it."""
    base = tmp_path_factory.mktemp("bundle")
    done = run([sys.executable, str(BUNDLE / "build.py"), "--pack", "--out", str(base / "dist")], timeout=180)
    assert done.returncode == 0, done.stderr
    archive = base / "dist" / f"mcp-push-{__version__}.mcpb"
    assert archive.is_file(), done.stdout
    unpacked = mcpb("unpack", archive, base / "extension")
    assert unpacked.returncode == 0, unpacked.stdout + unpacked.stderr
    return base / "extension"


@pytest.fixture
def bare_python(tmp_path: Path) -> Path:
    """A directory whose python3 is this Python without any installed package: what the bundle runs on must
    come from the bundle."""
    venv = tmp_path / "venv"
    done = run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    assert done.returncode == 0, done.stderr
    bin_dir = venv / ("Scripts" if sys.platform == "win32" else "bin")
    assert run([str(bin_dir / "python3"), "-c", "import pydantic"]).returncode != 0
    return bin_dir


def start(
    config: dict[str, Any], path: Path, home: Path, *extra: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """The server started from a substituted mcp_config: its command looked up on PATH, its env on top of the
    app's own (here only PATH and HOME), as Claude Desktop starts it."""
    env = {"PATH": f"{path}{os.pathsep}{os.environ.get('PATH', '')}", "HOME": str(home), **config["env"]}
    command = shutil.which(config["command"], path=env["PATH"])
    assert command and Path(command).parent == path, command
    return run([command, *config["args"], *extra], input=stdin, env=env, cwd=home)


def test_manifest_is_current() -> None:
    """bundle/manifest.json is generated from the channels' settings; a stale copy fails here."""
    build = build_module()
    checked_in = (BUNDLE / "manifest.json").read_text(encoding="utf-8")
    assert checked_in == build.render(build.manifest()), "regenerate: python bundle/build.py"


def test_every_option_reaches_its_variable_and_secrets_are_sensitive() -> None:
    manifest = json.loads((BUNDLE / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["name"] == "mcp-push" and manifest["version"] == __version__
    env = manifest["server"]["mcp_config"]["env"]
    assert env["MCP_PUSH_TOOL_NAMES"] == "underscore"
    options = manifest["user_config"]
    assert {key: env[key.upper()] for key in options} == {key: f"${{user_config.{key}}}" for key in options}
    assert not any(option["required"] for option in options.values())
    assert {var: options[var.lower()].get("sensitive") for var in EXPECTED} == EXPECTED
    secrets = {var for name in REGISTRY for var in load(name).Settings.secret_fields()}
    for key, option in options.items():  # every secret of a channel is masked, not only the ones listed above
        assert option.get("sensitive", False) is (key.upper() in secrets), key
    assert {tool["name"] for tool in manifest["tools"]} == UNDERSCORE


def test_official_cli_accepts_the_manifest(mcpb: Mcpb, tmp_path: Path) -> None:
    done = mcpb("validate", BUNDLE / "manifest.json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "validation passes" in done.stdout
    # And it does check: the same manifest with a server type its manifest version lacks is refused.
    broken = json.loads((BUNDLE / "manifest.json").read_text(encoding="utf-8"))
    broken["server"]["type"] = "uv"
    (tmp_path / "manifest.json").write_text(json.dumps(broken), encoding="utf-8")
    refused = mcpb("validate", tmp_path / "manifest.json")
    assert refused.returncode == 1 and "server.type" in refused.stdout, refused.stdout


def test_packed_bundle_answers_over_stdio_and_delivers(
    mcpb: Mcpb, packed: Path, bare_python: Path, tmp_path: Path
) -> None:
    inside = json.loads((packed / "manifest.json").read_text(encoding="utf-8"))
    assert mcpb("validate", packed).returncode == 0
    checked_in = json.loads((BUNDLE / "manifest.json").read_text(encoding="utf-8"))
    assert {k: v for k, v in inside.items() if k != "compatibility"} == {
        k: v for k, v in checked_in.items() if k != "compatibility"
    }
    assert inside["compatibility"]["platforms"] == [sys.platform]
    ntfy = FakeNtfy()
    try:
        config = mcpb.substitute(packed, {"ntfy_topic": TOPIC, "ntfy_url": ntfy.url}, tmp_path)
        assert config["args"] == [f"{packed}/server/main.py"]
        messages = [
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-06-18",
                    "capabilities": {},
                    "clientInfo": {"name": "claude-ai", "version": "0.1.0"},
                },
            },
            {"jsonrpc": "2.0", "method": "notifications/initialized"},
            {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
            {
                "jsonrpc": "2.0",
                "id": 3,
                "method": "tools/call",
                "params": {"name": "notify_send", "arguments": {"title": "From the bundle", "content": "it works"}},
            },
        ]
        stdin = "".join(json.dumps(m) + "\n" for m in messages)
        done = start(config, bare_python, tmp_path, stdin=stdin)
        assert done.returncode == 0, done.stderr
        replies = {r["id"]: r for r in map(json.loads, done.stdout.splitlines()) if "id" in r}
        assert replies[1]["result"]["serverInfo"] == {"name": "mcp-push", "version": __version__}
        assert {t["name"] for t in replies[2]["result"]["tools"]} == {t["name"] for t in inside["tools"]}
        report = replies[3]["result"]["structuredContent"]
        assert report["status"] == "delivered", report
        assert [r["name"] for r in report["results"]] == ["ntfy"]  # every blank option configured nothing
        [message] = ntfy.on(TOPIC)
        assert (message["title"], message["message"]) == ("From the bundle", "it works")
        assert TOPIC not in done.stdout + done.stderr  # the topic is a secret: masked in the report and the logs
    finally:
        ntfy.close()


def test_blank_options_leave_the_config_file_in_charge(
    mcpb: Mcpb, packed: Path, bare_python: Path, tmp_path: Path
) -> None:
    """Nothing filled in but one field: the other variables reach the server empty or as literal placeholders,
    and must neither configure a channel nor hide the user's config.env (where ~/.config/mcp-push is)."""
    config_dir = tmp_path / ".config" / "mcp-push"
    config_dir.mkdir(parents=True)
    (config_dir / "config.env").write_text(
        "GOTIFY_URL=https://file.example\nGOTIFY_TOKEN=token-from-the-file\n", encoding="utf-8"
    )
    config = mcpb.substitute(packed, {"gotify_url": "https://desktop.example"}, tmp_path)
    assert "${user_config." in config["env"]["MCP_PUSH_CONFIG"]  # an option with no value and no default
    assert config["env"]["GOTIFY_TOKEN"] == ""
    done = start(config, bare_python, tmp_path, "channels", "--json")
    assert done.returncode == 0, done.stderr
    rows = {row["name"]: row for row in json.loads(done.stdout)}
    gotify = {v["name"]: v["value"] for v in rows["gotify"]["variables"]}
    assert rows["gotify"]["status"] == "configured"
    assert gotify["GOTIFY_URL"] == "https://desktop.example"  # the field wins over the file...
    assert gotify["GOTIFY_TOKEN"]  # ...and a blank one leaves the file's value
    assert {name for name, row in rows.items() if row["status"] != "not configured"} == {"gotify"}


def test_a_python_it_was_not_built_for_is_told_so(packed: Path, bare_python: Path, tmp_path: Path) -> None:
    """Under another Python the compiled packages do not import; Claude Desktop's log then says what to do."""
    manifest = json.loads((packed / "manifest.json").read_text(encoding="utf-8"))
    env = {"PATH": str(bare_python), "HOME": str(tmp_path), "PYTHONPATH": str(tmp_path / "no-packages-here")}
    done = run([str(bare_python / "python3"), str(packed / "server" / "main.py")], env=env, cwd=tmp_path)
    assert done.returncode == 1
    assert manifest["compatibility"]["runtimes"]["python"] in done.stderr
    assert "python bundle/build.py --pack" in done.stderr
