"""The scores API on the real PostgreSQL: a range ends on the business day of the owner's center."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from services.scoring.api import router as scores_router
from shared import sql
from shared.auth.tokens import TokenVerifier, mint_token
from shared.db import make_engine, make_session_factory
from shared.errors import install_error_handlers
from shared.web import wall_clock
from simulator.org import build_org
from tests.integration.scoring_support import load_org, reset_scoring

pytestmark = pytest.mark.integration

SECRET = "scores-api-test-secret-of-32-bytes-or-more"
ADMIN = {"Authorization": "Bearer " + mint_token(secret=SECRET, subject="ops", role="admin")}
EVENING_IN_UTC = datetime(2026, 3, 10, 20, 0, tzinfo=UTC)  # 2026-03-11 04:00 in Shanghai
MARCH_10, MARCH_11 = date(2026, 3, 10), date(2026, 3, 11)
RESULT_COLUMNS = {
    "owner_kind": "text",
    "owner_id": "text",
    "business_date": "date",
    "center_id": "text",
    "indicator": "text",
    "sample": "float8",
    "points": "float8",
    "state": "text",
    "settled": "boolean",
    "revision": "bigint",
}


@pytest.fixture
async def engine(database: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database, pool_size=2)
    await reset_scoring(engine)
    yield engine
    await reset_scoring(engine)
    await engine.dispose()


@pytest.fixture
async def client(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """A client on the scores router whose clock reads 20:00 UTC on 10 March 2026."""
    app = FastAPI()
    app.state.token_verifier = TokenVerifier(
        key=SECRET, algorithms=("HS256",), issuer="service-garden"
    )
    app.state.sessions = make_session_factory(engine)
    app.dependency_overrides[wall_clock] = lambda: EVENING_IN_UTC
    install_error_handlers(app)
    app.include_router(scores_router)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://scoring") as http:
        yield http


async def test_a_range_ends_on_today_in_the_owners_center(
    engine: AsyncEngine, client: httpx.AsyncClient
) -> None:
    org = build_org(8, seed=5, centers=2)
    org["centers"][1]["timezone"] = "America/New_York"
    await load_org(engine, org, date(2026, 1, 1))
    shanghai_agent = org["centers"][0]["departments"][0]["teams"][0]["agents"][0]["id"]
    new_york_agent = org["centers"][1]["departments"][0]["teams"][0]["agents"][0]["id"]
    rows = [
        (kind, owner, day, center)
        for kind, owner, center in (
            ("agent", shanghai_agent, "C1"),
            ("agent", new_york_agent, "C2"),
            ("center", "C1", "C1"),
            ("center", "C2", "C2"),
        )
        for day in (MARCH_10, MARCH_11)
    ]
    async with engine.begin() as conn:
        await sql.insert_rows(
            conn,
            "scoring_results",
            RESULT_COLUMNS,
            [(*row, "call_volume", 1.0, 2.0, "healthy", False, 1) for row in rows],
        )

    async def last_day(path: str) -> str:
        response = await client.get(path, headers=ADMIN)
        assert response.status_code == 200, response.text
        return str(response.json()["days"][-1]["date"])

    assert await last_day(f"/v1/agents/{shanghai_agent}/scores") == "2026-03-11"
    assert await last_day(f"/v1/agents/{new_york_agent}/scores") == "2026-03-10"
    assert await last_day("/v1/units/center/C1/scores") == "2026-03-11"
    assert await last_day("/v1/units/center/C2/scores") == "2026-03-10"


def _bearer(sub: str, role: str, unit: str | None = None) -> dict[str, str]:
    signed = mint_token(secret=SECRET, subject=sub, role=role, unit=unit)
    return {"Authorization": f"Bearer {signed}"}


async def test_a_leader_reads_an_agent_only_on_the_days_they_led_them(
    engine: AsyncEngine, client: httpx.AsyncClient
) -> None:
    """The agent moved from team A to team B on 6 March: B's leader sees 6–10 March,
    A's leader 1–5 March; a third team's leader and an unknown agent are the same 403."""
    org = build_org(45, seed=7, centers=1)  # three teams of one department
    await load_org(engine, org, date(2026, 1, 1))
    department = org["centers"][0]["departments"][0]
    team_a, team_b = department["teams"][0], department["teams"][1]
    third = next(
        t["id"]
        for d in org["centers"][0]["departments"]
        for t in d["teams"]
        if t["id"] not in (team_a["id"], team_b["id"])
    )
    agent = team_a["agents"][0]["id"]
    moved = date(2026, 3, 6)
    days = [date(2026, 3, d) for d in range(1, 11)]
    async with engine.begin() as conn:
        await sql.execute(
            conn,
            "UPDATE scoring_memberships SET valid_to = :d WHERE agent_id = :a",
            {"a": agent, "d": moved},
        )
        await sql.execute(
            conn,
            "INSERT INTO scoring_memberships (agent_id, team_id, valid_from) VALUES (:a, :t, :d)",
            {"a": agent, "t": team_b["id"], "d": moved},
        )
        await sql.insert_rows(
            conn,
            "scoring_results",
            RESULT_COLUMNS,
            [("agent", agent, d, "C1", "call_volume", 1.0, 2.0, "healthy", True, 1) for d in days],
        )
    window = {"from": "2026-03-01", "to": "2026-03-10"}

    async def shown(headers: dict[str, str]) -> list[str]:
        response = await client.get(f"/v1/agents/{agent}/scores", params=window, headers=headers)
        assert response.status_code == 200, response.text
        return [d["date"] for d in response.json()["days"]]

    iso = [d.isoformat() for d in days]
    assert await shown(ADMIN) == iso
    assert await shown(_bearer("lead-b", "team_leader", team_b["id"])) == iso[5:]
    assert await shown(_bearer("lead-a", "team_leader", team_a["id"])) == iso[:5]
    assert await shown(_bearer("head", "manager", department["id"])) == iso

    outsider = _bearer("lead-c", "team_leader", third)
    refusals = [
        await client.get(f"/v1/agents/{agent}/scores", params=window, headers=outsider),
        await client.get("/v1/agents/NO-SUCH-AGENT/scores", params=window, headers=outsider),
        await client.get(f"/v1/units/team/{team_a['id']}/scores", headers=outsider),
        await client.get("/v1/units/team/NO-SUCH-TEAM/scores", headers=outsider),
        await client.get("/v1/units/center/NOPE/scores", headers=outsider),
    ]
    assert [r.status_code for r in refusals] == [403] * len(refusals)
    assert {r.json()["error"]["code"] for r in refusals} == {"forbidden"}
