"""The shell front door: `mcp-push COMMAND`, one function per command, each parsing, calling the one dispatch
and rendering its report (`mcp-push -h` lists the commands).

The send path imports neither the MCP SDK nor a channel module it does not need, so a hook or a cron job
pays only for the channels it uses. Exit codes are distinct so scripts can branch on the outcome.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from pydantic import ValidationError

from mcp_push import __version__, console
from mcp_push.args import parser
from mcp_push.config import Config, ConfigError
from mcp_push.models import Ask, AskResult, DeliveryReport, Event, Notification, explain

EXIT_OK = 0  # delivered; also: saved to the local inbox because nothing is configured, or skipped by title
EXIT_FAILED = 1  # no channel accepted it
EXIT_USAGE = 2  # bad arguments, bad input or unusable configuration
EXIT_PARTIAL = 3  # some channels accepted it, some did not
EXIT_NO_ANSWER = 4  # `ask`: nobody answered in time


class UsageProblem(Exception):
    pass


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
    if command in ("install", "uninstall"):
        from mcp_push.install import run as install  # reads the config only for the ask timeout, if it can

        return install(args)
    if command == "setup":
        from mcp_push.setup import run as setup  # loads and writes the config itself: it may be broken yet

        return setup(args)
    if command == "doctor":
        from mcp_push.doctor import run as doctor  # loads the config itself: a broken one is a finding

        return doctor(args)
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
        from mcp_push import http

        return http.run(deliver(config, _notification(command, args, None if sys.stdin.isatty() else sys.stdin), args))
    except (ConfigError, UsageProblem) as exc:
        print(f"mcp-push: {exc}", file=console.err())
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


async def handed(argv: list[str], stdin: str | None, config: Config, source: str = "cli") -> int:
    """A `send`, `event` or `hook` that another process handed to this running server (`mcp_push.handoff`):
    what `main` would do with it, on this server's configuration, its output in `console`'s buffers.
    `stdin` is what the other process's stdin held, or None when it was a terminal."""
    from contextlib import redirect_stderr, redirect_stdout

    try:  # argparse writes to sys.stdout/stderr; no await in between, so no other task sees them moved
        with redirect_stdout(console.out()), redirect_stderr(console.err()):
            args = parser().parse_args(argv)
    except SystemExit as exc:  # the other process checked these arguments already; a newer version may not
        return exc.code if isinstance(exc.code, int) else 2
    if args.command == "hook":
        from mcp_push.hooks import handed as hook

        return await hook(args, stdin or "", config, source)
    try:
        note = _notification(args.command, args, None if stdin is None else io.StringIO(stdin))
        return await deliver(config, note, args, source)
    except (ConfigError, UsageProblem) as exc:
        print(f"mcp-push: {exc}", file=console.err())
        return EXIT_USAGE


def _notification(command: str, args: argparse.Namespace, stdin: TextIO | None) -> Notification:
    """The notification a command asks for; `stdin`, piped input (None when it is a terminal)."""
    try:
        if command == "send":
            return Notification(title=args.title, content=_content(args.content, stdin))
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


def _content(value: str | None, stdin: TextIO | None) -> str:
    if stdin is not None and (value == "-" or value is None):
        value = stdin.read()
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


async def deliver(config: Config, note: Notification, args: argparse.Namespace, source: str = "cli") -> int:
    from mcp_push.dispatch import UsageError, dispatch

    names = args.names if args.command == "test" else args.channel
    try:
        report = await dispatch(config, note, names, source=source)
    except UsageError as exc:
        raise UsageProblem(str(exc)) from None
    _print_report(report, as_json=args.json)
    if report.status == "no_channels":
        print(f"mcp-push: {report.summary}", file=console.err())
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
            print(redact(result.model_dump_json(indent=2, exclude_none=True)), file=console.out(), flush=True)
        elif result.answered:
            print(result.answer, file=console.out(), flush=True)
        if not result.answered:
            print(f"mcp-push: {redact(result.summary)}", file=console.err(), flush=True)

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
        print(redact(report.model_dump_json(indent=2)), file=console.out())
        return
    for r in report.results:
        status = f"{r.http_status}" if r.http_status else ""
        if r.ok:
            print(f"✓ {r.name:<14} {r.elapsed_ms:>6} ms {status}", file=console.out())
        else:
            print(redact(f"✗ {r.name:<14} {r.elapsed_ms:>6} ms {r.error}"), file=console.out())
    if report.status != "no_channels":
        print(redact(report.summary), file=console.out())


def _channels(config: Config, args: argparse.Namespace) -> int:
    from mcp_push.catalog import as_env_example, as_markdown, describe
    from mcp_push.redact import redact

    rows = describe(config)
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False), file=console.out())
    elif args.format == "markdown":
        print(as_markdown(rows), file=console.out())
    elif args.format == "env":
        print(as_env_example(rows), end="", file=console.out())
    else:
        from mcp_push.catalog import grouped

        for title, members in grouped(rows):
            print(f"== {title} ==", file=console.out())
            for row in members:
                problem = f": {redact(row['problem'])}" if row["problem"] else ""
                print(f"{row['name']:<14} {row['status']}{problem}", file=console.out())
                for var in row["variables"]:
                    need = "required" if var["required"] else "optional"
                    value = f" = {var['value']}" if var["value"] else ""
                    print(f"    {var['name']:<24} {need}{value}", file=console.out())
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
        print(
            json.dumps([r.model_dump(mode="json") for r in reports], indent=2, ensure_ascii=False), file=console.out()
        )
    elif not reports:
        print("Nothing to re-send.", file=console.out())
    for report in [] if args.json else reports:
        print(f"#{report.id}:", file=console.out())
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
