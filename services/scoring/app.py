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
from services.scoring.handlers import CLAIMED_EVENTS, EventApplier, HistoryPruning, ScoringRules
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
from shared.background import Hook
from shared.consumer import upstream_decoder
from shared.contracts.topics import RAW_TOPICS
from shared.contracts.views import parse_event_view
from shared.foundation import Foundation, ServiceInfo
from shared.kafka import BacklogProbe
from shared.logging import get_logger
from shared.settings import get_settings

log = get_logger(__name__)
SCORING = ServiceInfo(
    "scoring", "Daily indicators, five-tier health points, warnings and settlement."
)


async def configs_in_force(session: AsyncSession, day: date) -> ConfigFor:
    """Load the configuration (per center, department and owner kind) in force on `day`."""
    return (await load_configs(session, day)).for_owner


def create_app(settings: ScoringSettings | None = None) -> FastAPI:
    """Build the scoring application."""
    settings = settings or get_settings(ScoringSettings)
    base = Foundation.create(settings)
    registry, (_, sessions) = base.registry, base.database
    metrics = ScoringMetrics.create(registry)
    relay = base.outbox_relay(PRODUCER)
    rules = ScoringRules(
        fcr_window=timedelta(hours=settings.fcr_window_hours),
        max_state_span=timedelta(hours=settings.max_state_span_hours),
        default_zone=ZoneInfo(settings.default_timezone),
        clock_tolerance=settings.event_time_tolerance,
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
    broker = base.broker("scoring")
    consumer = base.consumer(
        broker,
        *(t.name for t in RAW_TOPICS),
        group=settings.consumer_group,
        apply=applier,
        decode=upstream_decoder(CLAIMED_EVENTS, parse=parse_event_view),
        after_commit=relay.wake,
        max_records=settings.batch_max_records,
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
        backlog=probe.lags,
        quiet_seconds=settings.quiet_seconds,
        clock_tolerance=settings.event_time_tolerance,
    )

    pruning = HistoryPruning(
        sessions,
        retention=timedelta(days=settings.history_retention_days),
        replay_horizon=2 * settings.dedup_retention,
        longest_window=longest_fcr_window,
    )

    components = base.components(
        "scoring",
        Hook("backlog-probe", on_stop=probe.stop),
        base.prepared_database(),
        relay,
        base.periodic("scoring-preview", settlement.preview_round, every=settings.preview_seconds),
        base.periodic(
            "scoring-settle", settlement.settle_round, every=settings.settle_check_seconds
        ),
        base.dedup_retention(),
        base.consumer_lag(probe),
        base.periodic(
            "scoring-history-pruning", pruning.prune_once, every=settings.history_prune_seconds
        ),
        base.subscribers(broker),  # stops first
    )

    app = base.app(SCORING, components, scores_router, org_router, config_router)
    app.state.settlement = settlement
    app.state.consumer = consumer
    return app
