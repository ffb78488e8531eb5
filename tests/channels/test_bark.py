from tests.conftest import NASTY, send
from tests.recorder import reply

KEY = "barkDeviceKey0123456789"


async def test_device_key_goes_to_api_day_app(production, make_config):
    production.respond(reply(200, {"code": 200, "message": "success", "timestamp": 1}))
    report = await send(make_config(BARK_PUSH=KEY, BARK_GROUP="ci", BARK_SOUND="minuet", BARK_LEVEL="timeSensitive"))
    assert report.status == "delivered", report
    request = production.last
    assert (request.method, request.url) == ("POST", f"https://api.day.app/{KEY}")
    assert request.headers["content-type"].startswith("application/json")
    assert request.json() == {
        "title": NASTY.title,
        "body": NASTY.content,
        "group": "ci",
        "sound": "minuet",
        "level": "timeSensitive",
    }


async def test_full_url_for_self_hosted_server(recorder, make_config):
    recorder.respond(reply(200, {"code": 200, "message": "success"}))
    report = await send(make_config(BARK_PUSH=f"{recorder.url}/{KEY}/", BARK_ARCHIVE="1", BARK_URL="https://x.test"))
    assert report.status == "delivered"
    assert recorder.last.path == f"/{KEY}"
    assert recorder.last.json()["isArchive"] == "1" and recorder.last.json()["url"] == "https://x.test"


async def test_business_failure(production, make_config):
    production.respond(reply(400, {"code": 400, "message": "failed to get device token: device not registered"}))
    report = await send(make_config(BARK_PUSH=KEY))
    (result,) = report.results
    assert report.status == "failed" and result.http_status == 400
    assert "device not registered" in result.error
    assert KEY not in report.model_dump_json()
