"""The command line's shape: `mcp-push`'s subcommands and options, and nothing else.

Standard library only, and argparse only when a parser is built: a send handed to a running server
(`mcp_push.handoff`) asks `stdin_wanted` whether the command reads stdin before anything is imported.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from mcp_push import __version__

if TYPE_CHECKING:
    import argparse

# The options of `send` that take a value (its others are flags): what `stdin_wanted` must skip over.
SEND_VALUE_OPTIONS = ("--channel", "-c")


def stdin_wanted(argv: list[str]) -> bool | None:
    """Whether `mcp-push send|event|hook ...` reads its stdin (`send` without content or with `-`; every
    hook), or None when that cannot be told without argparse (an option this does not know)."""
    command, rest = argv[0], argv[1:]
    if command == "hook":
        return True
    if command != "send":
        return False
    positionals: list[str] = []
    skip = False
    for i, token in enumerate(rest):
        if skip:
            skip = False
        elif token == "--":
            positionals += rest[i + 1 :]
            break
        elif token in SEND_VALUE_OPTIONS:
            skip = True
        elif token.startswith(SEND_VALUE_OPTIONS) or token == "--json":  # --channel=x, -cx
            continue
        elif token.startswith("-") and token != "-":
            return None
        else:
            positionals.append(token)
    return len(positionals) < 2 or positionals[1] == "-"


EPILOG = """exit codes: 0 delivered (or kept in the local inbox when no channel is configured),
1 every channel failed, 2 bad input or usage, 3 partly delivered, 4 (ask) no answer in time.
Channels are configured with env vars or a config.env file; `mcp-push channels` lists them."""
ASK_EPILOG = """prints the chosen option on stdout. exit codes: 0 answered, 4 no answer in time,
1 the question reached no channel that can carry an answer, 2 bad input, or no configured channel
can carry answers (Telegram and ntfy can)."""


@functools.cache
def parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line, or only the subcommand `only`. Cached: parsing changes nothing."""
    import argparse
    from pathlib import Path

    p = argparse.ArgumentParser(
        prog="mcp-push", description="Push notifications from agents and shells.", epilog=EPILOG
    )
    p.add_argument("--version", action="version", version=f"mcp-push {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def common(cmd: argparse.ArgumentParser, channel_option: bool = True) -> None:
        if channel_option:
            cmd.add_argument(
                *SEND_VALUE_OPTIONS, action="append", metavar="NAME", help="only this channel (repeatable)"
            )
        cmd.add_argument("--json", action="store_true", help="print the delivery report as JSON")

    if only in (None, "send"):
        send = sub.add_parser("send", help="send a notification", epilog=EPILOG)
        send.add_argument("title")
        send.add_argument("content", nargs="?", help="message body; '-' or omitted with piped stdin reads stdin")
        common(send)

    if only in (None, "event"):
        event = sub.add_parser("event", help="send a job lifecycle event", epilog=EPILOG)
        event.add_argument("run_id")
        event.add_argument("event", help="start, update, end or error")
        event.add_argument("message")
        event.add_argument("--data", metavar="JSON", help="a JSON object, e.g. '{\"step\": 3}'")
        event.add_argument("--timestamp", metavar="ISO8601")
        common(event)

    if only in (None, "ask"):
        ask = sub.add_parser("ask", help="ask a question on your phone, wait, print the answer", epilog=ASK_EPILOG)
        ask.add_argument("question")
        ask.add_argument(
            "--option",
            "-o",
            action="append",
            metavar="TEXT",
            help="a possible answer, 2 to 4 of them (default: Yes, No)",
        )
        ask.add_argument(
            "--timeout", type=float, metavar="SECONDS", help="how long to wait (default MCP_PUSH_ASK_TIMEOUT)"
        )
        ask.add_argument("--title", help="the push's title instead of the question's first line")
        common(ask)

    if only in (None, "channels"):
        channels = sub.add_parser("channels", help="list every channel, its variables and whether it is configured")
        channels.add_argument("--json", action="store_true", help="machine-readable listing")
        channels.add_argument(
            "--format",
            choices=["text", "markdown", "env", "server-json"],
            default="text",
            help="markdown table, a config.env template, or the MCP Registry's server.json",
        )

    if only in (None, "test"):
        test = sub.add_parser("test", help="send a test message to the named (or all configured) channels")
        test.add_argument("names", nargs="*", metavar="CHANNEL")
        common(test, channel_option=False)

    if only in (None, "inbox"):
        inbox = sub.add_parser("inbox", help="show the latest messages kept in the local inbox")
        inbox.add_argument("--limit", "-n", type=int, default=20)
        inbox.add_argument("--json", action="store_true")

    if only in (None, "hook"):
        hook = sub.add_parser("hook", help="notify from an agent's hook; always exits 0 (see `hook claude-code -h`)")
        agents = hook.add_subparsers(dest="agent", metavar="AGENT", required=True)
        from mcp_push.hooks import AGENTS  # plain data: one subcommand per agent

        for name, spec in AGENTS.items():
            agent = agents.add_parser(name, help=spec.help)
            agent.add_argument("--print-config", action="store_true", help="print the hook configuration to add")
            agent.add_argument(
                "--approvals",
                action="store_true",
                help="with --print-config: also permission prompts, answered from your phone",
            )
            agent.add_argument(
                *SEND_VALUE_OPTIONS, action="append", metavar="NAME", help="only this channel (repeatable)"
            )
            for flag, keywords in spec.options:
                agent.add_argument(flag, **keywords)
            if spec.argv_payload:
                agent.add_argument("payload", nargs="?", help="the agent's JSON, as it passes it")

    for name in ("install", "uninstall"):
        if only in (None, name):
            from mcp_push.install import AGENTS as INSTALLABLE  # plain data: one choice per agent

            verb = "add the MCP server and the hooks to" if name == "install" else "remove what install added from"
            cmd = sub.add_parser(name, help=f"{verb} an agent's own config files (see `{name} -h`)")
            cmd.add_argument(
                "agent",
                choices=list(INSTALLABLE),
                metavar="AGENT",
                help="; ".join(f"{k} ({v})" for k, v in INSTALLABLE.items()),
            )
            cmd.add_argument("--dry-run", action="store_true", help="print the change as a diff; write nothing")
            if name == "install":
                cmd.add_argument(
                    "--approvals",
                    action="store_true",
                    help="also the permission-prompt hooks, answered from your phone",
                )

    if only in (None, "setup"):
        # Options of `mcp-push setup` (mcp_push/setup.py owns this block).
        setup = sub.add_parser("setup", help="set up channels interactively: prompts, a test message, config.env")
        setup.add_argument(
            "items", nargs="*", metavar="CHANNEL|KEY=VALUE", help="channels to set up; KEY=VALUE sets a variable"
        )
        setup.add_argument("--non-interactive", action="store_true", help="no prompts: only the KEY=VALUE given")
        setup.add_argument("--config", type=Path, metavar="FILE", help="the file to write (default: the one read)")
        setup.add_argument("--no-test", action="store_true", help="do not send a test message")

    if only in (None, "doctor"):
        # Options of `mcp-push doctor` (mcp_push/doctor.py owns this block).
        doctor = sub.add_parser("doctor", help="check each channel's network path, the files, and the agents")
        doctor.add_argument("names", nargs="*", metavar="CHANNEL", help="only these channels")
        doctor.add_argument("--json", action="store_true")

    if only in (None, "history"):
        history = sub.add_parser("history", help="recent notifications with each channel's outcome")
        history.add_argument("--limit", "-n", type=int, default=20)
        history.add_argument("--failed", action="store_true", help="only notifications with a failed channel")
        history.add_argument("--run", metavar="RUN_ID", help="only this run's events")
        history.add_argument("--json", action="store_true")

    if only in (None, "stats"):
        stats = sub.add_parser("stats", help="per channel: sent, failed, success rate, p50/p95 latency")
        stats.add_argument("--days", type=float, default=7, help="window in days (default 7)")
        stats.add_argument("--json", action="store_true")

    if only in (None, "retry"):
        retry = sub.add_parser("retry", help="re-send pending deliveries, only to the channels that failed")
        retry.add_argument("--id", type=int, help="only this notification")
        retry.add_argument("--all", action="store_true", help="also channels that failed for good (e.g. after a fix)")
        retry.add_argument("--json", action="store_true")

    if only in (None, "serve"):
        serve = sub.add_parser("serve", help="run the MCP server on stdio (the default), or the HTTP hub with --http")
        serve.add_argument("--http", action="store_true", help="run the hub: MCP over HTTP, a REST API, metrics")
        serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        serve.add_argument("--port", type=int, default=8765, help="port to listen on (default 8765)")
        serve.add_argument("--tls-cert", type=Path, metavar="PEM", help="serve HTTPS with this certificate chain")
        serve.add_argument("--tls-key", type=Path, metavar="PEM", help="... and this private key")
    return p
