"""A real hub for tests: `mcp_push.hub.build` served by uvicorn on 127.0.0.1, in a thread with its own loop."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any

from mcp_push import hub
from mcp_push.config import Config


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RunningHub:
    def __init__(self, config: Config, port: int | None = None, **where: Any) -> None:
        self.config = config
        self.port = port or free_port()
        self.server = hub.build(config, host="127.0.0.1", port=self.port, **where)
        self._thread = threading.Thread(target=lambda: asyncio.run(self.server.serve()), daemon=True)
        self._thread.start()
        end = time.monotonic() + 15
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > end:
                raise RuntimeError("the hub did not start")
            time.sleep(0.01)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=35)
