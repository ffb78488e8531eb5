import pytest

from mcp_push.models import Notification
from tests.conftest import NASTY, send
from tests.recorder import reply

TOKEN = "onebot-token-0123456789abcdef"
OK = {"status": "ok", "retcode": 0, "data": {"message_id": 123456}}


def env(url: str, qq: str = "user_id=10001", **extra: str) -> dict[str, str]:
    return {"GOBOT_URL": url, "GOBOT_QQ": qq, **extra}


async def test_private_message_as_json_with_bearer_token(recorder, make_config):
    recorder.respond(reply(200, OK))
    report = await send(make_config(**env(f"{recorder.url}/send_private_msg", GOBOT_TOKEN=TOKEN)))

    assert report.status == "delivered", report
    request = recorder.last
    assert request.method == "POST"
    assert request.url == f"{recorder.url}/send_private_msg"
    assert request.raw_query == ""  # neither the token nor the text in the URL
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"].startswith("application/json")
    assert request.json() == {
        "user_id": 10001,
        "message": f"{NASTY.title}\n\n{NASTY.content}",
        "auto_escape": True,
    }


async def test_group_message_keeps_cq_code_like_text_literal(recorder, make_config):
    recorder.respond(reply(200, OK))
    note = Notification(title="[CQ:face,id=1] a&b #c +d", content="[CQ:at,qq=all] x=1&y=2 #frag +plus 100%")
    report = await send(make_config(**env(f"{recorder.url}/send_group_msg", "group_id=20002")), note)

    assert report.status == "delivered", report
    request = recorder.last
    assert "authorization" not in request.headers  # no token configured, none sent
    body = request.json()
    assert body == {"group_id": 20002, "message": f"{note.title}\n\n{note.content}", "auto_escape": True}
    assert isinstance(body["group_id"], int)


@pytest.mark.parametrize("answer", [{"status": "ok"}, {"retcode": 0}])
async def test_status_ok_or_retcode_zero_is_success(recorder, make_config, answer):
    recorder.respond(reply(200, answer))
    report = await send(make_config(**env(f"{recorder.url}/send_private_msg")))
    assert report.status == "delivered", report


async def test_business_failure_is_a_failure(recorder, make_config):
    recorder.respond(
        reply(
            200,
            {
                "status": "failed",
                "retcode": 100,
                "data": None,
                "msg": "SEND_MSG_API_ERROR",
                "wording": "请参考 go-cqhttp 端输出",
            },
        )
    )
    report = await send(make_config(**env(f"{recorder.url}/send_private_msg", GOBOT_TOKEN=TOKEN)))
    assert report.status == "failed"
    (result,) = report.results
    assert not result.ok
    assert result.http_status == 200
    assert "100" in result.error and "SEND_MSG_API_ERROR" in result.error and "请参考 go-cqhttp 端输出" in result.error
    assert TOKEN not in report.model_dump_json()


async def test_wrong_token_names_the_setting(recorder, make_config):
    recorder.respond(reply(403, text=""))
    report = await send(make_config(**env(f"{recorder.url}/send_private_msg", GOBOT_TOKEN=TOKEN)))
    (result,) = report.results
    assert not result.ok and result.http_status == 403
    assert "GOBOT_TOKEN" in result.error
    assert TOKEN not in report.model_dump_json()


@pytest.mark.parametrize("qq", ["10001", "qq=10001", "user_id=abc", "user_id=10001&group_id=2", "group_id="])
async def test_malformed_target_is_a_misconfiguration(recorder, make_config, qq):
    config = make_config(**env(f"{recorder.url}/send_private_msg", qq))
    assert "go_cqhttp" not in config.channels
    problem = config.problems["go_cqhttp"]
    assert "GOBOT_QQ" in problem and "user_id=<QQ number>" in problem and "group_id=<group number>" in problem
