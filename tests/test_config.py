"""Where configuration comes from, and how channels describe their own variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from channels import REGISTRY, load
from mcp_push import redact
from mcp_push.config import Config, ConfigError, config_file, merged_env

OLD_CONFIG_SH = """\
## an old qinglong config.sh
export NTFY_TOPIC="from-file-topic"
export NTFY_PRIORITY='4'
WEBHOOK_URL=https://example.test/hook
export WEBHOOK_BODY="title: $title
content: $content"
SKIP_PUSH_TITLE="first skipped
second skipped"
"""


def base_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"XDG_CONFIG_HOME": str(tmp_path / "xdg"), "MCP_PUSH_HOME": str(tmp_path / "state"), **extra}


def test_dotenv_with_export_and_multiline_values(tmp_path):
    path = tmp_path / "old.sh"
    path.write_text(OLD_CONFIG_SH, encoding="utf-8")
    config = Config.load(base_env(tmp_path, MCP_PUSH_CONFIG=str(path)))
    assert config.env["NTFY_TOPIC"] == "from-file-topic"
    assert config.channels["ntfy"].settings.NTFY_PRIORITY == 4
    assert config.channels["webhook"].settings.WEBHOOK_BODY == "title: $title\ncontent: $content"
    assert config.settings.skip_titles == {"first skipped", "second skipped"}


def test_process_environment_wins_over_the_file(tmp_path):
    path = tmp_path / "c.env"
    path.write_text("NTFY_TOPIC=file\nNTFY_URL=https://file.test\n", encoding="utf-8")
    env = merged_env(base_env(tmp_path, MCP_PUSH_CONFIG=str(path), NTFY_TOPIC="process"))
    assert env["NTFY_TOPIC"] == "process" and env["NTFY_URL"] == "https://file.test"


def test_file_search_order(tmp_path, monkeypatch):
    env = base_env(tmp_path)
    assert config_file(env) is None
    user = tmp_path / "xdg" / "mcp-push" / "config.env"
    user.parent.mkdir(parents=True)
    user.write_text("A=user\n")
    assert config_file(env) == user
    Path("config.env").write_text("A=local\n")  # cwd is tmp_path
    assert config_file(env) == Path("config.env")
    explicit = tmp_path / "explicit.env"
    explicit.write_text("A=explicit\n")
    assert config_file({**env, "MCP_PUSH_CONFIG": str(explicit)}) == explicit
    assert merged_env({**env, "MCP_PUSH_CONFIG": str(explicit)})["A"] == "explicit"


def test_missing_explicit_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match=r"MCP_PUSH_CONFIG names .*missing\.env"):
        Config.load(base_env(tmp_path, MCP_PUSH_CONFIG=str(tmp_path / "missing.env")))


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("MCP_PUSH_TIMEOUT", "-1", "MCP_PUSH_TIMEOUT: Input should be greater than 0"),
        ("MCP_PUSH_DEADLINE", "later", "MCP_PUSH_DEADLINE: Input should be a valid number"),
        ("MCP_PUSH_TOOL_NAMES", "camel", "MCP_PUSH_TOOL_NAMES: must be one of 'auto', 'dotted' or 'underscore'"),
        ("HITOKOTO", "maybe", "HITOKOTO: Input should be a valid boolean"),
    ],
)
def test_bad_global_options_are_specific(tmp_path, name, value, message):
    with pytest.raises(ConfigError, match=message):
        Config.load(base_env(tmp_path, **{name: value}))


def test_defaults(tmp_path):
    settings = Config.load(base_env(tmp_path)).settings
    assert (settings.HITOKOTO, settings.MCP_PUSH_TIMEOUT, settings.MCP_PUSH_DEADLINE) == (False, 10.0, 30.0)
    assert settings.MCP_PUSH_TOOL_NAMES == "auto"


def test_console_false_means_off(tmp_path):
    assert "console" not in Config.load(base_env(tmp_path, CONSOLE="false")).channels
    assert "console" in Config.load(base_env(tmp_path, CONSOLE="true")).channels


def test_empty_values_count_as_unset(tmp_path):
    config = Config.load(base_env(tmp_path, TG_BOT_TOKEN="", NTFY_TOPIC="   "))
    assert config.channels == {} and config.problems == {}


@pytest.mark.parametrize("name", list(REGISTRY))
def test_registry_matches_each_channels_required_settings(name):
    cls = load(name)
    required = tuple(var for var, field in cls.Settings.model_fields.items() if field.is_required())
    if required:
        assert set(required) == set(REGISTRY[name])
    else:  # reached more than one way (a Slack webhook, or a bot token): each trigger is one of them
        assert len(REGISTRY[name]) > 1 and set(REGISTRY[name]) <= set(cls.Settings.model_fields)
    assert cls.name == name and cls.label and cls.docs.startswith("http")
    assert cls.group in ("China", "international", "self-hosted", "this machine")
    for var, field in cls.Settings.model_fields.items():
        assert field.description, f"{name}.{var} has no description"


def test_secrets_of_configured_channels_are_registered_for_redaction(tmp_path):
    config = Config.load(base_env(tmp_path, DD_BOT_TOKEN="dd-token-abcdef", NTFY_TOPIC="topic-xyz-123"))
    assert config.channels  # built on first use, before any channel can send or log
    assert redact.redact("url?access_token=dd-token-abcdef&x=topic-xyz-123") == "url?access_token=***&x=***"


def test_docs_match_what_the_channels_say(tmp_path):
    """config.env.example and the README table are generated; a stale copy fails here."""
    from mcp_push.catalog import as_env_example, as_markdown, describe

    root = Path(__file__).parent.parent
    rows = describe(Config.load(base_env(tmp_path)))
    example = (root / "config.env.example").read_text(encoding="utf-8")
    assert example == as_env_example(rows), "regenerate: mcp-push channels --format env > config.env.example"
    assert as_markdown(rows) in (root / "README.md").read_text(encoding="utf-8"), "regenerate the README table"
    for row in rows:
        for var in row["variables"]:
            assert f"# {var['name']}=" in example


def test_credentials_inside_a_url_setting_are_masked(tmp_path):
    config = Config.load(
        base_env(tmp_path, GOTIFY_URL="https://alice:s3cret-pass@gotify.example", GOTIFY_TOKEN="tok-0123")
    )
    from mcp_push.catalog import describe

    gotify = next(row for row in describe(config) if row["name"] == "gotify")
    shown = {v["name"]: v["value"] for v in gotify["variables"]}
    assert shown["GOTIFY_URL"] == "https://***@gotify.example"
    assert (
        redact.redact("GET https://alice:s3cret-pass@gotify.example/message")
        == "GET https://***@gotify.example/message"
    )
