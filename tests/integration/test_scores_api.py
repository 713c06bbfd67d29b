"""The scores API on the real PostgreSQL: a range ends on the business day of the owner's center."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from services.scoring.api import router as scores_router
from services.scoring.deps import wall_clock
from shared import sql
from shared.auth.tokens import TokenVerifier, mint_token
from shared.db import make_engine, make_session_factory
from shared.errors import install_error_handlers
from simulator.org import build_org
from tests.integration.scoring_support import load_org, reset_scoring

pytestmark = pytest.mark.integration

SECRET = "scores-api-test-secret-of-32-bytes-or-more"
ADMIN = {"Authorization": "Bearer " + mint_token(secret=SECRET, subject="ops", role="admin")}
EVENING_IN_UTC = datetime(2026, 3, 10, 20, 0, tzinfo=UTC)  # 2026-03-11 04:00 in Shanghai
MARCH_10, MARCH_11 = date(2026, 3, 10), date(2026, 3, 11)


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
            {
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
            },
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
