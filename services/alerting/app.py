"""Alerting service wiring: settings, database, consumer, ticker, SMS dispatcher, routes."""

from __future__ import annotations

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
from shared.background import Components, Detached, Hook, Periodic, Retrying
from shared.consumer import DedupRetention, TransactionalConsumer
from shared.contracts.topics import COMPLAINTS
from shared.db import make_engine, make_session_factory, unit_of_work
from shared.kafka import EventProducer
from shared.kafka_consume import make_broker
from shared.logging import get_logger
from shared.metrics import new_registry
from shared.migrate import migrate
from shared.outbox import OutboxRelay
from shared.service import build_app, kafka_subscribers, serve
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
    relay = OutboxRelay.of_service(
        PRODUCER, engine=engine, kafka=events, registry=registry, settings=settings
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
        lease=timedelta(seconds=settings.sms_lease_seconds),
        max_attempts=settings.sms_max_attempts,
        backoff_base=settings.sms_backoff_base_seconds,
        backoff_max=settings.sms_backoff_max_seconds,
    )

    sms_loop = Periodic(
        "sms-dispatcher",
        dispatcher.dispatch_once,
        interval=settings.sms_poll_seconds,
        registry=registry,
        again=lambda handled: handled >= settings.sms_batch_size,  # more are due
    )

    def after_commit() -> None:
        relay.wake()
        sms_loop.wake()

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
    retention = DedupRetention(
        engine, retention=timedelta(days=settings.dedup_retention_days), registry=registry
    )

    async def prepare_database() -> None:
        await migrate(settings.database_url)
        async with unit_of_work(sessions) as session:
            await seed_default_rules(session)

    async def close_clients() -> None:
        await events.stop()
        await engine.dispose()

    components = Components(
        "alerting",
        Hook("clients", on_stop=close_clients),
        # SMS, ticks and the outbox need only the database: they run while Kafka is down,
        # and the service answers /healthz while the database is down.
        Detached(
            Components(
                "alerting-pipeline",
                Retrying(Hook("database", on_start=prepare_database)),
                relay,
                retention,
                Hook(
                    "sms-provider",
                    on_start=lambda: provider.start(dispatcher.record_receipt),
                    on_stop=provider.stop,
                ),
                sms_loop,
                Periodic(
                    "alerting-ticker",
                    ticker.tick,
                    interval=settings.tick_seconds,
                    registry=registry,
                ),
                kafka_subscribers(broker, settings, detached=False),  # stops first
            )
        ),
    )

    return build_app(
        name="alerting",
        description="Complaint-surge detection and SMS escalation up the management chain.",
        settings=settings,
        components=components,
        registry=registry,
        kafka=events,
        engine=engine,
        routers=(router,),
        metrics=metrics,
        sessions=sessions,
        detector=detector,
        dispatcher=dispatcher,
        ticker=ticker,
        after_commit=after_commit,
    )


def main() -> None:
    """Run the alerting service."""
    serve("services.alerting.app:create_app", get_settings(AlertingSettings))


if __name__ == "__main__":
    main()
