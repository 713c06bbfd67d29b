"""Scoring service wiring: consumer, settlement, outbox relay, routes, lifespan."""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from sqlmodel.ext.asyncio.session import AsyncSession

from services.scoring import repo
from services.scoring.api import router as scores_router
from services.scoring.config import ScoringSettings
from services.scoring.domain import SettlementPolicy
from services.scoring.handlers import CLAIMED_EVENTS, EventApplier, ScoringRules
from services.scoring.library.routes import config_router
from services.scoring.library.store import (
    center_policies,
    load_configs,
    lock_center_config,
    longest_fcr_window,
)
from services.scoring.metrics import ScoringMetrics
from services.scoring.org.routes import org_router
from services.scoring.scorecard import ConfigFor
from services.scoring.settlement import PRODUCER, Settlement
from shared.background import Components, Hook, Periodic, Retrying
from shared.consumer import DedupRetention, TransactionalConsumer, upstream_decoder
from shared.contracts.topics import RAW_TOPICS
from shared.contracts.views import parse_event_view
from shared.db import make_engine, make_session_factory
from shared.kafka import BacklogProbe, EventProducer
from shared.kafka_consume import make_broker
from shared.logging import get_logger
from shared.metrics import new_registry
from shared.migrate import migrate
from shared.outbox import OutboxRelay
from shared.service import build_app, kafka_subscribers, serve
from shared.settings import get_settings

log = get_logger(__name__)


async def configs_in_force(session: AsyncSession, day: date) -> ConfigFor:
    """Load the configuration (per center, department and owner kind) in force on `day`."""
    return (await load_configs(session, day)).for_owner


def create_app(settings: ScoringSettings | None = None) -> FastAPI:
    """Build the scoring application."""
    settings = settings or get_settings(ScoringSettings)
    registry = new_registry()
    metrics = ScoringMetrics.create(registry)
    engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
    sessions = make_session_factory(engine)
    kafka = EventProducer(settings.kafka_bootstrap_servers)
    relay = OutboxRelay.of_service(
        PRODUCER, engine=engine, kafka=kafka, registry=registry, settings=settings
    )
    rules = ScoringRules(
        fcr_window=timedelta(hours=settings.fcr_window_hours),
        max_state_span=timedelta(hours=settings.max_state_span_hours),
        default_zone=ZoneInfo(settings.default_timezone),
    )
    policy = SettlementPolicy(
        fcr_window=rules.fcr_window,
        allowed_lateness=timedelta(hours=settings.allowed_lateness_hours),
        grace=timedelta(minutes=settings.settlement_grace_minutes),
    )
    policies = partial(center_policies, default=policy)  # the service settings by default

    applier = EventApplier(
        placements=repo.placements,
        settled_days=repo.settled_days,
        center_policies=policies,
        longest_window=longest_fcr_window,
        rules=rules,
        metrics=metrics,
    )
    consumer = TransactionalConsumer(
        name=settings.consumer_group,
        sessions=sessions,
        apply=applier,
        dead_letters=kafka,
        registry=registry,
        decode=upstream_decoder(CLAIMED_EVENTS, parse=parse_event_view),
        after_commit=relay.wake,
    )
    broker = make_broker(settings.kafka_bootstrap_servers, service="scoring", registry=registry)
    consumer.subscribe(
        broker, *(t.name for t in RAW_TOPICS), max_records=settings.batch_max_records
    )
    retention = DedupRetention(
        engine, retention=timedelta(days=settings.dedup_retention_days), registry=registry
    )
    probe = BacklogProbe(
        settings.kafka_bootstrap_servers, settings.consumer_group, [t.name for t in RAW_TOPICS]
    )
    settlement = Settlement(
        sessions=sessions,
        load_config=configs_in_force,
        policy_for=policies,
        metrics=metrics,
        after_commit=relay.wake,
        lock_center=lock_center_config,
        backlog=probe.backlog,
        quiet_seconds=settings.quiet_seconds,
    )

    async def close_clients() -> None:
        await probe.stop()
        await kafka.stop()
        await engine.dispose()

    components = Components(
        "scoring",
        Hook("clients", on_stop=close_clients),
        Retrying(Hook("database", on_start=lambda: migrate(settings.database_url))),
        relay,
        Periodic(
            "scoring-preview",
            settlement.preview_round,
            interval=settings.preview_seconds,
            registry=registry,
        ),
        Periodic(
            "scoring-settle",
            settlement.settle_round,
            interval=settings.settle_check_seconds,
            registry=registry,
        ),
        retention,
        kafka_subscribers(broker, settings),  # stops first
    )

    return build_app(
        name="scoring",
        description="Daily indicators, five-tier health points, warnings and settlement.",
        settings=settings,
        components=components,
        registry=registry,
        kafka=kafka,
        engine=engine,
        routers=(scores_router, org_router, config_router),
        sessions=sessions,
        settlement=settlement,
        consumer=consumer,
    )


def main() -> None:
    """Run the scoring service."""
    serve("services.scoring.app:create_app", get_settings(ScoringSettings))


if __name__ == "__main__":
    main()
