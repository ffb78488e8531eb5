"""Apprise: the 100+ services mcp-push has no module for, through Apprise's URLs (`discord://`, `mailto://`,
`signal://`, `json://`, ...), with the optional extra `mcp-push[apprise]`.

Each URL reports on its own (`apprise:discord`, `apprise:mailto`, a second one of a kind `apprise:json-2`),
since one URL failing says nothing of the others; `--channel apprise` picks them all. Apprise is blocking
(requests under the hood), so each URL is notified in a worker thread under the send's deadline; a URL that
outlasts it is reported timed out while its thread finishes on its own, bounded by Apprise's own timeouts.
Apprise says why something failed only in its log, so that log (this thread's records, from warnings up)
is the error text. Every credential inside the URLs (user info, tokens in paths and queries) is masked.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator

from channels.base import Channel, ChannelError, ChannelSettings
from mcp_push.models import Notification

INSTALL = "Apprise is not installed: pip install 'mcp-push[apprise]' (or apprise itself)"


def urls(value: str) -> list[str]:
    """The URLs of the setting: separated by white space (a comma can belong to a URL: mailto://...?to=a,b)."""
    return value.split()


class Settings(ChannelSettings):
    APPRISE_URLS: SecretStr = Field(
        description="Apprise URLs, separated by spaces or new lines, e.g. 'discord://id/token mailto://u:p@host'."
    )

    @classmethod
    def secret_values(cls, values: dict[str, str]) -> list[str]:
        # Each URL on its own too, so that the credentials inside every one of them are masked.
        return [*super().secret_values(values), *urls(values.get("APPRISE_URLS", ""))]

    @field_validator("APPRISE_URLS")
    @classmethod
    def _known_urls(cls, value: SecretStr) -> SecretStr:
        try:
            import apprise
        except ImportError:
            raise ValueError(INSTALL) from None
        found = urls(value.get_secret_value())
        if not found:
            raise ValueError("no URL given")
        for url in found:
            if apprise.Apprise.instantiate(url, suppress_exceptions=True) is None:
                # Named by its scheme alone: the rest of a URL is secret.
                scheme = urlsplit(url).scheme or url.split(":", 1)[0][:20]
                raise ValueError(f"Apprise cannot use the {scheme}:// URL (unknown service, or a part missing)")
        return value


class Apprise(Channel[Settings]):
    name = "apprise"
    label = "Apprise (100+ more services)"
    group = "international"
    docs = "https://github.com/caronc/apprise/wiki"
    Settings = Settings

    def __init__(self, *args: Any, url: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.url = url
        self._plugin: Any = None

    def expand(self) -> list[Channel]:
        parts: list[Channel] = []
        seen: dict[str, int] = {}
        for url in urls(self.settings.secret("APPRISE_URLS")):
            scheme = re.sub(r"[^a-z0-9+.-]", "", urlsplit(url).scheme.lower()) or "url"
            seen[scheme] = seen.get(scheme, 0) + 1
            part = Apprise(self.settings, self.policy, self.home, url=url)
            part.name = f"apprise:{scheme}" + (f"-{seen[scheme]}" if seen[scheme] > 1 else "")
            parts.append(part)
        return parts

    async def deliver(self, note: Notification) -> None:
        timeout = self._current().timeout
        try:
            ok, said = await asyncio.wait_for(asyncio.to_thread(self._notify, note), timeout)
        except asyncio.TimeoutError:
            raise ChannelError(f"timed out after {timeout:g} s (Apprise finishes on its own)") from None
        if not ok:
            raise ChannelError(said or "Apprise reported a failure and logged no reason")

    def _notify(self, note: Notification) -> tuple[bool, str]:
        import apprise

        if self._plugin is None:
            self._plugin = apprise.Apprise.instantiate(self.url, suppress_exceptions=True)
        mine = threading.get_ident()
        said: list[str] = []
        handler = logging.Handler(logging.WARNING)
        handler.addFilter(lambda record: record.thread == mine)  # concurrent URLs log to the same logger
        handler.emit = lambda record: said.append(record.getMessage())  # type: ignore[method-assign]
        logger = logging.getLogger("apprise")
        logger.addHandler(handler)
        try:
            ok = bool(self._plugin.notify(body=note.content, title=note.title))
        finally:
            logger.removeHandler(handler)
        return ok, " ".join(said)[:300]


CHANNEL = Apprise
