import pytest

from channels.home_assistant import literal
from mcp_push.models import Notification
from tests.conftest import NASTY, send
from tests.recorder import reply

TOKEN = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJoYXNzLXRva2VuIn0.SiGnAtUrE0123456789abcdef"


def config(make_config, recorder, **extra):
    return make_config(HASS_URL=recorder.url, HASS_TOKEN=TOKEN, **extra)


async def test_notify_action_with_bearer_token(recorder, make_config):
    recorder.respond(reply(200, []))
    report = await send(config(make_config, recorder))

    assert report.status == "delivered", report
    request = recorder.last
    assert request.method == "POST"
    assert request.url == f"{recorder.url}/api/services/notify/notify"
    assert request.raw_query == ""
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"].startswith("application/json")
    assert request.json() == {"title": NASTY.title, "message": NASTY.content}  # no template delimiters: as is


@pytest.mark.parametrize(
    ("url", "service"),
    [("{base}/", "mobile_app_pixel_8"), ("{base}/api/", "notify.mobile_app_pixel_8"), ("{base}/api", "notify")],
)
async def test_service_and_url_as_users_write_them(recorder, make_config, url, service):
    recorder.respond(reply(200, []))
    report = await send(
        make_config(HASS_URL=url.format(base=recorder.url), HASS_TOKEN=TOKEN, HASS_NOTIFY_SERVICE=service)
    )
    assert report.status == "delivered", report
    assert recorder.last.url == f"{recorder.url}/api/services/notify/{service.removeprefix('notify.')}"


@pytest.mark.parametrize("status", [400, 404])
async def test_unknown_notify_action_says_so(recorder, make_config, status):
    recorder.respond(reply(status, text=f"{status}: {'Bad Request' if status == 400 else 'Not Found'}"))
    report = await send(config(make_config, recorder, HASS_NOTIFY_SERVICE="mobile_app_old_phone"))
    assert report.status == "failed"
    (result,) = report.results
    assert not result.ok and result.http_status == status and not result.pending and result.attempts == 1
    assert "no action notify.mobile_app_old_phone" in result.error and "HASS_NOTIFY_SERVICE" in result.error
    assert TOKEN not in report.model_dump_json()


async def test_refused_token_says_which_setting(recorder, make_config):
    recorder.respond(reply(401, text="401: Unauthorized"))
    report = await send(config(make_config, recorder))
    (result,) = report.results
    assert not result.ok and result.http_status == 401
    assert "HASS_TOKEN" in result.error and "long-lived access token" in result.error
    assert TOKEN not in report.model_dump_json()


async def test_a_200_that_is_not_a_list_of_states_is_a_failure(recorder, make_config):
    recorder.respond(reply(200, text="<html><title>Log in</title></html>"))  # e.g. a proxy's login page
    report = await send(config(make_config, recorder))
    (result,) = report.results
    assert not result.ok and result.http_status == 200 and "Log in" in result.error


async def test_service_response_form_is_a_success(recorder, make_config):
    recorder.respond(reply(200, {"changed_states": [], "service_response": {}}))
    report = await send(config(make_config, recorder))
    assert report.status == "delivered", report


async def test_template_delimiters_are_sent_to_print_literally(recorder, make_config):
    recorder.respond(reply(200, []))
    content = "render {{ states('sun.sun') }} and {% if x %}, a {# note #}, \"quotes\" \\ 长 🎉 }}"
    note = Notification(title="Plain title {x}", content=content)
    report = await send(config(make_config, recorder), note)
    assert report.status == "delivered", report
    sent = recorder.last.json()
    assert sent["title"] == "Plain title {x}"  # no delimiter, so not a template
    assert sent["message"].startswith("{{ ") and sent["message"] == literal(content)


def test_literal_renders_back_to_the_text():
    jinja2 = pytest.importorskip("jinja2.sandbox")  # Home Assistant renders with a sandboxed Jinja environment
    env = jinja2.ImmutableSandboxedEnvironment()
    for text in ["{{ x }}", "{% endraw %} }} \" ' \\ \\n\nline 长 🎉 {#", NASTY.content + "{{"]:
        assert env.from_string(literal(text)).render() == text


async def test_server_error_is_retried(recorder, make_config):
    recorder.respond([reply(500, text="500 Internal Server Error"), reply(200, [])])
    report = await send(config(make_config, recorder))
    (result,) = report.results
    assert result.ok and result.attempts == 2


@pytest.mark.parametrize(
    ("env", "field"),
    [({"HASS_NOTIFY_SERVICE": "Mobile App"}, "HASS_NOTIFY_SERVICE"), ({"HASS_URL": "homeassistant.local"}, "HASS_URL")],
)
async def test_bad_settings_are_a_config_problem(make_config, env, field):
    conf = make_config(**({"HASS_URL": "http://homeassistant.local:8123", "HASS_TOKEN": TOKEN} | env))
    assert "home_assistant" not in conf.channels
    assert field in conf.problems["home_assistant"]
