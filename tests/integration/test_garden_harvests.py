"""The automatic harvest collects fruit due by `auto_harvest_days` once, however many
instances run it; a late revision of an earlier day rewrites the later history."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import text

from services.garden.app import utc_now
from services.garden.domain.config import DEFAULT_CONFIG
from services.garden.domain.growth import grow as fold
from services.garden.domain.plant import Plant, SettledDay
from services.garden.harvesting import AutoHarvest
from tests.integration.garden_support import score, tag
from tests.integration.test_garden_api import TODAY, bearer, grow

pytestmark = pytest.mark.integration


async def test_two_instances_harvest_the_fruit_due_once(garden_api: httpx.AsyncClient) -> None:
    suffix = tag()
    agent, center = f"H{suffix}", f"C{suffix}"
    first = TODAY - timedelta(days=25)
    await grow(
        garden_api,
        [
            score(agent, first + timedelta(days=i), 10.0, indicator="fcr", center=center)
            for i in range(25)
        ],
    )  # fruit 1 ripened 16 days ago, fruit 2 six days ago: only the first is due after 7
    app = garden_api.app  # type: ignore[attr-defined]

    def instance() -> AutoHarvest:
        return AutoHarvest(
            sessions=app.state.sessions,
            today_of=lambda _: TODAY,
            metrics=app.state.metrics,
            clock=utc_now,
        )

    await asyncio.gather(instance().harvest_round(), instance().harvest_round())
    await instance().harvest_round()
    async with app.state.sessions() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT harvest_id, count, trigger, harvested_by FROM garden_harvests "
                    "WHERE owner_id = :o"
                ),
                {"o": agent},
            )
        ).all()
    assert [tuple(r) for r in rows] == [(f"agent:{agent}:fcr/harvest/1-1", 1, "automatic", None)]
    garden = (await garden_api.get(f"/v1/agents/{agent}/garden", headers=bearer(agent))).json()
    assert garden["plants"][0]["ripe_fruit"] == 1
    done = await garden_api.post(f"/v1/agents/{agent}/plants/fcr/harvest", headers=bearer(agent))
    assert done.json()["harvest_ids"] == [f"agent:{agent}:fcr/harvest/2-2"]


async def test_a_late_revision_rewrites_the_later_history(garden_api: httpx.AsyncClient) -> None:
    agent = f"R{tag()}"
    first = TODAY - timedelta(days=12)
    days = [score(agent, first + timedelta(days=i), 10.0, indicator="fcr") for i in range(12)]
    await grow(garden_api, days)
    late = score(agent, first, 0.0, "withered", indicator="fcr", revision=5)
    await grow(garden_api, [late])
    plant = Plant("agent", agent, "fcr")
    expected = fold(
        plant,
        [SettledDay(first, 0.0, "withered", revision=5)]
        + [SettledDay(first + timedelta(days=i), 10.0, "healthy") for i in range(1, 12)],
        lambda _: DEFAULT_CONFIG,
    )
    page = (
        await garden_api.get(f"/v1/agents/{agent}/timeline?limit=200", headers=bearer(agent))
    ).json()
    assert {e["entry_id"] for e in page["entries"]} == {e.entry_id for e in expected.timeline}
    garden = (await garden_api.get(f"/v1/agents/{agent}/garden", headers=bearer(agent))).json()
    assert garden["plants"][0]["growth"] == pytest.approx(expected.growth)
    assert garden["plants"][0]["fruit_ripened"] == expected.fruit_ripened == 1
