"""Garden metrics: plants by state, fruit ripened and harvested, campaigns, harvest and API
latency, the agent gardens' cache.

The consumer's records by outcome (`consumer_records_total{consumer="garden"}`) and
the outbox's publishing come with `TransactionalConsumer` and `OutboxRelay`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from prometheus_client import Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.metrics import LATENCY_BUCKETS, MetricSet, counter, gauge, histogram


@dataclass(frozen=True, slots=True)
class GardenMetrics(MetricSet):
    plants: Gauge = gauge(
        "garden_plants",
        "Plants by owner kind and state, as of the last count",
        "owner_kind",
        "state",
    )
    fruit_ripened: Counter = counter("garden_fruit_ripened_total", "Fruit that ripened")
    fruit_harvested: Counter = counter(
        "garden_fruit_harvested_total", "Fruit harvested, by trigger (owner, automatic)", "trigger"
    )
    timeline_entries: Counter = counter(
        "garden_timeline_entries_total",
        "Timeline entries recorded (one event each), by kind",
        "kind",
    )
    campaigns_started: Counter = counter(
        "garden_campaigns_started_total", "Improvement campaigns started"
    )
    campaigns_ended: Counter = counter(
        "garden_campaigns_ended_total", "Improvement campaigns that ended (their result is in)"
    )
    campaign_days_recorded: Counter = counter(
        "garden_campaign_days_recorded_total",
        "Campaign days recorded or re-recorded with a new content (one event each)",
    )
    harvest_seconds: Histogram = histogram(
        "garden_harvest_seconds",
        "Time to harvest: one request, or one automatic round",
        "trigger",
        buckets=LATENCY_BUCKETS,
    )
    cache_hits: Counter = counter(
        "garden_cache_hits_total", "Agent gardens answered from the in-process cache"
    )
    cache_misses: Counter = counter(
        "garden_cache_misses_total", "Agent gardens read from the database (not in the cache)"
    )
    cache_invalidations: Counter = counter(
        "garden_cache_invalidations_total",
        "Agent gardens forgotten: by change notification (agent, all) or by a write here (local)",
        "scope",
    )
    cache_entries: Gauge = gauge("garden_cache_entries", "Agent gardens in the cache")
    cache_listener_connected: Gauge = gauge(
        "garden_cache_listener_connected",
        "1 while the change listener hears the database's notifications (else the cache is off)",
    )
    http_seconds: Histogram = histogram(
        "garden_http_request_seconds",
        "API latency by method, route template and status",
        "method",
        "route",
        "status",
        buckets=LATENCY_BUCKETS,
    )


class RouteLatency:
    """ASGI middleware that times every HTTP request by its route template (`/v1/agents/{agent_id}/garden`),
    so the label set stays small whatever ids are asked for."""

    def __init__(self, app: ASGIApp, *, histogram: Histogram) -> None:
        self._app = app
        self._histogram = histogram

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self._app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self._histogram.labels(scope["method"], route, str(status)).observe(
                time.perf_counter() - started
            )
