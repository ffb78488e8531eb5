"""The bundle's entry point: Claude Desktop runs it as the manifest's `mcp_config` says, with `server/lib`, this
bundle's own copy of mcp-push and of every package it needs, on PYTHONPATH.

An option left blank in Claude Desktop's settings arrives as an empty variable, or, from a host that fills in
only the options that have a value, as its literal `${user_config.KEY}`. Either means "not given here", so the
variable is dropped before mcp-push reads its configuration: it neither configures a channel with a
placeholder nor hides the same variable in the user's config.env.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, MutableMapping
from pathlib import Path

BUNDLE = Path(__file__).resolve().parent.parent


def drop_blanks(environ: MutableMapping[str, str], templates: Mapping[str, str]) -> None:
    """Unset each variable the manifest fills from an option that has no value."""
    for var, template in templates.items():
        if template.startswith("${user_config.") and environ.get(var, "").strip() in ("", template):
            environ.pop(var, None)


def main() -> None:
    manifest = json.loads((BUNDLE / "manifest.json").read_text(encoding="utf-8"))
    drop_blanks(os.environ, manifest["server"]["mcp_config"].get("env", {}))
    try:
        import pydantic_core  # noqa: F401  compiled for one Python on one OS: under any other, it fails first
    except ImportError as exc:
        wanted = manifest.get("compatibility", {})
        sys.exit(
            f"mcp-push: this bundle was built for Python {wanted.get('runtimes', {}).get('python')} on "
            f"{', '.join(wanted.get('platforms', []))}, but {sys.executable} is Python {sys.version.split()[0]} "
            f"on {sys.platform} ({exc}). Build one for it with that Python: python bundle/build.py --pack"
        )
    from mcp_push.__main__ import run

    run()


if __name__ == "__main__":
    main()
