"""The whole path into the garden: a simulated center's days are posted to ingest, scored
and settled by the real scoring service, and its settled scores (not hand-made rows) grow
the plants that an independent computation in this test derives from them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.scoring.app import create_app as create_scoring
from services.scoring.config import ScoringSettings
from shared.contracts.topics import SCORES
from shared.db import make_engine
from simulator.generator import Simulation
from simulator.org import build_org
from tests.integration.alerting_support import wait_for
from tests.integration.conftest import ALL_KEY
from tests.integration.garden_support import bearer, garden_settings, running_garden
from tests.integration.scoring_support import (
    everything_settled,
    load_org,
    reset_scoring,
    start_group_at_end,
)

pytestmark = pytest.mark.integration
DAY, DAYS, AGENTS, SEED = date(2026, 4, 6), 4, 16, 2026
# A small cycle, so the few simulated days ripen fruit and pass every stage.
FRUIT_AT, THRESHOLDS = 15, (0, 3, 6, 9, 12)
MULTIPLIER = {"healthy": Fraction(1), "pests": Fraction(1, 2), "withered": Fraction(1, 5)}


@dataclass
class Expected:
    """A plant as computed here from its settled days, without the garden's code."""

    total: Fraction = Fraction(0)
    state: str | None = None

    def add(self, points: float, state: str) -> None:
        if state == "not_rated":
            return
        self.total += Fraction(str(points)) * MULTIPLIER[state]
        self.state = state

    @property
    def ripened(self) -> int:
        return int(self.total // FRUIT_AT)

    @property
    def growth(self) -> Fraction:
        return self.total - self.ripened * FRUIT_AT

    @property
    def stage(self) -> int:
        return max(i for i, t in enumerate(THRESHOLDS) if self.growth >= t)


async def _empty_garden(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        tables = (
            await conn.execute(
                text("SELECT tablename FROM pg_tables WHERE tablename LIKE 'garden_%'")
            )
        ).scalars()
        await conn.execute(text(f"TRUNCATE {', '.join(tables)}"))


@pytest.fixture
async def engine(database: str) -> AsyncIterator[AsyncEngine]:
    """The shared database with scoring and garden emptied before, and the garden after
    (this test's configuration of center C1 must not reach other tests' plants)."""
    engine = make_engine(database, pool_size=2)
    await reset_scoring(engine)
    await _empty_garden(engine)
    yield engine
    await _empty_garden(engine)
    await engine.dispose()


async def _post(ingest: httpx.AsyncClient, events: list[dict[str, Any]]) -> None:
    for i in range(0, len(events), 500):
        body = b"\n".join(orjson.dumps(e) for e in events[i : i + 500])
        response = await ingest.post("/v1/events", content=body, headers={"X-API-Key": ALL_KEY})
        assert response.status_code == 202, response.text


async def _settled_results(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as conn:
        return list(
            await conn.execute(
                text(
                    "SELECT owner_kind, owner_id, indicator, business_date, points, state "
                    "FROM scoring_results WHERE settled ORDER BY business_date"
                )
            )
        )


async def _plants(engine: AsyncEngine) -> dict[tuple[str, str, str], Any]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT owner_kind, owner_id, indicator, stage, growth, state, fruit_ripened, "
                "(SELECT count(*) FROM garden_plant_days d WHERE d.owner_kind = p.owner_kind "
                "AND d.owner_id = p.owner_id AND d.indicator = p.indicator) AS days "
                "FROM garden_plants p"
            )
        )
        return {(r.owner_kind, r.owner_id, r.indicator): r for r in rows}


async def test_settled_scores_from_the_real_scoring_service_grow_the_expected_plants(
    engine: AsyncEngine, ingest: httpx.AsyncClient, database: str, kafka: str
) -> None:
    org = build_org(AGENTS, seed=SEED)
    await load_org(engine, org, since=DAY - timedelta(days=30))
    scoring_group, garden_group = (
        f"scoring-{uuid.uuid4().hex[:8]}",
        f"garden-{uuid.uuid4().hex[:8]}",
    )
    await start_group_at_end(kafka, scoring_group)
    await start_group_at_end(kafka, garden_group, topics=[SCORES])
    scoring = create_scoring(
        ScoringSettings(
            database_url=database,
            kafka_bootstrap_servers=kafka,
            consumer_group=scoring_group,
            preview_seconds=0.5,
            settle_check_seconds=0.5,
            quiet_seconds=3,
            jwt_secret="scoring-test-secret-of-32-bytes-or-more",
            topic_partitions=3,
        )
    )
    center = org["centers"][0]["id"]
    async with (
        scoring.router.lifespan_context(scoring),
        running_garden(garden_settings(kafka, database, consumer_group=garden_group)) as garden,
    ):
        admin = bearer("admin-1", "admin")
        document = {"fruit_at": FRUIT_AT, "stage_thresholds": list(THRESHOLDS)}
        configured = await garden.put(
            "/v1/config/garden", params={"center_id": center}, json=document, headers=admin
        )
        assert configured.status_code in (200, 201), configured.text
        await _post(ingest, list(Simulation(org, seed=SEED, start=DAY, days=DAYS).events()))

        async def every_day_settled() -> bool:
            return await everything_settled(engine, kafka, scoring_group)

        await wait_for(every_day_settled, within=120, every=0.5)
        results = await _settled_results(engine)
        expected: dict[tuple[str, str, str], Expected] = {}
        days: dict[tuple[str, str, str], int] = {}
        for kind, owner, indicator, _day, points, state in results:
            key = (kind, owner, indicator)
            expected.setdefault(key, Expected()).add(points, state)
            days[key] = days.get(key, 0) + 1

        async def every_day_grown() -> bool:
            plants = await _plants(engine)
            return all(key in plants and plants[key].days == n for key, n in days.items())

        await wait_for(every_day_grown, within=120)
        plants = await _plants(engine)

    assert {k for k in days if k[0] == "agent"} and {k for k in days if k[0] != "agent"}
    assert any(e.ripened for e in expected.values()), "the run should ripen some fruit"
    for key, plant in expected.items():
        if plant.state is None:
            continue  # never rated: nothing grew
        row = plants[key]
        assert row.state == plant.state, key
        assert row.fruit_ripened == plant.ripened, key
        assert row.growth == pytest.approx(float(plant.growth), abs=1e-6), key
        assert row.stage == plant.stage, key
