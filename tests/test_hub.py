"""The hub (`mcp-push serve --http`) on a real uvicorn server: the SDK's streamable HTTP client, the REST
API with httpx, every auth case, the limits, metrics through prometheus_client's own parser, and approval
links answered by GET (nothing) then POST (taken)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import threading
import time

import httpx
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from prometheus_client.parser import text_string_to_metric_families

from mcp_push import hub
from mcp_push.ask import ask, prompt_for
from mcp_push.config import ConfigError
from mcp_push.models import Ask
from tests.hubs import RunningHub, free_port
from tests.recorder import reply
from tests.test_stdio import clean_env

TOKEN = "mph_test_token_0123456789abcdefghijklmn"
OTHER = "mph_other_token_9876543210zyxwvutsrqpon"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def webhook(recorder):
    recorder.respond(reply(200, {"ok": True}))
    return recorder


@pytest.fixture
def running(make_config, webhook):
    hubs: list[RunningHub] = []

    def start(**env: str) -> RunningHub:
        config = make_config(WEBHOOK_URL=webhook.url + "/hook", MCP_PUSH_API_TOKENS=f"{TOKEN},{OTHER}", **env)
        hubs.append(RunningHub(config))
        return hubs[-1]

    yield start
    for one in hubs:
        one.stop()


def get(url: str, **kwargs) -> httpx.Response:
    return httpx.get(url, timeout=10, **kwargs)


def post(url: str, **kwargs) -> httpx.Response:
    return httpx.post(url, timeout=30, **kwargs)


# ---- auth ---------------------------------------------------------------------------------------------


def test_health_needs_no_token_and_says_nothing_more(running):
    h = running()
    answer = get(f"{h.url}/healthz")
    assert answer.status_code == 200 and answer.json() == {"status": "ok"}


@pytest.mark.parametrize(
    ("headers", "query", "status"),
    [
        ({}, "", 401),
        ({"Authorization": "Bearer wrong-token-0123456789"}, "", 401),
        ({"Authorization": f"Basic {TOKEN}"}, "", 401),
        ({"Authorization": "Bearer"}, "", 401),
        ({}, f"?token={TOKEN}", 401),  # a token in a query string counts for nothing
        ({}, f"?access_token={TOKEN}", 401),
        (AUTH, "", 200),
        ({"Authorization": f"Bearer {OTHER}"}, "", 200),  # another valid token
        ({"authorization": f"bearer {TOKEN}"}, "", 200),
    ],
)
def test_every_route_needs_a_valid_token(running, headers, query, status):
    h = running()
    for path in ("/v1/channels", "/v1/history", "/metrics"):
        answer = get(f"{h.url}{path}{query}", headers=headers)
        assert answer.status_code == status, (path, answer.text)
        if status == 401:
            assert answer.headers["WWW-Authenticate"].startswith('Bearer realm="mcp-push"')
            assert TOKEN not in answer.text
    sent = post(f"{h.url}/v1/notify{query}", headers=headers, json={"title": "t", "content": "c"})
    assert sent.status_code == status


def test_a_token_never_reaches_a_log(running, caplog):
    h = running()
    get(f"{h.url}/v1/channels?token={TOKEN}", headers={"Authorization": f"Bearer {TOKEN}x"})
    post(f"{h.url}/v1/notify", headers=AUTH, json={"title": "t", "content": f"secret {TOKEN}"})
    assert TOKEN not in caplog.text and OTHER not in caplog.text


def test_a_token_is_made_on_first_start_and_shown_once(make_config, capsys, tmp_path):
    config = make_config()
    first = RunningHub(config)
    first.stop()
    shown = capsys.readouterr().err
    path = tmp_path / "state" / hub.TOKEN_FILE
    token = path.read_text().strip()
    assert token in shown and "Authorization: Bearer" in shown and "MCP_PUSH_API_TOKEN" in shown
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    again = RunningHub(make_config())
    try:
        assert token not in capsys.readouterr().err
        assert get(f"{again.url}/v1/history", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    finally:
        again.stop()


def test_listening_beyond_loopback_needs_configured_tokens(make_config, tmp_path):
    with pytest.raises(ConfigError, match="MCP_PUSH_API_TOKENS"):
        hub.build(make_config(), host="0.0.0.0", port=free_port())
    env = clean_env(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "mcp_push", "serve", "--http", "--host", "0.0.0.0", "--port", str(free_port())],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert proc.returncode == 2 and "MCP_PUSH_API_TOKENS" in proc.stderr


# ---- REST ---------------------------------------------------------------------------------------------


def test_notify_as_json_and_as_text_with_a_title_header(running, webhook):
    h = running()
    answer = post(f"{h.url}/v1/notify", headers=AUTH, json={"title": "Build", "content": "green ✅"})
    assert answer.status_code == 200
    report = answer.json()
    assert report["status"] == "delivered" and [r["name"] for r in report["results"]] == ["webhook"]
    assert webhook.last.json() == {"title": "Build", "content": "green ✅"}
    # curl -d "disk full" -H "Title: db1", with UTF-8 bytes in the header as curl sends them
    answer = post(
        f"{h.url}/v1/notify",
        headers={**AUTH, "Title": "db1 磁盘".encode(), "X-Channels": "webhook"},
        content="disk full",
    )
    assert answer.status_code == 200 and webhook.last.json() == {"title": "db1 磁盘", "content": "disk full"}
    history = get(f"{h.url}/v1/history", headers=AUTH).json()
    assert [e["title"] for e in history[:2]] == ["db1 磁盘", "Build"] and history[0]["source"] == "http"


def test_event_history_and_channels(running, webhook):
    h = running()
    body = {"run_id": "nightly", "event": "end", "message": "done", "data": {"step": 3}}
    assert post(f"{h.url}/v1/event", headers=AUTH, json=body).status_code == 200
    assert webhook.last.json()["title"] == "✅ [END] nightly"
    (entry,) = get(f"{h.url}/v1/history?run=nightly", headers=AUTH).json()
    assert entry["run_id"] == "nightly" and entry["event"] == "end"
    channels = get(f"{h.url}/v1/channels", headers=AUTH).json()
    hook = next(r for r in channels if r["name"] == "webhook")
    assert hook["status"] == "configured" and TOKEN not in json.dumps(channels)


def test_a_failed_delivery_is_502_with_the_report(running, webhook):
    webhook.respond(reply(500, text="down"))
    h = running(MCP_PUSH_RETRIES="0")
    answer = post(f"{h.url}/v1/notify", headers=AUTH, json={"title": "t", "content": "c"})
    assert answer.status_code == 502 and answer.json()["status"] == "failed"


@pytest.mark.parametrize(
    ("body", "kind", "status", "problem"),
    [
        (b"{", "application/json", 400, "not valid JSON"),
        (b"[1]", "application/json", 400, "JSON object"),
        (b'{"title": "t"}', "application/json", 400, "content: is required"),
        (b'{"title": "t", "content": "c", "extra": 1}', "application/json", 400, "extra"),
        (b'{"title": "t", "content": "c", "channels": ["pager"]}', "application/json", 400, "unknown channel"),
        (b"\xff\xfe", "text/plain", 400, "not UTF-8"),
        (b"", "text/plain", 400, "content: must not be empty"),
    ],
)
def test_bad_input_is_a_clear_400(running, body, kind, status, problem):
    h = running()
    answer = post(f"{h.url}/v1/notify", headers={**AUTH, "Content-Type": kind}, content=body)
    assert answer.status_code == status and problem in answer.json()["error"], answer.text
    assert post(f"{h.url}/v1/notify", headers=AUTH, json={"title": "t", "content": "c"}).status_code == 200


def test_wrong_methods_and_routes(running):
    h = running()
    assert httpx.delete(f"{h.url}/v1/notify", headers=AUTH).status_code == 405
    assert get(f"{h.url}/v1/notify", headers=AUTH).status_code == 405
    assert get(f"{h.url}/v2/whatever", headers=AUTH).json() == {"error": "no such route"}
    assert get(f"{h.url}/v1/history?limit=0", headers=AUTH).status_code == 400
    assert get(f"{h.url}/v1/history?limit=x", headers=AUTH).status_code == 400


# ---- limits -------------------------------------------------------------------------------------------


def test_rate_limit_per_token(running):
    h = running(MCP_PUSH_API_RATE="3")
    statuses = [get(f"{h.url}/v1/history", headers=AUTH).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = get(f"{h.url}/v1/history", headers=AUTH)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert get(f"{h.url}/v1/history", headers={"Authorization": f"Bearer {OTHER}"}).status_code == 200


def test_oversized_bodies_and_headers(running):
    h = running()
    big = post(f"{h.url}/v1/notify", headers={**AUTH, "Title": "t"}, content=b"x" * (hub.MAX_BODY + 1))
    assert big.status_code == 413

    def chunks():
        for _ in range(20):
            yield b"x" * (64 * 1024)

    streamed = post(f"{h.url}/v1/notify", headers={**AUTH, "Title": "t"}, content=chunks())  # no Content-Length
    assert streamed.status_code == 413
    huge = get(f"{h.url}/v1/history", headers={**AUTH, "X-Filler": "y" * (hub.MAX_HEAD + 100)})
    assert huge.status_code == 431
    assert get(f"{h.url}/healthz").status_code == 200


def raw(port: int, data: bytes, wait: float = 5) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        sock.sendall(data)
        out = b""
        try:
            while chunk := sock.recv(65536):
                out += chunk
        except TimeoutError:
            pass
    return out


def test_slow_and_idle_clients_are_dropped(running, monkeypatch):
    monkeypatch.setattr(hub, "HEAD_S", 0.5)
    monkeypatch.setattr(hub, "BODY_S", 0.5)
    h = running()
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", h.port), timeout=5) as sock:  # connects, says nothing
        assert sock.recv(100) == b""
    assert time.monotonic() - started < 3
    with socket.create_connection(("127.0.0.1", h.port), timeout=5) as sock:  # a head that never ends
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        assert sock.recv(100) == b""
    head = (
        f"POST /v1/notify HTTP/1.1\r\nHost: 127.0.0.1:{h.port}\r\nAuthorization: Bearer {TOKEN}\r\n"
        "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
    )
    stalled = raw(h.port, head.encode())  # a body that stops coming
    assert stalled.startswith(b"HTTP/1.1 408")
    assert get(f"{h.url}/healthz").status_code == 200


def test_host_and_origin_checks(running):
    h = running()
    rebound = get(f"{h.url}/v1/history", headers={**AUTH, "Host": "attacker.example"})
    assert rebound.status_code == 421
    evil = post(
        f"{h.url}/mcp",
        headers={**AUTH, "Origin": "https://attacker.example", "Accept": "application/json, text/event-stream"},
        json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
    )
    assert evil.status_code == 403


# ---- MCP over HTTP ------------------------------------------------------------------------------------


async def test_sdk_client_over_streamable_http(running, webhook):
    h = running()
    async with (
        httpx.AsyncClient(headers=AUTH, timeout=30) as client,
        streamable_http_client(f"{h.url}/mcp", http_client=client) as (read, write, _),
        ClientSession(read, write) as session,
    ):
        init = await session.initialize()
        assert init.serverInfo.name == "mcp-push"
        tools = {t.name for t in (await session.list_tools()).tools}
        assert tools == {"notify_send", "notify_event", "notify_ask"}  # a client named "mcp": no dots (auto)
        result = await session.call_tool("notify_send", {"title": "Over HTTP", "content": "hello"})
        resources = {str(r.uri) for r in (await session.list_resources()).resources}
    assert not result.isError and result.structuredContent["status"] == "delivered"
    assert webhook.last.json() == {"title": "Over HTTP", "content": "hello"}
    assert resources == {"mcp-push://channels", "mcp-push://history"}


async def test_mcp_without_a_token_is_refused(running):
    h = running()
    answer = post(
        f"{h.url}/mcp",
        headers={"Accept": "application/json, text/event-stream"},
        json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
    )
    assert answer.status_code == 401


# ---- metrics ------------------------------------------------------------------------------------------


def samples(text: str) -> dict[tuple[str, tuple], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_metrics_after_sends_and_a_question(running, webhook):
    h = running(MCP_PUSH_RETRIES="0")
    post(f"{h.url}/v1/notify", headers=AUTH, json={"title": "a", "content": "1"})
    post(f"{h.url}/v1/notify", headers=AUTH, json={"title": "b", "content": "2"})
    webhook.respond(reply(400, text="no"))
    post(f"{h.url}/v1/notify", headers=AUTH, json={"title": "c", "content": "3"})
    asked = post(f"{h.url}/v1/ask", headers=AUTH, json={"question": "Anyone?"})  # no channel can carry it
    assert asked.json()["reason"] == "no_reply_channel"
    page = get(f"{h.url}/metrics", headers=AUTH)
    assert page.headers["content-type"].startswith("text/plain")
    found = samples(page.text)
    assert found[("mcp_push_notifications_total", (("status", "delivered"),))] == 2
    assert found[("mcp_push_notifications_total", (("status", "failed"),))] == 1
    assert found[("mcp_push_deliveries_total", (("channel", "webhook"), ("outcome", "delivered")))] == 2
    assert found[("mcp_push_deliveries_total", (("channel", "webhook"), ("outcome", "failed")))] == 1
    assert found[("mcp_push_delivery_seconds_count", (("channel", "webhook"),))] == 3
    assert found[("mcp_push_questions_total", (("outcome", "no_reply_channel"),))] == 1
    assert found[("mcp_push_pending_deliveries", ())] == 0


# ---- approval links -----------------------------------------------------------------------------------


def asking_in_thread(config, question="Deploy v1.4?", options=("Allow", "Deny"), timeout=20):
    """An ask in its own thread and loop (as another process would), its result in `out`."""
    import asyncio

    from mcp_push import http

    out: dict = {}

    async def run():
        try:
            request = Ask(question=question, options=list(options), timeout_seconds=timeout)
            out["result"] = await ask(config, prompt_for(request, config.settings))
        finally:
            await http.aclose()

    thread = threading.Thread(target=lambda: asyncio.run(run()), daemon=True)
    thread.start()
    return thread, out


def links(text: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in text.splitlines() if "/v1/answer/" in line)


def test_an_approval_link_answered_by_get_then_post(running, webhook, make_config):
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    config = make_config(WEBHOOK_URL=webhook.url + "/hook", MCP_PUSH_API_TOKENS=TOKEN, MCP_PUSH_PUBLIC_URL=public)
    h = RunningHub(config, port=port)
    try:
        thread, out = asking_in_thread(config)
        end = time.monotonic() + 10
        while not webhook.requests and time.monotonic() < end:
            time.sleep(0.02)
        content = webhook.last.json()["content"]
        assert content.startswith("Allow · Deny\n\nAnswer by opening a link:\n")
        allow, deny = links(content)["Allow"], links(content)["Deny"]
        assert allow.startswith(f"{public}/v1/answer/") and allow != deny

        page = get(allow)  # a chat app's preview, a mail scanner: changes nothing
        assert page.status_code == 200 and "Deploy v1.4?" in page.text
        assert page.text.index(">Allow<") < page.text.index(">Deny<") and "<script" not in page.text
        assert page.headers["Content-Security-Policy"].startswith("default-src 'none'")
        time.sleep(0.3)
        assert "result" not in out

        taken = post(allow)
        assert taken.status_code == 200 and "Recorded: <b>Allow</b>" in taken.text
        thread.join(10)
        result = out["result"]
        assert result.answered and result.answer == "Allow" and result.channel == "link"
        assert post(allow).status_code == 409  # replayed
        assert post(deny).status_code == 409  # the other choice, after the first answer
        assert get(allow).status_code == 410
        assert get(f"{public}/v1/answer/not-a-token").status_code == 404
        forged = allow[:-3] + ("AAA" if not allow.endswith("AAA") else "BBB")
        assert post(forged).status_code == 404
        question = config.store.history(limit=1)[0]["question"]
        assert question["channel"] == "link" and question["sender"] == "an answer page, from 127.0.0.1"
    finally:
        h.stop()


def test_the_hub_asks_and_waits(running):
    h = running(MCP_PUSH_PUBLIC_URL="")
    started = time.monotonic()
    answer = post(f"{h.url}/v1/ask", headers=AUTH, json={"question": "Q?", "timeout_seconds": 1, "fallback": True})
    assert answer.status_code == 200 and answer.json()["reason"] == "no_reply_channel"
    assert time.monotonic() - started < 5
    bad = post(f"{h.url}/v1/ask", headers=AUTH, json={"question": "Q?", "options": ["one"]})
    assert bad.status_code == 400 and "at least 2" in bad.json()["error"]


@pytest.mark.skipif(
    not (shutil.which("chromium") and shutil.which("chromedriver")),
    reason="Debian's chromium and chromium-driver are not installed (.ci/run installs them)",
)
def test_the_answer_page_in_a_real_browser_without_javascript(webhook, make_config, tmp_path):
    from selenium import webdriver
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait

    port = free_port()
    public = f"http://127.0.0.1:{port}"
    config = make_config(WEBHOOK_URL=webhook.url + "/hook", MCP_PUSH_API_TOKENS=TOKEN, MCP_PUSH_PUBLIC_URL=public)
    h = RunningHub(config, port=port)
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium'}",
    ):  # fmt: skip
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    driver = webdriver.Chrome(service=Service(executable_path=shutil.which("chromedriver")), options=options)
    try:
        thread, out = asking_in_thread(config, "Run the migration on prod?", ("Migrate", "Hold off"))
        end = time.monotonic() + 10
        while not webhook.requests and time.monotonic() < end:
            time.sleep(0.02)
        link = links(webhook.last.json()["content"])["Migrate"]
        driver.get(link)
        assert driver.title == "❓ Run the migration on prod? · mcp-push"
        assert "Run the migration on prod?" in driver.find_element(By.TAG_NAME, "h1").text
        buttons = driver.find_elements(By.TAG_NAME, "button")
        assert [b.text for b in buttons] == ["Migrate", "Hold off"]  # the tapped link's choice first
        time.sleep(0.3)
        assert "result" not in out  # rendering the page decided nothing
        buttons[1].click()  # the person changes their mind: a plain form post, no script
        # The click starts a navigation: wait for the answer page, not on the form page being replaced.
        WebDriverWait(driver, 10, ignored_exceptions=(StaleElementReferenceException,)).until(
            lambda d: "Recorded: Hold off." in d.find_element(By.TAG_NAME, "body").text
        )
        thread.join(10)
        assert out["result"].answer == "Hold off" and out["result"].channel == "link"
    finally:
        driver.quit()
        h.stop()


def test_sigterm_lets_a_send_in_flight_finish(recorder, tmp_path):
    """A real `serve --http` process: SIGTERM while a channel is still answering; the request completes."""
    import signal

    recorder.respond(reply(200, {"ok": True}, delay=1.5))
    port = free_port()
    env = clean_env(tmp_path, WEBHOOK_URL=recorder.url, MCP_PUSH_API_TOKENS=TOKEN)
    proc = subprocess.Popen(
        [sys.executable, "-m", "mcp_push", "serve", "--http", "--port", str(port)], env=env, cwd=tmp_path,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        end = time.monotonic() + 20
        while True:
            try:
                if get(f"{url}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                assert time.monotonic() < end and proc.poll() is None, "the hub did not start"
                time.sleep(0.05)
        result: dict = {}

        def send() -> None:
            result["answer"] = post(f"{url}/v1/notify", headers=AUTH, json={"title": "t", "content": "c"})

        sending = threading.Thread(target=send)
        sending.start()
        end = time.monotonic() + 10
        while not recorder.requests:  # the channel has it and is taking its time
            assert time.monotonic() < end
            time.sleep(0.01)
        proc.send_signal(signal.SIGTERM)
        sending.join(15)
        assert result["answer"].status_code == 200 and result["answer"].json()["status"] == "delivered"
        assert proc.wait(timeout=30) in (0, -signal.SIGTERM)  # uvicorn ends by re-raising the signal it handled
    finally:
        if proc.poll() is None:
            proc.kill()


def test_tls(make_config, webhook, tmp_path):
    import ssl

    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    chain, key = tmp_path / "chain.pem", tmp_path / "key.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(chain))
    cert.private_key_pem.write_to_path(str(key))
    config = make_config(WEBHOOK_URL=webhook.url, MCP_PUSH_API_TOKENS=TOKEN)
    h = RunningHub(config, tls_cert=chain, tls_key=key)
    try:
        context = ssl.create_default_context()
        ca.configure_trust(context)
        url = f"https://127.0.0.1:{h.port}"
        answer = httpx.post(f"{url}/v1/notify", headers=AUTH, json={"title": "t", "content": "c"}, verify=context)
        assert answer.status_code == 200 and answer.json()["status"] == "delivered"
        with pytest.raises(httpx.ConnectError):  # a client that does not trust the certificate
            httpx.get(f"{url}/healthz", verify=ssl.create_default_context())
    finally:
        h.stop()
    with pytest.raises(ConfigError, match="go together"):
        hub.build(config, port=free_port(), tls_cert=chain)
