"""Agent hooks: `mcp-push hook AGENT`, one module per agent on `hooks.base`, as channels are on `channels.base`.

This registry is the only list of agents. It is plain data and imports nothing, because the command line
(`mcp_push.args`) builds one subcommand per entry: an agent's own options, and whether its payload comes
as a command-line argument instead of on stdin, are declared here.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    import argparse

    from mcp_push.config import Config
    from mcp_push.hooks.base import Agent


class Spec(NamedTuple):
    module: str
    help: str
    options: tuple[tuple[str, dict[str, Any]], ...] = ()  # (flag, argparse keywords)
    argv_payload: bool = False  # the payload is the last command-line argument, not stdin (Codex's notify)


AGENTS: dict[str, Spec] = {
    "claude-code": Spec("claude_code", "read a Claude Code hook's JSON on stdin"),
    "codex": Spec("codex", "Codex: its notify program (the JSON as last argument) or its hooks (on stdin)", (), True),
    "gemini": Spec("gemini", "read a Gemini CLI hook's JSON on stdin"),
    "copilot": Spec("copilot", "read a GitHub Copilot CLI hook's JSON on stdin"),
    "cursor": Spec("cursor", "read a Cursor hook's JSON on stdin"),
    "opencode": Spec("opencode", "an opencode plugin's event (see --print-config for the plugin file)"),
    "generic": Spec(
        "generic",
        "a lifecycle event for any agent or script; the message on stdin",
        (
            # Checked in the adapter, not with choices=: argparse exits 2, which a Stop hook reads as "keep working".
            ("--event", {"default": "end", "metavar": "{start,update,end,error}", "help": "default: end"}),
            ("--run-id", {"help": "the job's name (default: the current directory's name)"}),
            ("--title", {"help": "a title instead of e.g. '✅ [END] RUN_ID'"}),
        ),
    ),
}


def load(name: str) -> Agent:
    return importlib.import_module(f"mcp_push.hooks.{AGENTS[name].module}").AGENT()


def run(args: argparse.Namespace) -> int:
    from mcp_push.hooks.base import run as run_hook

    return run_hook(load(args.agent), args)


async def handed(args: argparse.Namespace, raw: str, config: Config, source: str) -> int:
    from mcp_push.hooks.base import handed as handed_hook

    return await handed_hook(load(args.agent), args, raw, config, source)
