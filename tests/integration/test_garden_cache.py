"""The agents' gardens cache on the real database and broker: a garden read once is answered
from the process until its rows change, and every real write path makes the next read show
the change (at once for a write through this process's API, within the notification's
delay for the others); a lost listener serves nothing until it reconnects, from nothing."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from services.garden.handlers import ScoreHandler
from shared.consumer import Delivery
from shared.db import unit_of_work
from tests.integration.alerting_support import wait_for
from tests.integration.garden_support import (
    bearer,
    garden_settings,
    grow,
    produce,
    running_garden,
    score,
    tag,
)
from tests.integration.test_garden_api import TODAY

pytestmark = pytest.mark.integration
ADMIN = bearer("ops", "admin")


async def listening(client: httpx.AsyncClient) -> httpx.AsyncClient:
    listener = client.app.state.change_listener  # type: ignore[attr-defined]
    await wait_for(lambda: _true(listener.connected), within=20)
    return client


async def _true(value: bool) -> bool:
    return value


@pytest.fixture
async def client(kafka: str, database: str) -> AsyncIterator[httpx.AsyncClient]:
    async with running_garden(garden_settings(kafka, database)) as http:
        yield await listening(http)


def counted(metrics: str, name: str) -> float:
    found = re.search(rf"^{name} ([\d.e+]+)$", metrics, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def hits(client: httpx.AsyncClient) -> float:
    return counted((await client.get("/metrics")).text, "garden_cache_hits_total")


async def garden(client: httpx.AsyncClient, agent: str, **headers: str) -> dict[str, Any]:
    answer = await client.get(f"/v1/agents/{agent}/garden", headers={**bearer(agent), **headers})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def cached(client: httpx.AsyncClient, agent: str) -> dict[str, Any]:
    """Read the agent's garden twice: the second read is answered from the cache."""
    first = await garden(client, agent)
    before = await hits(client)
    again = await garden(client, agent)
    assert await hits(client) == before + 1, "the second read was not a cache hit"
    assert again == first
    return again


def days(agent: str, count: int, points: float = 10.0, **place: Any) -> list[Any]:
    first = TODAY - timedelta(days=count)
    return [
        score(agent, first + timedelta(days=i), points, indicator="fcr", **place)
        for i in range(count)
    ]


def place(suffix: str, team: str = "T1") -> dict[str, str]:
    return {"center": f"C{suffix}", "department": f"C{suffix}-D1", "team": f"C{suffix}-D1-{team}"}


async def test_a_hit_keeps_the_etag_and_the_access_rules(client: httpx.AsyncClient) -> None:
    suffix = tag()
    agent = f"A{suffix}"
    await grow(client, days(agent, 3, **place(suffix)))
    await cached(client, agent)
    answer = await client.get(f"/v1/agents/{agent}/garden", headers=bearer(agent))
    etag = answer.headers["ETag"]
    again = await client.get(
        f"/v1/agents/{agent}/garden", headers={**bearer(agent), "If-None-Match": etag}
    )
    assert again.status_code == 304 and again.headers["ETag"] == etag
    own = bearer("lead", "team_leader", f"C{suffix}-D1-T1")
    other = bearer("lead2", "team_leader", f"C{suffix}-D1-T2")
    assert (await client.get(f"/v1/agents/{agent}/garden", headers=own)).status_code == 200
    refused = await client.get(f"/v1/agents/{agent}/garden", headers=other)
    unknown = await client.get(f"/v1/agents/N{suffix}/garden", headers=other)
    assert refused.status_code == unknown.status_code == 403
    assert refused.json() == unknown.json()
    stranger = await client.get(f"/v1/agents/{agent}/garden", headers=bearer(f"B{suffix}"))
    assert stranger.status_code == 403 and stranger.json() == refused.json()


async def test_a_settled_day_through_the_consumer_shows_next(
    client: httpx.AsyncClient, kafka: str
) -> None:
    suffix = tag()
    agent = f"A{suffix}"
    await grow(client, days(agent, 2, **place(suffix)))
    before = await cached(client, agent)
    assert len(before["days"]["fcr"]) == 2
    await produce(
        kafka, [score(agent, TODAY - timedelta(days=3), 9.0, indicator="fcr", **place(suffix))]
    )

    async def three_days() -> bool:
        return len((await garden(client, agent))["days"]["fcr"]) == 3

    await wait_for(three_days, within=60, every=0.2)


async def test_a_preview_through_the_consumer_shows_next(
    client: httpx.AsyncClient, kafka: str
) -> None:
    suffix = tag()
    agent = f"A{suffix}"
    await grow(client, days(agent, 2, **place(suffix)))
    assert (await cached(client, agent))["plants"][0]["preview_points"] is None
    preview = score(agent, TODAY, 7.5, indicator="fcr", settled=False, **place(suffix))
    await produce(kafka, [preview])

    async def previewed() -> bool:
        return (await garden(client, agent))["plants"][0]["preview_points"] == 7.5

    await wait_for(previewed, within=60, every=0.2)


async def test_the_harvesters_next_read_shows_the_harvest_at_once(
    client: httpx.AsyncClient,
) -> None:
    suffix = tag()
    agent = f"A{suffix}"
    indicators = ("aht", "fcr", "utilization")
    first = TODAY - timedelta(days=12)
    await grow(
        client,
        [
            score(agent, first + timedelta(days=i), 10.0, indicator=code, **place(suffix))
            for code in indicators
            for i in range(12)
        ],
    )
    for n, code in enumerate(indicators):  # each time: a cached garden, a harvest, a read
        plants = (await cached(client, agent))["plants"]
        assert [p["ripe_fruit"] >= 1 for p in plants] == [i >= n for i in range(3)]
        done = await client.post(f"/v1/agents/{agent}/plants/{code}/harvest", headers=bearer(agent))
        assert done.status_code == 200, done.text
        plant = (await garden(client, agent))["plants"][n]
        assert plant["indicator"] == code and plant["ripe_fruit"] == 0
        assert plant["fruit_harvested"] == plant["fruit_ripened"] >= 1


async def test_a_configuration_version_shows_next(client: httpx.AsyncClient) -> None:
    suffix = tag()
    agent = f"A{suffix}"
    await grow(client, days(agent, 2, **place(suffix)))
    assert (await cached(client, agent))["fruit_at"] != 400.0
    configured = await client.put(
        "/v1/config/garden",
        params={"center_id": f"C{suffix}"},
        json={"fruit_at": 400},
        headers=ADMIN,
    )
    assert configured.status_code == 200, configured.text
    assert (await garden(client, agent))["fruit_at"] == 400.0  # this process: at once


async def test_a_membership_change_through_the_consumer_shows_next(
    client: httpx.AsyncClient, kafka: str
) -> None:
    suffix = tag()
    agent = f"A{suffix}"
    await grow(client, days(agent, 2, **place(suffix)))
    await cached(client, agent)
    new_lead = bearer("lead2", "team_leader", f"C{suffix}-D1-T2")
    for _ in range(2):  # the refusal comes from the cached entry's member
        refused = await client.get(f"/v1/agents/{agent}/garden", headers=new_lead)
        assert refused.status_code == 403
    moved = score(agent, TODAY - timedelta(days=1), 8.0, indicator="aht", **place(suffix, "T2"))
    await produce(kafka, [moved])

    async def admitted() -> bool:
        answer = await client.get(f"/v1/agents/{agent}/garden", headers=new_lead)
        return answer.status_code == 200

    await wait_for(admitted, within=60, every=0.2)


async def test_a_lost_listener_serves_nothing_stale_and_reconnects(
    client: httpx.AsyncClient,
) -> None:
    app = client.app  # type: ignore[attr-defined]
    listener = app.state.change_listener
    suffix = tag()
    agent = f"A{suffix}"
    await grow(client, days(agent, 2, **place(suffix)))
    await cached(client, agent)
    connections = listener.connections
    # one transaction ends the listener's backend and changes the agent: its notification
    # is sent while nobody listens, and is never heard
    handler = ScoreHandler(metrics=app.state.metrics)
    change = [score(agent, TODAY - timedelta(days=3), 9.0, indicator="fcr", **place(suffix))]
    async with unit_of_work(app.state.sessions) as session:
        await session.execute(text("SELECT pg_terminate_backend(:p)"), {"p": listener.backend_pid})
        await handler.apply(session, [Delivery(None, None, e) for e in change])  # type: ignore[arg-type]

    async def noticed() -> bool:
        return not listener.connected or listener.connections > connections

    await wait_for(noticed, within=10, every=0.01)
    assert len((await garden(client, agent))["days"]["fcr"]) == 3
    await wait_for(lambda: _true(listener.connected and listener.connections > connections))
    assert len((await cached(client, agent))["days"]["fcr"]) == 3
    later = score(agent, TODAY - timedelta(days=1), 1.0, indicator="aht", **place(suffix))
    await grow(client, [later])  # heard again
    assert (await garden(client, agent))["days"]["aht"] == [
        {"date": str(later.business_date), "points": 1.0, "state": "healthy"}
    ]


async def test_a_write_through_one_instance_is_read_fresh_by_another(
    kafka: str, database: str
) -> None:
    suffix = tag()
    agent = f"A{suffix}"
    async with (
        running_garden(garden_settings(kafka, database)) as one,
        running_garden(garden_settings(kafka, database)) as other,
    ):
        await listening(one)
        await listening(other)
        await grow(one, days(agent, 12, **place(suffix)))
        await other.app.state.change_listener.caught_up()  # type: ignore[attr-defined]
        assert (await cached(other, agent))["plants"][0]["ripe_fruit"] >= 1
        done = await one.post(f"/v1/agents/{agent}/plants/fcr/harvest", headers=bearer(agent))
        assert done.status_code == 200, done.text

        async def harvested() -> bool:
            return (await garden(other, agent))["plants"][0]["ripe_fruit"] == 0

        await wait_for(harvested, within=10, every=0.05)
        configured = await one.put(
            "/v1/config/garden",
            params={"center_id": f"C{suffix}"},
            json={"fruit_at": 400},
            headers=ADMIN,
        )
        assert configured.status_code == 200, configured.text

        async def reconfigured() -> bool:
            return (await garden(other, agent))["fruit_at"] == 400.0

        await wait_for(reconfigured, within=10, every=0.05)


async def test_without_a_cache_every_read_runs_the_statement(kafka: str, database: str) -> None:
    suffix = tag()
    agent = f"A{suffix}"
    async with running_garden(garden_settings(kafka, database, garden_cache_size=0)) as plain:
        await grow(plain, days(agent, 2, **place(suffix)))
        await garden(plain, agent)
        await garden(plain, agent)
        assert await hits(plain) == 0
