"""Scoring through the real Kafka and PostgreSQL: a simulated center posted through
ingest gives exactly the scores an independent computation derives; sending
everything twice changes nothing."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import text

from services.scoring.app import create_app
from services.scoring.config import ScoringSettings
from services.scoring.domain import default_library, default_tiers, health_points
from shared.db import make_engine
from simulator.generator import Simulation
from simulator.org import build_org
from tests.integration.conftest import ALL_KEY
from tests.integration.scoring_support import (
    everything_settled,
    expected_agent_days,
    load_org,
    reset_scoring,
    start_group_at_end,
)

pytestmark = pytest.mark.integration
DAY = date(2026, 3, 2)
SEED = 77


@pytest.fixture
async def scenario(database: str, kafka: str) -> AsyncIterator[dict[str, Any]]:
    engine = make_engine(database, pool_size=2)
    await reset_scoring(engine)
    org = build_org(20, seed=SEED)
    await load_org(engine, org, since=DAY - timedelta(days=30))
    events = list(Simulation(org, seed=SEED, start=DAY, days=2).events())
    group = f"scoring-{uuid.uuid4().hex[:8]}"
    await start_group_at_end(kafka, group)
    yield {"engine": engine, "org": org, "events": events, "group": group}
    await engine.dispose()


async def _post_all(ingest: httpx.AsyncClient, events: list[dict[str, Any]]) -> None:
    """Post in time order, as upstreams do (NDJSON chunks of mixed types)."""
    for i in range(0, len(events), 500):
        body = b"\n".join(orjson.dumps(e) for e in events[i : i + 500])
        response = await ingest.post("/v1/events", content=body, headers={"X-API-Key": ALL_KEY})
        assert response.status_code == 202, response.text


async def _settled(engine: Any, kafka: str, group: str, within: float = 90) -> None:
    """Wait until scoring has read every record posted and settled every day they touched."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await everything_settled(engine, kafka, group):
            return
        await asyncio.sleep(0.5)
    pytest.fail("the days did not settle")


async def _results(engine: Any) -> dict[tuple[str, str, date, str], tuple[Any, ...]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT owner_kind, owner_id, business_date, indicator, value, sample, points, "
                "state, settled FROM scoring_results"
            )
        )
        return {(r[0], r[1], r[2], r[3]): tuple(r[4:]) for r in rows}


async def _aggregates(engine: Any) -> list[tuple[Any, ...]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT * FROM scoring_agent_days ORDER BY agent_id, business_date")
        )
        return [tuple(r) for r in rows]


def _settings(database: str, kafka: str, group: str) -> ScoringSettings:
    return ScoringSettings(
        database_url=database,
        kafka_bootstrap_servers=kafka,
        consumer_group=group,
        preview_seconds=0.5,
        settle_check_seconds=0.5,
        quiet_seconds=3,
        jwt_secret="scoring-test-secret-of-32-bytes-or-more",
        topic_partitions=3,
    )


async def test_scores_match_an_independent_computation_and_duplicates_change_nothing(
    scenario: dict[str, Any], ingest: httpx.AsyncClient, database: str, kafka: str
) -> None:
    engine, events = scenario["engine"], scenario["events"]
    app = create_app(_settings(database, kafka, scenario["group"]))
    async with app.router.lifespan_context(app):
        await _post_all(ingest, events)
        await _settled(engine, kafka, scenario["group"])
        first = await _results(engine)
        aggregates = await _aggregates(engine)
        # everything again: deduplicated, nothing moves
        await _post_all(ingest, events)
        await asyncio.sleep(6)
        assert await _aggregates(engine) == aggregates
        assert await _results(engine) == first

    expected = expected_agent_days(events)
    library, tiers = default_library(), default_tiers()
    agents = {
        a["id"]
        for c in scenario["org"]["centers"]
        for d in c["departments"]
        for t in d["teams"]
        for a in t["agents"]
    }
    checked = 0
    for (agent, day), values in expected.items():
        if agent not in agents or day not in (DAY, DAY + timedelta(days=1)):
            continue
        for code, indicator in library.items():
            row = first.get(("agent", agent, day, code))
            assert row is not None, (agent, day, code)
            value, _sample_size, points, state, settled = row
            assert settled
            want = values[code]
            if want is None:
                assert value is None
                continue
            assert value == pytest.approx(want, rel=1e-9, abs=1e-9), (agent, day, code)
            if state == "not_rated":
                assert points == 0
                continue
            vetoed = code in ("satisfaction", "complaint_rate") and values["justified"] > 0
            peers = [
                v[code]
                for (a, d), v in expected.items()
                if d == day
                and a in agents
                and v[code] is not None
                and _sample(v, code) >= indicator.min_sample
            ]
            center_avg = sum(peers) / len(peers)
            want_points = (
                0
                if vetoed
                else health_points(want, tiers[code], indicator.direction, center_avg=center_avg)
            )
            assert points == pytest.approx(want_points), (agent, day, code)
            checked += 1
    assert checked > 50
    # a team is scored on its pooled data: its call volume is its members' sum
    team = scenario["org"]["centers"][0]["departments"][0]["teams"][0]
    members = {a["id"] for a in team["agents"]}
    pooled = sum(
        v["call_volume"] or 0 for (a, d), v in expected.items() if d == DAY and a in members
    )
    assert first[("team", team["id"], DAY, "call_volume")][0] == pooled


def _sample(values: dict[str, Any], code: str) -> float:
    if code == "satisfaction":
        return 3 if values["satisfaction"] is not None else 0  # enough surveys is checked by value
    return values["call_volume"] or 0


async def test_scores_are_published_once_per_owner_day_indicator(
    scenario: dict[str, Any], ingest: httpx.AsyncClient, database: str, kafka: str
) -> None:
    from tests.kafka_tools import end_offsets, read_topic

    engine, events = scenario["engine"], scenario["events"]
    before = await end_offsets(kafka, "cc.scores.v1")
    app = create_app(_settings(database, kafka, scenario["group"]))
    async with app.router.lifespan_context(app):
        await _post_all(ingest, events)
        await _settled(engine, kafka, scenario["group"])
        results = await _results(engine)
        wanted = {k for k, v in results.items() if v[4]}
        seen = await read_topic(
            kafka,
            "cc.scores.v1",
            keep=lambda s: (
                s.offset >= before.get(s.partition, 0)
                and s.headers.get("event_type") == b"score.settled"
                and _key(s.value) in wanted
            ),
            until=lambda s: len(s) >= len(wanted),
            within=60,
        )
    keys = [_key(s.value) for s in seen]
    assert sorted(keys) == sorted(wanted)


def _key(value: bytes) -> tuple[str, str, date, str]:
    body = orjson.loads(value)
    return (
        body["owner_kind"],
        body["owner_id"],
        date.fromisoformat(body["business_date"]),
        body["indicator"],
    )


async def test_scores_api_answers_by_role(
    scenario: dict[str, Any], ingest: httpx.AsyncClient, database: str, kafka: str
) -> None:
    from shared.auth.tokens import mint_token

    engine, events, org = scenario["engine"], scenario["events"], scenario["org"]
    settings = _settings(database, kafka, scenario["group"])
    secret = settings.jwt_secret
    assert secret is not None
    center = org["centers"][0]
    team = center["departments"][0]["teams"][0]
    other_team = next(t for d in center["departments"] for t in d["teams"] if t is not team)
    member, outsider = team["agents"][0]["id"], other_team["agents"][0]["id"]

    def bearer(sub: str, role: str, unit: str | None = None) -> dict[str, str]:
        return {
            "Authorization": "Bearer "
            + mint_token(secret=secret, subject=sub, role=role, unit=unit)
        }

    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await _post_all(ingest, events)
        await _settled(engine, kafka, scenario["group"])
        api = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://s")
        window = {"from": DAY.isoformat(), "to": (DAY + timedelta(days=1)).isoformat()}
        own = await api.get(
            f"/v1/agents/{member}/scores", params=window, headers=bearer(member, "agent")
        )
        assert own.status_code == 200, own.text
        body = own.json()
        assert body["agent_id"] == member
        assert [d["date"] for d in body["days"]] == [
            DAY.isoformat(),
            (DAY + timedelta(days=1)).isoformat(),
        ]
        satisfaction = body["days"][0]["indicators"]["satisfaction"]
        assert set(satisfaction) == {"value", "sample", "points", "state", "settled"}
        assert satisfaction["settled"] is True
        assert (
            await api.get(
                f"/v1/agents/{outsider}/scores", params=window, headers=bearer(member, "agent")
            )
        ).status_code == 403
        leader = bearer("leader-1", "team_leader", team["id"])
        assert (
            await api.get(f"/v1/agents/{member}/scores", params=window, headers=leader)
        ).status_code == 200
        assert (
            await api.get(f"/v1/agents/{outsider}/scores", params=window, headers=leader)
        ).status_code == 403
        unit = await api.get(f"/v1/units/team/{team['id']}/scores", params=window, headers=leader)
        assert unit.status_code == 200
        assert unit.json()["days"][0]["indicators"]["call_volume"]["settled"] is True
        manager = bearer("mgr-1", "manager", center["id"])
        assert (
            await api.get(
                f"/v1/units/team/{other_team['id']}/scores", params=window, headers=manager
            )
        ).status_code == 200
        admin = bearer("ops", "admin")
        assert (await api.get("/v1/units/center/NOPE/scores", headers=admin)).status_code == 200
        # an unknown unit outside the caller's scope answers as a known one does
        assert (await api.get("/v1/units/center/NOPE/scores", headers=manager)).status_code == 403
        assert (await api.get(f"/v1/agents/{member}/scores")).status_code == 401
        assert (
            await api.get(
                f"/v1/agents/{member}/scores",
                params={"from": "2026-03-09", "to": "2026-03-01"},
                headers=admin,
            )
        ).status_code == 422
        await api.aclose()


async def test_a_centers_own_fcr_window_decides_its_repeat_calls(
    scenario: dict[str, Any], ingest: httpx.AsyncClient, database: str, kafka: str
) -> None:
    from shared.auth.tokens import mint_token

    engine, events, org = scenario["engine"], scenario["events"], scenario["org"]
    settings = _settings(database, kafka, scenario["group"])
    assert settings.jwt_secret is not None
    admin = {
        "Authorization": "Bearer "
        + mint_token(secret=settings.jwt_secret, subject="ops", role="admin")
    }
    short = timedelta(hours=2)
    expected = expected_agent_days(events, window=short)
    default = expected_agent_days(events)
    assert any(expected[k]["fcr"] != default[k]["fcr"] for k in expected), "a window that matters"
    agents = {
        a["id"]
        for c in org["centers"]
        for d in c["departments"]
        for t in d["teams"]
        for a in t["agents"]
    }
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        api = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://s")
        library = {
            "center_id": org["centers"][0]["id"],
            "indicators": [{"code": code} for code in default_library()],
            "settings": {"fcr_window_hours": short.total_seconds() / 3600},
        }
        stored = await api.put("/v1/config/indicators", json=library, headers=admin)
        assert stored.status_code == 200, stored.text
        await _post_all(ingest, events)
        await _settled(engine, kafka, scenario["group"])
        results = await _results(engine)
    checked = 0
    for (agent, day), values in expected.items():
        if agent not in agents or day not in (DAY, DAY + timedelta(days=1)):
            continue
        row = results.get(("agent", agent, day, "fcr"))
        assert row is not None, (agent, day)
        if values["fcr"] is None:
            assert row[0] is None
        else:
            assert row[0] == pytest.approx(values["fcr"]), (agent, day)
            checked += 1
    assert checked > 20
