import html

from tests.conftest import NASTY, send
from tests.recorder import reply

TOKEN = "AT_qHT0cTQfLwYOlBV9cJj9zDSyEmspsmyM"
OK = {"code": 1000, "msg": "处理成功", "data": [{"uid": "UID_a", "code": 1000, "status": "创建发送任务成功"}]}


def expected_content(title: str, content: str) -> str:
    return f"<h1>{html.escape(title)}</h1><br/><div style='white-space: pre-wrap;'>{html.escape(content)}</div>"


async def test_html_message_to_uids_and_topics(production, make_config):
    production.respond(reply(200, OK))
    report = await send(
        make_config(WXPUSHER_APP_TOKEN=TOKEN, WXPUSHER_TOPIC_IDS="123; 456", WXPUSHER_UIDS="UID_a;UID_b")
    )

    assert report.status == "delivered", report
    request = production.last
    assert request.method == "POST"
    assert request.url == "https://wxpusher.zjiecode.com/api/send/message"
    assert request.headers["content-type"].startswith("application/json")
    assert request.json() == {
        "appToken": TOKEN,
        "content": expected_content(NASTY.title, NASTY.content),
        "summary": NASTY.title,
        "contentType": 2,
        "topicIds": [123, 456],
        "uids": ["UID_a", "UID_b"],
        "verifyPayType": 0,
    }
    # Escaped: NASTY's markup arrives as text.
    assert "<b>" not in request.json()["content"] and "&lt;b&gt;" in request.json()["content"]


async def test_summary_is_cut_at_wxpusher_documented_100(production, make_config):
    # The reference said 20; WxPusher's docs (API limit 100, clients may show fewer) win.
    production.respond(reply(200, OK))
    note = NASTY.model_copy(update={"title": "标" * 150})
    report = await send(make_config(WXPUSHER_APP_TOKEN=TOKEN, WXPUSHER_UIDS="UID_a"), note)
    assert report.status == "delivered"
    body = production.last.json()
    assert body["summary"] == "标" * 100
    assert f"<h1>{'标' * 150}</h1>" in body["content"]  # the full title stays in the page
    assert body["topicIds"] == [] and body["uids"] == ["UID_a"]


async def test_no_recipient_is_a_misconfiguration(make_config):
    config = make_config(WXPUSHER_APP_TOKEN=TOKEN, WXPUSHER_UIDS=" ; ")
    assert "wxpusher" not in config.channels
    assert "WXPUSHER_UIDS or WXPUSHER_TOPIC_IDS" in config.problems["wxpusher"]


async def test_non_numeric_topic_id_is_a_misconfiguration(make_config):
    config = make_config(WXPUSHER_APP_TOKEN=TOKEN, WXPUSHER_TOPIC_IDS="123;abc")
    assert "wxpusher" not in config.channels
    problem = config.problems["wxpusher"]
    assert "WXPUSHER_TOPIC_IDS" in problem and "integers" in problem and "'abc'" in problem
    assert TOKEN not in problem


async def test_business_failure_is_a_failure(production, make_config):
    production.respond(reply(200, {"code": 1002, "msg": "appToken不正确", "data": None, "success": False}))
    report = await send(make_config(WXPUSHER_APP_TOKEN=TOKEN, WXPUSHER_TOPIC_IDS="123"))
    assert report.status == "failed"
    (result,) = report.results
    assert not result.ok
    assert result.http_status == 200
    assert "1002" in result.error and "appToken不正确" in result.error
    assert TOKEN not in report.model_dump_json()
