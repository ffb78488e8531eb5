"""Sending through a hub (`MCP_PUSH_SERVER`, `MCP_PUSH_API_TOKEN`): the hub owns the channels and the
history, so this machine's notifications, events and questions go to its REST API and the report shown
is the hub's own.

When the hub cannot be reached, nothing is lost: the notification is kept here, pending for the
pseudo-channel `hub`, and `mcp-push retry` or a running server forwards it later, as it re-sends any
pending delivery. Whatever may already have reached the hub (it stopped answering after the request
went out) is only re-sent with MCP_PUSH_RETRY_UNSAFE, as for any channel. A refusal (a wrong token, a
channel the hub does not know) is shown, never retried.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mcp_push import http
from mcp_push.dispatch import UsageError, record
from mcp_push.models import AskResult, ChannelResult, DeliveryReport, Notification
from mcp_push.redact import redact

if TYPE_CHECKING:
    from mcp_push.ask import Prompt
    from mcp_push.config import Config
    from mcp_push.store import Claim

log = logging.getLogger("mcp_push")

HUB = "hub"  # the pseudo-channel a notification waits for when the hub was out of reach


class Unreachable(Exception):
    def __init__(self, message: str, pending: bool) -> None:
        super().__init__(message)
        self.pending = pending


async def _post(config: Config, path: str, body: dict[str, Any], timeout: float) -> Any:
    """The hub's JSON answer; `Unreachable` when it could not give one, `UsageError` when it refused."""
    import httpx

    settings = config.settings
    url = f"{settings.MCP_PUSH_SERVER}{path}"
    headers = {"Authorization": f"Bearer {settings.MCP_PUSH_API_TOKEN}"}
    try:
        response = await http.client().post(url, json=body, headers=headers, timeout=timeout)
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        raise Unreachable(f"could not connect: {exc or type(exc).__name__}", pending=True) from exc
    except httpx.HTTPError as exc:
        raise Unreachable(f"no answer: {exc or type(exc).__name__}", pending=settings.MCP_PUSH_RETRY_UNSAFE) from exc
    try:
        answer = response.json()
    except ValueError:
        answer = None
    problem = answer.get("error") if isinstance(answer, dict) else None
    if response.status_code in (401, 403):
        raise Unreachable(f"the hub refused the token (HTTP {response.status_code}): check MCP_PUSH_API_TOKEN", False)
    if response.status_code in (400, 404, 413, 422):
        raise UsageError(f"the hub refused it: {problem or f'HTTP {response.status_code}'}")
    if answer is None or (problem and response.status_code != 502):
        busy = response.status_code == 429 or response.status_code >= 500
        raise Unreachable(f"HTTP {response.status_code}: {problem or response.text[:200]}", pending=busy)
    return answer


def _body(note: Notification, channels: Sequence[str] | None) -> dict[str, Any]:
    body: dict[str, Any] = {"title": note.title, "content": note.content}
    if note.run_id:
        body["run_id"] = note.run_id
    if note.event:
        body["event"] = note.event
    if channels:
        body["channels"] = list(channels)
    return body


async def deliver(config: Config, note: Notification, channels: Sequence[str] | None, source: str) -> DeliveryReport:
    """Forward one notification; kept pending here when the hub is out of reach."""
    try:
        answer = await _post(config, "/v1/notify", _body(note, channels), config.settings.MCP_PUSH_DEADLINE)
        return DeliveryReport.model_validate(answer)
    except Unreachable as exc:
        nid = await config.store.run(config.store.add, note, source)
        return await _kept(config, nid, exc)


async def redeliver(config: Config, claim: Claim) -> DeliveryReport:
    """Forward a notification that waited here for the hub."""
    try:
        answer = await _post(config, "/v1/notify", _body(claim.note, None), config.settings.MCP_PUSH_DEADLINE)
    except Unreachable as exc:
        return await _kept(config, claim.id, exc)
    report = DeliveryReport.model_validate(answer)
    await record(config, claim.id, [ChannelResult(name=HUB, ok=True, status="delivered", elapsed_ms=0)])
    return report


async def _kept(config: Config, nid: int, exc: Unreachable) -> DeliveryReport:
    error = redact(f"hub {config.settings.MCP_PUSH_SERVER}: {exc}")
    result = ChannelResult(name=HUB, ok=False, status="failed", error=error, pending=exc.pending, elapsed_ms=0)
    await record(config, nid, [result])
    later = " Kept here; `mcp-push retry` or a running server sends it on." if exc.pending else ""
    log.warning("%s", error)
    return DeliveryReport(status="failed", summary=f"Not delivered: {error}.{later}", results=[result], id=nid)


async def ask(config: Config, prompt: Prompt, channels: Sequence[str] | None, fallback: bool) -> AskResult:
    """Ask through the hub, which waits for the answer; a hub out of reach is a question not delivered."""
    body: dict[str, Any] = {
        "title": prompt.note.title,
        "question": prompt.note.content,
        "options": list(prompt.choices),
        "timeout_seconds": prompt.timeout,
        "verdicts": list(prompt.verdicts),
        "expired": prompt.expired,
        "elsewhere": prompt.fallback,
        "fallback": fallback,
    }
    if channels:
        body["channels"] = list(channels)
    try:
        return AskResult.model_validate(await _post(config, "/v1/ask", body, prompt.timeout + 30))
    except Unreachable as exc:
        summary = redact(f"The question did not reach the hub {config.settings.MCP_PUSH_SERVER}: {exc}.")
        return AskResult(answered=False, reason="not_delivered", elapsed_s=0, summary=summary)
