"""The process entry point: `python -m mcp_push` and the `mcp-push` script.

It owns the garbage collector's settings, which are process-wide and so no business of `cli.main` (tests
and embedders call that in their own processes). Importing pydantic, httpx and the MCP SDK builds a large
heap of objects that live until exit; collecting over them is wasted work. So: no collection while
importing, then the imported heap is frozen (never scanned again, server included), and frozen once more
before exit, which spares a one-shot command the interpreter's final collection over everything. That
final collection alone was ~65 ms of a ~300 ms cold `send` (docs/benchmarks.md).

A `send`, `event` or `hook` first offers itself to a running server (`mcp_push.handoff`), before anything
but the standard library is imported.
"""

import gc
import os
import sys


def run() -> None:
    gc.disable()
    if sys.argv[1:2] in (["send"], ["event"], ["hook"]):
        from mcp_push.handoff import hand_off  # standard library only: a running server may do the work

        code = hand_off(sys.argv[1:])
        if code is not None:
            sys.stdout.flush()
            sys.exit(code)
    from mcp_push.cli import main

    gc.freeze()
    gc.enable()
    try:
        code = main()
        sys.stdout.flush()  # here, not at exit, so that a closed pipe is caught below
    except BrokenPipeError:  # `mcp-push history | head`: the reader left; no traceback, and none at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 1
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    run()
