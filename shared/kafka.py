"""Kafka plumbing: producer settings, a delivery-confirming producer, topics, brokers.

Every producer in the platform is idempotent with `acks=all`: a retried send
never duplicates within a partition, and a send counts only once every in-sync
replica has the record.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import (
    InvalidProducerEpoch,
    InvalidProducerIdMapping,
    KafkaError,
    OutOfOrderSequenceNumber,
    ProducerFenced,
    TopicAlreadyExistsError,
)
from aiokafka.partitioner import DefaultPartitioner

from shared.contracts.topics import ALL_TOPICS, Topic

Headers = list[tuple[str, bytes]]
SPENT_PRODUCER_ERRORS = (
    OutOfOrderSequenceNumber,
    InvalidProducerEpoch,
    InvalidProducerIdMapping,
    ProducerFenced,
)
"""Errors after which the broker refuses every further batch of this producer id (e.g. a
batch lost while the broker restarted leaves a gap in the sequence): only a new producer,
with a new id and fresh sequence numbers, delivers again."""


class KafkaUnavailable(RuntimeError):
    """Kafka did not acknowledge a send in time; nothing may be reported as delivered."""


@dataclass(frozen=True, slots=True)
class OutgoingRecord:
    """One record to publish."""

    topic: str
    value: bytes
    key: bytes | None = None
    headers: Headers = field(default_factory=list)


def producer_options(bootstrap_servers: str, **overrides: Any) -> dict[str, Any]:
    """Return the options every producer uses (idempotent, acks=all, small linger)."""
    options: dict[str, Any] = {
        "bootstrap_servers": bootstrap_servers,
        "enable_idempotence": True,
        "acks": "all",
        # A few ms of linger lets concurrent requests share one produce request.
        "linger_ms": 2,
        "max_batch_size": 256 * 1024,
        "request_timeout_ms": 10_000,
        "client_id": "service-garden",
    }
    options.update(overrides)
    return options


class EventProducer:
    """An idempotent producer that confirms delivery of whole groups of records."""

    def __init__(self, bootstrap_servers: str, *, send_timeout: float = 10.0, **overrides: Any):
        self._options = producer_options(bootstrap_servers, **overrides)
        self._send_timeout = send_timeout
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()
        self._partitioner = DefaultPartitioner()

    async def start(self) -> None:
        """Connect, retrying in the background is aiokafka's job once started."""
        producer = AIOKafkaProducer(**self._options)
        try:
            await producer.start()
        except BaseException:
            await producer.stop()
            raise
        self._producer = producer

    async def ensure_started(self) -> None:
        """Start the producer if it is not running (used after Kafka was down at boot)."""
        if self._producer is not None:
            return
        async with self._lock:
            if self._producer is None:
                try:
                    await self.start()
                except (KafkaError, OSError) as exc:
                    raise KafkaUnavailable(f"cannot connect to Kafka: {exc}") from exc

    async def stop(self) -> None:
        """Flush what is buffered and disconnect."""
        if self._producer is not None:
            producer, self._producer = self._producer, None
            await producer.stop()

    @property
    def started(self) -> bool:
        return self._producer is not None

    async def send_all(self, records: Sequence[OutgoingRecord]) -> None:
        """Publish every record and return only once Kafka acknowledged all of them.

        Raises `KafkaUnavailable` if any record is not acknowledged within the
        send timeout; some may then have been written (consumers deduplicate on
        `event_id`), but the caller must not report success.
        """
        await self.ensure_started()
        producer = self._producer
        assert producer is not None
        try:
            async with asyncio.timeout(self._send_timeout):
                if len(records) == 1:
                    r = records[0]
                    futures = [await producer.send(r.topic, r.value, key=r.key, headers=r.headers)]
                else:
                    futures = await self._send_batches(producer, records)
                await asyncio.gather(*futures)
        except (KafkaError, TimeoutError) as exc:
            if isinstance(exc, SPENT_PRODUCER_ERRORS):
                await self._replace(producer)
            raise KafkaUnavailable(
                f"Kafka did not acknowledge: {type(exc).__name__} {exc}"
            ) from exc

    async def _replace(self, producer: AIOKafkaProducer) -> None:
        """Drop a producer the broker no longer accepts; the next send starts a new one."""
        async with self._lock:
            replaced = self._producer is not producer  # by a concurrent send already
            if replaced:
                return
            self._producer = None
        with contextlib.suppress(KafkaError, TimeoutError):
            async with asyncio.timeout(self._send_timeout):
                await producer.stop()

    async def _send_batches(
        self, producer: AIOKafkaProducer, records: Sequence[OutgoingRecord]
    ) -> list[asyncio.Future[Any]]:
        """Queue `records` as one record batch per partition (in order within each).

        Partitioning is the Java client's (murmur2 of the key), the same as
        `send()` uses, so a key lands on one partition whichever path sends it.
        Building batches directly skips the per-record coroutine of `send()`,
        which is most of a large request's cost.
        """
        groups: dict[tuple[str, int], list[OutgoingRecord]] = {}
        partitions: dict[str, list[int]] = {}
        for record in records:
            if record.topic not in partitions:
                partitions[record.topic] = sorted(await producer.partitions_for(record.topic))
            every = partitions[record.topic]
            partition = self._partitioner(record.key, every, every)
            groups.setdefault((record.topic, partition), []).append(record)
        futures = []
        for (topic, partition), members in groups.items():
            batch = producer.create_batch()
            for record in members:
                if (
                    batch.append(
                        key=record.key, value=record.value, timestamp=None, headers=record.headers
                    )
                    is None
                ):
                    futures.append(await producer.send_batch(batch, topic, partition=partition))
                    batch = producer.create_batch()
                    if (
                        batch.append(
                            key=record.key,
                            value=record.value,
                            timestamp=None,
                            headers=record.headers,
                        )
                        is None
                    ):
                        raise KafkaError(
                            f"a record of {len(record.value)} bytes exceeds the batch size"
                        )
            futures.append(await producer.send_batch(batch, topic, partition=partition))
        return futures

    async def check_reachable(self) -> None:
        """Raise unless a broker answers a metadata request now (not from cache)."""
        await self.ensure_started()
        assert self._producer is not None
        await self._producer.client.fetch_all_metadata()


async def ensure_topics(
    bootstrap_servers: str,
    topics: Iterable[Topic] = ALL_TOPICS,
    *,
    partitions: int = 6,
    replication_factor: int = 1,
) -> None:
    """Create the topics that do not exist yet and give every one the registry's settings
    (retention, segment roll, append-time timestamps; idempotent).

    A topic created before with other values (broker defaults keep a segment open
    for a week) is altered to them; other settings an operator put on it stay.
    """
    topics = list(topics)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(
                t.name,
                num_partitions=partitions,
                replication_factor=replication_factor,
                topic_configs=t.configs(),
            )
            for t in topics
            if t.name not in existing
        ]
        created: set[str] = set()
        if missing:
            # Another service may create them in the meantime: those are configured below.
            with contextlib.suppress(TopicAlreadyExistsError):
                response = await admin.create_topics(missing)
                for name, code, *message in response.topic_errors:
                    if code == 0:
                        created.add(name)
                    elif code != TopicAlreadyExistsError.errno:
                        raise KafkaError(f"cannot create topic {name}: error {code} {message}")
        await _configure(admin, [t for t in topics if t.name not in created])
    finally:
        await admin.close()


_TOPIC_OVERRIDE = 1
"""`config_source` of a setting made on the topic itself (DYNAMIC_TOPIC_CONFIG)."""


async def _configure(admin: AIOKafkaAdminClient, topics: Sequence[Topic]) -> None:
    """Alter the topics whose settings differ from the registry's."""
    if not topics:
        return
    current: dict[str, dict[str, tuple[str, int]]] = {}
    for attempt in range(20):  # a topic created a moment ago may not be known everywhere yet
        described = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, t.name) for t in topics]
        )
        unknown = []
        for response in described:
            for code, message, _kind, name, entries in response.resources:
                if code:
                    unknown.append(f"{name}: error {code} {message}")
                current[name] = {e[0]: (e[1], e[3]) for e in entries}
        if not unknown:
            break
        if attempt == 19:
            raise KafkaError(f"cannot describe topics: {'; '.join(unknown)}")
        await asyncio.sleep(0.5)
    changes = []
    for topic in topics:
        have = current.get(topic.name, {})
        wanted = topic.configs()
        if all(have.get(k, ("", 0))[0] == v for k, v in wanted.items()):
            continue
        kept = {k: v for k, (v, source) in have.items() if source == _TOPIC_OVERRIDE}
        changes.append(ConfigResource(ConfigResourceType.TOPIC, topic.name, configs=kept | wanted))
    if not changes:
        return
    for response in await admin.alter_configs(changes):
        for code, message, _kind, name in response.resources:
            if code:
                raise KafkaError(f"cannot configure topic {name}: error {code} {message}")


class BacklogProbe:
    """Measures a consumer group's backlog: records on its topics not yet committed.

    Its clients connect at first use; if Kafka is unreachable then, the next
    call tries again, so a probe that first ran during an outage recovers.
    """

    def __init__(self, bootstrap_servers: str, group: str, topics: Iterable[str]) -> None:
        self._bootstrap = bootstrap_servers
        self.group = group
        self._group = group
        self._topics = list(topics)
        self._admin: AIOKafkaAdminClient | None = None
        self._reader: AIOKafkaConsumer | None = None
        self._lock = asyncio.Lock()

    async def _clients(self) -> tuple[AIOKafkaAdminClient, AIOKafkaConsumer]:
        async with self._lock:
            if self._admin is None or self._reader is None:
                admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap)
                reader = AIOKafkaConsumer(
                    bootstrap_servers=self._bootstrap, enable_auto_commit=False
                )
                try:
                    await admin.start()
                    await reader.start()
                except BaseException:
                    await _close(admin, reader)
                    raise
                self._admin, self._reader = admin, reader
            return self._admin, self._reader

    async def lags(self) -> dict[tuple[str, int], int]:
        """Return, per (topic, partition), how many records the group has yet to commit
        (raises if Kafka is down)."""
        admin, reader = await self._clients()
        metadata = await reader._client.fetch_all_metadata()
        partitions = [
            TopicPartition(t, p)
            for t in self._topics
            for p in metadata.partitions_for_topic(t) or ()
        ]
        ends = await reader.end_offsets(partitions)
        committed = await admin.list_consumer_group_offsets(self._group)
        lags = {}
        for tp, end in ends.items():
            done = committed.get(tp)
            lags[(tp.topic, tp.partition)] = end - (
                done.offset if done is not None and done.offset >= 0 else 0
            )
        return lags

    async def backlog(self) -> int:
        """Return how many records the group has yet to commit (raises if Kafka is down)."""
        return sum((await self.lags()).values())

    async def stop(self) -> None:
        admin, reader, self._admin, self._reader = self._admin, self._reader, None, None
        await _close(admin, reader)


async def _close(admin: AIOKafkaAdminClient | None, reader: AIOKafkaConsumer | None) -> None:
    """Close clients that may never have started."""
    if reader is not None:
        with contextlib.suppress(Exception):
            await reader.stop()
    if admin is not None:
        with contextlib.suppress(Exception):
            await admin.close()
