"""The Claude Desktop bundle (`.mcpb`): its manifest, generated from the channels' own settings, and the bundle.

    python bundle/build.py          # writes bundle/manifest.json (checked in; a test fails while it is stale)
    python bundle/build.py --pack   # builds dist/mcp-push-<version>.mcpb for this OS and this Python

The manifest follows the MCPB spec's version 0.2, the one its CLI writes for new bundles and Claude Desktop
reads: 0.3 only adds icons and localization, 0.4 an experimental `uv` server type. A `python` bundle carries
its packages in `server/lib`, so they are the ones installed here, copied with their metadata from this
Python's site-packages. That is offline and exact: the bundle holds the very versions the tests ran, and no
index or build step is involved. Some of them are compiled (pydantic-core, rpds-py, cryptography), so the
bundle runs on this OS, this CPU and this Python minor version only; the packed manifest says which in its
`compatibility`, and `server/main.py` says so plainly when another Python starts it.

An option has the env var's name in its title and its channel's own description; a secret field of the
channel is `sensitive`, which Claude Desktop keeps in the OS keychain. Nothing is required: whatever is left
blank is dropped by `server/main.py`, and a `config.env` file picked as the last option holds the rest.
"""

from __future__ import annotations

import argparse
import json
import stat
import sys
import typing
import zipfile
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MANIFEST = HERE / "manifest.json"
LAUNCHER = HERE / "server" / "main.py"
PACKAGES = ("mcp_push", "channels")  # this project's packages; mcp_push/hooks comes with mcp_push
MANIFEST_VERSION = "0.2"
PLATFORMS = ("darwin", "linux", "win32")

# The channels shown in Claude Desktop's settings, in this order, each with the variables worth a field there.
FIELDS: dict[str, tuple[str, ...]] = {
    "telegram": ("TG_BOT_TOKEN", "TG_USER_ID"),
    "ntfy": ("NTFY_TOPIC", "NTFY_URL", "NTFY_TOKEN"),
    "slack": ("SLACK_WEBHOOK_URL",),
    "discord": ("DISCORD_WEBHOOK_URL",),
    "pushover": ("PUSHOVER_TOKEN", "PUSHOVER_USER"),
    "bark": ("BARK_PUSH",),
    "dingtalk": ("DD_BOT_TOKEN", "DD_BOT_SECRET"),
    "feishu": ("FSKEY", "FSSECRET"),
    "wecom_bot": ("QYWX_KEY",),
    "smtp": ("SMTP_SERVER", "SMTP_SSL", "SMTP_EMAIL", "SMTP_PASSWORD", "SMTP_EMAIL_TO"),
    "gotify": ("GOTIFY_URL", "GOTIFY_TOKEN"),
}
LONG_DESCRIPTION = "\n\n".join(
    (
        "mcp-push gives Claude three tools: `notify_send` pushes a message, `notify_event` reports how a job ended, "
        "and `notify_ask` asks you a question with answer buttons on your phone (Telegram, ntfy) and waits for "
        "your answer. Every call goes out to every channel you configured and returns a delivery report per channel.",
        "Fill in the channels you use and leave the rest blank. Any other channel or option goes in a `config.env` "
        "file: pick it in the last field, or keep it at `~/.config/mcp-push/config.env`.",
        "This bundle carries its own Python packages, built for one operating system and one Python version (see "
        "its requirements); build one for another with `python bundle/build.py --pack`.",
    )
)

sys.path.insert(0, str(ROOT))  # this checkout's packages, whatever else this Python has installed


def pyproject() -> dict[str, Any]:
    import tomlkit  # a dependency of mcp-push; tomllib is not in Python 3.10

    return tomlkit.parse((ROOT / "pyproject.toml").read_text(encoding="utf-8")).unwrap()["project"]


def _kind(annotation: Any) -> str:
    """The user_config type of a settings field: a checkbox for a flag, a text field for the rest."""
    from pydantic import SecretStr

    def bare(a: Any) -> set[Any]:  # Optional[...] and Annotated[...] unwrapped
        if typing.get_origin(a) is typing.Annotated:
            return bare(typing.get_args(a)[0])
        inner = typing.get_args(a)
        return set().union(*map(bare, inner)) - {type(None)} if inner else {a}

    options = bare(annotation)
    if options == {bool}:
        return "boolean"
    if options <= {str, SecretStr}:
        return "string"
    raise TypeError(f"no user_config type for {annotation!r}")


def user_config() -> dict[str, dict[str, Any]]:
    """Options keyed by the env var's name in lower case. A text field defaults to "" because Claude Desktop
    passes an option with no value and no default on as its literal `${user_config.KEY}`; a checkbox has no
    default, since a value there would hide the same variable in the user's config.env."""
    from channels import REGISTRY, load

    options: dict[str, dict[str, Any]] = {}
    for name, variables in FIELDS.items():
        cls = load(name)
        secrets = set(cls.Settings.secret_fields())
        for var in variables:
            field = cls.Settings.model_fields[var]
            kind = _kind(field.annotation)
            option: dict[str, Any] = {"type": kind, "title": f"{cls.label}: {var}", "description": field.description}
            if kind == "string":
                option["sensitive"] = var in secrets
                option["default"] = ""
            option["required"] = False
            options[var.lower()] = option
    # Every other channel and option: the config.env file mcp-push reads anyway (MCP_PUSH_CONFIG, environment only).
    options["mcp_push_config"] = {
        "type": "file",
        "title": "More channels and options: a config.env file",
        "description": f"A config.env with any variable of config.env.example ({len(REGISTRY)} channels, quiet "
        "hours, routes). The fields above win over it.",
        "required": False,
    }
    return options


def tools() -> list[dict[str, str]]:
    """The tools by the names Claude Desktop sees, each with the first sentence of its own description."""
    from mcp_push import server

    docs = {"send": server.SEND_DOC, "event": server.EVENT_DOC, "ask": server.ASK_DOC}
    return [
        {"name": names[1], "description": docs[key].split(". ")[0].rstrip(".") + "."}
        for key, names in server.NAMES.items()
    ]


def manifest(platform: str | None = None) -> dict[str, Any]:
    """The manifest; with a platform, that of a bundle built on it by this Python, else the checked-in one."""
    from mcp_push import __version__

    project = pyproject()
    options = user_config()
    env = {"PYTHONPATH": "${__dirname}/server/lib", "MCP_PUSH_TOOL_NAMES": "underscore"}
    env.update({key.upper(): f"${{user_config.{key}}}" for key in options})
    if platform is None:
        compatibility = {"platforms": list(PLATFORMS), "runtimes": {"python": project["requires-python"]}}
    else:
        major, minor = sys.version_info[:2]
        compatibility = {"platforms": [platform], "runtimes": {"python": f">={major}.{minor}.0 <{major}.{minor + 1}.0"}}
    return {
        "manifest_version": MANIFEST_VERSION,
        "name": project["name"],
        "display_name": project["name"],
        "version": __version__,
        "description": project["description"],
        "long_description": LONG_DESCRIPTION,
        "author": {"name": f"{project['name']} contributors"},
        "license": project["license"] if isinstance(project["license"], str) else project["license"]["text"],
        "server": {
            "type": "python",
            "entry_point": "server/main.py",
            "mcp_config": {
                "command": "python3",
                "args": ["${__dirname}/server/main.py"],
                "env": env,
                # python.org's Windows installer puts `python` on PATH, not `python3`.
                "platform_overrides": {"win32": {"command": "python"}},
            },
        },
        "tools": tools(),
        "compatibility": compatibility,
        "user_config": options,
    }


def render(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _closure() -> list[metadata.Distribution]:
    """The installed distributions mcp-push needs on this Python, its dependencies' own included, each once.
    An installed version outside pyproject's range is an error: the bundle would carry an untested set."""
    try:
        from packaging.requirements import Requirement
        from packaging.utils import canonicalize_name
    except ImportError:
        raise SystemExit("packing needs the packaging module: python -m pip install packaging") from None

    found: dict[str, tuple[metadata.Distribution, set[str]]] = {}
    todo = [Requirement(r) for r in pyproject()["dependencies"]]
    todo = [r for r in todo if r.marker is None or r.marker.evaluate({"extra": ""})]
    while todo:
        req = todo.pop()
        key = canonicalize_name(req.name)
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            raise SystemExit(f"{req.name} is not installed: python -m pip install -e . first") from None
        if not req.specifier.contains(dist.version, prereleases=True):
            raise SystemExit(f"{req.name} {dist.version} is installed, but {req} is needed")
        extras = found[key][1] if key in found else set()
        if key in found and set(req.extras) <= extras:
            continue
        extras |= set(req.extras)
        found[key] = (dist, extras)
        for line in dist.requires or []:
            sub = Requirement(line)
            if sub.marker is None or any(sub.marker.evaluate({"extra": e}) for e in extras | {""}):
                todo.append(sub)
    return [found[k][0] for k in sorted(found)]


def _dist_files(dist: metadata.Distribution) -> Iterator[tuple[str, Path]]:
    """(path in the site dir, file) for each installed file of a distribution, byte code and files installed
    elsewhere (console scripts, data) left out."""
    site = Path(dist.locate_file("")).resolve()
    if dist.files is None:
        raise SystemExit(f"{dist.metadata['Name']} has no RECORD of its files: reinstall it with pip")
    for entry in dist.files:
        path = Path(dist.locate_file(entry)).resolve()
        if "__pycache__" in entry.parts or path.suffix == ".pyc" or not path.is_relative_to(site):
            continue
        if not path.is_file():
            raise SystemExit(f"{path}, listed by {dist.metadata['Name']}, is missing: reinstall it")
        yield path.relative_to(site).as_posix(), path


def contents() -> Iterator[tuple[str, Path]]:
    """(name in the bundle, file) for everything but the manifest."""
    yield "server/main.py", LAUNCHER
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "__pycache__" not in path.parts:
                yield f"server/lib/{path.relative_to(ROOT).as_posix()}", path
    for dist in _closure():
        for name, path in _dist_files(dist):
            yield f"server/lib/{name}", path


def _entry(name: str, mode: int) -> zipfile.ZipInfo:
    """A file entry with a fixed time, so that the same inputs make the same bytes; the mode as `mcpb pack`
    stores it (Unix permissions in the high 16 bits), which `mcpb unpack` and Claude Desktop restore."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3
    info.external_attr = (stat.S_IFREG | (mode & 0o777)) << 16
    return info


def pack(out: Path) -> Path:
    """The bundle: a zip of the manifest and the files it runs, file entries only, as `mcpb pack` makes it."""
    if sys.platform not in PLATFORMS:
        raise SystemExit(f"Claude Desktop bundles are for {', '.join(PLATFORMS)}, not {sys.platform}")
    data = manifest(sys.platform)
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{data['name']}-{data['version']}.mcpb"
    partial = target.with_suffix(".mcpb.partial")
    seen: set[str] = set()
    try:
        with zipfile.ZipFile(partial, "w") as archive:
            archive.writestr(_entry("manifest.json", 0o644), render(data))
            for name, path in contents():
                if name in seen:
                    raise SystemExit(f"{name} comes from two places; the second is {path}")
                seen.add(name)
                archive.writestr(_entry(name, path.stat().st_mode), path.read_bytes())
    except BaseException:
        partial.unlink(missing_ok=True)  # never a half bundle, under any name
        raise
    partial.replace(target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python bundle/build.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--pack", action="store_true", help="build the .mcpb bundle (bundle/manifest.json stays)")
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="directory of the bundle (default: dist)")
    args = parser.parse_args(argv)
    if not args.pack:
        MANIFEST.write_text(render(manifest()), encoding="utf-8")
        print(f"wrote {MANIFEST.relative_to(ROOT)}")
        return 0
    target = pack(args.out)
    major, minor = sys.version_info[:2]
    print(f"built {target} for {sys.platform} and Python {major}.{minor}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
