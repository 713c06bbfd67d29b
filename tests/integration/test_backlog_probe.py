"""The backlog probe measures a group's lag per partition and recovers when Kafka was
down the first time it was asked."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from shared.contracts.topics import Topic
from shared.kafka import BacklogProbe, EventProducer, OutgoingRecord, ensure_topics
from tests.infra import Infrastructure

pytestmark = pytest.mark.integration
T = TypeVar("T")


async def _answer(ask: Callable[[], Awaitable[T]], within: float) -> T:
    """The probe's answer once Kafka gives one (a fresh broker may not have a coordinator yet)."""
    deadline = time.monotonic() + within
    while True:
        try:
            return await asyncio.wait_for(ask(), 15)
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(1)


async def test_the_probe_counts_each_partitions_backlog(kafka: str) -> None:
    topic = Topic(f"cc.test-probe-{uuid.uuid4().hex[:8]}.v1", "key", "probe test")
    await ensure_topics(kafka, [topic], partitions=2)
    producer = EventProducer(kafka)
    try:
        await producer.send_all([OutgoingRecord(topic.name, b"x", key=b"k")] * 3)
    finally:
        await producer.stop()
    probe = BacklogProbe(kafka, f"probe-{uuid.uuid4().hex[:8]}", [topic.name])
    try:
        lags = await _answer(probe.lags, 60)
        assert sorted(lags.values()) == [0, 3] and set(lags) == {(topic.name, 0), (topic.name, 1)}
        assert await probe.backlog() == 3
    finally:
        await probe.stop()


async def test_a_probe_first_used_while_kafka_is_down_recovers(
    infra: Infrastructure, kafka: str
) -> None:
    if infra.broker is None:
        pytest.skip(f"the broker cannot be stopped and restarted on the {infra.origin} path")
    probe = BacklogProbe(kafka, f"probe-{uuid.uuid4().hex[:8]}", ["cc.calls.v1"])
    await asyncio.to_thread(infra.broker.stop)
    try:
        with pytest.raises(Exception):  # noqa: B017 - whatever the client raises: Kafka is down
            await asyncio.wait_for(probe.backlog(), 30)
    finally:
        await asyncio.to_thread(infra.broker.start)
    try:
        assert await _answer(probe.backlog, 90) >= 0
    finally:
        await probe.stop()
