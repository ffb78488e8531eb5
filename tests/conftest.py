from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mcp_push import http, redact
from mcp_push.config import Config
from mcp_push.dispatch import dispatch
from mcp_push.models import DeliveryReport, Notification
from tests.recorder import Recorder, RedirectTransport, reply

# Every character class that older scripts let corrupt a request: CJK, emoji, URL and markup
# metacharacters, quotes, backslashes, newlines and one long line. It fits the tightest service limit
# (WeCom's 2,048 bytes with the title), so every channel must deliver it intact; overflow has its own tests.
NASTY_TITLE = "构建完成 ✅ & # + % < > * _ [ ] ` \\ \"q\" 'q'"
NASTY_CONTENT = (
    "第一行：任务结束 🎉\nsecond line & a=1&b=2 #frag +plus 100% <b>bold</b> *star* _under_ [link](x) `code` \\n\n"
    "----\n" + "长" * 300 + "a" * 400 + "\nend"
)
NASTY = Notification(title=NASTY_TITLE, content=NASTY_CONTENT)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # No developer's ./config.env or exported tokens may leak into a test, and no CLI run's logging setup (its
    # own stderr handler, no propagation) outlives the test that made it: later tests' caplog must see records.
    monkeypatch.chdir(tmp_path)
    redact.reset()
    logger = logging.getLogger("mcp_push")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    yield
    logger.handlers[:], logger.level, logger.propagate = saved
    redact.reset()


@pytest.fixture
def process_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """For in-process `cli.main()` calls, which read os.environ: no channel configured, no developer's
    tokens, state under tmp_path, empty stdin."""
    import io
    import sys

    from channels import REGISTRY, load
    from mcp_push.config import Settings

    names = {var for name in REGISTRY for var in load(name).Settings.model_fields} | set(Settings.model_fields)
    for name in names | {"MCP_PUSH_CONFIG"}:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("MCP_PUSH_HOME", str(tmp_path / "state"))
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = Recorder()
    yield server
    server.close()


@pytest.fixture
def webhook(recorder: Recorder, monkeypatch: pytest.MonkeyPatch) -> Recorder:
    """The recorder as this process's WEBHOOK_URL channel, answering as a webhook that took the message
    (hooks and the CLI load their configuration from the environment)."""
    recorder.respond(reply(200, {"ok": True}))
    monkeypatch.setenv("WEBHOOK_URL", recorder.url)
    return recorder


@pytest.fixture
async def production(recorder: Recorder):
    """Route every HTTP request to the recorder, keeping the production Host header for assertions."""
    http.transport = shared = RedirectTransport(recorder.port)
    yield recorder
    await http.aclose()
    http.transport = None
    await shared.aclose()  # shared by every channel's client, so closed once, here


@pytest.fixture(autouse=True)
async def _close_clients():
    yield
    await http.aclose()


@pytest.fixture
def make_config(tmp_path: Path) -> Callable[..., Config]:
    def make(**env: str) -> Config:
        """A config from exactly these variables. Abuse guards are off and retry backoff is tiny unless a test
        sets them: channel tests resend identical messages on purpose and must not wait out real backoff."""
        base = {
            "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
            "MCP_PUSH_HOME": str(tmp_path / "state"),
            "MCP_PUSH_DEDUPE_SECONDS": "0",
            "MCP_PUSH_MAX_PER_MINUTE": "0",
            "MCP_PUSH_UPDATE_INTERVAL": "0",
            "MCP_PUSH_RETRY_BACKOFF": "0.01",
        }
        return Config.load(environ={**base, **env})

    return make


async def send(config: Config, note: Notification = NASTY, channels: list[str] | None = None) -> DeliveryReport:
    return await dispatch(config, note, channels)
