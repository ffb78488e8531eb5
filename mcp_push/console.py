"""Where a command's output goes: this process's stdout and stderr, or, for a command a running server
runs on another process's behalf (`mcp_push.handoff`), buffers that go back to that process. A context
variable, so concurrent hand-offs in one server each keep their own, tasks they start included."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TextIO

_streams: ContextVar[tuple[TextIO, TextIO] | None] = ContextVar("streams", default=None)


def out() -> TextIO:
    streams = _streams.get()
    return streams[0] if streams else sys.stdout


def err() -> TextIO:
    streams = _streams.get()
    return streams[1] if streams else sys.stderr


@contextmanager
def captured() -> Iterator[tuple[io.StringIO, io.StringIO]]:
    buffers = (io.StringIO(), io.StringIO())
    token = _streams.set(buffers)
    try:
        yield buffers
    finally:
        _streams.reset(token)
