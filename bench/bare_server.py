"""The reference: a bare FastMCP server on stdio with one no-op tool taking notify.send's arguments."""

from __future__ import annotations

import os
import sys

if sys.path and os.path.basename(sys.path[0] or ".") == "bench":
    sys.path.pop(0)  # run as a file: keep bench/'s own modules from shadowing anything

from mcp.server.fastmcp import FastMCP

mcp = FastMCP("bare")


@mcp.tool()
async def send(title: str, content: str) -> str:
    """Do nothing and say so."""
    return "ok"


if __name__ == "__main__":
    mcp.run("stdio")
