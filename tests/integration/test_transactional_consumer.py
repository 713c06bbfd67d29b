"""The transactional consumer against the real PostgreSQL: a batch that loses a race
(deadlock) is redone whole, a poison event is isolated and dead-lettered, and
unclaimed events are applied without a `processed_events` row."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

import orjson
import pytest
from aiokafka.structs import ConsumerRecord
from prometheus_client import CollectorRegistry
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.consumer import Delivery, TransactionalConsumer, upstream_decoder
from shared.contracts.events import SurveyAnswered
from shared.db import make_engine, make_session_factory
from shared.kafka import OutgoingRecord

pytestmark = pytest.mark.integration


class Batch:
    """What the consumer needs of a FastStream batch message."""

    def __init__(self, records: Sequence[ConsumerRecord[bytes, bytes]]) -> None:
        self.raw_message = tuple(records)
        self.acked = self.nacked = 0

    async def ack(self) -> None:
        self.acked += 1

    async def nack(self) -> None:
        self.nacked += 1


class DeadLetters:
    def __init__(self) -> None:
        self.sent: list[OutgoingRecord] = []

    async def send_all(self, records: Sequence[OutgoingRecord]) -> None:
        self.sent.extend(records)


def _record(offset: int, event: dict[str, Any]) -> ConsumerRecord[bytes, bytes]:
    value = orjson.dumps(event)
    return ConsumerRecord("cc.test.v1", 0, offset, 0, 0, b"k", value, None, 1, len(value), ())


def _survey(n: int) -> dict[str, Any]:
    return {
        "type": "survey.answered",
        "event_id": f"sv-{uuid.uuid4().hex}",
        "source": "crm-1",
        "occurred_at": "2026-03-02T10:00:00+08:00",
        "survey_id": f"s{n}",
        "call_id": f"c{n}",
        "agent_id": "A1",
        "score": 5,
    }


def _state(n: int) -> dict[str, Any]:
    return {
        "type": "agent.state",
        "event_id": f"st-{uuid.uuid4().hex}",
        "source": "switch-1",
        "occurred_at": f"2026-03-02T10:00:{n:02d}+08:00",
        "agent_id": "A1",
        "state": "ready",
    }


@pytest.fixture
async def engine(database: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database, pool_size=2)
    yield engine
    await engine.dispose()


def _consumer(
    engine: AsyncEngine, apply: Any, dead: DeadLetters
) -> tuple[TransactionalConsumer, str, CollectorRegistry]:
    name = f"consumer-test-{uuid.uuid4().hex[:8]}"
    registry = CollectorRegistry()
    consumer = TransactionalConsumer(
        name=name,
        sessions=make_session_factory(engine),
        apply=apply,
        dead_letters=dead,  # type: ignore[arg-type]
        registry=registry,
        decode=upstream_decoder([SurveyAnswered]),
        retry_seconds=0.01,
    )
    return consumer, name, registry


def _count(registry: CollectorRegistry, name: str, outcome: str) -> float:
    value = registry.get_sample_value(
        "consumer_records_total", {"consumer": name, "outcome": outcome}
    )
    return value or 0.0


async def _claimed(engine: AsyncEngine, name: str) -> int:
    async with engine.connect() as conn:
        found = await conn.scalar(
            text("SELECT count(*) FROM processed_events WHERE consumer = :c"), {"c": name}
        )
    return int(found or 0)


async def test_a_batch_that_loses_a_deadlock_is_redone_whole(engine: AsyncEngine) -> None:
    attempts: list[int] = []

    async def apply(session: AsyncSession, deliveries: Sequence[Delivery]) -> None:
        attempts.append(len(deliveries))
        if len(attempts) == 1:  # a real deadlock error from the server, then success
            await session.execute(
                text("DO $$ BEGIN RAISE EXCEPTION 'lost' USING ERRCODE = '40P01'; END $$")
            )

    dead = DeadLetters()
    consumer, name, registry = _consumer(engine, apply, dead)
    batch = Batch([_record(0, _survey(1)), _record(1, _state(1)), _record(2, _survey(2))])
    await consumer.handle(batch)  # type: ignore[arg-type]
    assert attempts == [3, 3]  # the whole batch twice, never one by one
    assert (batch.acked, batch.nacked, dead.sent) == (1, 0, [])
    assert _count(registry, name, "applied") == 3
    assert _count(registry, name, "conflict_retried") == 3
    assert await _claimed(engine, name) == 2  # surveys only: the state change is unclaimed

    # redelivered: claimed surveys are skipped, the unclaimed state change is applied again
    again = Batch(batch.raw_message)
    await consumer.handle(again)  # type: ignore[arg-type]
    assert attempts[-1] == 1
    assert _count(registry, name, "duplicate") == 2


async def test_a_poison_event_is_isolated_and_dead_lettered(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text("CREATE TABLE IF NOT EXISTS consumer_test_applied (consumer text, survey text)")
        )

    async def apply(session: AsyncSession, deliveries: Sequence[Delivery]) -> None:
        for delivery in deliveries:
            if delivery.payload.survey_id == "s2":
                raise ValueError("cannot apply s2")
            await session.execute(
                text("INSERT INTO consumer_test_applied VALUES (:c, :s)"),
                {"c": name, "s": delivery.payload.survey_id},
            )

    dead = DeadLetters()
    consumer, name, registry = _consumer(engine, apply, dead)
    batch = Batch([_record(n, _survey(n)) for n in (1, 2, 3)])
    await consumer.handle(batch)  # type: ignore[arg-type]
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT survey FROM consumer_test_applied WHERE consumer = :c ORDER BY 1"),
            {"c": name},
        )
        applied = [r[0] for r in rows]
    assert applied == ["s1", "s3"]  # the failed batch rolled back, then one by one
    assert batch.acked == 1
    assert len(dead.sent) == 1 and b'"survey_id":"s2"' in dead.sent[0].value
    assert _count(registry, name, "dead_lettered") == 1
    assert await _claimed(engine, name) == 3  # the poison is never retried on replay
