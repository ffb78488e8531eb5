import json

import pytest

from tests.conftest import NASTY, send
from tests.recorder import reply


async def test_default_is_json_title_and_content(recorder, make_config):
    recorder.respond(reply(200, {"ok": True}))
    report = await send(make_config(WEBHOOK_URL=recorder.url + "/hook"))
    assert report.status == "delivered"
    assert recorder.last.method == "POST"
    assert recorder.last.json() == {"title": NASTY.title, "content": NASTY.content}


async def test_json_document_body_keeps_real_newlines_and_valid_json(recorder, make_config):
    recorder.respond(reply(200, {"ok": True}))
    body = '{"msgtype": "text", "text": {"content": "$title\\n---\\n$content"}, "n": 1, "at": ["$title"]}'
    env = dict(
        WEBHOOK_URL=recorder.url,
        WEBHOOK_BODY=body,
        WEBHOOK_CONTENT_TYPE="application/json",
        WEBHOOK_HEADERS="Authorization: Bearer hook-secret-0123\nX-A: 1\nx-a: 2",
    )
    report = await send(make_config(**env))
    assert report.status == "delivered"
    request = recorder.last
    assert request.json() == {
        "msgtype": "text",
        "text": {"content": f"{NASTY.title}\n---\n{NASTY.content}"},
        "n": 1,
        "at": [NASTY.title],
    }
    assert request.headers["authorization"] == "Bearer hook-secret-0123"
    assert request.headers["x-a"] == "1, 2"
    assert request.headers["content-type"] == "application/json"


async def test_key_value_lines_as_json(recorder, make_config):
    recorder.respond(reply(200, {"ok": True}))
    body = 'title: $title\ncontent: $content\npriority: 5\nextra: {"source": "$title"}'
    report = await send(
        make_config(WEBHOOK_URL=recorder.url, WEBHOOK_BODY=body, WEBHOOK_CONTENT_TYPE="application/json")
    )
    assert report.status == "delivered"
    assert recorder.last.json() == {
        "title": NASTY.title,
        "content": NASTY.content,
        "priority": 5,
        "extra": {"source": NASTY.title},
    }
    assert "\n" in recorder.last.json()["content"]  # a real newline, not backslash-n


async def test_form_body(recorder, make_config):
    recorder.respond(reply(200, text="ok"))
    env = dict(
        WEBHOOK_URL=recorder.url,
        WEBHOOK_BODY='t: $title\nc: $content\nmeta: {"a": 1}',
        WEBHOOK_CONTENT_TYPE="application/x-www-form-urlencoded",
    )
    await send(make_config(**env))
    assert recorder.last.headers["content-type"] == "application/x-www-form-urlencoded"
    assert recorder.last.form() == {"t": NASTY.title, "c": NASTY.content, "meta": '{"a": 1}'}


async def test_multipart_body(recorder, make_config):
    recorder.respond(reply(200, text="ok"))
    env = dict(
        WEBHOOK_URL=recorder.url, WEBHOOK_BODY="t: $title\nc: $content", WEBHOOK_CONTENT_TYPE="multipart/form-data"
    )
    await send(make_config(**env))
    ctype = recorder.last.headers["content-type"]
    assert ctype.startswith("multipart/form-data; boundary=")
    from email.parser import BytesParser

    parsed = BytesParser().parsebytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + recorder.last.body)
    parts = {
        p.get_param("name", header="content-disposition"): p.get_payload(decode=True).decode()
        for p in parsed.get_payload()
    }
    assert parts == {"t": NASTY.title, "c": NASTY.content}


async def test_text_plain_body_raw(recorder, make_config):
    recorder.respond(reply(200, text="ok"))
    env = dict(WEBHOOK_URL=recorder.url, WEBHOOK_BODY="[$title]\n$content", WEBHOOK_CONTENT_TYPE="text/plain")
    await send(make_config(**env))
    assert recorder.last.text == f"[{NASTY.title}]\n{NASTY.content}"


async def test_get_with_placeholders_in_url(recorder, make_config):
    recorder.respond(reply(200, text="ok"))
    url = recorder.url + "/push/$title?text=$content&x=1"
    await send(make_config(WEBHOOK_URL=url, WEBHOOK_METHOD="get"))
    request = recorder.last
    assert request.method == "GET" and request.body == b""
    assert request.query == {"text": NASTY.content, "x": "1"}  # & # + cannot break out of the value
    from urllib.parse import unquote

    assert unquote(request.path) == f"/push/{NASTY.title}"


async def test_non_2xx_is_failure_and_header_secret_masked(recorder, make_config):
    recorder.respond(reply(401, text="bad token hook-secret-0123"))
    report = await send(make_config(WEBHOOK_URL=recorder.url, WEBHOOK_HEADERS="Authorization: hook-secret-0123"))
    (result,) = report.results
    assert report.status == "failed" and result.error == "HTTP 401: bad token ***"
    assert "hook-secret-0123" not in report.model_dump_json()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"WEBHOOK_METHOD": "PO ST"}, "WEBHOOK_METHOD: 'PO ST' is not an HTTP method"),
        ({"WEBHOOK_HEADERS": "no colon here"}, "WEBHOOK_HEADERS: each line must look like 'Name: value'"),
    ],
)
async def test_config_validation(make_config, env, message):
    config = make_config(WEBHOOK_URL="https://example.test", **env)
    assert message in config.problems["webhook"]
    json.dumps(config.problems)  # and it is plain text
