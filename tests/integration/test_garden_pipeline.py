"""Settled scores on `cc.scores.v1` grow the plants `grow` computes, with one `cc.garden.v1`
event per timeline entry; a replay (a new consumer group) changes nothing."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.garden.domain.config import DEFAULT_CONFIG
from services.garden.domain.growth import grow
from services.garden.domain.plant import Plant, plant_of, settled_day
from shared.contracts.scores import ScoreSettled
from shared.db import make_engine
from tests.integration.alerting_support import wait_for
from tests.integration.garden_support import (
    garden_events,
    garden_settings,
    produce,
    running_garden,
    score,
    tag,
)
from tests.kafka_tools import settle

pytestmark = pytest.mark.integration
D0 = date(2026, 2, 1)


@pytest.fixture
async def engine(database: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database, pool_size=2)
    yield engine
    await engine.dispose()


def history_of(owners: list[str], seed: int) -> list[ScoreSettled]:
    rng = random.Random(seed)
    states = ["healthy", "healthy", "healthy", "pests", "withered", "not_rated"]
    events = []
    for owner in owners:
        for indicator in ("satisfaction", "fcr"):
            for offset in range(40):
                state = rng.choice(states)
                points = 0.0 if state == "not_rated" else float(rng.choice([2, 4, 6, 8, 10]))
                events.append(
                    score(owner, D0 + timedelta(days=offset), points, state, indicator=indicator)
                )
    rng.shuffle(events)  # owners and indicators interleaved; each plant's days in date order,
    events.sort(key=lambda e: e.business_date)  # as scoring settles them
    return events  # type: ignore[return-value]


async def plant_rows(engine: AsyncEngine, owners: list[str]) -> dict[Plant, dict[str, Any]]:
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT owner_kind, owner_id, indicator, fruit, stage, growth, state, cycle, "
                    "fruit_ripened, last_rated FROM garden_plants WHERE owner_id = ANY(:o)"
                ),
                {"o": owners},
            )
        ).mappings()
        return {Plant(r["owner_kind"], r["owner_id"], r["indicator"]): dict(r) for r in rows}


async def timeline_ids(engine: AsyncEngine, owners: list[str]) -> list[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT entry_id FROM garden_timeline WHERE owner_id = ANY(:o)"), {"o": owners}
        )
        return [r[0] for r in rows]


async def claimed(engine: AsyncEngine, group: str, suffix: str) -> int:
    async with engine.connect() as conn:
        return int(
            await conn.scalar(
                text(
                    "SELECT count(*) FROM processed_events WHERE consumer = :g AND event_id LIKE :t"
                ),
                {"g": group, "t": f"%{suffix}%"},
            )
        )


async def test_settled_scores_grow_the_plants_and_a_replay_changes_nothing(
    kafka: str, database: str, engine: AsyncEngine
) -> None:
    suffix = tag()
    owners = [f"G{suffix}-{i}" for i in range(3)]
    events = history_of(owners, seed=11)
    expected = {}
    by_plant: dict[Plant, list[ScoreSettled]] = {}
    for event in events:
        by_plant.setdefault(plant_of(event), []).append(event)
    for plant, scores in by_plant.items():
        expected[plant] = grow(plant, [settled_day(s) for s in scores], lambda _: DEFAULT_CONFIG)
    entry_ids = {e.entry_id for h in expected.values() for e in h.timeline}
    assert any(h.fruit_ripened for h in expected.values())

    settings = garden_settings(kafka, database)
    async with running_garden(settings):
        await produce(kafka, events[: len(events) // 2])
        await produce(kafka, events[len(events) // 2 :])
        await produce(
            kafka,
            [score(owners[0], D0 + timedelta(days=40), 7.0, settled=False, revision=3)],
        )

        async def grown() -> bool:
            rows = await plant_rows(engine, owners)
            return len(rows) == len(expected) and all(
                rows[p]["last_rated"] == h.last_rated and rows[p]["cycle"] == h.cycle
                for p, h in expected.items()
            )

        await wait_for(grown, within=60)
        published = await wait_for(
            lambda: _events_when(kafka, set(owners), len(entry_ids)), within=60
        )

    rows = await plant_rows(engine, owners)
    for plant, history in expected.items():
        row = rows[plant]
        assert (row["stage"], row["state"], row["cycle"]) == (
            history.stage,
            history.state,
            history.cycle,
        )
        assert row["growth"] == pytest.approx(history.growth)
        assert row["fruit_ripened"] == history.fruit_ripened
        assert row["fruit"] == history.fruit
    assert sorted(await timeline_ids(engine, owners)) == sorted(entry_ids)
    counts = Counter(e.event_id for e in published)
    assert set(counts) == entry_ids
    assert max(counts.values()) == 1, "one event per timeline entry"
    async with engine.connect() as conn:
        preview = await conn.scalar(
            text("SELECT points FROM garden_previews WHERE owner_id = :o"), {"o": owners[0]}
        )
    assert preview == 7.0

    replay = garden_settings(kafka, database)
    async with running_garden(replay):
        settled_count = len(events)
        await wait_for(
            lambda: _at_least(claimed(engine, replay.consumer_group, suffix), settled_count),
            within=60,
        )
        await settle(1.5)
    assert await plant_rows(engine, owners) == rows
    assert sorted(await timeline_ids(engine, owners)) == sorted(entry_ids)
    again = Counter(e.event_id for e in await garden_events(kafka, set(owners)))
    assert again == counts, "a replay publishes nothing new"


async def _events_when(kafka: str, owners: set[str], expected: int) -> list[Any] | None:
    events = await garden_events(kafka, owners)
    return events if len(events) >= expected else None


async def _at_least(count: Any, expected: int) -> bool:
    return bool(await count >= expected)
