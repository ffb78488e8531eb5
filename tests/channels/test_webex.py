from mcp_push.models import Notification
from tests.conftest import NASTY, send
from tests.recorder import reply

TOKEN = "NjI4ZWViYzYtMDk5Yi00OTRiLWEwZGItZjc2NjZhYzQ0OTNlMjM0_PF84_1eb65fdf-9643-417f-9974-ad72cae0e10f"
ROOM = "Y2lzY29zcGFyazovL3VzL1JPT00vYmJjZWIxYWQtNDNmMS0zYjU4LTkxNDctZjE0YmIwYzRkMTU0"
OK = {"id": "Y2lzY29zcGFyazovL3VzL01FU1NBR0UvOTJkYjNiZTAtNDNiZC0xMWU2LThhZTktZGQ1YjNkZmM1NjVk", "roomId": ROOM}

# What Webex must render as exactly what was typed: CommonMark backslash escapes, the title in bold.
TITLE_MD = r"""构建完成 ✅ \& # + % \< \> \* \_ \[ \] \` \\ "q" 'q'"""
CONTENT_MD = "\n".join(
    [
        "第一行：任务结束 🎉",
        r"second line \& a=1\&b=2 #frag +plus 100% \<b\>bold\</b\> \*star\* \_under\_ \[link\](x) \`code\` \\n",
        r"\----",  # no longer a rule, nor an underline that makes the line above a heading
        "长" * 300 + "a" * 400,
        "end",
    ]
)


def config(make_config, **extra):
    return make_config(WEBEX_TOKEN=TOKEN, WEBEX_ROOM_ID=ROOM, **extra)


async def test_markdown_with_plain_text_alternative(production, make_config):
    production.respond(reply(200, OK))
    report = await send(config(make_config))

    assert report.status == "delivered", report
    request = production.last
    assert request.method == "POST"
    assert request.url == "https://webexapis.com/v1/messages"
    assert request.raw_query == ""
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"].startswith("application/json")
    assert request.json() == {
        "roomId": ROOM,
        "text": f"{NASTY.title}\n\n{NASTY.content}",
        "markdown": f"**{TITLE_MD}**\n\n{CONTENT_MD}",
    }


async def test_markup_at_line_starts_is_escaped(production, make_config):
    production.respond(reply(200, OK))
    note = Notification(title="  Steps\n", content="# not a heading\n1. not a list\n  - nor this\n+ nor this\n===")
    report = await send(config(make_config), note)
    assert report.status == "delivered", report
    assert production.last.json()["markdown"] == (
        "**Steps**\n\n\\# not a heading\n1\\. not a list\n  \\- nor this\n\\+ nor this\n\\==="
    )


async def test_markdown_left_out_when_escaping_would_pass_the_limit(production, make_config):
    # 5,000 "*" fit the 7,439 bytes as text, not as 10,000 bytes of escaped Markdown: the text alone goes.
    production.respond(reply(200, OK))
    note = Notification(title="Stars", content="*" * 5000)
    report = await send(config(make_config), note)
    assert report.status == "delivered", report
    assert production.last.json() == {"roomId": ROOM, "text": "Stars\n\n" + "*" * 5000}


async def test_long_text_is_cut_with_room_for_its_markdown(production, make_config):
    production.respond(reply(200, OK))
    report = await send(config(make_config), Notification(title="Log", content="长" * 3000))
    assert report.status == "delivered", report
    body = production.last.json()
    assert len(body["text"].encode()) <= 7439 - 64 and body["text"].endswith("…[truncated]")
    assert body["markdown"].endswith("…\\[truncated\\]") and len(body["markdown"].encode()) <= 7439


async def test_unknown_room_is_a_failure_with_the_tracking_id(production, make_config):
    production.respond(
        reply(
            404,
            {
                "message": "Could not find a room with provided ID.",
                "errors": [{"description": "Could not find a room with provided ID."}],
                "trackingId": "ROUTER_6502B1A6-4DD3-01BB-0E6C-AC1A3F0B0E6C",
            },
        )
    )
    report = await send(config(make_config))
    assert report.status == "failed"
    (result,) = report.results
    assert not result.ok and result.http_status == 404 and not result.pending
    assert result.error == (
        "HTTP 404: Could not find a room with provided ID. (trackingId ROUTER_6502B1A6-4DD3-01BB-0E6C-AC1A3F0B0E6C)"
    )
    assert TOKEN not in report.model_dump_json()


async def test_token_masked_when_webex_echoes_it(production, make_config):
    production.respond(reply(401, {"message": f"Invalid access token Bearer {TOKEN}", "trackingId": "ROUTER_X"}))
    report = await send(config(make_config))
    (result,) = report.results
    assert not result.ok and result.http_status == 401 and "Invalid access token" in result.error
    assert TOKEN not in report.model_dump_json()


async def test_429_waits_retry_after(production, make_config):
    busy = reply(429, {"message": "Too Many Requests", "trackingId": "ROUTER_Y"}, headers={"Retry-After": "0.3"})
    production.respond([busy, reply(200, OK)])
    report = await send(config(make_config))
    (result,) = report.results
    assert result.ok and result.attempts == 2
    assert production.times[1] - production.times[0] >= 0.29


async def test_200_without_a_message_id_is_a_failure(production, make_config):
    production.respond(reply(200, {"items": []}))
    report = await send(config(make_config))
    (result,) = report.results
    assert not result.ok and "no message id" in result.error
