"""A poison record near Kafka's size limit still reaches the dead-letter topic (shortened,
with its hash), so the partition it came from moves on."""

from __future__ import annotations

import asyncio
import hashlib
import uuid

import pytest
from aiokafka import AIOKafkaProducer

from services.ingest.app import create_app
from tests.integration.conftest import ingest_settings
from tests.integration.test_ingest_faults import _committed
from tests.kafka_tools import read_topic

pytestmark = pytest.mark.integration


async def test_a_poison_near_the_size_limit_is_dead_lettered_shortened(kafka: str) -> None:
    group = f"validator-{uuid.uuid4().hex[:8]}"
    tag = uuid.uuid4().hex.encode()
    poison = b"\x00not json " + tag + b"x" * (1_048_000 - len(tag))  # the headers will not fit
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka, enable_idempotence=True, acks="all", max_request_size=2 << 20
    )
    await producer.start()
    try:
        meta = await producer.send_and_wait("cc.calls.v1", poison, key=b"A-huge")
    finally:
        await producer.stop()
    app = create_app(ingest_settings(kafka, validator_group_id=group))
    async with app.router.lifespan_context(app):
        letters = await read_topic(
            kafka,
            "cc.dlq.v1",
            keep=lambda s: (
                s.headers.get("dlq.consumer") == group.encode()
                and s.headers.get("dlq.topic") == b"cc.calls.v1"
                and s.headers.get("dlq.partition") == str(meta.partition).encode()
                and s.headers.get("dlq.offset") == str(meta.offset).encode()
            ),
            until=lambda s: len(s) >= 1,
            within=60,
        )
        assert len(letters) == 1, "the dead letter never reached Kafka"
        (letter,) = letters
        assert letter.headers["dlq.truncated"] == b"true"
        assert letter.headers["dlq.original_bytes"] == str(len(poison)).encode()
        assert letter.headers["dlq.sha256"] == hashlib.sha256(poison).hexdigest().encode()
        assert b"not valid JSON" in letter.headers["dlq.reason"]
        assert poison.startswith(letter.value) and tag in letter.value
        for _ in range(60):  # the partition moved on past the poison
            if (await _committed(kafka, group, "cc.calls.v1")).get(
                meta.partition, -1
            ) > meta.offset:
                break
            await asyncio.sleep(0.5)
        else:
            pytest.fail("the validator's partition is blocked")
