"""Fake Telegram Bot API and ntfy servers on real sockets, answering as the services do, that can play
the user pressing a button on their phone.

Telegram: sendMessage (with inline keyboards), editMessageText, answerCallbackQuery, and getUpdates as a
long poll with offsets: confirmed updates are dropped, a second concurrent poll ends the first with 409
Conflict, and a bot with a webhook answers every poll with the 409 Telegram sends then. ntfy: publishing
(plain and as JSON, with actions), sequence-id updates (2.16 and newer), and `/<topic>/json` as a
chunked stream that replays cached messages `since=` an id or a time, then streams new ones.
`tap(...)` does what a phone does: a callback query for Telegram; for ntfy, the action's own HTTP
request, sent over the network to the URL the button names.
"""

from __future__ import annotations

import json
import secrets
import select
import socket
import threading
import time
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

TG_TOKEN = "123456789:AAFakeBotTokenForTests_0123456789abcdef"
CHAT_ID = 4242424242


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64


class _Fake:
    """Shared plumbing: a threaded server, one lock/condition for the state, a request log."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.log: list[tuple[str, str, dict[str, str], bytes]] = []  # method, target, headers, body
        self.closing = False
        self._server = _Server(("127.0.0.1", 0), self._handler())
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        with self.cond:
            self.closing = True
            self.cond.notify_all()
        self._server.shutdown()
        self._server.server_close()

    def wait_for(self, check: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Until `check()` is truthy (returned), or AssertionError after `timeout` seconds."""
        end = time.monotonic() + timeout
        with self.cond:
            while not (found := check()):
                left = end - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{type(self).__name__}: condition not met within {timeout:g} s")
                self.cond.wait(min(left, 0.05))
        return found

    def handle(self, request: BaseHTTPRequestHandler, method: str, target: str, body: bytes) -> None:
        raise NotImplementedError

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out as two writes; with Nagle's algorithm the second waits for the client's
            # delayed ACK (40 ms), a delay no real service adds and the answer-latency benchmark would count.
            disable_nagle_algorithm = True

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with fake.cond:
                    fake.log.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                    fake.cond.notify_all()
                try:
                    fake.handle(self, self.command, self.path, body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client went away (a cancelled long poll, a closed stream)

            do_GET = do_POST = do_PUT = do_DELETE = _any

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


def _gone(request: BaseHTTPRequestHandler) -> bool:
    """The client closed its end (a cancelled long poll): the server stops waiting, as Telegram's does."""
    sock = request.connection
    try:
        if not select.select([sock], [], [], 0)[0]:
            return False
        return sock.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


def send_json(request: BaseHTTPRequestHandler, status: int, body: Any) -> None:
    data = json.dumps(body).encode()
    request.send_response(status)
    request.send_header("Content-Type", "application/json")
    request.send_header("Content-Length", str(len(data)))
    request.end_headers()
    request.wfile.write(data)


class FakeTelegram(_Fake):
    def __init__(self, token: str = TG_TOKEN) -> None:
        self.token = token
        self.messages: dict[int, dict[str, Any]] = {}  # message_id -> chat_id, text, reply_markup
        self.edits: list[dict[str, Any]] = []
        self.acks: list[dict[str, Any]] = []
        self.updates: list[dict[str, Any]] = []  # not yet confirmed
        self.next_update = 9000
        self.next_message = 100
        self.polls = 0  # getUpdates calls
        self.polling = 0  # getUpdates calls in flight
        self.conflicts = 0  # polls ended by a newer one
        self.webhook = False
        self.offsets: list[int | None] = []
        self.tapped_at: list[float] = []  # when each tap reached the server (monotonic)
        self._generation = 0
        super().__init__()

    @property
    def api(self) -> str:
        return self.url

    # ---- the user ----------------------------------------------------------------------------------

    def question(self, index: int = -1) -> dict[str, Any]:
        """A message sent with an inline keyboard (the last one by default)."""
        with self.cond:
            asked = [m for m in self.messages.values() if m.get("reply_markup")]
        return asked[index]

    def wait_question(self, count: int = 1, timeout: float = 10.0) -> dict[str, Any]:
        self.wait_for(lambda: len([m for m in self.messages.values() if m.get("reply_markup")]) >= count, timeout)
        return self.question(count - 1)

    def tap(
        self,
        label: str,
        message: dict[str, Any] | None = None,
        *,
        chat_id: int = CHAT_ID,
        user_id: int = CHAT_ID,
        data: str | None = None,
    ) -> dict[str, Any]:
        """Press the button `label` of `message` (the last question), from `chat_id`; `data` replaces
        the button's callback_data (a forged or replayed press)."""
        message = message or self.question()
        if data is None:
            buttons = [b for row in message["reply_markup"]["inline_keyboard"] for b in row]
            data = next(b["callback_data"] for b in buttons if b["text"] == label)
        with self.cond:
            self.next_update += 1
            update = {
                "update_id": self.next_update,
                "callback_query": {
                    "id": f"cb{self.next_update}",
                    "from": {"id": user_id, "is_bot": False, "first_name": "Dev\x1b[31m", "username": "dev_user"},
                    "message": {
                        "message_id": message["message_id"],
                        "date": int(time.time()),
                        "chat": {"id": chat_id, "type": "private", "username": "dev_user"},
                        "text": message["text"],
                    },
                    "chat_instance": "-1234567890",
                    "data": data,
                },
            }
            self.updates.append(update)
            self.tapped_at.append(time.monotonic())
            self.cond.notify_all()
        return update

    def ack_for(self, update: dict[str, Any], timeout: float = 10.0) -> str:
        query = update["callback_query"]["id"]
        return self.wait_for(
            lambda: next((a["text"] for a in self.acks if a["callback_query_id"] == query), None), timeout
        )

    # ---- the Bot API -------------------------------------------------------------------------------

    def handle(self, request: BaseHTTPRequestHandler, method: str, target: str, body: bytes) -> None:
        path = urlsplit(target).path
        prefix = f"/bot{self.token}/"
        if not path.startswith(prefix):
            send_json(request, 401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
            return
        name = path[len(prefix) :]
        fields = json.loads(body) if body else {}
        if name == "getUpdates":
            status, answer = self._get_updates(fields, request)
            send_json(request, status, answer)
            return
        with self.cond:
            if name == "sendMessage":
                self.next_message += 1
                message = {"message_id": self.next_message, "date": int(time.time()), **fields}
                self.messages[self.next_message] = message
                result: Any = {**message, "chat": {"id": fields["chat_id"], "type": "private"}}
            elif name == "editMessageText":
                self.edits.append(fields)
                result = {"message_id": fields.get("message_id"), "text": fields.get("text")}
            elif name == "answerCallbackQuery":
                self.acks.append(fields)
                result = True
            else:
                send_json(request, 404, {"ok": False, "error_code": 404, "description": "Not Found"})
                return
            self.cond.notify_all()
        send_json(request, 200, {"ok": True, "result": result})

    def _get_updates(self, fields: dict[str, Any], request: BaseHTTPRequestHandler) -> tuple[int, dict[str, Any]]:
        if self.webhook:
            description = "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"  # noqa: E501
            return 409, {"ok": False, "error_code": 409, "description": description}
        offset = fields.get("offset")
        end = time.monotonic() + float(fields.get("timeout") or 0)
        with self.cond:
            self.polls += 1
            self.polling += 1
            self.offsets.append(offset)
            self._generation += 1
            mine = self._generation
            self.cond.notify_all()
            try:
                if offset is not None:
                    self.updates = [u for u in self.updates if u["update_id"] >= offset]
                while True:
                    if mine != self._generation:
                        # Only a poller still there sees the conflict; one that left (cancelled, its process
                        # gone) before this thread noticed is no second reader.
                        self.conflicts += 0 if _gone(request) else 1
                        description = (
                            "Conflict: terminated by other getUpdates request; make sure that only one bot instance"
                            " is running"
                        )
                        return 409, {"ok": False, "error_code": 409, "description": description}
                    ready = [u for u in self.updates if offset is None or u["update_id"] >= offset]
                    left = end - time.monotonic()
                    if ready or left <= 0 or self.closing or _gone(request):
                        return 200, {"ok": True, "result": ready}
                    self.cond.wait(min(left, 0.05))
            finally:
                self.polling -= 1


class FakeNtfy(_Fake):
    def __init__(self, *, token: str | None = None, updates: bool = True) -> None:
        self.token = token  # when set, every request needs `Authorization: Bearer <token>`
        self.updates = updates  # a 2.16+ server: POST /<topic>/<sequence id> replaces a message
        self.messages: list[dict[str, Any]] = []  # every published message, in order
        self.replaced: list[dict[str, Any]] = []
        self.subscribers = 0
        self.subscriptions: list[dict[str, list[str]]] = []  # the query of each subscription
        self.tapped_at: list[float] = []
        super().__init__()

    def on(self, topic: str) -> list[dict[str, Any]]:
        with self.cond:
            return [m for m in self.messages if m["topic"] == topic]

    def question(self, index: int = -1) -> dict[str, Any]:
        with self.cond:
            return [m for m in self.messages if m.get("actions")][index]

    def wait_question(self, count: int = 1, timeout: float = 10.0) -> dict[str, Any]:
        self.wait_for(lambda: len([m for m in self.messages if m.get("actions")]) >= count, timeout)
        return self.question(count - 1)

    def tap(self, label: str, message: dict[str, Any] | None = None, *, body: str | None = None) -> int:
        """What the phone app does for an `http` action: send its request to its URL. Returns the status."""
        message = message or self.question()
        action = next(a for a in message["actions"] if a["label"] == label)
        data = (action.get("body") if body is None else body).encode()
        request = urllib.request.Request(
            action["url"], data=data, method=action.get("method", "POST"), headers=action.get("headers") or {}
        )
        self.tapped_at.append(time.monotonic())
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    def publish(self, topic: str, text: str, **fields: Any) -> dict[str, Any]:
        with self.cond:
            message = {
                "id": secrets.token_urlsafe(9)[:12],
                "time": int(time.time()),
                "event": "message",
                "topic": topic,
                "message": text,
                **fields,
            }
            self.messages.append(message)
            self.cond.notify_all()
        return message

    def handle(self, request: BaseHTTPRequestHandler, method: str, target: str, body: bytes) -> None:
        if self.token and request.headers.get("Authorization") != f"Bearer {self.token}":
            send_json(request, 403, {"code": 40301, "http": 403, "error": "forbidden"})
            return
        url = urlsplit(target)
        parts = [unquote(p) for p in url.path.split("/") if p]
        if method == "GET" and len(parts) == 2 and parts[1] == "json":
            self._stream(request, parts[0], parse_qs(url.query))
        elif method in ("POST", "PUT") and not parts:
            fields = json.loads(body)
            topic = fields.pop("topic")
            text = fields.pop("message", "")
            send_json(request, 200, self.publish(topic, text, **fields))
        elif method in ("POST", "PUT") and len(parts) == 1:
            title = request.headers.get("Title")
            extra = {"title": title} if title else {}
            send_json(request, 200, self.publish(parts[0], body.decode(), **extra))
        elif method in ("POST", "PUT") and len(parts) == 2 and self.updates:
            headers = {"title": request.headers.get("Title"), "priority": request.headers.get("Priority")}
            with self.cond:
                self.replaced.append({"topic": parts[0], "sequence_id": parts[1], "message": body.decode(), **headers})
            send_json(request, 200, self.publish(parts[0], body.decode(), sequence_id=parts[1]))
        else:
            send_json(request, 404, {"code": 40401, "http": 404, "error": "page not found"})

    def _stream(self, request: BaseHTTPRequestHandler, topic: str, query: dict[str, list[str]]) -> None:
        since = query.get("since", [""])[0]
        with self.cond:
            self.subscribers += 1
            self.subscriptions.append(query)
            self.cond.notify_all()
            sent = self._since(topic, since)
        request.send_response(200)
        request.send_header("Content-Type", "application/x-ndjson; charset=utf-8")
        request.send_header("Transfer-Encoding", "chunked")
        request.end_headers()

        def chunk(event: dict[str, Any]) -> None:
            data = (json.dumps(event) + "\n").encode()
            request.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            request.wfile.flush()

        try:
            chunk({"id": secrets.token_hex(6), "time": int(time.time()), "event": "open", "topic": topic})
            for message in sent:
                chunk(message)
            seen, beat = len(self.messages), time.monotonic()
            while not self.closing:
                with self.cond:
                    self.cond.wait(0.05)
                    fresh = [m for m in self.messages[seen:] if m["topic"] == topic]
                    seen = len(self.messages)
                for message in fresh:
                    chunk(message)
                if time.monotonic() - beat > 1:  # also how a closed subscription is noticed
                    beat = time.monotonic()
                    chunk({"id": secrets.token_hex(6), "time": int(time.time()), "event": "keepalive", "topic": topic})
        finally:
            with self.cond:
                self.subscribers -= 1
                self.cond.notify_all()

    def _since(self, topic: str, since: str) -> list[dict[str, Any]]:
        mine = [m for m in self.messages if m["topic"] == topic]
        if since in ("", "all"):
            return mine if since == "all" else []
        if since.isdigit():
            return [m for m in mine if m["time"] >= int(since)]
        ids = [m["id"] for m in mine]
        return mine[ids.index(since) + 1 :] if since in ids else mine
