"""What operators watch, in the Prometheus text format (`GET /metrics`), with prometheus-client.

Two kinds of figure. Events counted as they happen (requests, appends, deliveries, cache lookups,
live-stream clients) go into prometheus-client's metrics, which the parts of the service are handed
as plain callbacks so none of them imports this module. Facts of the database (the head position,
how far the assertion index is behind it, how many webhook deliveries are queued) are read when
scraped, so every process reports the same truth.

Several server processes (`timeline serve --workers N`) each count their own events: the serve
command gives them one PROMETHEUS_MULTIPROC_DIR, prometheus-client's multiprocess mode, and a
scrape of any process adds them all up.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from app.projections.index.projector import Projector
    from app.webhooks.model import Outcome
    from app.webhooks.subscriptions import Subscriptions

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"

# Buckets fit for a service answering in milliseconds from memory and in tens of them from disk.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)


def multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROCESS_DIR))


class Metrics:
    def __init__(self) -> None:
        # In multiprocess mode the values live in files shared by the processes, not in a
        # registry of this one; a scrape reads them all (see `render`).
        self.registry = None if multiprocess() else CollectorRegistry()
        registry = self.registry
        self.requests = Histogram(
            "timeline_http_request_duration_seconds",
            "Time to answer a request, by route (its path template), method and status.",
            ["route", "method", "status"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.append_seconds = Histogram(
            "timeline_append_duration_seconds",
            "Time for one append to commit, in the event store.",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.append_events = Histogram(
            "timeline_append_batch_events",
            "Events in one append.",
            buckets=BATCH_BUCKETS,
            registry=registry,
        )
        self.deliveries = Counter(
            "timeline_webhook_deliveries",
            "Webhook delivery attempts, by outcome: delivered, retry (a failure to try again), disabled.",
            ["outcome"],
            registry=registry,
        )
        self.delivery_seconds = Histogram(
            "timeline_webhook_delivery_duration_seconds",
            "Time a receiver took to answer a delivery attempt (or to fail).",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.stream_clients = Gauge(
            "timeline_sse_clients",
            "Live timeline streams open now.",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.cache_lookups = Counter(
            "timeline_rendered_cache_lookups",
            "Lookups of a rendered timeline body by its ETag, by result: hit or miss.",
            ["result"],
            registry=registry,
        )
        self._log: LogFacts | None = None
        self._request_series: dict[tuple[str, str, int], Any] = {}  # labels() looked up once per series

    def watch_log(
        self, projector: Projector, subscriptions: Subscriptions, tree_progress: Callable[[], tuple[int, int]]
    ) -> None:
        """Report the database's facts (head, index lag, tree lag, webhook queue) at every scrape."""
        self._log = LogFacts(projector, subscriptions, tree_progress)
        if self.registry is not None:
            self.registry.register(self._log)

    def render(self) -> bytes:
        if self.registry is not None:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        if self._log is not None:
            registry.register(self._log)
        return generate_latest(registry)

    # -- the callbacks the service's parts are handed ------------------------------------

    def appended(self, events: int, seconds: float) -> None:
        self.append_events.observe(events)
        self.append_seconds.observe(seconds)

    def delivered(self, outcome: Outcome) -> None:
        kind = type(outcome.decision).__name__
        self.deliveries.labels({"Delivered": "delivered", "Retry": "retry", "Disable": "disabled"}[kind]).inc()
        self.delivery_seconds.observe(outcome.sent.latency_ms / 1000)

    def answered(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, status)
        series = self._request_series.get(key)
        if series is None:
            series = self._request_series[key] = self.requests.labels(route, method, str(status))
        series.observe(seconds)

    def looked_up(self, hit: bool) -> None:
        self.cache_lookups.labels("hit" if hit else "miss").inc()


class LogFacts(Collector):
    """The head position, the assertion index's and the log tree's lags and the webhook queue's
    depth, read when scraped."""

    def __init__(
        self, projector: Projector, subscriptions: Subscriptions, tree_progress: Callable[[], tuple[int, int]]
    ):
        self.projector = projector
        self.subscriptions = subscriptions
        self.tree_progress = tree_progress  # LogTree.progress: (size, lag)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        progress = self.projector.progress()
        yield GaugeMetricFamily("timeline_head_position", "The global log position of the newest event.", progress.head)
        yield GaugeMetricFamily(
            "timeline_projector_lag", "Log positions the assertion index is behind the head.", progress.lag
        )
        yield GaugeMetricFamily(
            "timeline_log_tree_lag",
            "Log positions the Merkle tree has not integrated yet (it does before each checkpoint).",
            self.tree_progress()[1],
        )
        yield GaugeMetricFamily(
            "timeline_webhook_queue_depth", "Webhook deliveries not made yet.", self.subscriptions.queued()
        )


class RequestTimer:
    """ASGI middleware: each HTTP request's time, by the route that matched (not the raw path,
    which would make one series per incident)."""

    def __init__(self, app: Any, observe: Callable[[str, str, int, float], None]):
        self.app = app
        self.observe = observe

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.observe(template, scope["method"], status, time.perf_counter() - started)
