"""Alerting service wiring: settings, database, consumer, ticker, SMS dispatcher, routes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from zoneinfo import ZoneInfo

from fastapi import FastAPI

from services.alerting.api import router
from services.alerting.config import AlertingSettings
from services.alerting.detection import PRODUCER, Detector, RuleBook, seed_default_rules
from services.alerting.dispatcher import SmsDispatcher
from services.alerting.domain.sms import RecipientRateLimit
from services.alerting.handlers import ComplaintHandler
from services.alerting.metrics import AlertingMetrics
from services.alerting.providers import HttpProvider, LogProvider, SmsProvider
from services.alerting.ticker import Ticker
from shared.consumer import DedupRetention, TransactionalConsumer
from shared.contracts.topics import COMPLAINTS
from shared.db import make_engine, make_session_factory, unit_of_work
from shared.kafka import EventProducer, ensure_topics
from shared.kafka_consume import make_broker
from shared.logging import get_logger
from shared.metrics import new_registry
from shared.migrate import migrate
from shared.outbox import OutboxRelay
from shared.service import install_common, retrying, serve, token_verifier
from shared.settings import get_settings

log = get_logger(__name__)


def make_provider(settings: AlertingSettings) -> SmsProvider:
    """Return the configured SMS provider (`SMS_PROVIDER`)."""
    if settings.sms_provider == "http":
        assert settings.sms_http_url is not None
        return HttpProvider(
            settings.sms_http_url,
            token=settings.sms_http_token,
            timeout=settings.sms_http_timeout_seconds,
            receipt_url=settings.sms_receipt_url,
            receipt_token=settings.sms_receipt_token,
        )
    if settings.sms_provider == "smpp":
        from services.alerting.smpp import SmppProvider

        return SmppProvider(
            host=settings.smpp_host,
            port=settings.smpp_port,
            system_id=settings.smpp_system_id,
            password=settings.smpp_password,
            source=settings.smpp_source_addr,
        )
    return LogProvider()


def create_app(settings: AlertingSettings | None = None) -> FastAPI:
    """Build the alerting application."""
    settings = settings or get_settings(AlertingSettings)
    registry = new_registry()
    metrics = AlertingMetrics.create(registry)
    zone = ZoneInfo(settings.timezone)
    engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
    sessions = make_session_factory(engine)
    events = EventProducer(settings.kafka_bootstrap_servers)
    relay = OutboxRelay(
        producer_name=PRODUCER,
        engine=engine,
        kafka=events,
        registry=registry,
        batch_size=settings.outbox_batch_size,
        poll_seconds=settings.outbox_poll_seconds,
    )
    provider = make_provider(settings)
    dispatcher = SmsDispatcher(
        sessions=sessions,
        provider=provider,
        metrics=metrics,
        rate_limit=RecipientRateLimit(
            settings.sms_rate_limit_count, timedelta(seconds=settings.sms_rate_limit_window_seconds)
        ),
        batch_size=settings.sms_batch_size,
        poll_seconds=settings.sms_poll_seconds,
        lease=timedelta(seconds=settings.sms_lease_seconds),
        max_attempts=settings.sms_max_attempts,
        backoff_base=settings.sms_backoff_base_seconds,
        backoff_max=settings.sms_backoff_max_seconds,
    )

    def after_commit() -> None:
        relay.wake()
        dispatcher.wake()

    detector = Detector(rules=RuleBook(), metrics=metrics, zone=zone, provider=provider.name)
    handler = ComplaintHandler(
        detector=detector,
        metrics=metrics,
        max_clock_lead=timedelta(hours=settings.max_clock_lead_hours),
    )
    ticker = Ticker(
        sessions=sessions,
        detector=detector,
        metrics=metrics,
        zone=zone,
        interval=settings.tick_seconds,
        alpha=settings.baseline_alpha,
        retention=timedelta(days=settings.retention_days),
        after_commit=after_commit,
    )
    broker = make_broker(settings.kafka_bootstrap_servers, service="alerting", registry=registry)
    consumer = TransactionalConsumer(
        name=settings.consumer_group,
        sessions=sessions,
        apply=handler.apply,
        dead_letters=events,
        registry=registry,
        after_commit=after_commit,
    )
    consumer.subscribe(broker, COMPLAINTS.name, max_records=settings.max_records)
    retention = DedupRetention(engine, retention=timedelta(days=settings.dedup_retention_days))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async def prepare_database() -> None:
            await migrate(settings.database_url)
            async with unit_of_work(sessions) as session:
                await seed_default_rules(session)

        async def start_consumer() -> None:
            await ensure_topics(
                settings.kafka_bootstrap_servers, partitions=settings.topic_partitions
            )
            await broker.start()
            log.info("complaint consumer started", group=settings.consumer_group)

        async def start() -> None:
            # SMS, ticks and the outbox need only the database: they run while Kafka is down.
            await retrying("database", prepare_database)
            relay.start()
            retention.start()
            await dispatcher.start()
            ticker.start()
            log.info("alerting running", sms_provider=provider.name)
            await retrying("Kafka", start_consumer)

        starter = asyncio.create_task(start())
        try:
            yield
        finally:
            log.info("alerting stopping")
            for task in (starter,):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await broker.stop()  # in-flight batches finish or stay uncommitted
            await ticker.stop()
            await dispatcher.stop()
            await retention.stop()
            await relay.stop()
            await events.stop()
            await engine.dispose()

    app = FastAPI(
        title="service garden — alerting",
        version="1.0.0",
        description="Complaint-surge detection and SMS escalation up the management chain.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.sessions = sessions
    app.state.detector = detector
    app.state.dispatcher = dispatcher
    app.state.ticker = ticker
    app.state.after_commit = after_commit
    app.state.token_verifier = token_verifier(settings)
    install_common(app, registry=registry, kafka=events, engine=engine)
    app.include_router(router)
    return app


def main() -> None:
    """Run the alerting service."""
    serve("services.alerting.app:create_app", get_settings(AlertingSettings))


if __name__ == "__main__":
    main()
