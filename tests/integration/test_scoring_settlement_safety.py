"""Settlement through the real Kafka and PostgreSQL when clocks and timing go wrong: an
event dated a day ahead settles nothing early; an event committed while a day settles is
in the result or counted late; a preview never publishes after the day's settlement."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.scoring import repo
from services.scoring.app import create_app
from services.scoring.config import ScoringSettings
from shared.kafka import EventProducer, OutgoingRecord
from tests import events_factory as ev
from tests.integration.conftest import SCORING_DAY
from tests.integration.scoring_support import ZONE, start_group_at_end
from tests.integration.test_transactional_consumer import Batch, _record

pytestmark = pytest.mark.integration
DAY = SCORING_DAY


def _settings(database: str, kafka: str, group: str, **changes: Any) -> ScoringSettings:
    values: dict[str, Any] = {
        "database_url": database,
        "kafka_bootstrap_servers": kafka,
        "consumer_group": group,
        "preview_seconds": 3600,
        "settle_check_seconds": 0.3,
        "quiet_seconds": 3600,  # the wall clock never settles here: only event time
        "jwt_secret": "scoring-test-secret-of-32-bytes-or-more",
        "topic_partitions": 3,
    }
    return ScoringSettings(**(values | changes))


def _call(agent: str, answered: datetime, **changes: Any) -> dict[str, Any]:
    ended = answered + timedelta(minutes=5)
    return ev.call(
        agent=agent,
        answered_at=answered.isoformat(),
        ended_at=ended.isoformat(),
        occurred_at=ended.isoformat(),
        **changes,
    )


async def _scalar(engine: AsyncEngine, query: str, **params: Any) -> Any:
    async with engine.connect() as conn:
        return await conn.scalar(text(query), params)


async def _until(probe: Callable[[], Awaitable[Any]], within: float, what: str) -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if found := await probe():
            return found
        await asyncio.sleep(0.2)
    pytest.fail(f"not within {within}s: {what}")


async def test_an_event_a_day_ahead_settles_nothing_early(
    scoring_db: tuple[AsyncEngine, str], database: str, kafka: str
) -> None:
    engine, agent = scoring_db
    now = datetime.now(UTC)
    yesterday = now.astimezone(ZONE).date() - timedelta(days=1)  # its FCR window is still open
    noon = datetime.combine(yesterday, datetime.min.time(), ZONE) + timedelta(hours=12)
    group = f"scoring-{uuid.uuid4().hex[:8]}"
    await start_group_at_end(kafka, group)
    app = create_app(_settings(database, kafka, group))
    rounds_histogram = app.state.settlement._metrics.round_seconds

    def settle_rounds() -> float:
        return sum(
            s.value
            for metric in rounds_histogram.collect()
            for s in metric.samples
            if s.name.endswith("_count") and s.labels.get("round") == "settle"
        )

    async with app.router.lifespan_context(app):
        producer = EventProducer(kafka)
        try:  # an upstream producing straight to the raw topic, one clock a day ahead
            events = [_call(agent, noon), _call(agent, now + timedelta(hours=30))]
            await producer.send_all(
                [OutgoingRecord("cc.calls.v1", orjson.dumps(e), agent.encode()) for e in events]
            )
        finally:
            await producer.stop()

        async def applied() -> bool:
            calls = await _scalar(
                engine,
                "SELECT count(*) FROM scoring_fcr_calls WHERE agent_id = :a",
                a=agent,
            )
            return bool(calls == 2)

        await _until(applied, 60, "both calls applied")
        rounds = settle_rounds()

        async def more_rounds() -> bool:
            return settle_rounds() >= rounds + 5

        await _until(more_rounds, 60, "settlement rounds after the events")
        settled = await _scalar(engine, "SELECT count(*) FROM scoring_settled_days")
        mark = await _scalar(engine, "SELECT max(max_occurred_at) FROM scoring_watermarks")
    assert settled == 0, "a day settled before its FCR window closed"
    assert mark <= datetime.now(UTC) + timedelta(minutes=5)


def _app_parts(database: str, kafka: str) -> tuple[Any, Any]:
    """The consumer and the settlement of a scoring app that is not started: the test
    drives them itself; settlement by event time, no backlog in Kafka."""
    app = create_app(_settings(database, kafka, f"scoring-{uuid.uuid4().hex[:8]}"))
    settlement = app.state.settlement

    async def no_backlog() -> dict[tuple[str, int], int]:
        return {}

    settlement._backlog = no_backlog
    settlement._clock = lambda: datetime.combine(DAY + timedelta(days=1), datetime.min.time(), ZONE)
    return app.state.consumer, settlement


NOON = datetime.combine(DAY, datetime.min.time(), ZONE) + timedelta(hours=12)


async def _one_call_applied(
    engine: AsyncEngine, agent: str, database: str, kafka: str
) -> tuple[Any, Any, Batch]:
    """A scoring app's consumer and settlement (not started), the agent's call at noon of
    `DAY` applied through the consumer, and `DAY` due by event time."""
    consumer, settlement = _app_parts(database, kafka)
    batch = Batch([_record(0, _call(agent, NOON))])
    await consumer.handle(batch)
    await _due_by_event_time(engine)
    return consumer, settlement, batch


async def _due_by_event_time(engine: AsyncEngine) -> None:
    """The partitions' events are long past `DAY`: the day is due by event time."""
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE scoring_watermarks SET max_occurred_at = now()"))


async def _waiting_for_a_lock(engine: AsyncEngine) -> bool:
    found = await _scalar(
        engine,
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    return bool(found)


async def test_an_event_committed_while_its_day_settles_is_in_the_result_or_late(
    scoring_db: tuple[AsyncEngine, str],
    database: str,
    kafka: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine, agent = scoring_db
    consumer, settlement, first = await _one_call_applied(engine, agent, database, kafka)
    assert first.acked == 1

    entered, release = asyncio.Event(), asyncio.Event()
    add_to_days = repo.add_to_days

    async def paused(*args: Any) -> None:  # the batch has checked the day, not yet added
        entered.set()
        await release.wait()
        await add_to_days(*args)

    monkeypatch.setattr(repo, "add_to_days", paused)
    second = Batch([_record(1, _call(agent, NOON + timedelta(hours=1)))])
    applying = asyncio.create_task(consumer.handle(second))
    await asyncio.wait_for(entered.wait(), 30)
    settling = asyncio.create_task(settlement.settle_round())

    async def settled_or_waiting() -> bool:
        return settling.done() or await _waiting_for_a_lock(engine)

    await _until(settled_or_waiting, 30, "the settlement finished or waits for the batch")
    release.set()
    await asyncio.wait_for(applying, 30)
    assert await asyncio.wait_for(settling, 30)
    assert second.acked == 1
    volume = await _scalar(
        engine,
        "SELECT value FROM scoring_results WHERE owner_kind = 'agent' AND owner_id = :a "
        "AND business_date = :d AND indicator = 'call_volume' AND settled",
        a=agent,
        d=DAY,
    )
    late = await _scalar(
        engine,
        "SELECT late_events FROM scoring_agent_days WHERE agent_id = :a AND business_date = :d",
        a=agent,
        d=DAY,
    )
    assert volume == 2 or late == 1, f"the second call is lost: settled {volume}, late {late}"


async def test_a_preview_never_publishes_after_the_days_settlement(
    scoring_db: tuple[AsyncEngine, str],
    database: str,
    kafka: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine, agent = scoring_db
    _, settlement, _ = await _one_call_applied(engine, agent, database, kafka)

    entered, release = asyncio.Event(), asyncio.Event()
    stored_results = repo.stored_results

    async def paused(*args: Any) -> Any:  # the preview read its rows, then stalls
        rows = await stored_results(*args)
        if not entered.is_set():
            entered.set()
            await release.wait()
        return rows

    monkeypatch.setattr(repo, "stored_results", paused)
    previewing = asyncio.create_task(settlement.preview_round())
    await asyncio.wait_for(entered.wait(), 30)
    settling = asyncio.create_task(settlement.settle_round())

    async def settled_or_waiting() -> bool:
        return settling.done() or await _waiting_for_a_lock(engine)

    await _until(settled_or_waiting, 30, "the settlement finished or waits for the preview")
    release.set()
    await asyncio.wait_for(previewing, 30)
    assert await asyncio.wait_for(settling, 30)
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT id, headers->>'event_type', payload FROM outbox "
                "WHERE producer = 'scoring' ORDER BY id"
            )
        )
        staged = [(r[0], r[1], orjson.loads(r[2])) for r in rows]
    settled_at: dict[tuple[str, str, str], int] = {}
    late_previews = []
    for outbox_id, kind, event in staged:
        key = (event["owner_kind"], event["owner_id"], event["indicator"])
        if kind == "score.settled":
            settled_at.setdefault(key, outbox_id)
        elif key in settled_at:
            late_previews.append(key)
    assert settled_at, "nothing settled"
    assert late_previews == [], f"{len(late_previews)} previews staged after the settlement"
