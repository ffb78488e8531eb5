from tests.conftest import NASTY, send
from tests.recorder import Recorded, Reply, reply

TOKEN = "chronocat-token-0123456789abcdef"
TEXT = f"{NASTY.title}\n\n{NASTY.content}"


def env(url: str, qq: str = "user_id=10001;group_id=20002;group_id=30003") -> dict[str, str]:
    return {"CHRONOCAT_URL": url, "CHRONOCAT_QQ": qq, "CHRONOCAT_TOKEN": TOKEN}


async def test_one_request_per_target(recorder, make_config):
    recorder.respond(reply(200, {"msgId": "7300000000000000000"}))
    report = await send(make_config(**env(f"{recorder.url}/")))  # trailing slash stripped

    assert report.status == "delivered", report
    assert len(recorder.requests) == 3
    peers = []
    for request in recorder.requests:
        assert request.method == "POST"
        assert request.url == f"{recorder.url}/api/message/send"
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        assert request.headers["content-type"].startswith("application/json")
        body = request.json()
        assert body["elements"] == [{"elementType": 1, "textElement": {"content": TEXT}}]
        peers.append(body["peer"])
    assert peers == [
        {"chatType": 1, "peerUin": "10001"},
        {"chatType": 2, "peerUin": "20002"},
        {"chatType": 2, "peerUin": "30003"},
    ]


async def test_failed_target_is_named_and_others_still_sent(recorder, make_config):
    def answer(request: Recorded) -> Reply:
        if request.json()["peer"]["peerUin"] == "20002":
            return reply(404, {"message": "group not found"})  # permanent, so not retried
        return reply(200, {"msgId": "1"})

    recorder.respond(answer)
    report = await send(make_config(**env(recorder.url)))

    assert report.status == "failed"
    (result,) = report.results
    assert not result.ok
    assert "group 20002" in result.error and "HTTP 404" in result.error and "group not found" in result.error
    assert "10001" not in result.error and "30003" not in result.error
    # The failure did not stop the remaining target.
    assert [r.json()["peer"]["peerUin"] for r in recorder.requests] == ["10001", "20002", "30003"]
    assert TOKEN not in report.model_dump_json()


async def test_unauthorized_is_a_failure(recorder, make_config):
    recorder.respond(reply(401, text="Unauthorized"))
    report = await send(make_config(**env(recorder.url, "group_id=20002")))
    (result,) = report.results
    assert not result.ok and result.http_status == 401
    assert "group 20002: HTTP 401: Unauthorized" in result.error
    assert TOKEN not in report.model_dump_json()


async def test_no_target_is_a_misconfiguration(recorder, make_config):
    config = make_config(**env(recorder.url, "qq=10001;group=2"))
    assert "chronocat" not in config.channels
    assert "CHRONOCAT_QQ" in config.problems["chronocat"] and "no target" in config.problems["chronocat"]
    assert recorder.requests == []


async def test_missing_token_is_a_misconfiguration(recorder, make_config):
    config = make_config(CHRONOCAT_URL=recorder.url, CHRONOCAT_QQ="user_id=1")
    assert "CHRONOCAT_TOKEN: is required" in config.problems["chronocat"]
