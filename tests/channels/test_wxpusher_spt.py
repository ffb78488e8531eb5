from channels.wxpusher import page
from tests.conftest import NASTY, send
from tests.recorder import reply

SPT = "SPT_xx1aaaaaaaaaaaaaaaaaaaaaaaa"
SPT2 = "SPT_xx2bbbbbbbbbbbbbbbbbbbbbbbb"
OK = {"code": 1000, "msg": "处理成功", "data": [{"code": 1000, "status": "创建发送任务成功"}], "success": True}


async def test_one_token_goes_as_spt(production, make_config):
    production.respond(reply(200, OK))
    report = await send(make_config(WXPUSHER_SPT_LIST=SPT))

    assert report.status == "delivered", report
    request = production.last
    assert request.method == "POST"
    assert request.url == "https://wxpusher.zjiecode.com/api/send/message/simple-push"
    assert request.headers["content-type"].startswith("application/json")
    body = request.json()
    assert body == {**page(NASTY), "spt": SPT}
    # The same escaped page as the standard channel, spelled out once here.
    assert body["contentType"] == 2 and body["summary"] == NASTY.title
    assert body["content"].startswith("<h1>构建完成 ✅ &amp; # + % &lt; &gt;")
    assert "&lt;b&gt;bold&lt;/b&gt;" in body["content"]


async def test_several_tokens_go_as_spt_list(production, make_config):
    production.respond(reply(200, OK))
    report = await send(make_config(WXPUSHER_SPT_LIST=f" {SPT} , {SPT2},"))
    assert report.status == "delivered"
    body = production.last.json()
    assert body["sptList"] == [SPT, SPT2]
    assert "spt" not in body


async def test_more_than_ten_tokens_is_a_misconfiguration(make_config):
    tokens = ",".join(f"SPT_token{i:02d}" for i in range(11))
    config = make_config(WXPUSHER_SPT_LIST=tokens)
    assert "wxpusher_spt" not in config.channels
    problem = config.problems["wxpusher_spt"]
    assert "1 to 10" in problem and "11" in problem
    assert "SPT_token" not in problem


async def test_only_commas_is_a_misconfiguration(make_config):
    config = make_config(WXPUSHER_SPT_LIST=" , ,")
    assert "wxpusher_spt" not in config.channels
    assert "got 0" in config.problems["wxpusher_spt"]


async def test_business_failure_is_a_failure_and_masks_each_token(production, make_config):
    # Even if the service echoed one token of the list, it is masked.
    production.respond(reply(200, {"code": 1001, "msg": f"SPT {SPT2} 不存在", "data": None}))
    report = await send(make_config(WXPUSHER_SPT_LIST=f"{SPT},{SPT2}"))
    assert report.status == "failed"
    (result,) = report.results
    assert not result.ok
    assert result.http_status == 200
    assert "1001" in result.error and "不存在" in result.error
    dumped = report.model_dump_json()
    assert SPT not in dumped and SPT2 not in dumped
