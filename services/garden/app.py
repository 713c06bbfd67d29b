"""Garden service wiring: the score consumer, the automatic harvest, the outbox relay, routes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from services.garden.api import routers
from services.garden.cached_reads import CachedGardens
from services.garden.config import GardenSettings
from services.garden.garden_cache import GardenCache
from services.garden.garden_listener import ChangeListener
from services.garden.handlers import ScoreHandler, decode_score
from services.garden.harvesting import AutoHarvest
from services.garden.metrics import GardenMetrics, RouteLatency
from services.garden.repo.idempotency import forget_older_than
from services.garden.repo.reads import count_plants
from services.garden.screens import mount_screens
from shared.contracts.topics import SCORES
from shared.db import unit_of_work
from shared.foundation import Foundation, ServiceInfo
from shared.settings import get_settings

PRODUCER = "garden"
"""The garden's outbox (the `source` of its events)."""
GARDEN = ServiceInfo(
    "garden",
    "Plants that grow from settled scores, bear fruit and get harvested; timelines, "
    "pictures, leaderboards and the A/B/C split.",
)


def utc_now() -> datetime:
    """Return the current instant."""
    return datetime.now(UTC)


def local_dates(settings: GardenSettings) -> Callable[[str], date]:
    """Return "today" in a center's time zone."""
    return lambda center: utc_now().astimezone(settings.zone_of(center)).date()


def create_app(settings: GardenSettings | None = None) -> FastAPI:
    """Build the garden application."""
    settings = settings or get_settings(GardenSettings)
    base = Foundation.create(settings)
    registry, (_, sessions) = base.registry, base.database
    metrics = GardenMetrics.create(registry)
    relay = base.outbox_relay(PRODUCER)
    handler = ScoreHandler(metrics=metrics, clock=utc_now)
    broker = base.broker("garden")
    consumer = base.consumer(
        broker,
        SCORES.name,
        group=settings.consumer_group,
        apply=handler.apply,
        decode=decode_score,
        after_commit=relay.wake,
        max_records=settings.batch_max_records,
    )
    today_of = local_dates(settings)
    cache = GardenCache(settings.garden_cache_size)
    listener = ChangeListener(
        settings.database_url,
        cache,
        metrics,
        ping_seconds=settings.garden_cache_ping_seconds,
        ping_timeout=settings.garden_cache_ping_timeout_seconds,
    )
    auto = AutoHarvest(
        sessions=sessions,
        today_of=today_of,
        metrics=metrics,
        after_commit=relay.wake,
        clock=utc_now,
    )

    async def housekeeping() -> None:
        """Count plants by state; forget idempotency keys past their time."""
        async with unit_of_work(sessions) as session:
            counts = await count_plants(session)
            await forget_older_than(session, timedelta(hours=settings.idempotency_hours))
        metrics.plants.clear()
        for (kind, state), n in counts.items():
            metrics.plants.labels(kind, state).set(n)

    components = base.components(
        "garden",
        base.prepared_database(),
        *([listener] if settings.garden_cache_size > 0 else []),  # without it: no cache
        relay,
        *(
            [
                base.periodic(
                    "garden-auto-harvest", auto.harvest_round, every=settings.auto_harvest_seconds
                )
            ]
            if settings.auto_harvest_enabled
            else []
        ),
        base.periodic("garden-housekeeping", housekeeping, every=settings.plant_gauge_seconds),
        base.dedup_retention(),
        base.watch_lag(settings.consumer_group, [SCORES.name]),
        base.subscribers(broker),  # stops first
    )
    app = base.app(GARDEN, components, *routers)
    mount_screens(app, settings)  # the agent's and the leader's pages under /ui/
    app.add_middleware(CachedGardens, service=app)  # innermost: inside the latency and CORS
    app.add_middleware(RouteLatency, histogram=metrics.http_seconds)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "If-None-Match"],
            expose_headers=["ETag", "Idempotent-Replayed"],
        )
    app.state.metrics = metrics
    app.state.garden_cache = cache
    app.state.change_listener = listener
    app.state.today_of = today_of
    app.state.after_commit = relay.wake
    app.state.consumer = consumer
    app.state.auto_harvest = auto
    return app
