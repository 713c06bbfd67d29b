"""Alerting service wiring: settings, database, consumer, ticker, SMS dispatcher, routes."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from fastapi import FastAPI

from services.alerting.api import router
from services.alerting.config import SMPP_TIMEOUT_SECONDS, AlertingSettings
from services.alerting.detection import PRODUCER, Detector, RuleBook, seed_default_rules
from services.alerting.dispatcher import SmsDispatcher
from services.alerting.domain.sms import RecipientRateLimit
from services.alerting.handlers import ComplaintHandler
from services.alerting.metrics import AlertingMetrics
from services.alerting.providers import HttpProvider, LogProvider, SmsProvider
from services.alerting.ticker import Ticker
from shared.background import Components, Detached, Hook
from shared.contracts.topics import COMPLAINTS
from shared.db import unit_of_work
from shared.foundation import Foundation, ServiceInfo
from shared.logging import get_logger
from shared.settings import get_settings

log = get_logger(__name__)
ALERTING = ServiceInfo(
    "alerting", "Complaint-surge detection and SMS escalation up the management chain."
)


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
            timeout=SMPP_TIMEOUT_SECONDS,
        )
    return LogProvider()


def create_app(settings: AlertingSettings | None = None) -> FastAPI:
    """Build the alerting application."""
    settings = settings or get_settings(AlertingSettings)
    base = Foundation.create(settings)
    registry, (_, sessions) = base.registry, base.database
    metrics = AlertingMetrics.create(registry)
    zone = ZoneInfo(settings.timezone)
    relay = base.outbox_relay(PRODUCER)
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

    sms_loop = base.periodic(
        "sms-dispatcher",
        dispatcher.dispatch_once,
        every=settings.sms_poll_seconds,
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
    broker = base.broker("alerting")
    base.consumer(
        broker,
        COMPLAINTS.name,
        group=settings.consumer_group,
        apply=handler.apply,
        after_commit=after_commit,
        max_records=settings.max_records,
    )

    async def seed_rules() -> None:
        async with unit_of_work(sessions) as session:
            await seed_default_rules(session)

    components = base.components(
        "alerting",
        # SMS, ticks and the outbox need only the database: they run while Kafka is down,
        # and the service answers /healthz while the database is down.
        Detached(
            Components(
                "alerting-pipeline",
                base.prepared_database(seed_rules),
                relay,
                base.dedup_retention(),
                Hook(
                    "sms-provider",
                    on_start=lambda: provider.start(dispatcher.record_receipt),
                    on_stop=provider.stop,
                ),
                sms_loop,
                base.periodic("alerting-ticker", ticker.tick, every=settings.tick_seconds),
                base.watch_lag(settings.consumer_group, [COMPLAINTS.name]),
                base.subscribers(broker, detached=False),  # stops first
            )
        ),
    )

    app = base.app(ALERTING, components, router)
    app.state.metrics = metrics
    app.state.detector = detector
    app.state.dispatcher = dispatcher
    app.state.ticker = ticker
    app.state.after_commit = after_commit
    return app
