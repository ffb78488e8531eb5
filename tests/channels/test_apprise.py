"""Apprise: its json:// plugin posting to the local recorder, one result per URL, credentials masked."""

from __future__ import annotations

import sys

import pytest

from mcp_push.dispatch import dispatch
from tests.conftest import NASTY, send
from tests.recorder import reply

pytest.importorskip("apprise", reason="the optional apprise extra is not installed")

PASSWORD = "s3cr3t-apprise-pass-0123456789"


async def test_one_result_per_url(recorder, make_config):
    recorder.respond(reply(200, {"ok": True}), path="/ok")
    recorder.respond(reply(500, text="down"), path="/fail")
    host = f"127.0.0.1:{recorder.port}"
    config = make_config(
        APPRISE_URLS=f"json://{host}/ok\n  json://user:{PASSWORD}@{host}/fail  form://{host}/ok", MCP_PUSH_RETRIES="0"
    )
    assert [n for n in config.channels] == ["apprise:json", "apprise:json-2", "apprise:form"]
    report = await send(config)
    results = {r.name: r for r in report.results}
    assert report.status == "partial"
    assert results["apprise:json"].ok and results["apprise:form"].ok
    failed = results["apprise:json-2"]
    assert not failed.ok and failed.error
    assert PASSWORD not in report.model_dump_json()
    ok = [
        r
        for r in recorder.requests
        if r.path == "/ok" and r.headers.get("content-type", "").startswith("application/json")
    ]
    assert ok[0].json()["title"] == NASTY.title and ok[0].json()["message"] == NASTY.content
    assert "Basic" in next(r for r in recorder.requests if r.path == "/fail").headers["authorization"]


async def test_the_name_picks_every_url(recorder, make_config):
    recorder.respond(reply(200, {"ok": True}))
    host = f"127.0.0.1:{recorder.port}"
    config = make_config(APPRISE_URLS=f"json://{host}/a json://{host}/b", WEBHOOK_URL=recorder.url + "/hook")
    report = await dispatch(config, NASTY, ["apprise"])
    assert [r.name for r in report.results] == ["apprise:json", "apprise:json-2"]
    assert {r.path for r in recorder.requests} == {"/a", "/b"}


def test_an_unknown_url_is_a_configuration_problem(make_config):
    config = make_config(APPRISE_URLS=f"nosuchservice://token-{PASSWORD}")
    assert "Apprise cannot use the nosuchservice:// URL" in config.problems["apprise"]
    assert not [n for n in config.channels if n.startswith("apprise")]
    assert PASSWORD not in config.problems["apprise"]


def test_without_apprise_installed(make_config, monkeypatch):
    monkeypatch.setitem(sys.modules, "apprise", None)  # import apprise now fails
    config = make_config(APPRISE_URLS="json://127.0.0.1/x")
    assert "mcp-push[apprise]" in config.problems["apprise"]
