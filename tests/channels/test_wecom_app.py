import html

import pytest

from channels.wecom_app import WeComApp
from tests.conftest import NASTY, send
from tests.recorder import reply

CORPID = "ww4f1c2a9e7b3d5a61"
CORPSECRET = "wc-corpsecret-Vb3Nq8Zr1Lx6Tk0P"
TOKEN = "wc-access-token-Hs5Jd2Ke9Mw4Ry7A"
TOKEN2 = "wc-access-token-Pz8Qc1Xv6Bn3Gt0L"
AM = f"{CORPID},{CORPSECRET},zhangsan|lisi,1000002"
GETTOKEN = "/cgi-bin/gettoken"
SEND = "/cgi-bin/message/send"
OK = {"errcode": 0, "errmsg": "ok", "msgid": "MSGID1"}


def token_reply(token: str = TOKEN, expires_in: int = 7200):
    return reply(200, {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": expires_in})


@pytest.fixture(autouse=True)
def _fresh_token_cache():
    WeComApp._tokens.clear()
    yield
    WeComApp._tokens.clear()


def requests_to(recorder, path):
    return [r for r in recorder.requests if r.path == path]


async def test_text_message_and_token_cached_across_sends(production, make_config):
    production.respond(token_reply(), path=GETTOKEN)
    production.respond(reply(200, OK), path=SEND)
    config = make_config(QYWX_AM=AM)

    first = await send(config)
    second = await send(config)

    assert first.status == second.status == "delivered", (first, second)
    (fetch,) = requests_to(production, GETTOKEN)  # one token for both messages
    # WeCom documents gettoken as GET (the old script POSTed; the service wins).
    assert fetch.method == "GET"
    assert fetch.url == "https://qyapi.weixin.qq.com/cgi-bin/gettoken"
    assert fetch.query_all == {"corpid": [CORPID], "corpsecret": [CORPSECRET]}
    sends = requests_to(production, SEND)
    assert len(sends) == 2
    request = sends[-1]
    assert request.method == "POST"
    assert request.url == "https://qyapi.weixin.qq.com/cgi-bin/message/send"
    assert request.query_all == {"access_token": [TOKEN]}
    assert request.headers["content-type"].startswith("application/json")
    assert request.json() == {
        "touser": "zhangsan|lisi",
        "agentid": 1000002,
        "safe": 0,
        "msgtype": "text",
        "text": {"content": f"{NASTY.title}\n\n{NASTY.content}"},
    }
    dumped = first.model_dump_json() + second.model_dump_json()
    assert CORPSECRET not in dumped and TOKEN not in dumped


async def test_fifth_field_1_is_text(production, make_config):
    production.respond(token_reply(), path=GETTOKEN)
    production.respond(reply(200, OK), path=SEND)
    report = await send(make_config(QYWX_AM=f"{AM},1"))
    assert report.status == "delivered"
    assert production.last.json()["msgtype"] == "text"


async def test_fifth_field_0_is_text_card(production, make_config):
    production.respond(token_reply(), path=GETTOKEN)
    production.respond(reply(200, OK), path=SEND)
    report = await send(make_config(QYWX_AM=f"{AM},0"))
    assert report.status == "delivered", report
    body = production.last.json()
    assert body["msgtype"] == "textcard" and "text" not in body
    # WeCom requires a url on a text card.
    assert body["textcard"] == {
        "title": NASTY.title,
        "description": NASTY.content,
        "url": "https://github.com/",
        "btntxt": "更多",
    }


async def test_other_fifth_field_is_mpnews_with_that_media_id(production, make_config):
    media_id = "2-G6nrLmr5EC3MMb_-zK1dDdzmd0p7cNliYu9V5w7o8K0"
    production.respond(token_reply(), path=GETTOKEN)
    production.respond(reply(200, OK), path=SEND)
    report = await send(make_config(QYWX_AM=f"{AM},{media_id}"))
    assert report.status == "delivered", report
    body = production.last.json()
    assert body["msgtype"] == "mpnews"
    (article,) = body["mpnews"]["articles"]
    assert article["title"] == NASTY.title
    assert article["thumb_media_id"] == media_id
    assert article["author"]
    # HTML body: markup in the text is escaped, newlines become <br/>.
    assert article["content"] == html.escape(NASTY.content).replace("\n", "<br/>")
    assert "<b>" not in article["content"] and "&lt;b&gt;bold&lt;/b&gt;" in article["content"]
    # Digest: a prefix of the raw content within WeCom's 512-byte limit, never a broken character.
    assert NASTY.content.startswith(article["digest"])
    assert 500 < len(article["digest"].encode()) <= 512


@pytest.mark.parametrize(
    "value",
    [
        f"{CORPID},{CORPSECRET},@all",
        f"{CORPID},{CORPSECRET},@all,1000002,media,extra",
        f"{CORPID},{CORPSECRET},,1000002",
        f"{CORPID},{CORPSECRET},@all,1000002,",
    ],
)
async def test_wrong_field_count_is_a_config_problem(make_config, value):
    config = make_config(QYWX_AM=value)
    assert "wecom_app" not in config.channels
    problem = config.problems["wecom_app"]
    assert "QYWX_AM" in problem and "4 or 5" in problem
    assert CORPSECRET not in problem


async def test_non_numeric_agentid_is_a_config_problem(make_config):
    config = make_config(QYWX_AM=f"{CORPID},{CORPSECRET},@all,myapp")
    assert "agentid" in config.problems["wecom_app"]


async def test_expired_token_is_refreshed_once(production, make_config):
    production.respond([token_reply(TOKEN), token_reply(TOKEN2)], path=GETTOKEN)
    production.respond([reply(200, {"errcode": 42001, "errmsg": "access_token expired"}), reply(200, OK)], path=SEND)
    report = await send(make_config(QYWX_AM=AM))

    assert report.status == "delivered", report
    assert len(requests_to(production, GETTOKEN)) == 2
    assert [r.query["access_token"] for r in requests_to(production, SEND)] == [TOKEN, TOKEN2]
    # The fresh token replaced the stale one in the cache.
    await send(make_config(QYWX_AM=AM))
    assert len(requests_to(production, GETTOKEN)) == 2
    assert requests_to(production, SEND)[-1].query["access_token"] == TOKEN2


async def test_invalid_token_twice_is_a_failure(production, make_config):
    production.respond([token_reply(TOKEN), token_reply(TOKEN2)], path=GETTOKEN)
    production.respond(reply(200, {"errcode": 40014, "errmsg": "invalid access_token"}), path=SEND)
    report = await send(make_config(QYWX_AM=AM))
    assert report.status == "failed"
    (result,) = report.results
    assert "40014" in result.error and "invalid access_token" in result.error
    assert len(requests_to(production, SEND)) == 2  # one retry, not a loop
    dumped = report.model_dump_json()
    assert TOKEN not in dumped and TOKEN2 not in dumped and CORPSECRET not in dumped


async def test_gettoken_failure_is_a_failure(production, make_config):
    production.respond(
        reply(200, {"errcode": 40001, "errmsg": "invalid credential, hint: [1699000000_x]"}), path=GETTOKEN
    )
    report = await send(make_config(QYWX_AM=AM))
    assert report.status == "failed"
    (result,) = report.results
    assert not result.ok
    assert "40001" in result.error and "invalid credential" in result.error
    assert requests_to(production, SEND) == []
    assert CORPSECRET not in report.model_dump_json()


async def test_business_failure_is_a_failure(production, make_config):
    production.respond(token_reply(), path=GETTOKEN)
    production.respond(reply(200, {"errcode": 81013, "errmsg": "user & party & tag all invalid"}), path=SEND)
    report = await send(make_config(QYWX_AM=AM))
    assert report.status == "failed"
    (result,) = report.results
    assert not result.ok and result.http_status == 200
    assert "81013" in result.error and "user & party & tag all invalid" in result.error
    dumped = report.model_dump_json()
    assert CORPSECRET not in dumped and TOKEN not in dumped


async def test_short_lived_token_is_not_reused(production, make_config):
    # expires_in is honoured (minus a safety margin): a token about to expire is fetched again.
    production.respond(token_reply(expires_in=60), path=GETTOKEN)
    production.respond(reply(200, OK), path=SEND)
    config = make_config(QYWX_AM=AM)
    await send(config)
    await send(config)
    assert len(requests_to(production, GETTOKEN)) == 2


async def test_cache_is_per_app_and_origin(recorder, make_config):
    recorder.respond(token_reply(), path=GETTOKEN)
    recorder.respond(reply(200, OK), path=SEND)
    config = make_config(QYWX_AM=AM, QYWX_ORIGIN=recorder.url + "/")
    assert config.channels["wecom_app"].settings.QYWX_ORIGIN == recorder.url  # trailing slash stripped
    await send(config)
    await send(make_config(QYWX_AM=f"{CORPID},other-secret-0000,@all,1000003", QYWX_ORIGIN=recorder.url))
    fetches = requests_to(recorder, GETTOKEN)
    assert [r.query["corpsecret"] for r in fetches] == [CORPSECRET, "other-secret-0000"]
    # Self-hosted origin, trailing slash stripped.
    assert fetches[0].url == f"{recorder.url}/cgi-bin/gettoken"
    assert recorder.last.url == f"{recorder.url}/cgi-bin/message/send"
