"""The contract every channel module fills in, and everything channels share.

A channel module says who it is (name, label, docs), which env vars it reads (`Settings`, field name =
env var name, secrets typed `SecretStr`), what request(s) a notification becomes (`build`) and how the
service reports success (`check`), plus its size `limits` and `rates` where the service documents them.
Sending, timing, timeouts, retries, pacing, fitting text to limits, error mapping and secret masking
happen here, once, so a channel file reads like the service's API page.
"""

from __future__ import annotations

import asyncio
import contextvars
import email.utils
import html
import logging
import random
import re
import time
import traceback
import typing
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, SecretStr

from channels.limits import Limiter, Limits, Rate, RateLimited, fit
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
        # Credentials written into any URL setting (https://user:pass@gotify.example) are secret too.
        found += [m.group(1) for value in values.values() for m in re.finditer(r"://([^/@\s]+)@", value)]
        return found

    def enabled(self) -> bool:
        """False when the vars are set but say "off" (e.g. CONSOLE=false)."""
        return True

    def present(self, names: Mapping[str, str]) -> dict[str, Any]:
        """The optional settings that are set, under the service's field names ({env var: API field}),
        for services that want an absent field left out rather than sent empty."""
        return {field: value for var, field in names.items() if (value := getattr(self, var))}

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


@dataclass(frozen=True)
class Policy:
    """How hard to try, from the global settings: per-request timeout, the deadline used when a caller
    gives none, retries with exponential backoff, and what to do with text over a service's limit."""

    timeout: float = 10.0
    deadline: float = 30.0
    retries: int = 2
    backoff: float = 0.5
    retry_unsafe: bool = False
    overflow: Literal["truncate", "split"] = "truncate"


class Transient(ChannelError):
    """A failure worth retrying: HTTP 429 or 5xx, or a service's own "too fast" code. `retry_after` is
    the wait the service asked for, if it said."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class _Trace:
    """What one send observed; a mutable holder so it survives wait_for's inner task on 3.10/3.11."""

    def __init__(self, deadline: float, timeout: float) -> None:
        self.deadline = deadline
        self.timeout = timeout
        self.status: int | None = None
        self.attempts = 1


_trace: contextvars.ContextVar[_Trace | None] = contextvars.ContextVar("trace", default=None)
T = TypeVar("T")


class Channel(Generic[S]):
    name: ClassVar[str]
    label: ClassVar[str]
    docs: ClassVar[str]
    Settings: ClassVar[type[ChannelSettings]]
    limits: ClassVar[Limits] = Limits()
    rates: ClassVar[tuple[Rate, ...]] = ()

    def __init__(self, settings: S, policy: Policy | None = None) -> None:
        self.settings = settings
        self.policy = policy or Policy()
        # One limiter per configured channel for the life of the process (the server's, typically).
        self.limiter = Limiter(self.rates) if self.rates else None

    @property
    def timeout(self) -> float:
        return self.policy.timeout

    # ---- what a channel module provides -------------------------------------------------------

    def build(self, note: Notification) -> Request | Iterable[Request]:
        raise NotImplementedError

    def check(self, response: httpx.Response) -> str | None:
        """Return the service's failure message, or None when it accepted the message.

        The default trusts the HTTP status alone; most services need more, since they answer 200 with
        an error code in the body. Raising ValueError/KeyError/TypeError means "not the answer the
        service documents" and is reported with a snippet of the body; raising `Transient` means "too
        fast, try again" and is retried.
        """
        return None

    @property
    def proxy(self) -> str | None:
        return None

    def classify(self, exc: BaseException) -> Literal["transient", "unsent", "maybe_sent"] | None:
        """Whether a failure may be retried: transient (the service said so), unsent (nothing reached
        the service), maybe_sent (it may have been accepted: retried only on opt-in), or None."""
        if isinstance(exc, Transient):
            return "transient"
        if type(exc).__module__.startswith("httpx"):
            import httpx

            if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
                return "unsent"
            if isinstance(exc, (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)):
                return "maybe_sent"
        return None

    # ---- shared behaviour ---------------------------------------------------------------------

    async def deliver(self, note: Notification) -> None:
        requests = self.build(note)
        for request in [requests] if isinstance(requests, Request) else requests:
            await self.call(request)

    async def call(self, request: Request) -> httpx.Response:
        return await self.retrying(lambda: self._call_once(request))

    async def _call_once(self, request: Request) -> httpx.Response:
        trace = self._current()
        trace.timeout = max(min(self.policy.timeout, trace.deadline - time.monotonic()), 0.001)
        response = await http.client(self.proxy).request(
            request.method,
            request.url,
            params=request.params,
            headers=request.headers,
            json=request.json,
            data=request.data,
            content=request.content,
            files=request.files,
            timeout=trace.timeout,
        )
        trace.status = response.status_code
        try:
            problem = self.check(response)
        except (ValueError, KeyError, TypeError, AttributeError):
            problem = f"unexpected response: {snippet(response)}"
        if not response.is_success:
            message = f"HTTP {response.status_code}: {problem or snippet(response)}"
            if response.status_code == 429 or response.status_code >= 500:
                raise Transient(message, retry_after(response))
            raise ChannelError(message)
        if problem:
            raise ChannelError(problem)
        return response

    async def retrying(self, operation: Callable[[], Awaitable[T]]) -> T:
        """Run `operation`, retrying transient failures with exponential backoff and jitter, never past
        the deadline, and never re-sending what the service may already have accepted unless the user
        opted in (MCP_PUSH_RETRY_UNSAFE)."""
        trace = self._current()
        attempt = 1
        while True:
            try:
                return await operation()
            except Exception as exc:
                kind = self.classify(exc)
                if (
                    attempt > self.policy.retries
                    or kind is None
                    or (kind == "maybe_sent" and not self.policy.retry_unsafe)
                ):
                    raise
                asked = exc.retry_after if isinstance(exc, Transient) else None
                delay = (
                    asked if asked is not None else self.policy.backoff * 2 ** (attempt - 1) * random.uniform(0.5, 1.5)
                )
                if time.monotonic() + delay >= trace.deadline:
                    if asked is None:
                        raise
                    raise ChannelError(
                        f"{exc}; not retried: the service asked to wait {asked:g} s, past the deadline"
                    ) from exc
                attempt += 1
                trace.attempts = max(trace.attempts, attempt)
                log.info(
                    "%s: %s; attempt %d in %.2f s", self.name, redact(describe(exc, trace.timeout)), attempt, delay
                )
                await asyncio.sleep(delay)

    def _current(self) -> _Trace:
        trace = _trace.get()
        if trace is None:  # called outside send(), e.g. by a test poking one request
            trace = _Trace(time.monotonic() + self.policy.deadline, self.policy.timeout)
            _trace.set(trace)
        return trace

    async def send(self, note: Notification, deadline: float | None = None) -> ChannelResult:
        """Fit, pace, deliver and describe the outcome; never raises (cancellation aside)."""
        started = time.perf_counter()
        deadline = deadline if deadline is not None else time.monotonic() + self.policy.deadline
        trace = _Trace(deadline, self.policy.timeout)
        _trace.set(trace)
        status, error, pending = "delivered", None, False
        try:
            for part in fit(note, self.limits, self.policy.overflow):
                if self.limiter:
                    await self.limiter.wait(deadline)
                await asyncio.wait_for(self.deliver(part), max(deadline - time.monotonic(), 0.001))
        except RateLimited as exc:
            status, error, pending = "rate_limited", str(exc), True
        except ChannelError as exc:
            # A Transient that ran out of retries (or of time) may well succeed later; a refusal will not.
            transient = isinstance(exc, Transient) or isinstance(exc.__cause__, Transient)
            status, error, pending = "failed", str(exc), transient
        except (asyncio.TimeoutError, TimeoutError):
            status, error, pending = "failed", f"overall deadline of {self.policy.deadline:g} s passed", True
        except Exception as exc:  # noqa: BLE001 - every failure becomes a result, never an exception
            kind = self.classify(exc)
            status, error = "failed", describe(exc, trace.timeout)
            pending = kind in ("transient", "unsent") or (kind == "maybe_sent" and self.policy.retry_unsafe)
            # Formatted and masked here, not via exc_info, so no handler anywhere sees a raw token.
            log.debug("%s failed:\n%s", self.name, redact(traceback.format_exc()))
        result = ChannelResult(
            name=self.name,
            ok=error is None,
            status=status,
            error=redact(error) if error else None,
            http_status=trace.status,
            attempts=trace.attempts,
            pending=pending,
            elapsed_ms=round((time.perf_counter() - started) * 1000),
        )
        # INFO, not WARNING: the report already tells the caller; the log is for tracing.
        log.info("%s: %s", self.name, result.error or f"delivered in {result.elapsed_ms} ms")
        return result


def retry_after(response: httpx.Response) -> float | None:
    """Seconds from a Retry-After header, given as a number or as an HTTP date."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max((when - datetime.now(timezone.utc)).total_seconds(), 0.0)


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
    # Masked before it is cut: a secret straddling the cut would otherwise leave its prefix behind.
    text = " ".join(redact(response.text).split())
    return (text[:limit] + "…") if len(text) > limit else (text or "(empty body)")


def expect(
    body: Mapping[str, Any], field: str, ok: Iterable[Any], *message_keys: str, busy: Iterable[Any] = ()
) -> str | None:
    """The common business check: `body[field]` must be one of `ok`; else quote the service's message.
    A value in `busy` is the service's own "too fast" code: raised as `Transient`, so it is retried."""
    value = body.get(field)
    if value in tuple(ok):
        return None
    message = next((str(body[k]) for k in message_keys if body.get(k) not in (None, "")), None)
    problem = f"{field} {value!r}" + (f": {message}" if message else "")
    if value in tuple(busy):
        raise Transient(problem)
    return problem


def html_text(text: str, br: str = "<br>") -> str:
    """Text for services that render HTML: shown exactly as typed (`<b>` stays visible), line breaks kept."""
    return html.escape(text).replace("\n", br)


def joined(note: Notification, sep: str = "\n\n") -> str:
    """Title and body as one text, for services that have no separate title field."""
    return f"{note.title}{sep}{note.content}"
