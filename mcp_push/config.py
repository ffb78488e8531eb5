"""Where configuration comes from: the process environment, backed by one dotenv file.

The env var names are the ones qinglong's `notify.py` made common, so an existing environment or
`config.sh` works unchanged. The file is read once per process; channels are built from the merged
mapping, and only the modules of channels the user actually configured are imported.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mcp_push import redact
from mcp_push.models import explain

if TYPE_CHECKING:
    from channels.base import Channel, Policy
    from mcp_push.guards import Guards
    from mcp_push.models import AskResult, DeliveryReport
    from mcp_push.store import Store


class Watcher(Protocol):
    def delivered(self, report: DeliveryReport) -> None: ...

    def answered(self, result: AskResult) -> None: ...


log = logging.getLogger("mcp_push")


class ConfigError(Exception):
    """The configuration itself is unusable (a bad global option, a missing config file named explicitly)."""


def config_file(environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> Path | None:
    """$MCP_PUSH_CONFIG, else ./config.env, else the user config dir: the first that applies. `cwd` is the
    directory relative paths mean (another process's, for a hand-off), else this process's."""
    environ = os.environ if environ is None else environ
    explicit = environ.get("MCP_PUSH_CONFIG")
    if explicit:
        path = Path(explicit).expanduser()
        path = path if path.is_absolute() or cwd is None else cwd / path
        if not path.is_file():
            raise ConfigError(f"MCP_PUSH_CONFIG names {path}, which is not a readable file")
        return path
    local = Path("config.env") if cwd is None else cwd / "config.env"
    if local.is_file():
        return local
    base = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    user = Path(base) / "mcp-push" / "config.env"
    return user if user.is_file() else None


def merged_env(environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> dict[str, str]:
    """The dotenv file's values with the process environment on top (the environment always wins).

    python-dotenv understands `export K=V` lines and multi-line quoted values, which is what old
    `config.sh` files contain.
    """
    environ = dict(os.environ if environ is None else environ)
    path = config_file(environ, cwd)
    if path is None:
        return environ
    from dotenv import dotenv_values

    values = {k: v for k, v in dotenv_values(path).items() if v is not None}
    log.debug("read %d values from %s", len(values), path)
    return {**values, **environ}


LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class Settings(BaseModel):
    """Options that apply to every channel. Field names are the env var names.

    A plain pydantic model fed from the merged mapping above, not a pydantic-settings `BaseSettings`: the
    process env and the dotenv file must be merged once, because channels read the same merged view, so
    none of BaseSettings' own sources would be used, and importing it cost every CLI run and agent hook
    ~60-90 ms, a sixth of a cold send (docs/benchmarks.md)."""

    model_config = ConfigDict(extra="ignore", frozen=True, validate_default=True)

    HITOKOTO: bool = Field(False, description="Append a random hitokoto.cn quote to each message.")
    SKIP_PUSH_TITLE: str = Field("", description="Newline-separated titles that are never pushed.")
    MCP_PUSH_TIMEOUT: float = Field(10.0, gt=0, le=300, description="Seconds one channel may take.")
    MCP_PUSH_DEADLINE: float = Field(30.0, gt=0, le=3600, description="Seconds one whole send may take.")
    MCP_PUSH_TOOL_NAMES: Literal["auto", "dotted", "underscore"] = Field(
        "auto",
        description="List tools as notify.send (dotted) or notify_send (underscore); auto: dotted for clients known "
        "to take dots, underscore for the rest.",
    )
    MCP_PUSH_HOME: Path | None = Field(
        None, description="State directory (history and inbox); default ~/.local/state/mcp-push."
    )
    MCP_PUSH_HISTORY: bool = Field(
        True, description="Keep a local history of notifications and re-send failed ones (off: only the inbox)."
    )
    MCP_PUSH_HISTORY_DAYS: float = Field(30, gt=0, description="Days of history kept.")
    MCP_PUSH_HISTORY_MAX: int = Field(10_000, gt=0, description="Notifications kept in the history at most.")
    MCP_PUSH_PENDING_HOURS: float = Field(
        24, ge=0, description="Hours a failed delivery stays pending for re-sending before it is given up."
    )
    MCP_PUSH_PENDING_BACKOFF: float = Field(
        30, gt=0, description="Seconds before the first re-send of a pending delivery; doubles up to an hour."
    )
    MCP_PUSH_LOG_LEVEL: LogLevel = Field("WARNING", description="Log level on stderr.")
    MCP_PUSH_HOOK_MIN_SECONDS: float = Field(
        60.0,
        ge=0,
        le=86400,
        description="Agent hooks stay quiet when the agent worked less than this many seconds since your last prompt.",
    )
    MCP_PUSH_HOOK_DEADLINE: float = Field(
        5.0,
        gt=0,
        le=60,
        description="Seconds an agent hook may spend sending, so it never holds the agent up for long.",
    )
    MCP_PUSH_ASK_TIMEOUT: float = Field(
        120.0,
        gt=0,
        le=3600,
        description="Seconds a question (an approval, notify.ask, mcp-push ask) waits for your answer.",
    )
    MCP_PUSH_ASK_DEFAULT: Literal["none", "deny"] = Field(
        "none",
        description="An approval nobody answered in time: none (the agent asks in the terminal) or deny.",
    )
    MCP_PUSH_SERVER: str = Field(
        "",
        description="A hub to send through (https://hub.example:8765): it owns the channels and the history.",
    )
    MCP_PUSH_API_TOKEN: str = Field("", description="The token for MCP_PUSH_SERVER (one of the hub's API tokens).")
    MCP_PUSH_API_TOKENS: str = Field(
        "",
        description="The hub's API tokens, comma-separated (default: one generated into the state dir on first start).",
    )
    MCP_PUSH_PUBLIC_URL: str = Field(
        "",
        description="The hub's address as your phone reaches it: every channel then carries answers as links.",
    )
    MCP_PUSH_API_RATE: int = Field(600, ge=1, description="Requests a minute one API token may make to the hub.")
    MCP_PUSH_API_CONNECTIONS: int = Field(100, ge=1, description="Connections the hub holds open at once at most.")
    MCP_PUSH_HANDOFF: bool = Field(
        True, description="Hand send, event and hook over to a running mcp-push server of the same configuration."
    )
    MCP_PUSH_RETRIES: int = Field(
        2, ge=0, le=10, description="Retries of a transient failure (429, 5xx, no connection)."
    )
    MCP_PUSH_RETRY_BACKOFF: float = Field(
        0.5, ge=0, le=60, description="First retry delay in seconds; doubles each time."
    )
    MCP_PUSH_RETRY_UNSAFE: bool = Field(
        False, description="Also retry a request that may have been accepted (a read timeout): risks duplicates."
    )
    MCP_PUSH_OVERFLOW: Literal["truncate", "split"] = Field(
        "truncate", description="Text over a service's size limit: truncate (with a marker) or split into parts."
    )
    MCP_PUSH_DEDUPE_SECONDS: float = Field(
        60, ge=0, description="An identical title+content within this many seconds is sent once (0: off)."
    )
    MCP_PUSH_UPDATE_INTERVAL: float = Field(
        60, ge=0, description="At most one 'update' event per run_id per this many seconds (0: no limit)."
    )
    MCP_PUSH_MAX_PER_MINUTE: int = Field(30, ge=0, description="Cap on notifications per minute (0: no cap).")
    MCP_PUSH_EVENTS: str = Field(
        "start,update,end,error", description="Event kinds that are pushed at all, comma-separated."
    )
    MCP_PUSH_QUIET_HOURS: str = Field(
        "",
        description="e.g. 22:00-07:00: only errors and what needs you go out then; the rest comes as one digest after.",
    )
    MCP_PUSH_TZ: str = Field("", description="Time zone of MCP_PUSH_QUIET_HOURS, e.g. Europe/Berlin (default: local).")
    MCP_PUSH_ROUTES: str = Field(
        "",
        description="Kinds of notifications to some channels only, e.g. 'error=telegram,pagerduty; end=ntfy; "
        "project:acme-*=slack'.",
    )

    @field_validator("MCP_PUSH_SERVER", "MCP_PUSH_PUBLIC_URL")
    @classmethod
    def _url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must be a URL with its scheme, e.g. https://hub.example:8765")
        return value.rstrip("/")

    @field_validator("MCP_PUSH_QUIET_HOURS", "MCP_PUSH_TZ", "MCP_PUSH_ROUTES")
    @classmethod
    def _routing(cls, value: str, info: Any) -> str:
        from mcp_push import routing

        check = {
            "MCP_PUSH_QUIET_HOURS": routing.quiet_hours,
            "MCP_PUSH_TZ": routing.zone,
            "MCP_PUSH_ROUTES": routing.routes,
        }
        check[info.field_name](value)
        return value

    @property
    def api_tokens(self) -> list[str]:
        return [t.strip() for t in self.MCP_PUSH_API_TOKENS.split(",") if t.strip()]

    @property
    def skip_titles(self) -> set[str]:
        return {line for line in self.SKIP_PUSH_TITLE.split("\n") if line.strip()}

    @property
    def state_dir(self) -> Path:
        if self.MCP_PUSH_HOME:
            return self.MCP_PUSH_HOME.expanduser()
        base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
        return Path(base) / "mcp-push"


@dataclass
class Config:
    """Everything one process needs to send: global settings plus the channels the env enables.

    Channels are built on first use: the MCP server answers `initialize` before it imports any channel
    module, and a bad global option still fails at once."""

    env: dict[str, str]
    settings: Settings
    # Told of every delivery report and question outcome (the hub's metrics); dispatch and ask call them.
    watchers: list[Watcher] = field(default_factory=list)

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> Config:
        env = merged_env(environ, cwd)
        known = Settings.model_fields
        try:
            settings = Settings(**{k: v for k, v in env.items() if k in known and v != ""})
        except ValidationError as exc:
            raise ConfigError(f"invalid configuration: {explain(exc)}") from None
        redact.register(settings.MCP_PUSH_API_TOKEN, *settings.api_tokens)
        return cls(env=env, settings=settings)

    def sibling(self, **changes: Any) -> Config:
        """This configuration for one command run on another's behalf (a hand-off, a hook): its settings
        changed as given, sharing what is built (channels with their pools and limiters, the store), with
        guards of its own, as that command's own process would have had."""
        settings = self.settings.model_copy(update=changes) if changes else self.settings
        twin = Config(env=self.env, settings=settings, watchers=self.watchers)
        twin.__dict__["_built"], twin.__dict__["store"] = self._built, self.store  # cached properties, built once
        return twin

    @cached_property
    def _built(self) -> tuple[dict[str, Channel], dict[str, str]]:
        from channels import REGISTRY, load

        channels: dict[str, Channel] = {}
        problems: dict[str, str] = {}
        for name, triggers in REGISTRY.items():
            if not any(self.env.get(var, "").strip() for var in triggers):
                continue
            channel_cls = load(name)
            values = channel_cls.Settings.from_env(self.env)
            redact.register(*channel_cls.Settings.secret_values(values))
            try:
                settings = channel_cls.Settings.model_validate(values)
            except ValidationError as exc:
                problems[name] = explain(exc)
                continue
            if settings.enabled():
                for part in channel_cls(settings, self.policy, self.settings.state_dir).expand():
                    channels[part.name] = part
        return channels, problems

    @property
    def channels(self) -> dict[str, Channel]:
        """Configured and valid channels, in qinglong's enable order."""
        return self._built[0]

    @property
    def problems(self) -> dict[str, str]:
        """Channels whose variables are set but wrong or incomplete, with what is wrong."""
        return self._built[1]

    @cached_property
    def guards(self) -> Guards:
        from mcp_push.guards import Guards

        return Guards(self.settings)

    @cached_property
    def policy(self) -> Policy:
        from channels.base import Policy

        s = self.settings
        return Policy(
            timeout=s.MCP_PUSH_TIMEOUT,
            deadline=s.MCP_PUSH_DEADLINE,
            retries=s.MCP_PUSH_RETRIES,
            backoff=s.MCP_PUSH_RETRY_BACKOFF,
            retry_unsafe=s.MCP_PUSH_RETRY_UNSAFE,
            overflow=s.MCP_PUSH_OVERFLOW,
        )

    @cached_property
    def store(self) -> Store:
        from mcp_push.store import Store

        s = self.settings
        return Store(s.state_dir / "history.db", max_days=s.MCP_PUSH_HISTORY_DAYS, max_rows=s.MCP_PUSH_HISTORY_MAX)
