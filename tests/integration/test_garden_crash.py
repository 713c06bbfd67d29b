"""The garden process killed (-9) while it grows plants from a stream of settled scores:
after a restart every plant is what `grow` computes, every timeline entry is recorded once
and every entry's event is on `cc.garden.v1`."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import text

from services.garden.domain.config import DEFAULT_CONFIG
from services.garden.domain.growth import grow
from services.garden.domain.plant import plant_of, settled_day
from shared.contracts.scores import ScoreSettled
from shared.db import make_engine
from tests.infra import STATE
from tests.integration.alerting_support import wait_for
from tests.integration.garden_support import JWT_SECRET, garden_events, produce, score, tag
from tests.reliability.processes import Service

pytestmark = pytest.mark.integration
D0 = date(2026, 1, 1)
INDICATORS = ("satisfaction", "fcr", "aht", "call_volume", "utilization", "complaint_rate")


async def _count(database: str, sql: str, owners: list[str]) -> int:
    engine = make_engine(database, pool_size=1)
    try:
        async with engine.connect() as conn:
            return int(await conn.scalar(text(sql), {"o": owners}))
    finally:
        await engine.dispose()


async def test_kill_9_mid_stream_loses_and_repeats_nothing(kafka: str, database: str) -> None:
    suffix = tag()
    owners = [f"K{suffix}-{i}" for i in range(40)]
    events: list[ScoreSettled] = []
    for offset in range(30):
        for n, owner in enumerate(owners):
            for k, indicator in enumerate(INDICATORS):
                state = ("healthy", "pests", "withered")[(n + k + offset) % 7 % 3]
                points = float((n * 3 + k * 5 + offset * 7) % 11)
                day = D0 + timedelta(days=offset)
                events.append(score(owner, day, points, state, indicator=indicator))  # type: ignore[arg-type]
    expected = {}
    by_plant: dict[object, list[ScoreSettled]] = {}
    for event in events:
        by_plant.setdefault(plant_of(event), []).append(event)
    for plant, scores in by_plant.items():
        expected[plant] = grow(plant, [settled_day(s) for s in scores], lambda _: DEFAULT_CONFIG)  # type: ignore[arg-type]
    entry_ids = {e.entry_id for h in expected.values() for e in h.timeline}

    env = {
        "KAFKA_BOOTSTRAP_SERVERS": kafka,
        "DATABASE_URL": database,
        "CONSUMER_GROUP": f"garden-crash-{uuid.uuid4().hex[:6]}",
        "JWT_SECRET": JWT_SECRET,
        "AUTO_HARVEST_ENABLED": "false",
        "TOPIC_PARTITIONS": "3",
        "BATCH_MAX_RECORDS": "500",
    }
    garden = Service("garden", "services.garden", env, STATE / "logs" / f"garden-crash-{suffix}")
    await garden.start()
    try:
        await produce(kafka, events)
        days_sql = "SELECT count(*) FROM garden_plant_days WHERE owner_id = ANY(:o)"
        await wait_for(
            lambda: _above(_count(database, days_sql, owners), len(events) // 5), within=90
        )
        garden.kill()
        grown = await _count(database, days_sql, owners)
        assert grown < len(events), "killed before the stream was applied"
        await garden.start()
        timeline_sql = "SELECT count(*) FROM garden_timeline WHERE owner_id = ANY(:o)"
        await wait_for(
            lambda: _above(_count(database, timeline_sql, owners), len(entry_ids) - 1), within=120
        )
        published = await wait_for(lambda: _published(kafka, set(owners), entry_ids), within=60)
    finally:
        await garden.stop(20)
    assert await _count(database, timeline_sql, owners) == len(entry_ids)
    assert published == entry_ids
    engine = make_engine(database, pool_size=1)
    try:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT owner_id, indicator, growth, cycle, state FROM garden_plants "
                        "WHERE owner_id = ANY(:o)"
                    ),
                    {"o": owners},
                )
            ).all()
    finally:
        await engine.dispose()
    assert len(rows) == len(expected)
    for owner_id, indicator, growth, cycle, state in rows:
        history = next(
            h
            for p, h in expected.items()
            if (p.owner_id, p.indicator) == (owner_id, indicator)  # type: ignore[attr-defined]
        )
        assert (cycle, state) == (history.cycle, history.state)
        assert growth == pytest.approx(history.growth)


async def _above(count: object, floor: int) -> bool:
    return bool(await count > floor)  # type: ignore[operator]


async def _published(kafka: str, owners: set[str], expected: set[str]) -> set[str] | None:
    seen = {e.event_id for e in await garden_events(kafka, owners)}
    return seen if seen >= expected else None
