"""Rewards service wiring: settings, database, garden consumer, outbox relay, routes."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from services.rewards.api import router
from services.rewards.api.quick import QuickRequests
from services.rewards.catalog import seed_demo_catalog
from services.rewards.config import RewardsSettings
from services.rewards.handlers import HarvestHandler, decode_garden_event
from services.rewards.metrics import RewardsMetrics
from shared.background import Components, Detached
from shared.contracts.topics import GARDEN
from shared.db import unit_of_work
from shared.foundation import Foundation, ServiceInfo
from shared.logging import get_logger
from shared.settings import get_settings

log = get_logger(__name__)
PRODUCER = "rewards"
"""The outbox of the rewards events (their `source`)."""
REWARDS = ServiceInfo(
    "rewards", "Wallets credited from harvests, a prize catalog, redemptions and reward funds."
)


def create_app(settings: RewardsSettings | None = None) -> FastAPI:
    """Build the rewards application."""
    settings = settings or get_settings(RewardsSettings)
    base = Foundation.create(settings)
    registry, (_, sessions) = base.registry, base.database
    metrics = RewardsMetrics.create(registry)
    relay = base.outbox_relay(PRODUCER, wake_after_seconds=settings.outbox_wake_seconds)
    broker = base.broker("rewards")
    base.consumer(
        broker,
        GARDEN.name,
        group=settings.consumer_group,
        apply=HarvestHandler(metrics=metrics).apply,
        decode=decode_garden_event,
        after_commit=relay.wake,
        max_records=settings.max_records,
    )

    async def seed_catalog() -> None:
        if settings.seed_catalog:
            async with unit_of_work(sessions) as session:
                if added := await seed_demo_catalog(session):
                    log.info("demo catalog loaded", prizes=added)

    components = base.components(
        "rewards",
        # The API and the outbox need only the database: they run while Kafka is down.
        Detached(
            Components(
                "rewards-pipeline",
                base.prepared_database(seed_catalog),
                relay,
                base.dedup_retention(),
                base.watch_lag(settings.consumer_group, [GARDEN.name]),
                base.subscribers(broker, detached=False),  # stops first
            )
        ),
    )
    app = base.app(REWARDS, components, router)
    if settings.ui_origins:  # the garden's screens read wallets and redeem prizes from a browser
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.ui_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
            allow_credentials=False,
        )
    # outermost: a plain prize request is answered before the framework's work, anything
    # else (a browser's, with its `Origin`, included) goes on to CORS and the routes
    app.add_middleware(QuickRequests)
    app.state.metrics = metrics
    app.state.after_commit = relay.wake
    return app
