"""The outbox relay delivers what was committed, even when the writer or the relay
dies at the worst moment."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid

import orjson
import pytest
from sqlalchemy import text

from shared.contracts.topics import Topic
from shared.db import make_engine
from shared.kafka import EventProducer, ensure_topics
from shared.metrics import new_registry
from shared.outbox import OutboxRelay
from tests.infra import ROOT
from tests.kafka_tools import read_topic

pytestmark = pytest.mark.integration
TOPIC = "test.outbox.v1"  # bytes of no contract: kept off the platform's topics


def _crash(point: str, producer: str, ids: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tests.integration.outbox_crash", point, producer, TOPIC, *ids],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 9, result.stderr


async def _pending(database: str, producer: str) -> int:
    engine = make_engine(database, pool_size=1)
    async with engine.connect() as conn:
        count = await conn.scalar(
            text("SELECT count(*) FROM outbox WHERE producer = :p"), {"p": producer}
        )
    await engine.dispose()
    return int(count or 0)


async def _relay_until_empty(database: str, kafka: str, producer: str) -> None:
    engine = make_engine(database, pool_size=2)
    events = EventProducer(kafka)
    relay = OutboxRelay(
        producer_name=producer,
        engine=engine,
        kafka=events,
        registry=new_registry(),
        poll_seconds=0.05,
    )
    await relay.start()
    try:
        for _ in range(100):
            if await _pending(database, producer) == 0:
                return
            await asyncio.sleep(0.1)
        pytest.fail("the relay did not empty the outbox")
    finally:
        await relay.stop()
        await events.stop()
        await engine.dispose()


@pytest.mark.parametrize("point", ["after-commit", "after-publish"])
async def test_relay_delivers_after_a_crash(database: str, kafka: str, point: str) -> None:
    await ensure_topics(kafka, [Topic(TOPIC, "event_id", "outbox test records")], partitions=3)
    producer = f"test-{uuid.uuid4().hex[:8]}"
    ids = [f"{producer}-{i}" for i in range(25)]
    await asyncio.to_thread(_crash, "after-commit", producer, ids)
    if point == "after-publish":
        await asyncio.to_thread(_crash, "after-publish", producer, ids)
    assert await _pending(database, producer) == len(ids), "the crash lost committed messages"
    await _relay_until_empty(database, kafka, producer)
    seen = await read_topic(
        kafka,
        TOPIC,
        keep=lambda s: s.headers.get("event_id", b"").decode() in set(ids),
        until=lambda s: {x.headers["event_id"].decode() for x in s} >= set(ids),
    )
    if point == "after-publish":  # published by the dead relay, then again: at least once
        seen = await read_topic(
            kafka,
            TOPIC,
            keep=lambda s: s.headers.get("event_id", b"").decode() in set(ids),
            until=lambda s: len(s) >= 2 * len(ids),
        )
    delivered = [orjson.loads(s.value)["event_id"] for s in seen]
    copies = 1 if point == "after-commit" else 2
    assert sorted(delivered) == sorted(ids * copies)
    # per key order and keys survive the relay
    assert all(s.key == s.headers["event_id"] for s in seen)
