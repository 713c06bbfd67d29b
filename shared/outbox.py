"""Transactional outbox: derived events are written with the state they describe,
then a relay publishes them.

Checkpoint order of the relay, per batch (one transaction):
  1. take the relay lock for this producer (one active relay per service, so
     per-key order is kept even when several instances run);
  2. read the oldest pending messages;
  3. publish them and wait until Kafka acknowledged every one;
  4. delete them and commit.
A crash between 3 and 4 publishes the batch again on the next run: delivery
is at least once, and consumers deduplicate on the payload's `event_id`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from shared import sql
from shared.background import Periodic
from shared.contracts.derived import DerivedEvent
from shared.kafka import EventProducer, OutgoingRecord
from shared.logging import get_logger
from shared.metrics import LATENCY_BUCKETS
from shared.models import OutboxMessage

log = get_logger(__name__)


def add_to_outbox(
    session: AsyncSession,
    *,
    producer: str,
    topic: str,
    payload: bytes,
    key: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> None:
    """Stage raw bytes for publication in the caller's transaction (use `stage_event`)."""
    session.add(
        OutboxMessage(
            producer=producer,
            topic=topic,
            key=key.encode() if key is not None else None,
            payload=payload,
            headers=dict(headers or {}),
        )
    )


def stage_event(session: AsyncSession, event: DerivedEvent) -> None:
    """Stage a derived event for publication in the caller's transaction.

    The only way a service puts an event in its outbox: the topic and key come
    from the event's contract, the outbox from its `source`, and the headers
    name its type and id (for consumers that route before decoding).
    """
    add_to_outbox(
        session,
        producer=event.source,
        topic=event.topic.name,
        payload=event.to_json(),
        key=event.partition_key,
        headers={"event_type": event.type, "event_id": event.event_id},
    )


def outbox_arrays(events: Sequence[DerivedEvent]) -> tuple[list[Any], ...]:
    """The rows `stage_event` writes for `events` as five arrays (producer, topic, key,
    payload, headers), for a driver statement that stages them itself: `INSERT INTO outbox
    (producer, topic, key, payload, headers) SELECT * FROM unnest(...)`."""
    return (
        [e.source for e in events],
        [e.topic.name for e in events],
        [e.partition_key.encode() for e in events],
        [e.to_json() for e in events],
        [orjson.dumps({"event_type": e.type, "event_id": e.event_id}).decode() for e in events],
    )


class OutboxRelay:
    """Publishes one service's outbox to Kafka, oldest first (a background component)."""

    def __init__(
        self,
        *,
        producer_name: str,
        engine: AsyncEngine,
        kafka: EventProducer,
        registry: CollectorRegistry,
        batch_size: int = 500,
        poll_seconds: float = 0.2,
        wake_after_seconds: float = 0.01,
    ) -> None:
        self.name = f"outbox-relay-{producer_name}"
        self._wake_after = wake_after_seconds
        self._wake_due = False
        self._producer = producer_name
        self._engine = engine
        self._kafka = kafka
        self._batch_size = batch_size
        self._loop = Periodic(
            self.name,
            self.relay_once,
            interval=poll_seconds,
            registry=registry,
            again=lambda published: published >= batch_size,  # more are waiting
        )
        self._published = Counter(
            "outbox_published_total", "Outbox messages published", ["producer"], registry=registry
        )
        self._lag = Histogram(
            "outbox_publish_lag_seconds",
            "Time from outbox commit to Kafka acknowledgement",
            ["producer"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self._oldest = Gauge(
            "outbox_oldest_pending_age_seconds",
            "Age of the oldest message still waiting in the outbox, as of the last relay round",
            ["producer"],
            registry=registry,
        )

    def wake(self) -> None:
        """Ask the relay to look for new messages soon (call after a commit): within
        `wake_after_seconds`, so the commits of that time leave in one round instead of a
        round each."""
        if self._wake_due:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not on an event loop: wake now
            self._loop.wake()
            return
        self._wake_due = True
        loop.call_later(self._wake_after, self._woken)

    def _woken(self) -> None:
        self._wake_due = False
        self._loop.wake()

    async def relay_once(self) -> int:
        """Publish one batch; return how many messages left the outbox."""
        async with self._engine.begin() as conn:
            if not await sql.try_lock(conn, f"outbox:{self._producer}"):
                return 0  # another instance of this service is relaying
            rows = (
                await sql.execute(
                    conn,
                    "SELECT id, topic, key, payload, headers, created_at FROM outbox "
                    "WHERE producer = :producer ORDER BY id LIMIT :limit",
                    {"producer": self._producer, "limit": self._batch_size + 1},
                )
            ).all()
            batch = rows[: self._batch_size]
            if not batch:
                self._oldest.labels(self._producer).set(0)
                return 0
            await self._kafka.send_all([_record(row._mapping) for row in batch])
            await sql.execute(
                conn, "DELETE FROM outbox WHERE id = ANY(:ids)", {"ids": [row.id for row in batch]}
            )
        now = time.time()
        for row in batch:
            self._lag.labels(self._producer).observe(max(0.0, now - row.created_at.timestamp()))
        self._published.labels(self._producer).inc(len(batch))
        waiting = rows[self._batch_size :]
        self._oldest.labels(self._producer).set(
            max(0.0, now - waiting[0].created_at.timestamp()) if waiting else 0.0
        )
        return len(batch)

    async def start(self) -> None:
        """Relay in the background until stopped, backing off while Kafka or the database is
        down."""
        await self._loop.start()

    async def stop(self) -> None:
        """Stop relaying; what is unpublished stays in the outbox."""
        await self._loop.stop()


def _record(row: RowMapping) -> OutgoingRecord:
    headers = [(k, str(v).encode()) for k, v in (row["headers"] or {}).items()]
    key = bytes(row["key"]) if row["key"] is not None else None
    return OutgoingRecord(topic=row["topic"], value=bytes(row["payload"]), key=key, headers=headers)
