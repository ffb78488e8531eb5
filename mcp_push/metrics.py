"""The hub's Prometheus metrics, with `prometheus_client`: notifications by status, deliveries by channel
and outcome, delivery latency per channel, pending deliveries, questions by outcome.

A `Metrics` is a `Watcher` on the hub's configuration, so it sees every report and every question's
outcome whichever door it came through (REST, MCP over HTTP, a hand-off, a re-delivery). Its own registry,
not the process-wide default, so two hubs in one process (tests) never share a counter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

if TYPE_CHECKING:
    from mcp_push.models import AskResult, DeliveryReport
    from mcp_push.store import Store

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Push services answer in tens to hundreds of milliseconds; retries and slow hosts reach the deadline.
LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    def __init__(self, store: Store) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        mine = {"registry": self.registry}
        self.notifications = Counter("mcp_push_notifications", "Notifications, by report status.", ["status"], **mine)
        self.deliveries = Counter("mcp_push_deliveries", "Deliveries, by outcome.", ["channel", "outcome"], **mine)
        self.latency = Histogram(
            "mcp_push_delivery_seconds", "Time one channel took.", ["channel"], buckets=LATENCY_BUCKETS, **mine
        )
        self.questions = Counter("mcp_push_questions", "Questions, by outcome.", ["outcome"], **mine)
        pending = Gauge("mcp_push_pending_deliveries", "Deliveries waiting to be re-sent.", **mine)
        pending.set_function(lambda: store.counts()["pending"])

    def delivered(self, report: DeliveryReport) -> None:
        self.notifications.labels(report.status).inc()
        for result in report.results:
            self.deliveries.labels(result.name, result.status).inc()
            self.latency.labels(result.name).observe(result.elapsed_ms / 1000)

    def answered(self, result: AskResult) -> None:
        self.questions.labels("answered" if result.answered else (result.reason or "unknown")).inc()

    def text(self) -> bytes:
        return generate_latest(self.registry)
