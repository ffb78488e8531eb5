"""Message size measured the way each service counts, and the per-channel rate limiter."""

from __future__ import annotations

import time

import pytest

from channels.limits import MARKER, Limiter, Limits, Rate, RateLimited, Size, fit
from mcp_push.dispatch import dispatch
from mcp_push.models import Notification
from tests.recorder import reply

CJK = "中" * 1800  # 1,800 characters, 5,400 UTF-8 bytes


def test_units_measure_as_services_count():
    assert Size(2048, "bytes").measure(CJK) == 5400
    assert Size(4096, "chars").measure(CJK) == 1800
    assert Size(4096, "utf16").measure("😀a") == 3  # an emoji is two UTF-16 code units
    assert Size(10, "bytes").cut("中中中中", 7) == "中中"  # never half a character


def test_truncate_keeps_a_visible_marker_and_fits():
    limits = Limits(content=Size(2048, "bytes"), joined=True)
    (part,) = fit(Notification(title="标题", content=CJK), limits, "truncate")
    joined = f"{part.title}\n\n{part.content}"
    assert len(joined.encode()) <= 2048
    assert part.content.endswith(MARKER) and part.content.startswith("中" * 600)


def test_split_numbers_parts_each_within_the_limit_and_loses_nothing():
    limits = Limits(content=Size(2048, "bytes"), joined=True)
    content = "\n".join(f"line {i}: " + "中" * 50 for i in range(60))
    parts = fit(Notification(title="Report", content=content), limits, "split")
    assert len(parts) > 1
    assert [p.title for p in parts] == [f"Report ({i}/{len(parts)})" for i in range(1, len(parts) + 1)]
    assert all(len(f"{p.title}\n\n{p.content}".encode()) <= 2048 for p in parts)
    assert "".join(p.content for p in parts) == content
    assert all(p.content.endswith("\n") for p in parts[:-1])  # cut at line breaks where possible


def test_title_limit():
    (part,) = fit(Notification(title="x" * 40, content="c"), Limits(title=Size(32)), "truncate")
    assert len(part.title) == 32 and part.title.endswith("…")


async def test_wecom_text_over_2048_bytes_is_truncated_on_the_wire(production, make_config):
    production.respond(reply(200, {"errcode": 0, "errmsg": "ok"}))
    note = Notification(title="长消息", content=CJK)
    report = await dispatch(make_config(QYWX_KEY="wecom-key-0123456789"), note)
    assert report.status == "delivered"
    text = production.last.json()["text"]["content"]
    assert len(text.encode()) <= 2048 and text.endswith(MARKER)


async def test_wecom_split_sends_numbered_parts_in_order(production, make_config):
    production.respond(reply(200, {"errcode": 0, "errmsg": "ok"}))
    note = Notification(title="长消息", content=CJK)
    report = await dispatch(make_config(QYWX_KEY="wecom-key-0123456789", MCP_PUSH_OVERFLOW="split"), note)
    assert report.status == "delivered"
    texts = [r.json()["text"]["content"] for r in production.requests]
    assert len(texts) == 3  # 5,400 bytes over parts of < 2,048
    assert [t.split("\n\n", 1)[0] for t in texts] == ["长消息 (1/3)", "长消息 (2/3)", "长消息 (3/3)"]
    assert "".join(t.split("\n\n", 1)[1] for t in texts) == CJK


async def test_telegram_counts_utf16(production, make_config):
    production.respond(reply(200, {"ok": True, "result": {}}))
    note = Notification(title="t", content="😀" * 3000)  # 3,000 characters but 6,000 UTF-16 units
    await dispatch(make_config(TG_BOT_TOKEN="1:tg-token-0123456789", TG_USER_ID="42"), note)
    text = production.last.json()["text"]
    assert len(text.encode("utf-16-le")) // 2 <= 4096


async def test_limiter_queues_within_the_deadline():
    limiter = Limiter((Rate(2, 0.5),))
    started = time.monotonic()
    for _ in range(4):
        await limiter.wait(deadline=started + 5)
    assert 0.45 <= time.monotonic() - started < 1.0  # the 3rd and 4th waited for the window


async def test_limiter_refuses_what_cannot_fit_the_deadline():
    limiter = Limiter((Rate(1, 60),))
    await limiter.wait(deadline=time.monotonic() + 1)
    with pytest.raises(RateLimited, match="1 message\\(s\\) per 60 s"):
        await limiter.wait(deadline=time.monotonic() + 1)


async def test_dingtalk_keeps_to_20_a_minute(production, make_config):
    production.respond(reply(200, {"errcode": 0, "errmsg": "ok"}))
    config = make_config(DD_BOT_TOKEN="dd-token-0123456789", MCP_PUSH_DEADLINE="2")
    reports = [await dispatch(config, Notification(title=f"n{i}", content="c")) for i in range(21)]
    assert [r.status for r in reports[:20]] == ["delivered"] * 20
    (last,) = reports[20].results
    assert last.status == "rate_limited" and "20 message(s) per 60 s" in last.error
    assert len(production.requests) == 20  # the 21st never reached DingTalk, so the bot is not muted


async def test_telegram_paces_one_per_second(production, make_config):
    production.respond(reply(200, {"ok": True, "result": {}}))
    config = make_config(TG_BOT_TOKEN="1:tg-token-0123456789", TG_USER_ID="42", MCP_PUSH_DEADLINE="5")
    started = time.monotonic()
    for i in range(3):
        assert (await dispatch(config, Notification(title=f"n{i}", content="c"))).status == "delivered"
    assert time.monotonic() - started >= 1.9
