"""The transactional consumer through the real Kafka and PostgreSQL when things break:
the database restarts in the middle of a batch being isolated one event at a time,
and a lost race in that mode; every failure ends in an acknowledgement or a rewind."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

import orjson
import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.consumer import Delivery, TransactionalConsumer, upstream_decoder
from shared.contracts.events import SurveyAnswered
from shared.contracts.topics import Topic
from shared.db import make_engine, make_session_factory
from shared.kafka import EventProducer, OutgoingRecord, ensure_topics
from shared.kafka_consume import make_broker
from tests.infra import Infrastructure
from tests.integration.test_ingest_faults import _committed
from tests.integration.test_transactional_consumer import Batch, DeadLetters, _record

pytestmark = pytest.mark.integration


def _survey(tag: str, n: int) -> dict[str, Any]:
    return {
        "type": "survey.answered",
        "event_id": f"sv-{tag}-{n}",
        "source": "crm-1",
        "occurred_at": "2026-03-02T10:00:00+08:00",
        "survey_id": f"s{n}",
        "call_id": f"c{n}",
        "agent_id": "A1",
        "score": 5,
    }


@pytest.fixture
async def engine(database: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database, pool_size=2)
    async with engine.begin() as conn:
        await conn.execute(
            text("CREATE TABLE IF NOT EXISTS consumer_fault_applied (consumer text, survey text)")
        )
    yield engine
    await engine.dispose()


async def _applied(engine: AsyncEngine, name: str) -> list[str]:
    for _ in range(100):  # the server may still be coming back
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(
                    text("SELECT survey FROM consumer_fault_applied WHERE consumer = :c"),
                    {"c": name},
                )
                return [r[0] for r in rows]
        except Exception:
            await asyncio.sleep(0.5)
    raise AssertionError("the database did not come back")


async def _wait_for(condition: Any, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.5)
    pytest.fail(f"not within {within}s: {what}")


async def test_a_database_restart_while_isolating_a_poison_loses_and_duplicates_nothing(
    infra: Infrastructure, kafka: str, engine: AsyncEngine
) -> None:
    if infra.database_server is None:
        pytest.skip(f"the database cannot be restarted on the {infra.origin} path")
    server = infra.database_server
    tag = uuid.uuid4().hex[:8]
    topic = Topic(f"cc.test-restart-{tag}.v1", "agent_id", "consumer fault test")
    await ensure_topics(kafka, [topic], partitions=1)
    name = f"consumer-restart-{tag}"
    restarted = threading.Event()

    async def apply(session: AsyncSession, deliveries: Sequence[Delivery]) -> None:
        for delivery in deliveries:
            survey = delivery.payload.survey_id
            if survey == "s5":
                raise ValueError("s5 cannot be applied")
            if survey == "s6" and len(deliveries) == 1 and not restarted.is_set():
                # one event at a time after the poison: the server shuts down (fast: it
                # ends this transaction's statement, AdminShutdown) and comes back
                restarted.set()

                def restart() -> None:
                    server.stop()
                    server.start()

                threading.Thread(target=restart, daemon=True).start()
                await session.execute(text("SELECT pg_sleep(60)"))
            await session.execute(
                text("INSERT INTO consumer_fault_applied VALUES (:c, :s)"),
                {"c": name, "s": survey},
            )

    producer = EventProducer(kafka)
    broker = make_broker(kafka, service="consumer-test", registry=CollectorRegistry())
    consumer = TransactionalConsumer(
        name=name,
        sessions=make_session_factory(engine),
        apply=apply,
        dead_letters=producer,
        registry=CollectorRegistry(),
        decode=upstream_decoder([SurveyAnswered]),
        retry_seconds=0.2,
    )
    consumer.subscribe(broker, topic.name, max_records=100)
    first = [_survey(tag, n) for n in range(1, 21)]
    second = [_survey(tag, n) for n in range(21, 31)]

    def records(events: list[dict[str, Any]]) -> list[OutgoingRecord]:
        return [OutgoingRecord(topic.name, orjson.dumps(e), key=b"A1") for e in events]

    await producer.send_all(records(first))  # one fetch: the poison and s6 in one batch
    await broker.start()
    try:

        async def isolating() -> bool:
            return restarted.is_set()

        await _wait_for(isolating, 60, "the poison's batch was isolated")
        await producer.send_all(records(second))
        wanted = sorted(e["survey_id"] for e in first + second if e["survey_id"] != "s5")

        async def all_applied() -> bool:
            return sorted(set(await _applied(engine, name))) == wanted

        await _wait_for(all_applied, 120, "every valid event applied after the restart")

        async def all_committed() -> bool:
            return (await _committed(kafka, name, topic.name)).get(0, -1) >= 30

        await _wait_for(all_committed, 60, "the offsets committed to the end")
    finally:
        await broker.stop()
        await producer.stop()
    assert sorted(await _applied(engine, name)) == wanted  # each exactly once


async def test_a_lost_race_while_isolating_is_retried_not_dead_lettered(
    engine: AsyncEngine,
) -> None:
    tag = uuid.uuid4().hex[:8]
    name = f"consumer-race-{tag}"
    lost: list[str] = []

    async def apply(session: AsyncSession, deliveries: Sequence[Delivery]) -> None:
        for delivery in deliveries:
            survey = delivery.payload.survey_id
            if survey == "s2":
                raise ValueError("s2 cannot be applied")
            if survey == "s3" and len(deliveries) == 1 and len(lost) < 2:
                lost.append(survey)  # another instance wins twice: deadlock, then serialization
                state = "40P01" if len(lost) == 1 else "40001"
                await session.execute(
                    text(f"DO $$ BEGIN RAISE EXCEPTION 'lost' USING ERRCODE = '{state}'; END $$")
                )
            await session.execute(
                text("INSERT INTO consumer_fault_applied VALUES (:c, :s)"),
                {"c": name, "s": survey},
            )

    dead = DeadLetters()
    consumer = TransactionalConsumer(
        name=name,
        sessions=make_session_factory(engine),
        apply=apply,
        dead_letters=dead,  # type: ignore[arg-type]
        registry=CollectorRegistry(),
        decode=upstream_decoder([SurveyAnswered]),
        retry_seconds=0.01,
    )
    batch = Batch([_record(n, _survey(tag, n)) for n in (1, 2, 3, 4)])
    await consumer.handle(batch)  # type: ignore[arg-type]
    assert lost == ["s3", "s3"]
    assert [orjson.loads(d.value)["survey_id"] for d in dead.sent] == ["s2"]  # only the poison
    assert sorted(await _applied(engine, name)) == ["s1", "s3", "s4"]
    assert (batch.acked, batch.nacked) == (1, 0)
