"""The contract every channel module fills in, and everything channels share.

A channel module says who it is (name, label, docs), which env vars it reads (`Settings`, field name =
env var name, secrets typed `SecretStr`), what request(s) a notification becomes (`build`) and how the
service reports success (`check`), plus its size `limits` and `rates` where the service documents them.
Sending, timing, timeouts, retries, pacing, fitting text to limits, error mapping and secret masking
happen here, once, so a channel file reads like the service's API page.

A channel that can carry an answer back adds `ask` (the question with one button per choice) and
`replies` (one long poll for the buttons pressed), and optionally `settle` (show the outcome on the
question's message). Nothing outside the module changes: `carries` sees the methods, and the shared ask
flow (`mcp_push/ask.py`) signs the tokens, coordinates the readers and checks every answer.
"""

from __future__ import annotations

import asyncio
import contextvars
import email.utils
import html
import logging
import os
import random
import re
import time
import traceback
import typing
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Generic, Literal, TypeVar
from urllib.parse import unquote

from pydantic import AfterValidator, BaseModel, ConfigDict, SecretStr

from channels.limits import Limiter, Limits, Rate, RateLimited, fit
from mcp_push import http
from mcp_push.models import ChannelResult, Notification, Question
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
        # Credentials written into any URL setting (https://user:pass@gotify.example) are secret too, also as
        # they travel: decoded (`p%2Bss` is sent as `p+ss`), so their Basic header's base64 is masked as well.
        for value in values.values():
            for m in re.finditer(r"://([^/@\s]+)@", value):
                user, _, password = m.group(1).partition(":")
                found += [m.group(1), f"{unquote(user)}:{unquote(password)}", password, unquote(password)]
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


def _secret_url(value: SecretStr) -> SecretStr:
    if not value.get_secret_value().startswith(("http://", "https://")):
        raise ValueError("must be the whole URL the service gave you, with its scheme (https://...)")
    return value


SecretUrl = Annotated[SecretStr, AfterValidator(_secret_url)]
"""A URL that is itself the credential (a webhook's): secret, scheme checked, used exactly as given."""


def _is_secret(annotation: Any) -> bool:
    """SecretStr itself, or inside an Optional or an Annotated type (SecretUrl | None)."""
    if annotation is SecretStr:
        return True
    return any(_is_secret(arg) for arg in typing.get_args(annotation))


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
    timeout: float | None = None  # for a request that takes long by design (a long poll); else the policy's
    auth: tuple[str, str] | None = None  # HTTP Basic: user and password
    # The service drops a repeat of this very request (a Matrix txnId, a retry or dedup key), so one that may
    # have been accepted (a read timeout) is retried too, without MCP_PUSH_RETRY_UNSAFE.
    idempotent: bool = False


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


class Delivered(Exception):
    """Raised by `check` for an answer that is not a success status yet means the message is in (LINE's
    409 for a retry key it has already accepted); the text is logged."""


class Transient(ChannelError):
    """A failure worth retrying: HTTP 429 or 5xx, or a service's own "too fast" code. `retry_after` is
    the wait the service asked for, if it said."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Reply:
    """A button someone pressed, as the service reported it; nothing here is trusted yet. `origins` are the
    ids of where it came from (a chat id, a @name, a topic), checked against the question's configured one;
    `ack`, when the service wants one, tells the presser what became of it."""

    token: str
    origins: frozenset[str]
    sender: str  # who, for the log and the history
    ack: Callable[[str], Awaitable[None]] | None = field(default=None, compare=False)


class _Trace:
    """What one send observed; a mutable holder so it survives wait_for's inner task on 3.10/3.11."""

    def __init__(self, deadline: float, timeout: float) -> None:
        self.deadline = deadline
        self.timeout = timeout
        self.status: int | None = None
        self.attempts = 1
        self.ref: str | None = None  # the id of the message a question went out as


_trace: contextvars.ContextVar[_Trace | None] = contextvars.ContextVar("trace", default=None)
T = TypeVar("T")


Group = Literal["China", "international", "self-hosted", "this machine"]
"""Where a channel's service lives, for `mcp-push channels` and the README to group 40-odd entries by."""


class Channel(Generic[S]):
    name: ClassVar[str]
    label: ClassVar[str]
    group: ClassVar[Group]
    docs: ClassVar[str]
    Settings: ClassVar[type[ChannelSettings]]
    limits: ClassVar[Limits] = Limits()
    rates: ClassVar[tuple[Rate, ...]] = ()
    max_choices: ClassVar[int] = 4  # buttons one message can have, for a channel that carries answers

    def __init__(self, settings: S, policy: Policy | None = None, home: Path | None = None) -> None:
        self.settings = settings
        self.policy = policy or Policy()
        self.home = home  # the state directory, for what a channel must remember between runs
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
        fast, try again" and is retried; raising `ChannelError` is a refusal that no retry can change (a
        quota used up), whatever the status; raising `Delivered` means "in, whatever the status".
        """
        return None

    @property
    def proxy(self) -> str | None:
        return None

    # ---- what a channel that carries answers provides ------------------------------------------

    async def ask(self, note: Notification, question: Question) -> str | None:
        """Send `note` with one button per choice, button i carrying `question.tokens[i]` back; return the
        service's id of the message (for `settle`). Send with `self.call`, as `deliver` does."""
        raise NotImplementedError

    async def replies(self, cursor: str | None, since: float, wait: float) -> tuple[list[Reply], str | None]:
        """One long poll of at most `wait` seconds: the buttons pressed since `cursor` (the value this method
        returned last time; None at first, then start at the epoch time `since`), and the new cursor.
        Raise `Transient` to be asked again shortly, `ChannelError` when answers cannot be read at all."""
        raise NotImplementedError

    async def settle(self, note: Notification, ref: str) -> None:
        """Replace the question's message `ref` with `note` (its outcome on top), without buttons. Optional."""

    @property
    def answerer(self) -> str:
        """Where valid answers come from (the configured chat, the reply topic), matched against `Reply.origins`."""
        return self.name

    @property
    def listener(self) -> str:
        """Names the answer source: the processes on a machine share one reader per source (a bot allows
        one `getUpdates` at a time). Channels whose settings point at the same source return the same key."""
        return self.name

    def expand(self) -> list[Channel]:
        """The channels this configuration stands for: itself, or, for a setting that lists several
        targets each of which must report on its own (Apprise's URLs), one per target, named `name:...`."""
        return [self]

    @classmethod
    def can_answer(cls) -> bool:
        """Whether this kind of channel brings answers back: it fills in `ask` and `replies`."""
        return cls.ask is not Channel.ask and cls.replies is not Channel.replies

    def carries(self, question: Question) -> bool:
        """Whether this channel can put `question` on screen with buttons and bring an answer back."""
        return self.can_answer() and len(question.choices) <= self.max_choices

    def remember(self, name: str, make: Callable[[], str]) -> str:
        """A value this channel keeps between runs in the state directory (0600), made once by `make`
        (say, a random suffix for a derived topic name); concurrent first runs agree on one value."""
        if self.home is None:
            return make()
        path = self.home / "channels" / f"{self.name}-{name}"
        try:
            return path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            pass
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        draft = path.with_name(f".{path.name}.{random.getrandbits(64):x}")
        fd = os.open(draft, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(make())
        try:
            os.link(draft, path)  # never replaces a value another process made first
        except FileExistsError:
            pass
        finally:
            draft.unlink()
        return path.read_text(encoding="utf-8").strip()

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

    async def _ask(self, note: Notification, question: Question) -> None:
        self._current().ref = await self.ask(note, question)

    async def request(self, request: Request, *, within: float | None = None, retry: bool = True) -> httpx.Response:
        """One request outside a send (a long poll, an acknowledgement, an edit) with its own deadline:
        `within` seconds, else the request's or the policy's timeout."""
        budget = within if within is not None else (request.timeout or self.policy.timeout)
        token = _trace.set(_Trace(time.monotonic() + budget, self.policy.timeout))
        try:
            return await (self.call(request) if retry else self._call_once(request))
        finally:
            _trace.reset(token)

    async def call(self, request: Request) -> httpx.Response:
        return await self.retrying(lambda: self._call_once(request), idempotent=request.idempotent)

    async def _call_once(self, request: Request) -> httpx.Response:
        trace = self._current()
        trace.timeout = max(min(request.timeout or self.policy.timeout, trace.deadline - time.monotonic()), 0.001)
        response = await http.client(self.proxy).request(
            request.method,
            request.url,
            params=request.params,
            headers=request.headers,
            json=request.json,
            data=request.data,
            content=request.content,
            files=request.files,
            auth=request.auth,
            timeout=trace.timeout,
        )
        trace.status = response.status_code
        try:
            problem = self.check(response)
        except Delivered as done:
            log.info("%s: %s", self.name, redact(str(done)))
            return response
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

    async def retrying(self, operation: Callable[[], Awaitable[T]], idempotent: bool = False) -> T:
        """Run `operation`, retrying transient failures with exponential backoff and jitter, never past
        the deadline, and never re-sending what the service may already have accepted unless the service
        drops repeats (`idempotent`) or the user opted in (MCP_PUSH_RETRY_UNSAFE)."""
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
                    or (kind == "maybe_sent" and not (idempotent or self.policy.retry_unsafe))
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

    async def send(
        self, note: Notification, deadline: float | None = None, question: Question | None = None
    ) -> ChannelResult:
        """Fit, pace, deliver and describe the outcome; never raises (cancellation aside).

        With a `question`, a channel that `carries` it sends it with buttons, as one message (cut rather than
        split: the buttons belong to all of it); any other channel sends it as text that says where to answer.
        """
        started = time.perf_counter()
        deadline = deadline if deadline is not None else time.monotonic() + self.policy.deadline
        trace = _Trace(deadline, self.policy.timeout)
        _trace.set(trace)
        status, error, pending = "delivered", None, False
        carried = question is not None and self.carries(question)
        if question is not None and not carried:
            note = note.model_copy(update={"content": f"{note.content}\n\n{question.elsewhere}"})
        try:
            for part in fit(note, self.limits, "truncate" if carried else self.policy.overflow):
                if self.limiter:
                    await self.limiter.wait(deadline)
                sending = self._ask(part, question) if carried else self.deliver(part)  # type: ignore[arg-type]
                await asyncio.wait_for(sending, max(deadline - time.monotonic(), 0.001))
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
        result._ref = trace.ref
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
