"""Consumer lag is exported per group, topic and partition (`consumer_lag_records`), measured
against the real broker: a group at the start lags by every record on the topic, and
by nothing once it committed the end."""

from __future__ import annotations

import uuid

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from prometheus_client import generate_latest

from shared.contracts.topics import Topic
from shared.foundation import Foundation
from shared.kafka import BacklogProbe, EventProducer, OutgoingRecord, ensure_topics
from shared.settings import ServiceSettings

pytestmark = pytest.mark.integration


async def _commit(kafka: str, group: str, topic: Topic, *, at_end: bool) -> None:
    """Commit `group`'s position on every partition of `topic`: its start or its end."""
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic.name, p) for p in (0, 1)]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        await consumer.commit({tp: (ends[tp] if at_end else 0) for tp in partitions})
    finally:
        await consumer.stop()


def _lags(registry: object, group: str) -> dict[tuple[str, str], float]:
    found = {}
    for line in generate_latest(registry).decode().splitlines():  # type: ignore[arg-type]
        if line.startswith("consumer_lag_records{") and f'group="{group}"' in line:
            labels, value = line.split("} ")
            parts = dict(p.split("=") for p in labels.split("{", 1)[1].split(","))
            found[(parts["topic"].strip('"'), parts["partition"].strip('"'))] = float(value)
    return found


async def test_the_lag_of_a_group_is_exported_per_partition(kafka: str) -> None:
    topic = Topic(f"test.lag-{uuid.uuid4().hex[:6]}.v1", "key", "lag test records")
    await ensure_topics(kafka, [topic], partitions=2)
    producer = EventProducer(kafka)
    try:
        await producer.send_all(
            [OutgoingRecord(topic.name, b"{}", f"k{i}".encode()) for i in range(30)]
        )
    finally:
        await producer.stop()
    base = Foundation.create(ServiceSettings(kafka_bootstrap_servers=kafka), database=False)
    group = f"lag-{uuid.uuid4().hex[:6]}"
    await _commit(kafka, group, topic, at_end=False)  # the group exists, at the start
    probe = BacklogProbe(kafka, group, [topic.name])
    try:
        exporter = base.consumer_lag(probe)
        await exporter.run_once()
        behind = _lags(base.registry, group)
        assert set(behind) == {(topic.name, "0"), (topic.name, "1")}
        assert sum(behind.values()) == 30
        await _commit(kafka, group, topic, at_end=True)
        await exporter.run_once()
        assert set(_lags(base.registry, group).values()) == {0.0}
    finally:
        await probe.stop()
        await base.close()
