"""What every service is built on, made once in its `app.py`: the settings, its own metrics
registry, the Kafka producer, and for a service with a database the engine, the session
factory and the pieces that come with them (outbox relay, processed-key pruning)."""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, FastAPI
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry, Gauge
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.background import (
    Component,
    Components,
    Detached,
    Hook,
    Periodic,
    Retrying,
    Step,
    lifespan,
)
from shared.consumer import (
    Applier,
    Decoder,
    DedupRetention,
    TransactionalConsumer,
    decode_upstream_event,
)
from shared.db import make_engine, make_session_factory
from shared.kafka import BacklogProbe, EventProducer, ensure_topics
from shared.kafka_consume import make_broker
from shared.logging import get_logger
from shared.metrics import new_registry
from shared.migrate import migrate
from shared.outbox import OutboxRelay
from shared.service import install_common, token_verifier
from shared.settings import ServiceSettings

log = get_logger(__name__)
_LAG: weakref.WeakKeyDictionary[CollectorRegistry, Gauge] = weakref.WeakKeyDictionary()


def _lag_gauge(registry: CollectorRegistry) -> Gauge:
    if registry not in _LAG:
        _LAG[registry] = Gauge(
            "consumer_lag_records",
            "Records on a topic partition the consumer group has not committed yet",
            ["group", "topic", "partition"],
            registry=registry,
        )
    return _LAG[registry]


@dataclass(frozen=True)
class ServiceInfo:
    """How a service introduces itself in its OpenAPI document and logs."""

    name: str
    description: str


@dataclass
class Foundation:
    settings: ServiceSettings
    registry: CollectorRegistry
    producer: EventProducer
    engine: AsyncEngine | None = None
    sessions: async_sessionmaker[AsyncSession] | None = None
    schema_ready: bool = field(default=False, init=False)
    """Whether the migrations (and the service's own preparation) have run: `/readyz`
    answers not ready until then, so no request meets a table that is not there yet."""

    @classmethod
    def create(
        cls, settings: ServiceSettings, *, database: bool = True, send_timeout: float = 10.0
    ) -> Foundation:
        """Build the clients (nothing connects until the components start)."""
        engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
        return cls(
            settings=settings,
            registry=new_registry(),
            producer=EventProducer(settings.kafka_bootstrap_servers, send_timeout=send_timeout),
            engine=engine if database else None,
            sessions=make_session_factory(engine) if database else None,
        )

    @property
    def database(self) -> tuple[AsyncEngine, async_sessionmaker[AsyncSession]]:
        """The engine and session factory (a service without a database has none)."""
        assert self.engine is not None and self.sessions is not None, "no database"
        return self.engine, self.sessions

    def prepared_database(self, prepare: Callable[[], Awaitable[None]] | None = None) -> Component:
        """Apply the migrations, then `prepare` (seed data), retrying while the database is
        down; the service is ready (`schema_ready`) once both are done."""

        async def start() -> None:
            await migrate(self.settings.database_url)
            if prepare is not None:
                await prepare()
            self.schema_ready = True

        return Retrying(Hook("database", on_start=start))

    def outbox_relay(self, producer_name: str, *, wake_after_seconds: float = 0.01) -> OutboxRelay:
        """The relay of the service's outbox (woken `wake_after_seconds` after a commit)."""
        return OutboxRelay(
            producer_name=producer_name,
            engine=self.database[0],
            kafka=self.producer,
            registry=self.registry,
            batch_size=self.settings.outbox_batch_size,
            poll_seconds=self.settings.outbox_poll_seconds,
            wake_after_seconds=wake_after_seconds,
        )

    def dedup_retention(self) -> DedupRetention:
        """The pruning of the service's processed-event keys."""
        retention = timedelta(days=self.settings.dedup_retention_days)
        return DedupRetention(self.database[0], retention=retention, registry=self.registry)

    def broker(self, service: str, *, client_id: str | None = None) -> KafkaBroker:
        """A FastStream broker whose metrics land in the service's registry."""
        return make_broker(
            self.settings.kafka_bootstrap_servers,
            service=service,
            registry=self.registry,
            client_id=client_id,
        )

    def consumer(
        self,
        broker: KafkaBroker,
        *topics: str,
        group: str,
        apply: Applier,
        decode: Decoder = decode_upstream_event,
        after_commit: Callable[[], None] = lambda: None,
        max_records: int = 2000,
    ) -> TransactionalConsumer:
        """A transactional consumer of `topics` as consumer group `group`, subscribed on
        `broker`: each batch applied in one transaction, dead letters through the service's
        producer, its metrics in the service's registry."""
        consumer = TransactionalConsumer(
            name=group,
            sessions=self.database[1],
            apply=apply,
            dead_letters=self.producer,
            registry=self.registry,
            decode=decode,
            after_commit=after_commit,
        )
        consumer.subscribe(broker, *topics, max_records=max_records)
        return consumer

    def subscribers(
        self, broker: KafkaBroker, *, name: str = "kafka-consumer", detached: bool = True
    ) -> Component:
        """The broker's subscribers as a component: the platform's topics are ensured, then the
        broker starts, retrying while Kafka is down (in the background unless `detached` is
        False). Stopping it lets in-flight batches finish or stay uncommitted."""
        settings = self.settings

        async def start() -> None:
            await ensure_topics(
                settings.kafka_bootstrap_servers, partitions=settings.topic_partitions
            )
            await broker.start()
            log.info("subscribers started", component=name)

        started = Retrying(Hook(name, on_start=start, on_stop=broker.stop))
        return Detached(started) if detached else started

    def periodic(
        self, name: str, step: Step, *, every: float, again: Callable[[Any], bool] | None = None
    ) -> Periodic:
        """A background loop whose failures are counted in the service's registry."""
        if again is None:
            return Periodic(name, step, interval=every, registry=self.registry)
        return Periodic(name, step, interval=every, registry=self.registry, again=again)

    def consumer_lag(self, probe: BacklogProbe, *, every: float = 15.0) -> Periodic:
        """Export the probe's group lag per topic and partition as `consumer_lag_records`
        every `every` seconds (so Prometheus can alert on it); the caller stops the probe."""
        gauge = _lag_gauge(self.registry)

        async def measure() -> None:
            for (topic, partition), lag in (await probe.lags()).items():
                gauge.labels(probe.group, topic, str(partition)).set(lag)

        return self.periodic(f"consumer-lag-{probe.group}", measure, every=every)

    def watch_lag(self, group: str, topics: Iterable[str]) -> Component:
        """Export the lag of `group` on `topics` (a probe of its own, stopped with it)."""
        probe = BacklogProbe(self.settings.kafka_bootstrap_servers, group, topics)
        return Components(
            f"lag-{group}", Hook("lag-probe", on_stop=probe.stop), self.consumer_lag(probe)
        )

    async def close(self) -> None:
        """Close the producer and the database pool."""
        await self.producer.stop()
        if self.engine is not None:
            await self.engine.dispose()

    def components(self, name: str, *members: Component) -> Components:
        """The service's components in start order; the clients close after all of them."""
        return Components(name, Hook("clients", on_stop=self.close), *members)

    def app(self, info: ServiceInfo, components: Component, *routers: APIRouter) -> FastAPI:
        """The FastAPI app: `components` run in its lifespan; the common routes (error shape,
        health, readiness, metrics) and `routers`; the settings, the token verifier and the
        session factory on `app.state`."""
        app = FastAPI(
            title=f"service garden — {info.name}",
            version="1.0.0",
            description=info.description,
            lifespan=lifespan(components),
        )
        app.state.settings = self.settings
        app.state.token_verifier = token_verifier(self.settings)
        app.state.sessions = self.sessions
        install_common(
            app,
            registry=self.registry,
            kafka=self.producer,
            engine=self.engine,
            schema_ready=lambda: self.schema_ready,
        )
        for router in routers:
            app.include_router(router)
        return app
