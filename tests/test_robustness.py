"""Hostile input never crashes the server, never hangs it and never leaks a traceback: arbitrary tool
arguments through the SDK's client in memory (hypothesis), and 1,000 malformed JSON-RPC lines over stdio."""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
from datetime import timedelta, timezone
from typing import Any

import anyio
import pytest
from anyio.from_thread import start_blocking_portal
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from mcp.shared.memory import create_connected_server_and_client_session as connect
from mcp.types import CallToolResult, TextContent

from mcp_push import http
from mcp_push.models import DeliveryReport
from mcp_push.server import PushServer
from tests.test_stdio import clean_env

EXAMPLES = int(os.environ.get("MCP_PUSH_ROBUST_EXAMPLES", "200"))
# notify.ask is left out: a call waits for a human (tests/test_ask.py has its own hostile inputs).
TOOLS = ("notify.send", "notify_send", "notify.event", "notify_event")
# The only shapes an error may take: the field rules, an unknown tool, a channel the caller got wrong.
ERROR_FORMS = ("Invalid arguments for notify.", "Unknown tool: ", "unknown channel '", "channel '")
LEAKS = ("Traceback", 'File "', "errors.pydantic.dev", "Arguments", "validation error for", "Error executing tool")


def nest(depth: int, kind: str) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = [value] if kind == "list" else {"k": value}
    return value


SURROGATE = re.compile("[\ud800-\udfff]")
CHARS = st.one_of(st.characters(), st.characters(categories=["Cc", "Cs", "Cf", "Zl", "Zp", "Co"]))
HUGE = st.builds(
    lambda char, n: char * n,
    st.sampled_from(["x", "é", "长", "😀", "\x00", " "]),
    st.sampled_from([255, 256, 257, 16_385, 65_536, 70_000, 300_000]),
)
ODD = st.sampled_from(
    ["", " ", "\t\n", "\x00", "\x1b[31m", "\ud800", "a\udfffb", "\ud83d\ude00", "😀", "\u2028", "\ufeff", "\x85"]
) | st.sampled_from(["%s%n", "${HOME}", "<b>", "null", "None", "[]", "{}", "-1", "1e309", "inbox", "webhook"])
TEXT = st.one_of(st.text(CHARS, max_size=40), ODD, HUGE)
# Keys without lone surrogates: the SDK's client cannot even serialize a dict key that has one.
KEYS = st.one_of(st.text(st.characters(categories=["L", "N", "P", "Cc", "Cf", "Zs"]), max_size=20), ODD, HUGE).filter(
    lambda key: not SURROGATE.search(key)
)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(-(10**40), 10**40), st.floats(), TEXT)
JSONISH = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4), max_leaves=12
)
VALUE = st.one_of(JSONISH, st.builds(nest, st.integers(1, 200), st.sampled_from(["list", "dict"])))
GOOD_TEXT = st.text(st.characters(categories=["L", "N", "P", "Zs", "So"]), min_size=1, max_size=30)
CHANNELS = st.one_of(
    st.none(),
    st.lists(st.sampled_from(["webhook", "WEBHOOK", " webhook ", "inbox", "telegram", "pager", ""]) | TEXT, max_size=3),
    VALUE,
)
OFFSETS = st.integers(-1439, 1439).map(lambda minutes: timezone(timedelta(minutes=minutes)))
TIMESTAMPS = st.one_of(
    st.datetimes(timezones=st.none() | OFFSETS).map(lambda d: d.isoformat()),
    st.datetimes(timezones=OFFSETS).map(str),
    st.dates().map(str),
    st.times().map(str),
    st.integers(),
    st.floats(),
    st.sampled_from(
        ["", "now", "yesterday", "2026-02-30T00:00:00Z", "2026-11-22T03:00:00+24:00", "9999-12-31T23:59:59-23:59"]
    ),
    st.sampled_from(["0001-01-01T00:00:00+23:59", "1e100", "-1", "2026-11-22T03:00:00.123456789Z", "P1D", "2026-W"]),
    TEXT,
    VALUE,
)


def field(good: st.SearchStrategy) -> st.SearchStrategy:
    # Mostly a plausible value, sometimes anything (one_of would not weight a repeated branch).
    return st.integers(0, 4).flatmap(lambda pick: good if pick else VALUE)


def args_of(fields: dict[str, st.SearchStrategy], present: bool, **optional: st.SearchStrategy):
    """The tool's fields, all present (each maybe of a wrong type) or each maybe missing, plus optional ones."""
    if present:
        return st.fixed_dictionaries(fields, optional=optional)
    return st.fixed_dictionaries({}, optional={**fields, **optional})


SEND_FIELDS = {"title": field(GOOD_TEXT), "content": field(GOOD_TEXT)}
EVENT_FIELDS = {
    "run_id": field(GOOD_TEXT),
    "event": field(st.sampled_from(["start", "update", "end", "error"])),
    "message": field(GOOD_TEXT),
}
EVENT_OPTIONAL = {
    "data": st.one_of(st.none(), st.dictionaries(KEYS, JSONISH, max_size=5), VALUE),
    "timestamp": TIMESTAMPS,
    "channels": CHANNELS,
}
EXTRA = st.dictionaries(KEYS, VALUE, max_size=2)
NAMES = st.one_of(
    st.sampled_from(TOOLS),
    st.sampled_from(["", "notify", "notify.send ", "NOTIFY.SEND", "notify.send\x00", "tools/call", "send", "\ud800"]),
    TEXT,
)
SENDS, EVENTS = st.sampled_from(TOOLS[:2]), st.sampled_from(TOOLS[2:])
# Mostly the right tool with every field there (some of a wrong type), then fields missing, then anything.
CALLS = st.one_of(
    st.tuples(SENDS, args_of(SEND_FIELDS, True, channels=CHANNELS), EXTRA),
    st.tuples(EVENTS, args_of(EVENT_FIELDS, True, **EVENT_OPTIONAL), EXTRA),
    st.tuples(SENDS, args_of(SEND_FIELDS, False, channels=CHANNELS), EXTRA),
    st.tuples(EVENTS, args_of(EVENT_FIELDS, False, **EVENT_OPTIONAL), EXTRA),
    st.tuples(NAMES, args_of(SEND_FIELDS, True) | args_of(EVENT_FIELDS, False) | EXTRA, EXTRA),
).map(lambda call: (call[0], {**call[2], **call[1]}))


async def call(client, name: str, arguments: dict[str, Any]) -> CallToolResult:
    with anyio.fail_after(10):  # a hang fails the test instead of stalling it
        return await client.call_tool(name, arguments)


def assert_answer(result: CallToolResult, name: str, arguments: dict[str, Any]) -> None:
    texts = [c.text for c in result.content if isinstance(c, TextContent)]
    assert texts and texts[0].strip(), result
    if result.structuredContent is not None:
        report = DeliveryReport.model_validate(result.structuredContent)
        assert result.isError is not report.delivered
        event(f"report: {report.status}")
        return
    assert result.isError, result
    text = texts[0]
    assert text.startswith(ERROR_FORMS), text[:500]
    event(f"error: {text.split(':')[0][:40]}")
    if text.startswith("Unknown tool: "):
        assert name not in TOOLS
        text, listed = text.split("; this server has ", 1)
        assert listed == "notify.send, notify.event and notify.ask" and len(text) < 400, text[:500]
        return
    # Strip the channel names the caller chose: "unknown channel '...'" quotes them back.
    channels = arguments.get("channels")
    for quoted in sorted([c for c in channels if isinstance(c, str)] if isinstance(channels, list) else [], key=len):
        text = text.replace(quoted, "").replace(quoted.strip().lower(), "")
    for leak in LEAKS:
        assert leak not in text, texts[0][:500]


def test_arbitrary_tool_inputs_get_a_report_or_a_specific_error(make_config, recorder):
    server = PushServer(make_config(WEBHOOK_URL=recorder.url + "/hook"))
    with start_blocking_portal() as portal:
        with portal.wrap_async_context_manager(connect(server)) as client:  # one session for every example

            @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
            @given(CALLS)
            def check(name_and_arguments: tuple[str, dict[str, Any]]) -> None:
                name, arguments = name_and_arguments
                assert_answer(portal.call(call, client, name, arguments), name, arguments)

            check()
            after = portal.call(call, client, "notify.send", {"title": "still", "content": "serving"})
            assert not after.isError, after
            assert DeliveryReport.model_validate(after.structuredContent).status == "delivered"
        portal.call(http.aclose)


# --- 1,000 hostile lines over stdio ------------------------------------------------------------------------------

INIT_PARAMS = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}
PARSE, INVALID, NOT_FOUND, PARAMS = -32700, -32600, -32601, -32602


class Script:
    """The lines to send and what each must get back: an error with a code, or a result, per id."""

    def __init__(self) -> None:
        self.lines: list[bytes] = []
        self.by_id: dict[Any, list[Any]] = {}  # id -> expected codes, or "result"
        self.anonymous: list[int] = []  # codes of errors that cannot name the id (id null), in order
        self.next_id = 0

    def id(self) -> str:
        self.next_id += 1
        return f"h{self.next_id}"

    def raw(self, line: bytes | str, null_error: int | None = None) -> None:
        self.lines.append(line if isinstance(line, bytes) else line.encode("utf-8", "surrogatepass"))
        if null_error is not None:
            self.anonymous.append(null_error)

    def send(self, message: Any, expect: int | str | None = None, ident: Any = None) -> None:
        """`expect`: an error code or "result" for the message's id; None when nothing may come back."""
        self.raw(json.dumps(message))
        if expect is not None:
            self.by_id.setdefault(ident if ident is not None else message["id"], []).append(expect)

    def request(self, method: Any, params: Any = None, expect: int | str = "result", **extra: Any) -> None:
        message = {"jsonrpc": "2.0", "id": self.id(), "method": method, **extra}
        if params is not None:
            message["params"] = params
        self.send(message, expect)

    def tool(self, name: Any, arguments: Any, expect: int | str = "result") -> None:
        self.request("tools/call", {"name": name, "arguments": arguments}, expect)


def hostile_script() -> Script:
    s = Script()
    # Before initialize: only ping (and initialize) are served.
    for _ in range(5):
        s.request("tools/call", {"name": "notify.send", "arguments": {"title": "t", "content": "c"}}, INVALID)
        s.request("tools/list", expect=INVALID)
        s.request("ping")
        s.send({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": "h1"}})
    s.request("initialize", INIT_PARAMS)
    s.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    # Once each: the enormous and the deeply nested.
    s.tool("notify.send", {"title": "big", "content": "x" * 3_000_000})  # under the line cap: a field error
    s.raw('{"jsonrpc":"2.0","id":"huge","method":"ping","params":{"pad":"' + "y" * 6_000_000 + '"}}', INVALID)
    s.raw("[" * 100_000 + "]" * 100_000, PARSE)
    s.raw('{"jsonrpc":"2.0","id":"deep","method":"ping","params":{"x":' + "[" * 100_000 + "]" * 100_000 + "}}", PARSE)
    s.raw("[" * 100_000, PARSE)
    s.request("tools/call", {"name": "notify.event", "arguments": {"data": nest(150, "list")}}, INVALID)
    s.request("x" * 1_000_000, expect=NOT_FOUND)

    round_ = 0
    while len(s.lines) < 1_000:
        round_ += 1
        # Not JSON at all.
        for text in ["{", '{"jsonrpc":', "}{", "nul", "'single'", '{"a":1,}', "NaN", "[1,2", "\x00", "\x1b[31m"]:
            s.raw(text, PARSE)
        s.raw('{"jsonrpc":"2.0","id":1,"method":"ping"}}', PARSE)  # trailing garbage
        s.raw('{"jsonrpc":"2.0","method":"ping","id":"a\x00b"}', PARSE)  # raw NUL inside a string
        s.raw(b"\xff\xfe\x00garbage" + bytes(range(0x80, 0x90)), PARSE)
        s.raw(b'{"jsonrpc":"2.0","id":"' + b"\xc3\x28" * 3 + b'","method":"no/such"}', None)  # id is U+FFFD text
        s.by_id.setdefault("\ufffd(" * 3, []).append(NOT_FOUND)
        s.raw("1e999999", None)  # a float that overflows to inf is still JSON: a number, not an object
        s.anonymous.append(INVALID)
        s.raw("9" * 5_000, PARSE)  # beyond Python's int-from-string limit
        # JSON, but not JSON-RPC.
        for value in [1, "str", None, True, {}, {"foo": "bar"}, [], [{"jsonrpc": "2.0", "id": 1, "method": "ping"}]]:
            s.raw(json.dumps(value), INVALID)
        for bad_id in [None, 1.5, True, {}, [1]]:
            s.raw(json.dumps({"jsonrpc": "2.0", "id": bad_id, "method": "ping"}), INVALID)
        s.send({"id": s.id(), "method": "ping"}, INVALID, ident=f"h{s.next_id}")
        for version in ["1.0", 2.0, "2", None]:
            s.request("ping", expect=INVALID, jsonrpc=version)
        s.send({"jsonrpc": "2.0", "id": s.id()}, INVALID, ident=f"h{s.next_id}")  # no method, no result
        s.request(5, expect=INVALID)
        s.request(None, expect=INVALID)
        # Unknown methods, and notifications sent as requests.
        for method in [
            "no/such",
            "",
            "tools/call ",
            "TOOLS/LIST",
            "notifications/initialized",
            "sampling/createMessage",
        ]:
            s.request(method, expect=NOT_FOUND)
        for method in ["completion/complete", "tasks/list", "resources/subscribe", "\ud800", "ping\u0000", "é" * 300]:
            s.request(method, expect=NOT_FOUND)
        # Wrong param types.
        for params in [[], "x", 5, True]:
            s.request("tools/list", params, PARAMS)
        for params in [{}, {"name": 5}, {"name": "notify.send", "arguments": []}, {"name": None}]:
            s.request("tools/call", params, PARAMS)
        s.request("tools/call", {"name": "notify.send", "arguments": "title=t"}, PARAMS)
        s.request("logging/setLevel", {"level": "loud"}, PARAMS)
        s.request("initialize", {"protocolVersion": 5}, PARAMS)
        s.request("resources/read", {"uri": 5}, PARAMS)
        s.request("tools/list", {"cursor": {"a": 1}}, PARAMS)
        # tools/call with absurd arguments: a tool error (or, for the odd valid one, a report).
        absurd = [
            {},
            {"title": 5, "content": ["c"]},
            {"title": "", "content": "c"},
            {"title": "\u0000", "content": "c"},
            {"title": "t", "content": "\ud800"},
            {"title": "t" * 10_000, "content": "c", "channels": "webhook"},
            {"title": "t", "content": "c", "channels": ["pager", "\ud800"]},
            {"title": "t", "content": "c", "channels": ["\ud800"]},  # quoted back: U+FFFD on the wire
            {"title": {"nested": [1, {"x": None}]}, "content": 1e308},
            {"title": "t", "content": "c", "extra": nest(40, "dict")},
        ]
        for arguments in absurd:
            s.tool("notify.send", arguments)
        s.tool("notify.event", {"run_id": "r", "event": "finish", "message": "m", "timestamp": "25:61"})
        s.tool("notify.event", {"run_id": "r\n", "event": "end", "message": "m", "timestamp": 1e30, "data": [1]})
        s.tool("notify_event", {"run_id": "r", "event": "end", "message": "m", "data": {"k": "\udfff"}})
        s.tool("notify_event", {"run_id": "r", "event": "end", "message": "m", "data": {"\ud800": 1}}, INVALID)
        s.tool("\ud800", {"title": "t", "content": "c"})
        s.tool("no.such.tool", {"title": "t"})
        s.raw(b'{"jsonrpc":"2.0","id":"utf8","method":"tools/call","params":{"name":"notify.send",'
              b'"arguments":{"title":"\xc3\x28\xff","content":"bad bytes \xed\xa0\x80"}}}')  # fmt: skip
        s.by_id.setdefault("utf8", []).append("result")
        # Notifications: never answered, whatever is wrong with them; a notification with an id is a request.
        s.send({"jsonrpc": "2.0", "method": "notifications/unknown"})
        s.send({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": {"x": 1}}})
        s.send({"jsonrpc": "2.0", "method": "notifications/progress", "params": "x"})
        s.send({"jsonrpc": "2.0", "method": 5})
        s.send({"jsonrpc": "2.0", "id": s.id(), "method": "notifications/cancelled"}, NOT_FOUND, f"h{s.next_id}")
        # Responses to requests the server never made are dropped.
        s.send({"jsonrpc": "2.0", "id": 424242, "result": {}})
        s.send({"jsonrpc": "2.0", "id": "x", "error": {"code": 1, "message": "no"}})
        s.send({"jsonrpc": "2.0", "id": 7, "result": {}, "error": {"code": 1, "message": "both"}})
        # Duplicate ids, a huge integer id, CR inside the line, blank lines.
        for _ in range(2):
            s.send({"jsonrpc": "2.0", "id": f"dup{round_}", "method": "ping"}, "result")
            s.send({"jsonrpc": "2.0", "id": f"dup{round_}", "method": "tools/list"}, "result")
        s.send({"jsonrpc": "2.0", "id": 10**30, "method": "ping"}, "result")
        s.send({"jsonrpc": "2.0", "id": "\udc00", "method": "ping"}, "result", ident="\ufffd")
        s.raw('{"jsonrpc":"2.0",\r"id":"cr' + str(round_) + '","method":"ping"}\r')
        s.by_id.setdefault(f"cr{round_}", []).append("result")
        s.raw("")
        s.raw("   \t")
    return s


def read_lines(stream, into: queue.Queue) -> None:
    for line in iter(stream.readline, b""):
        into.put(line)
    into.put(None)


def test_a_thousand_hostile_lines_over_stdio(tmp_path):
    script = hostile_script()
    assert len(script.lines) >= 1_000
    final_init = {"jsonrpc": "2.0", "id": "final-init", "method": "initialize", "params": INIT_PARAMS}
    final = {
        "jsonrpc": "2.0",
        "id": "final-call",
        "method": "tools/call",
        "params": {"name": "notify.send", "arguments": {"title": "still", "content": "serving"}},
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "mcp_push"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=clean_env(tmp_path),
        cwd=tmp_path,
    )
    stdout: queue.Queue = queue.Queue()
    stderr: queue.Queue = queue.Queue()
    readers = [
        threading.Thread(target=read_lines, args=(proc.stdout, stdout), daemon=True),
        threading.Thread(target=read_lines, args=(proc.stderr, stderr), daemon=True),
    ]
    for reader in readers:
        reader.start()
    try:
        # Keep stdin open until the final answer is in: at EOF the server ends and drops requests still running.
        for line in [*script.lines, json.dumps(final_init).encode(), json.dumps(final).encode()]:
            proc.stdin.write(line + b"\n")
        proc.stdin.flush()
        replies, deadline = [], time.monotonic() + 45
        while not any(r.get("id") == "final-call" for r in replies):
            line = stdout.get(timeout=max(deadline - time.monotonic(), 0.1))
            assert line is not None, "server closed stdout early"
            replies.append(json.loads(line))  # every stdout line is JSON...
        assert proc.poll() is None, "the server died"
        proc.stdin.close()
        proc.wait(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
    for reader in readers:
        reader.join(timeout=5)
    replies += [json.loads(line) for line in iter(stdout.get_nowait, None)]
    errors = b"".join(iter(stderr.get_nowait, None)).decode("utf-8", "replace")

    # ...and JSON-RPC: a response with an id and exactly one of result/error, or a notification.
    for reply in replies:
        assert reply.get("jsonrpc") == "2.0", reply
        assert ("id" in reply and ("result" in reply) != ("error" in reply)) or "method" in reply, reply
    answers = [r for r in replies if "id" in r]
    by_id: dict[Any, list[Any]] = {}
    for answer in answers:
        by_id.setdefault(answer["id"], []).append(answer["error"]["code"] if "error" in answer else "result")
    anonymous = by_id.pop(None, [])
    assert anonymous == script.anonymous
    final_call = by_id.pop("final-call")
    assert by_id.pop("final-init") == ["result"]
    assert {key: sorted(map(str, value)) for key, value in by_id.items()} == {
        key: sorted(map(str, value)) for key, value in script.by_id.items()
    }
    assert final_call == ["result"]
    (final_answer,) = [a for a in answers if a["id"] == "final-call"]
    assert not final_answer["result"]["isError"]
    DeliveryReport.model_validate(final_answer["result"]["structuredContent"])

    for answer in answers:
        if "error" in answer:
            message = answer["error"]["message"]
            assert message.split(":")[0] in {"Parse error", "Invalid Request", "Method not found", "Invalid params"}
            assert len(message) < 1_000, message[:200]
            text = message
        elif "structuredContent" in answer["result"]:
            report = DeliveryReport.model_validate(answer["result"]["structuredContent"])
            assert answer["result"]["isError"] is not report.delivered
            continue
        elif answer["result"].get("isError"):
            text = answer["result"]["content"][0]["text"]
            assert text.startswith(ERROR_FORMS), text[:300]
        else:
            continue
        for leak in LEAKS:
            assert leak not in text, text[:300]
    assert not [r for r in replies if "Internal Server Error" in json.dumps(r)]
    assert "Traceback" not in errors, errors[-3000:]


@pytest.mark.parametrize("content", ["x" * 3_000_000, "长" * 30_000])
async def test_big_fields_get_a_short_error(make_config, content):
    async with connect(PushServer(make_config())) as client:
        result = await client.call_tool("notify.send", {"title": "t", "content": content})
    assert result.isError
    assert len(result.content[0].text) < 300
    assert "content: is " in result.content[0].text
