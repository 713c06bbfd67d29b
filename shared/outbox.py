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
import contextlib
import time
from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Histogram
from sqlalchemy import RowMapping, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.kafka import EventProducer, KafkaUnavailable, OutgoingRecord
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
    """Stage a message for publication in the caller's transaction."""
    session.add(
        OutboxMessage(
            producer=producer,
            topic=topic,
            key=key.encode() if key is not None else None,
            payload=payload,
            headers=dict(headers or {}),
        )
    )


class OutboxRelay:
    """Publishes one service's outbox to Kafka, oldest first."""

    def __init__(
        self,
        *,
        producer_name: str,
        engine: AsyncEngine,
        kafka: EventProducer,
        registry: CollectorRegistry,
        batch_size: int = 500,
        poll_seconds: float = 0.2,
    ) -> None:
        self._name = producer_name
        self._engine = engine
        self._kafka = kafka
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
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
        self._failures = Counter(
            "outbox_publish_failures_total", "Failed relay rounds", ["producer"], registry=registry
        )

    def wake(self) -> None:
        """Ask the relay to look for new messages now (call after a commit)."""
        self._wake.set()

    async def relay_once(self) -> int:
        """Publish one batch; return how many messages left the outbox."""
        async with self._engine.begin() as conn:
            locked = await conn.scalar(
                text("SELECT pg_try_advisory_xact_lock(hashtext(:lock))"),
                {"lock": f"outbox:{self._name}"},
            )
            if not locked:
                return 0  # another instance of this service is relaying
            rows = (
                await conn.execute(
                    text(
                        "SELECT id, topic, key, payload, headers, created_at FROM outbox "
                        "WHERE producer = :producer ORDER BY id LIMIT :limit"
                    ),
                    {"producer": self._name, "limit": self._batch_size},
                )
            ).all()
            if not rows:
                return 0
            await self._kafka.send_all([_record(row._mapping) for row in rows])
            await conn.execute(
                text("DELETE FROM outbox WHERE id = ANY(:ids)"), {"ids": [row.id for row in rows]}
            )
        now = time.time()
        for row in rows:
            self._lag.labels(self._name).observe(max(0.0, now - row.created_at.timestamp()))
        self._published.labels(self._name).inc(len(rows))
        return len(rows)

    async def run(self) -> None:
        """Relay until cancelled, backing off while Kafka or the database is down."""
        backoff = self._poll_seconds
        while True:
            try:
                published = await self.relay_once()
                backoff = self._poll_seconds
            except (KafkaUnavailable, OSError, Exception) as exc:  # keep relaying whatever failed
                self._failures.labels(self._name).inc()
                log.warning("outbox relay failed", producer=self._name, error=str(exc)[:300])
                published = 0
                backoff = min(backoff * 2, 5.0)
            if published >= self._batch_size:
                continue  # more are waiting
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), backoff)

    def start(self) -> None:
        """Run the relay in the background."""
        self._task = asyncio.create_task(self.run(), name=f"outbox-relay-{self._name}")

    async def stop(self) -> None:
        """Stop relaying; what is unpublished stays in the outbox."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


def _record(row: RowMapping) -> OutgoingRecord:
    headers = [(k, str(v).encode()) for k, v in (row["headers"] or {}).items()]
    key = bytes(row["key"]) if row["key"] is not None else None
    return OutgoingRecord(topic=row["topic"], value=bytes(row["payload"]), key=key, headers=headers)
