"""The transactional batch consumer every database-backed service uses.

Checkpoint order, per batch of records (FastStream batch subscriber, manual ack):
  1. decode: records that are not valid for this consumer are skipped (the raw
     topics' poison is dead-lettered by ingest's validator) and counted;
  2. one database transaction: claim the batch's event keys in
     `processed_events` (insert, ignoring those already there), apply only the
     newly claimed events, write derived events to the outbox, commit;
  3. commit the Kafka offsets (`message.ack()`), then wake the outbox relay.

A crash before 2 commits redoes the batch; a crash between 2 and 3 redelivers
it and the claim step skips every event: replaying a topic changes nothing.

A decoder may leave an event unclaimed (`Delivery.key` None) when the applier
is idempotent for it by its content: applying it again must change nothing
(for example a state change older than the state already recorded, or a row
keyed by a business id inserted with ON CONFLICT DO NOTHING). Such events
cost no `processed_events` row; the applier gets every copy.
If the database is unreachable the batch is rewound (`nack`) and retried with
backoff. If applying fails for another reason, the batch is retried one event
per transaction and the events that still fail go to the dead-letter topic
with the reason, so one poison message never blocks a partition. Every failure
ends in one of two decisions, never in silence: the batch is acknowledged
(applied, or its poison dead-lettered and claimed), or it is rewound (`nack`)
and read again. A transient error (the database restarting, Kafka refusing
the dead letter) or a lost race (deadlock, serialization failure) is never a
reason to dead-letter a valid event: it rewinds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Sequence
from datetime import timedelta
from typing import Any, NamedTuple

import orjson
from aiokafka import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from prometheus_client import CollectorRegistry, Counter, Histogram
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from shared import sql
from shared.background import Periodic
from shared.contracts.events import EVENT_MODELS, EventRejected, parse_event_json
from shared.dlq import dead_letter
from shared.kafka import EventProducer, KafkaUnavailable
from shared.kafka_consume import raw_batch_decoder, raw_batch_parser
from shared.logging import get_logger
from shared.metrics import LATENCY_BUCKETS, new_registry

log = get_logger(__name__)


class Delivery(NamedTuple):
    """A record this consumer can apply: its dedup key and what it carries.

    `key` None: the applier is idempotent for this event by its content, and
    it is applied without a claim (see the module's documentation).
    """

    record: ConsumerRecord[bytes, bytes]
    key: str | None
    payload: Any


Decoder = Callable[[ConsumerRecord[bytes, bytes]], Delivery | None]
Applier = Callable[[AsyncSession, Sequence[Delivery]], Awaitable[None]]


def upstream_decoder(
    claimed: Collection[type[Any]], parse: Callable[[bytes], Any] = parse_event_json
) -> Decoder:
    """Decode upstream events with `parse` (the contract's models, or their fast
    views), claiming only those of the `claimed` types by their `event_id`; the
    applier must be idempotent by content for every other type."""
    claim_types = frozenset(claimed)

    def decode(record: ConsumerRecord[bytes, bytes]) -> Delivery | None:
        try:
            event = parse(record.value or b"")
        except (orjson.JSONDecodeError, EventRejected):
            return None
        if type(event) in claim_types:
            return Delivery(record, f"{event.source}/{event.event_id}"[:160], event)
        return Delivery(record, None, event)

    return decode


decode_upstream_event: Decoder = upstream_decoder(EVENT_MODELS.values())
"""Decode a raw-topic record as an upstream event claimed by its `event_id`; None
when it is not one."""


def partition_fetch_bytes(max_records: int) -> int:
    """Bytes one partition fetch may bring: about `max_records` upstream events of a
    few hundred bytes each, at least a mebibyte."""
    return max(1 << 20, max_records * 256)


CONFLICT_STATES = frozenset({"40001", "40P01"})
"""Serialization failure and deadlock: another transaction won; retrying succeeds."""


def _conflict(exc: BaseException) -> bool:
    """Tell whether `exc` is a lost race with a concurrent transaction."""
    return isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) in CONFLICT_STATES


TRANSIENT_STATE_CLASSES = ("08", "53", "57P")
"""SQLSTATE classes of a database that is unreachable or restarting right now: connection
exceptions, insufficient resources (too many connections), operator intervention
(admin shutdown, crash shutdown, cannot connect now)."""


def _transient(exc: BaseException) -> bool:
    """Tell whether `exc` means "the database (or Kafka) is not reachable right now"."""
    if isinstance(
        exc, KafkaUnavailable | OperationalError | InterfaceError | ConnectionError | OSError
    ):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    state = getattr(exc.orig, "sqlstate", None) or ""
    return exc.connection_invalidated or state.startswith(TRANSIENT_STATE_CLASSES)


def _retryable(exc: BaseException) -> bool:
    """Tell whether `exc` says nothing about the event: retrying the same work may succeed."""
    return _transient(exc) or _conflict(exc)


class TransactionalConsumer:
    """Applies batches of records in one transaction each, exactly once in effect."""

    def __init__(
        self,
        *,
        name: str,
        sessions: async_sessionmaker[AsyncSession],
        apply: Applier,
        dead_letters: EventProducer,
        registry: CollectorRegistry,
        decode: Decoder = decode_upstream_event,
        after_commit: Callable[[], None] = lambda: None,
        retry_seconds: float = 1.0,
    ) -> None:
        self.name = name
        self._sessions = sessions
        self._apply = apply
        self._dead_letters = dead_letters
        self._decode = decode
        self._after_commit = after_commit
        self._retry_seconds = retry_seconds
        self._records = Counter(
            "consumer_records_total",
            "Records consumed, by consumer and outcome",
            ["consumer", "outcome"],
            registry=registry,
        )
        self._batch_records = Histogram(
            "consumer_batch_records",
            "Records per consumed batch",
            ["consumer"],
            buckets=(1, 10, 50, 100, 250, 500, 1000, 2000, 5000, 10000),
            registry=registry,
        )
        self._batch_seconds = Histogram(
            "consumer_batch_seconds",
            "Time to apply and commit one batch",
            ["consumer"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )

    def subscribe(self, broker: KafkaBroker, *topics: str, max_records: int = 2000) -> None:
        """Register this consumer on `broker` as consumer group `name`.

        A partition fetch may bring about `max_records` upstream events (a few
        hundred bytes each), so a batch can fill from one busy partition while
        the prefetched bytes per partition stay bounded.
        """

        @broker.subscriber(
            *topics,
            group_id=self.name,
            batch=True,
            max_records=max_records,
            max_partition_fetch_bytes=partition_fetch_bytes(max_records),
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.MANUAL,
            parser=raw_batch_parser,
            decoder=raw_batch_decoder,
            title=self.name,
        )
        async def consume(message: KafkaMessage) -> None:
            await self.handle(message)

    async def handle(self, message: KafkaMessage) -> None:
        """Apply one batch and acknowledge it, or rewind it for a retry."""
        records: tuple[ConsumerRecord[bytes, bytes], ...] = message.raw_message
        deliveries = self._deliveries(records)
        self._batch_records.labels(self.name).observe(len(records))
        with self._batch_seconds.labels(self.name).time():
            try:
                applied = await self._apply_batch_retrying(deliveries)
            except Exception as exc:
                if _transient(exc):
                    await self._rewind(message, "database unavailable; batch rewound", exc)
                    return
                log.warning(
                    "batch failed; applying one event at a time",
                    consumer=self.name,
                    error=str(exc)[:300],
                )
                try:
                    applied = await self._apply_one_by_one(deliveries)
                except Exception as retry:  # whatever it was: rewind, never leave it unanswered
                    await self._rewind(
                        message, "could not isolate the failing event; batch rewound", retry
                    )
                    return
        await message.ack()
        self._records.labels(self.name, "applied").inc(applied)
        self._records.labels(self.name, "duplicate").inc(len(deliveries) - applied)
        self._after_commit()

    async def _rewind(self, message: KafkaMessage, what: str, exc: BaseException) -> None:
        """Rewind the batch (it is read again after a pause) and count why."""
        log.warning(what, consumer=self.name, error=f"{type(exc).__name__}: {exc}"[:300])
        self._records.labels(self.name, "rewound").inc(len(message.raw_message))
        await message.nack()
        await asyncio.sleep(self._retry_seconds)

    def _deliveries(self, records: Sequence[ConsumerRecord[bytes, bytes]]) -> list[Delivery]:
        deliveries = []
        for record in records:
            delivery = self._decode(record)
            if delivery is None:
                self._records.labels(self.name, "skipped_invalid").inc()
            else:
                deliveries.append(delivery)
        return deliveries

    async def _apply_batch(self, deliveries: Sequence[Delivery]) -> int:
        if not deliveries:
            return 0
        async with self._sessions() as session, session.begin():
            keys = [d.key for d in deliveries if d.key is not None]
            fresh = await claim(session, self.name, keys) if keys else set()
            todo = []
            for delivery in deliveries:  # unclaimed ones, and the first copy of each fresh key
                key = delivery.key
                if key is None:
                    todo.append(delivery)
                elif key in fresh:
                    fresh.discard(key)
                    todo.append(delivery)
            if todo:
                await self._apply(session, todo)
        return len(todo)

    async def _apply_batch_retrying(self, deliveries: Sequence[Delivery], attempts: int = 5) -> int:
        """Apply the batch, redoing it when it lost a race (a deadlock with another
        instance): nothing of a rolled-back attempt remains."""
        for attempt in range(1, attempts + 1):
            try:
                return await self._apply_batch(deliveries)
            except DBAPIError as exc:
                if not _conflict(exc) or attempt == attempts:
                    raise
                self._records.labels(self.name, "conflict_retried").inc(len(deliveries))
                log.info("batch lost a race; retrying", consumer=self.name, attempt=attempt)
                await asyncio.sleep(0.05 * attempt)
        raise AssertionError("unreachable")

    async def _apply_one_by_one(self, deliveries: Sequence[Delivery]) -> int:
        applied = 0
        for delivery in deliveries:
            try:
                applied += await self._apply_batch_retrying([delivery])
            except Exception as exc:
                if _retryable(exc):  # says nothing about the event: the batch is rewound
                    raise
                reason = f"{type(exc).__name__}: {exc}"
                log.error(
                    "event dead-lettered", consumer=self.name, key=delivery.key, reason=reason[:300]
                )
                await self._dead_letters.send_all(
                    [dead_letter(delivery.record, reason=reason, consumer=self.name)]
                )
                if delivery.key is not None:  # never retried on replay
                    async with self._sessions() as session, session.begin():
                        await claim(session, self.name, [delivery.key])
                self._records.labels(self.name, "dead_lettered").inc()
        return applied


async def claim(session: AsyncSession, consumer: str, keys: Sequence[str]) -> set[str]:
    """Record `keys` as processed by `consumer`; return those that were not yet."""
    if not keys:
        return set()
    result = await sql.execute(
        session,
        "INSERT INTO processed_events (consumer, event_id) "
        f"SELECT :consumer, k FROM {sql.unnest({'keys': 'text'})} AS k "
        "ON CONFLICT DO NOTHING RETURNING event_id",
        {"consumer": consumer, "keys": list(dict.fromkeys(keys))},
    )
    return set(result.scalars())


class DedupRetention:
    """Forgets processed-event keys older than the topics keep their events (a background
    component).

    A key only matters while its event can be delivered again: once Kafka's
    retention has dropped the event, replaying the topic cannot bring it back,
    so `DEDUP_RETENTION_DAYS` (default 8) should exceed the raw topics'
    retention (7 days by default). Deletes run in small chunks, so they never
    hold a long lock against the consumers inserting keys.
    """

    name = "dedup-retention"

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        retention: timedelta,
        registry: CollectorRegistry | None = None,
        every_seconds: float = 3600.0,
        chunk: int = 20_000,
    ) -> None:
        self._engine = engine
        self._retention = retention
        self._chunk = chunk
        self._loop = Periodic(
            self.name, self._prune, interval=every_seconds, registry=registry or new_registry()
        )

    async def prune_once(self) -> int:
        """Delete every key older than the retention; return how many went."""
        removed = 0
        while True:
            async with self._engine.begin() as conn:
                result = await sql.execute(
                    conn,
                    "DELETE FROM processed_events WHERE ctid IN (SELECT ctid FROM processed_events "
                    "WHERE processed_at < now() - CAST(:age AS interval) LIMIT :n)",
                    {"age": self._retention, "n": self._chunk},
                )
            removed += result.rowcount
            if result.rowcount < self._chunk:
                return removed

    async def _prune(self) -> None:
        removed = await self.prune_once()
        if removed:
            log.info("processed-event keys pruned", removed=removed)

    async def start(self) -> None:
        await self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()
