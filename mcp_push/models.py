"""The validated shapes that cross mcp-push's front doors (MCP, CLI, hooks) and the report it returns.

The input limits live here, once, as annotated types: the MCP tool schemas and the CLI share them, so an
agent sees the same limits in `inputSchema` that the server enforces.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

TITLE_MAX_CHARS = 256
TEXT_MAX_BYTES = 64 * 1024
DATA_MAX_BYTES = 16 * 1024
RUN_ID_MAX_CHARS = 128
QUESTION_MAX_BYTES = 4 * 1024  # a question is read on a lock screen; both answer services cap a message at 4 KB
OPTION_MAX_CHARS = 40  # a button label
ASK_TIMEOUT_MAX = 3600.0


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty or only whitespace")
    return value


def _within_bytes(limit: int):
    def check(value: str) -> str:
        size = len(value.encode("utf-8", "surrogatepass"))
        if size > limit:
            raise ValueError(f"is {size:,} bytes as UTF-8; the limit is {limit // 1024} KiB ({limit:,} bytes)")
        return value

    return check


# C0/C1 controls (tab and line breaks aside) and unpaired surrogates: services reject them, and a lone
# surrogate cannot even be encoded to UTF-8 for the wire. Validation rejects them; hooks strip them.
DISALLOWED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


# Stripped rather than rejected where text comes from elsewhere (hook payloads, tool input): DISALLOWED, and
# ANSI colour codes whole, rather than leaving "[31m" behind.
_UNPRINTABLE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|" + DISALLOWED.pattern)


def printable(text: str) -> str:
    return _UNPRINTABLE.sub("", text)


def _clean_text(value: str) -> str:
    found = DISALLOWED.search(value)
    if found is None:
        return value
    char, index = found.group(), found.start()
    if "\ud800" <= char <= "\udfff":
        raise ValueError(f"contains an unpaired surrogate (invalid Unicode) at position {index}")
    raise ValueError(f"contains the control character U+{ord(char):04X} at position {index}")


def _printable_run_id(value: str) -> str:
    if not value.isprintable():
        raise ValueError("must contain only printable characters (no newlines or control characters)")
    return value


def _strings(value: Any) -> Iterator[str]:
    """Every key and string value inside a JSON-like structure."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def _small_json(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    for text in _strings(value):  # data is rendered into the message, so it obeys the same text rules
        _clean_text(text)
    size = len(json.dumps(value, ensure_ascii=False, default=str).encode("utf-8", "surrogatepass"))
    if size > DATA_MAX_BYTES:
        raise ValueError(f"is {size:,} bytes as JSON; the limit is 16 KiB ({DATA_MAX_BYTES:,} bytes)")
    return value


Title = Annotated[
    str,
    Field(max_length=TITLE_MAX_CHARS, description="Short headline, shown as the push title (at most 256 characters)."),
    AfterValidator(_not_blank),
    AfterValidator(_clean_text),
]
Content = Annotated[
    str,
    Field(description="The message body: what happened and what the user should do (at most 64 KiB)."),
    AfterValidator(_not_blank),
    AfterValidator(_clean_text),
    AfterValidator(_within_bytes(TEXT_MAX_BYTES)),
]
RunId = Annotated[
    str,
    Field(max_length=RUN_ID_MAX_CHARS, description="Identifier of the task or job this event belongs to."),
    AfterValidator(_not_blank),
    AfterValidator(_printable_run_id),
]
EventKind = Literal["start", "update", "end", "error"]
EventData = Annotated[
    dict[str, Any] | None,
    Field(description="Optional details, e.g. step, progress, artifact_url, error_code (at most 16 KiB as JSON)."),
    AfterValidator(_small_json),
]
ChannelNames = Annotated[
    list[str] | None,
    Field(description="Send only to these configured channels (e.g. ['telegram']). Omit to use all of them."),
]


class Notification(BaseModel):
    """What every channel receives: a title and a body, already validated."""

    model_config = ConfigDict(frozen=True)

    title: Title
    content: Content
    # Set when the notification renders an event: the guards throttle updates per run, history groups by run.
    run_id: str | None = None
    event: EventKind | None = None
    # What it is, for MCP_PUSH_ROUTES: an event kind, or a hook's (attention, permission), or a question.
    kind: str | None = None
    project: str | None = None  # the project it is about (a hook's directory), for routes by project
    # An error, or something that needs you: it goes out in quiet hours, at each channel's urgent level.
    urgent: bool = False


EVENT_ICONS: dict[str, str] = {"start": "🚀", "update": "🔄", "end": "✅", "error": "❌"}


class Event(BaseModel):
    """A lifecycle event of a long-running job, rendered into a notification a human can read at a glance."""

    model_config = ConfigDict(frozen=True)

    run_id: RunId
    event: EventKind
    message: Content
    data: EventData = None
    timestamp: datetime | None = None

    def to_notification(self) -> Notification:
        title = f"{EVENT_ICONS[self.event]} [{self.event.upper()}] {self.run_id}"
        parts = [self.message]
        if self.data:
            parts.append("\n".join(f"{key}: {_readable(value)}" for key, value in self.data.items()))
        when = self.timestamp or datetime.now(timezone.utc)
        parts.append(f"time: {when.isoformat(timespec='seconds')}")
        # The title can exceed the limit only through a long run_id plus the prefix; cut rather than fail.
        # Every piece was validated already; data and time may push the sum past 64 KiB, which is fine.
        return Notification.model_construct(
            title=title[:TITLE_MAX_CHARS],
            content="\n\n".join(parts),
            run_id=self.run_id,
            event=self.event,
            kind=self.event,
            project=None,
            urgent=self.event == "error",
        )


def _readable(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


Status = Literal["delivered", "partial", "failed", "no_channels", "skipped", "held"]


class ChannelResult(BaseModel):
    name: str = Field(description="Channel name, e.g. 'telegram'.")
    ok: bool = Field(description="True when the service confirmed it accepted the message.")
    status: Literal["delivered", "failed", "rate_limited"] = Field(
        "delivered", description="rate_limited: held back to keep within the service's documented rate limit."
    )
    error: str | None = Field(default=None, description="Why it failed, with secrets masked.")
    http_status: int | None = Field(default=None, description="Last HTTP status the service answered, if any.")
    attempts: int = Field(default=1, description="How many times delivery was tried.")
    pending: bool = Field(
        False, description="Failed for a passing reason; it will be re-sent later (mcp-push retry, or the server)."
    )
    elapsed_ms: int = Field(description="Wall time spent on this channel.")
    # The service's id of the message a question went out as, so its outcome can be shown there later.
    _ref: str | None = PrivateAttr(None)


class DeliveryReport(BaseModel):
    status: Status = Field(
        description=(
            "delivered: every channel accepted it; partial: some did; failed: none did; "
            "no_channels: no push channel is configured, so it was kept in the local inbox only; "
            "held: quiet hours (MCP_PUSH_QUIET_HOURS): kept for the digest sent when they end; "
            "skipped: the title is listed in SKIP_PUSH_TITLE."
        )
    )
    summary: str = Field(description="One line for humans and agents.")
    id: int | None = Field(None, description="The notification's id in the local history (for `mcp-push retry --id`).")
    results: list[ChannelResult] = Field(default_factory=list)

    @property
    def delivered(self) -> bool:
        """Whether anything reached a destination; drives MCP's isError and the CLI exit code."""
        return any(r.ok for r in self.results) or self.status in ("skipped", "held")


def _single_line(value: str) -> str:
    if "\n" in value or "\r" in value or "\t" in value:
        raise ValueError("must be one line (a button label)")
    return value.strip()


def _distinct(values: list[str]) -> list[str]:
    if len({v.casefold() for v in values}) != len(values):
        raise ValueError("must differ from each other, or an answer could not tell them apart")
    return values


QuestionText = Annotated[
    str,
    Field(description="The question, as the user will read it on their phone (at most 4 KiB)."),
    AfterValidator(_not_blank),
    AfterValidator(_clean_text),
    AfterValidator(_within_bytes(QUESTION_MAX_BYTES)),
]
Option = Annotated[
    str,
    Field(min_length=1, max_length=OPTION_MAX_CHARS),
    AfterValidator(_not_blank),
    AfterValidator(_clean_text),
    AfterValidator(_single_line),
]
Options = Annotated[
    list[Option],
    Field(
        min_length=2,
        max_length=4,
        description="2 to 4 short answers, shown as buttons (each at most 40 characters, all different).",
    ),
    AfterValidator(_distinct),
]
AskTimeout = Annotated[
    float | None,
    Field(gt=0, le=ASK_TIMEOUT_MAX, description="Seconds to wait for the answer (at most 3600); default 120."),
]


class Ask(BaseModel):
    """A question for the user with 2-4 choices, as a front door (MCP, CLI) received it."""

    model_config = ConfigDict(frozen=True)

    question: QuestionText
    options: Options = Field(default_factory=lambda: ["Yes", "No"])
    timeout_seconds: AskTimeout = None
    title: Title | None = None


@dataclass(frozen=True)
class Question:
    """A question as channels carry it: its id, its choices, one signed answer token per choice, and what a
    channel that cannot carry it says instead (where to answer)."""

    id: str
    choices: tuple[str, ...]
    tokens: tuple[str, ...]
    expires: float
    elsewhere: str


AskReason = Literal["timeout", "cancelled", "no_reply_channel", "not_delivered"]


class AskResult(BaseModel):
    answered: bool = Field(description="True when the user picked one of the options in time.")
    answer: str | None = Field(None, description="The option the user picked.")
    channel: str | None = Field(None, description="Where the answer came from, e.g. 'telegram'.")
    elapsed_s: float = Field(description="Seconds from asking to the answer (or to giving up).")
    reason: AskReason | None = Field(
        None,
        description=(
            "Why there is no answer: timeout (nobody answered in time), cancelled, no_reply_channel (no configured "
            "channel can carry an answer: ask in the conversation instead), not_delivered (every channel failed)."
        ),
    )
    summary: str = Field("", description="One line for humans and agents.")
    id: int | None = Field(None, description="The question's id in the local history (`mcp-push history`).")
    problems: dict[str, str] | None = Field(None, description="Channels that could not carry answers, and why.")
    results: list[ChannelResult] = Field(default_factory=list, description="How the question was delivered.")


def explain(error: ValidationError) -> str:
    """One specific line per problem, e.g. `title: must not be empty or only whitespace`.

    pydantic's default text names internal model classes and links to its docs; an agent or a shell
    user needs the field and the rule instead.
    """
    lines = []
    for item in error.errors(include_url=False):
        where = ".".join(str(part) for part in item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "missing":
            message = "is required"
        elif item["type"] == "literal_error":
            message = f"must be one of {item['ctx']['expected']}"
        lines.append(f"{where}: {message}" if where else message)
    return "; ".join(lines)
