"""The shell front door: `mcp-push send|event|ask|channels|test|inbox|history|stats|retry|hook|serve`.

The send path imports neither the MCP SDK nor a channel module it does not need, so a hook or a cron job
pays only for the channels it uses. Exit codes are distinct so scripts can branch on the outcome.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from mcp_push import __version__
from mcp_push.config import Config, ConfigError
from mcp_push.models import Ask, AskResult, DeliveryReport, Event, Notification, explain

EXIT_OK = 0  # delivered; also: saved to the local inbox because nothing is configured, or skipped by title
EXIT_FAILED = 1  # no channel accepted it
EXIT_USAGE = 2  # bad arguments, bad input or unusable configuration
EXIT_PARTIAL = 3  # some channels accepted it, some did not
EXIT_NO_ANSWER = 4  # `ask`: nobody answered in time

EPILOG = """exit codes: 0 delivered (or kept in the local inbox when no channel is configured),
1 every channel failed, 2 bad input or usage, 3 partly delivered, 4 (ask) no answer in time.
Channels are configured with env vars or a config.env file; `mcp-push channels` lists them."""
ASK_EPILOG = """prints the chosen option on stdout. exit codes: 0 answered, 4 no answer in time,
1 the question reached no channel that can carry an answer, 2 bad input, or no configured channel
can carry answers (Telegram and ntfy can)."""


class UsageProblem(Exception):
    pass


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="mcp-push", description="Push notifications from agents and shells.", epilog=EPILOG
    )
    p.add_argument("--version", action="version", version=f"mcp-push {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def common(cmd: argparse.ArgumentParser, channel_option: bool = True) -> None:
        if channel_option:
            cmd.add_argument("--channel", "-c", action="append", metavar="NAME", help="only this channel (repeatable)")
        cmd.add_argument("--json", action="store_true", help="print the delivery report as JSON")

    send = sub.add_parser("send", help="send a notification", epilog=EPILOG)
    send.add_argument("title")
    send.add_argument("content", nargs="?", help="message body; '-' or omitted with piped stdin reads stdin")
    common(send)

    event = sub.add_parser("event", help="send a job lifecycle event", epilog=EPILOG)
    event.add_argument("run_id")
    event.add_argument("event", help="start, update, end or error")
    event.add_argument("message")
    event.add_argument("--data", metavar="JSON", help="a JSON object, e.g. '{\"step\": 3}'")
    event.add_argument("--timestamp", metavar="ISO8601")
    common(event)

    ask = sub.add_parser("ask", help="ask a question on your phone, wait, print the answer", epilog=ASK_EPILOG)
    ask.add_argument("question")
    ask.add_argument(
        "--option", "-o", action="append", metavar="TEXT", help="a possible answer, 2 to 4 of them (default: Yes, No)"
    )
    ask.add_argument("--timeout", type=float, metavar="SECONDS", help="how long to wait (default MCP_PUSH_ASK_TIMEOUT)")
    ask.add_argument("--title", help="the push's title instead of the question's first line")
    common(ask)

    channels = sub.add_parser("channels", help="list every channel, its variables and whether it is configured")
    channels.add_argument("--json", action="store_true", help="machine-readable listing")
    channels.add_argument(
        "--format", choices=["text", "markdown", "env"], default="text", help="markdown table or a config.env template"
    )

    test = sub.add_parser("test", help="send a test message to the named (or all configured) channels")
    test.add_argument("names", nargs="*", metavar="CHANNEL")
    common(test, channel_option=False)

    inbox = sub.add_parser("inbox", help="show the latest messages kept in the local inbox")
    inbox.add_argument("--limit", "-n", type=int, default=20)
    inbox.add_argument("--json", action="store_true")

    hook = sub.add_parser("hook", help="notify from an agent's hook; always exits 0 (see `hook claude-code -h`)")
    agents = hook.add_subparsers(dest="agent", metavar="AGENT", required=True)
    claude = agents.add_parser("claude-code", help="read a Claude Code hook's JSON on stdin")
    claude.add_argument("--print-config", action="store_true", help="print the settings.json hooks to add")
    claude.add_argument(
        "--approvals", action="store_true", help="with --print-config: also PermissionRequest, answered from your phone"
    )
    generic = agents.add_parser("generic", help="a lifecycle event for any agent or script; the message on stdin")
    # Checked in hooks.py, not with choices=: argparse exits 2, which a Stop hook reads as "keep working".
    generic.add_argument("--event", default="end", metavar="{start,update,end,error}", help="default: end")
    generic.add_argument("--run-id", help="the job's name (default: the current directory's name)")
    generic.add_argument("--title", help="a title instead of e.g. '✅ [END] RUN_ID'")
    for cmd in (claude, generic):
        cmd.add_argument("--channel", "-c", action="append", metavar="NAME", help="only this channel (repeatable)")

    history = sub.add_parser("history", help="recent notifications with each channel's outcome")
    history.add_argument("--limit", "-n", type=int, default=20)
    history.add_argument("--failed", action="store_true", help="only notifications with a failed channel")
    history.add_argument("--run", metavar="RUN_ID", help="only this run's events")
    history.add_argument("--json", action="store_true")

    stats = sub.add_parser("stats", help="per channel: sent, failed, success rate, p50/p95 latency")
    stats.add_argument("--days", type=float, default=7, help="window in days (default 7)")
    stats.add_argument("--json", action="store_true")

    retry = sub.add_parser("retry", help="re-send pending deliveries, only to the channels that failed")
    retry.add_argument("--id", type=int, help="only this notification")
    retry.add_argument("--all", action="store_true", help="also channels that failed for good (e.g. after a fix)")
    retry.add_argument("--json", action="store_true")

    serve = sub.add_parser("serve", help="run the MCP server on stdio (the default), or the HTTP hub with --http")
    serve.add_argument("--http", action="store_true", help="run the hub: MCP over HTTP, a REST API, metrics")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8765, help="port to listen on (default 8765)")
    serve.add_argument("--tls-cert", type=Path, metavar="PEM", help="serve HTTPS with this certificate chain")
    serve.add_argument("--tls-key", type=Path, metavar="PEM", help="... and this private key")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    command = args.command or "serve"
    if command != "serve":
        # A CLI run is asyncio only and never uses httpx's own command line, yet importing httpx loads that
        # (click, and rich/pygments when installed: ~20 ms) and httpcore loads trio when installed (~70 ms).
        sys.modules.setdefault("trio", None)  # type: ignore[arg-type]
        sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    if command == "hook":
        from mcp_push.hooks import run  # loads its own config: a hook exits 0 even on a bad one

        return run(args)
    try:
        config = Config.load()
        setup_logging(config)
        if command == "serve" and getattr(args, "http", False):
            from mcp_push.hub import serve_http

            serve_http(config, host=args.host, port=args.port, tls_cert=args.tls_cert, tls_key=args.tls_key)
            return EXIT_OK
        if command == "serve":
            from mcp_push.server import serve  # the only paths that import the MCP SDK

            serve(config)
            return EXIT_OK
        if command == "channels":
            return _channels(config, args)
        if command in ("inbox", "history", "stats"):
            from mcp_push import views

            return getattr(views, command)(config, args)
        if command == "retry":
            return _retry(config, args)
        if command == "ask":
            return _ask(config, args)
        return _deliver(config, _notification(command, args), args)
    except (ConfigError, UsageProblem) as exc:
        print(f"mcp-push: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def _notification(command: str, args: argparse.Namespace) -> Notification:
    try:
        if command == "send":
            return Notification(title=args.title, content=_content(args.content))
        if command == "event":
            return Event(
                run_id=args.run_id,
                event=args.event,
                message=args.message,
                data=_data(args.data),
                timestamp=args.timestamp,
            ).to_notification()
        names = ", ".join(args.names) or "all configured channels"
        return Notification(title="mcp-push test", content=f"Test message from mcp-push {__version__} to {names}.")
    except ValidationError as exc:
        raise UsageProblem(f"invalid input: {explain(exc)}") from None


def _content(value: str | None) -> str:
    if value == "-" or (value is None and not sys.stdin.isatty()):
        value = sys.stdin.read()
    if value is None:
        raise UsageProblem("content is missing: pass it as the second argument or pipe it on stdin")
    return value


def _data(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise UsageProblem(f"--data is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise UsageProblem("--data must be a JSON object, e.g. '{\"step\": 3}'")
    return value


def _deliver(config: Config, note: Notification, args: argparse.Namespace) -> int:
    from mcp_push import http
    from mcp_push.dispatch import UsageError, dispatch

    names = args.names if args.command == "test" else args.channel
    try:
        report = http.run(dispatch(config, note, names))
    except UsageError as exc:
        raise UsageProblem(str(exc)) from None
    _print_report(report, as_json=args.json)
    if report.status == "no_channels":
        print(f"mcp-push: {report.summary}", file=sys.stderr)
    return exit_code(report)


def _ask(config: Config, args: argparse.Namespace) -> int:
    from mcp_push import http
    from mcp_push.ask import ask, prompt_for
    from mcp_push.dispatch import UsageError
    from mcp_push.redact import redact

    try:
        request = Ask(
            question=args.question, options=args.option or ["Yes", "No"], timeout_seconds=args.timeout, title=args.title
        )
    except ValidationError as exc:
        raise UsageProblem(f"invalid input: {explain(exc)}") from None
    shown: list[AskResult] = []

    def show(result: AskResult) -> None:
        """At once, before the question's messages are updated: a script waits for this line."""
        if shown:
            return
        shown.append(result)
        if args.json:
            print(redact(result.model_dump_json(indent=2, exclude_none=True)), flush=True)
        elif result.answered:
            print(result.answer, flush=True)
        if not result.answered:
            print(f"mcp-push: {redact(result.summary)}", file=sys.stderr, flush=True)

    prompt = prompt_for(request, config.settings)
    try:
        result = http.run(ask(config, prompt, channels=args.channel, fallback=False, on_outcome=show))
    except UsageError as exc:
        raise UsageProblem(str(exc)) from None
    show(result)
    if result.answered:
        return EXIT_OK
    return {"timeout": EXIT_NO_ANSWER, "not_delivered": EXIT_FAILED}.get(result.reason or "", EXIT_USAGE)


def exit_code(report: DeliveryReport) -> int:
    if report.status == "partial":
        return EXIT_PARTIAL
    return EXIT_OK if report.delivered else EXIT_FAILED


def _print_report(report: DeliveryReport, as_json: bool) -> None:
    from mcp_push.redact import redact

    if as_json:
        print(redact(report.model_dump_json(indent=2)))
        return
    for r in report.results:
        status = f"{r.http_status}" if r.http_status else ""
        if r.ok:
            print(f"✓ {r.name:<14} {r.elapsed_ms:>6} ms {status}")
        else:
            print(redact(f"✗ {r.name:<14} {r.elapsed_ms:>6} ms {r.error}"))
    if report.status != "no_channels":
        print(redact(report.summary))


def _channels(config: Config, args: argparse.Namespace) -> int:
    from mcp_push.catalog import as_env_example, as_markdown, describe

    rows = describe(config)
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    elif args.format == "markdown":
        print(as_markdown(rows))
    elif args.format == "env":
        print(as_env_example(rows), end="")
    else:
        for row in rows:
            print(f"{row['name']:<14} {row['status']}{': ' + row['problem'] if row['problem'] else ''}")
            for var in row["variables"]:
                need = "required" if var["required"] else "optional"
                value = f" = {var['value']}" if var["value"] else ""
                print(f"    {var['name']:<24} {need}{value}")
    return EXIT_OK


def _retry(config: Config, args: argparse.Namespace) -> int:
    from mcp_push import http
    from mcp_push.dispatch import redeliver

    async def run() -> list[DeliveryReport]:
        claims = await asyncio.to_thread(
            config.store.claim,
            horizon_s=config.settings.MCP_PUSH_PENDING_HOURS * 3600,
            nid=args.id,
            due_only=False,
            failed_too=args.all,
        )
        return [await redeliver(config, claim) for claim in claims]

    reports = http.run(run())
    if args.json:
        print(json.dumps([r.model_dump(mode="json") for r in reports], indent=2, ensure_ascii=False))
    elif not reports:
        print("Nothing to re-send.")
    for report in [] if args.json else reports:
        print(f"#{report.id}:")
        _print_report(report, as_json=False)
    if not reports:
        return EXIT_OK
    codes = {exit_code(r) for r in reports}
    return codes.pop() if len(codes) == 1 else EXIT_PARTIAL


def setup_logging(config: Config) -> None:
    import logging

    from mcp_push.redact import RedactingFilter

    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("mcp_push")
    logger.handlers[:] = [handler]
    logger.setLevel(config.settings.MCP_PUSH_LOG_LEVEL)
    logger.propagate = False
