"""A producer whose sequence numbers the broker refuses (`OutOfOrderSequenceNumber`, as
after a batch lost while the broker restarted) is replaced by a fresh one: the failed send
answers `KafkaUnavailable` and the next one is delivered, instead of every later send to
that partition failing until the process restarts."""

from __future__ import annotations

import uuid

import pytest
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from shared.kafka import EventProducer, KafkaUnavailable, OutgoingRecord
from tests.kafka_tools import read_all

pytestmark = pytest.mark.integration


async def test_a_producer_out_of_sequence_is_replaced(kafka: str) -> None:
    topic = f"test-sequence-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    finally:
        await admin.close()
    producer = EventProducer(kafka, send_timeout=10)
    await producer.start()
    try:
        await producer.send_all([OutgoingRecord(topic, b"first")])
        inner = producer._producer
        assert inner is not None
        # the sequence runs ahead of what the broker has: the state a lost batch leaves
        inner._txn_manager.increment_sequence_number(TopicPartition(topic, 0), 5)
        with pytest.raises(KafkaUnavailable, match="OutOfOrderSequenceNumber"):
            await producer.send_all([OutgoingRecord(topic, b"refused")])
        await producer.send_all([OutgoingRecord(topic, b"second"), OutgoingRecord(topic, b"third")])
        await producer.send_all([OutgoingRecord(topic, b"fourth")])
    finally:
        await producer.stop()
    assert [r.value for r in await read_all(kafka, topic)] == [
        b"first",
        b"second",
        b"third",
        b"fourth",
    ]
