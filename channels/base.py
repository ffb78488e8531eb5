"""The contract every channel module fills in, and everything channels share.

A channel module says who it is (name, label, docs), which env vars it reads (`Settings`, field name =
env var name, secrets typed `SecretStr`), what request(s) a notification becomes (`build`) and how the
service reports success (`check`). Sending, timing, timeouts, error mapping and secret masking happen
here, once, so a channel file reads like the service's API page.
"""

from __future__ import annotations

import asyncio
import contextvars
import html
import logging
import re
import time
import traceback
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, SecretStr

from mcp_push import http
from mcp_push.models import ChannelResult, Notification
from mcp_push.redact import redact

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("mcp_push.channels")


class ChannelSettings(BaseModel):
    """A channel's env vars. Empty values count as unset, as in qinglong's notify.py."""

    model_config = ConfigDict(extra="ignore", frozen=True, str_strip_whitespace=True)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> dict[str, str]:
        return {name: env[name] for name in cls.model_fields if env.get(name, "").strip()}

    @classmethod
    def secret_fields(cls) -> list[str]:
        return [name for name, f in cls.model_fields.items() if _is_secret(f.annotation)]

    @classmethod
    def secret_values(cls, values: Mapping[str, str]) -> list[str]:
        """Each secret value, and each item of one that holds a list (`a,b`, `a;b`, one per line),
        so a single token that shows up alone in an error is masked too."""
        found = []
        for name in cls.secret_fields():
            if name in values:
                found += [values[name], *(part.strip() for part in re.split(r"[,;\n]", values[name]))]
        return found

    def enabled(self) -> bool:
        """False when the vars are set but say "off" (e.g. CONSOLE=false)."""
        return True

    def secret(self, name: str) -> str:
        value = getattr(self, name)
        return value.get_secret_value() if isinstance(value, SecretStr) else (value or "")


def _base_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError("must be a URL with its scheme, e.g. https://example.com")
    return value.rstrip("/")


BaseUrl = Annotated[str, AfterValidator(_base_url)]
"""A service's base URL (self-hosted server, reverse proxy): scheme checked, trailing `/` dropped so that
a channel can append its path."""


def _is_secret(annotation: Any) -> bool:
    return annotation is SecretStr or SecretStr in typing.get_args(annotation)


class ChannelError(Exception):
    """The service refused or failed the message; the text is shown to the user (after masking)."""


@dataclass(frozen=True)
class Request:
    """One HTTP request, in the terms of `httpx.AsyncClient.request`."""

    method: str
    url: str
    params: Mapping[str, Any] | None = None
    headers: Mapping[str, str] | None = None
    json: Any = None
    data: Mapping[str, Any] | None = None
    content: bytes | str | None = None
    files: Any = None


S = TypeVar("S", bound=ChannelSettings)


class _Trace:
    """What one send observed; a mutable holder so the value survives wait_for's inner task on 3.10/3.11."""

    status: int | None = None


_trace: contextvars.ContextVar[_Trace | None] = contextvars.ContextVar("trace", default=None)


class Channel(Generic[S]):
    name: ClassVar[str]
    label: ClassVar[str]
    docs: ClassVar[str]
    Settings: ClassVar[type[ChannelSettings]]

    def __init__(self, settings: S, *, timeout: float = 10.0) -> None:
        self.settings = settings
        self.timeout = timeout

    # ---- what a channel module provides -------------------------------------------------------

    def build(self, note: Notification) -> Request | Iterable[Request]:
        raise NotImplementedError

    def check(self, response: httpx.Response) -> str | None:
        """Return the service's failure message, or None when it accepted the message.

        The default trusts the HTTP status alone; most services need more, since they answer 200 with
        an error code in the body. Raising ValueError/KeyError/TypeError means "not the answer the
        service documents" and is reported with a snippet of the body.
        """
        return None

    @property
    def proxy(self) -> str | None:
        return None

    # ---- shared behaviour ---------------------------------------------------------------------

    async def deliver(self, note: Notification) -> None:
        requests = self.build(note)
        for request in [requests] if isinstance(requests, Request) else requests:
            await self.call(request)

    async def call(self, request: Request) -> httpx.Response:
        response = await http.client(self.proxy).request(
            request.method,
            request.url,
            params=request.params,
            headers=request.headers,
            json=request.json,
            data=request.data,
            content=request.content,
            files=request.files,
            timeout=self.timeout,
        )
        trace = _trace.get()
        if trace is not None:
            trace.status = response.status_code
        try:
            problem = self.check(response)
        except (ValueError, KeyError, TypeError, AttributeError):
            problem = f"unexpected response: {snippet(response)}"
        if not response.is_success:
            raise ChannelError(f"HTTP {response.status_code}: {problem or snippet(response)}")
        if problem:
            raise ChannelError(problem)
        return response

    async def send(self, note: Notification) -> ChannelResult:
        """Deliver and describe the outcome; never raises (cancellation aside)."""
        started = time.perf_counter()
        trace = _Trace()
        _trace.set(trace)
        error: str | None = None
        try:
            await asyncio.wait_for(self.deliver(note), self.timeout)
        except ChannelError as exc:
            error = str(exc)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a result, never an exception
            error = describe(exc, self.timeout)
            # Formatted and masked here, not via exc_info, so no handler anywhere sees a raw token.
            log.debug("%s failed:\n%s", self.name, redact(traceback.format_exc()))
        result = ChannelResult(
            name=self.name,
            ok=error is None,
            error=redact(error) if error else None,
            http_status=trace.status,
            attempts=1,
            elapsed_ms=round((time.perf_counter() - started) * 1000),
        )
        # INFO, not WARNING: the report already tells the caller; the log is for tracing.
        log.info("%s: %s", self.name, result.error or f"delivered in {result.elapsed_ms} ms")
        return result


def describe(exc: BaseException, timeout: float) -> str:
    """A short, specific sentence for a transport failure."""
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return f"timed out after {timeout:g} s"
    if type(exc).__module__.startswith("httpx"):
        import httpx

        if isinstance(exc, httpx.TimeoutException):
            return f"timed out after {timeout:g} s ({type(exc).__name__})"
        if isinstance(exc, httpx.ConnectError):
            return f"connection failed: {exc or type(exc).__name__}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def snippet(response: httpx.Response, limit: int = 200) -> str:
    text = " ".join(response.text.split())
    return (text[:limit] + "…") if len(text) > limit else (text or "(empty body)")


def expect(body: Mapping[str, Any], field: str, ok: Iterable[Any], *message_keys: str) -> str | None:
    """The common business check: `body[field]` must be one of `ok`; else quote the service's message."""
    value = body.get(field)
    if value in tuple(ok):
        return None
    message = next((str(body[k]) for k in message_keys if body.get(k) not in (None, "")), None)
    return f"{field} {value!r}" + (f": {message}" if message else "")


def html_text(text: str, br: str = "<br>") -> str:
    """Text for services that render HTML: shown exactly as typed (`<b>` stays visible), line breaks kept."""
    return html.escape(text).replace("\n", br)


def joined(note: Notification, sep: str = "\n\n") -> str:
    """Title and body as one text, for services that have no separate title field."""
    return f"{note.title}{sep}{note.content}"
