"""The agent garden's hot path answers a cached garden exactly as the route does, and leaves
everything else (no token, a refusal, another path, overridden dependencies) to the route."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import httpx
import orjson

from services.garden.api.http import etag_of
from services.garden.app import create_app
from services.garden.cached_reads import agent_of
from services.garden.config import GardenSettings
from services.garden.garden_cache import CachedGarden
from services.garden.repo.reads import Member
from shared.auth.tokens import mint_token
from shared.web import wall_clock

SECRET = "garden-unit-test-secret-of-32-bytes"
SETTINGS = GardenSettings(jwt_secret=SECRET, cors_origins=["https://ui.example"])
BODY = orjson.dumps({"agent_id": "A1", "plants": []})


def bearer(subject: str, role: str = "agent", unit: str | None = None) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {mint_token(secret=SECRET, subject=subject, role=role, unit=unit)}"
    }


def served() -> tuple[httpx.AsyncClient, object]:
    app = create_app(SETTINGS)
    cache = app.state.garden_cache
    cache.enable()  # as the listener does once it hears the notifications
    today = datetime.now(UTC).astimezone(ZoneInfo(SETTINGS.default_timezone)).date()
    member = Member("agent", "A1", "C1", "C1-D1", "C1-D1-T1", None)
    cache.store("A1", CachedGarden(member, "C1", today, BODY, etag_of(BODY)), cache.epoch)
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://garden"), app


def test_only_an_agent_gardens_path_names_an_agent() -> None:
    assert agent_of("/v1/agents/A1/garden") == "A1"
    assert agent_of("/v1/agents/A 1/garden") == "A 1"
    for path in ("/v1/agents//garden", "/v1/agents/A1/x/garden", "/v1/agents/A1/gardens"):
        assert agent_of(path) is None, path


async def test_a_hit_is_the_routes_answer() -> None:
    client, app = served()
    async with client:
        fast = await client.get("/v1/agents/A1/garden", headers=bearer("A1"))
        app.dependency_overrides[wall_clock] = wall_clock  # type: ignore[attr-defined]
        routed = await client.get("/v1/agents/A1/garden", headers=bearer("A1"))
        app.dependency_overrides.clear()  # type: ignore[attr-defined]
        assert fast.status_code == routed.status_code == 200
        assert fast.content == routed.content == BODY
        assert fast.headers.multi_items() == routed.headers.multi_items()
        tag = {"If-None-Match": fast.headers["ETag"]}
        again = await client.get("/v1/agents/A1/garden", headers={**bearer("A1"), **tag})
        assert again.status_code == 304 and again.headers["ETag"] == fast.headers["ETag"]
        lead = await client.get(
            "/v1/agents/A1/garden", headers=bearer("L1", "team_leader", "C1-D1-T1")
        )
        assert lead.content == BODY
        metrics = (await client.get("/metrics")).text
    assert "garden_cache_hits_total 4.0" in metrics
    assert 'route="/v1/agents/{agent_id}/garden",status="200"' in metrics


async def test_everything_else_goes_to_the_route() -> None:
    client, _ = served()
    async with client:
        assert (await client.get("/v1/agents/A1/garden")).status_code == 401
        bad = {"Authorization": "Bearer nonsense"}
        assert (await client.get("/v1/agents/A1/garden", headers=bad)).status_code == 401
        other = await client.get("/v1/agents/A1/garden", headers=bearer("A2"))
        outside = await client.get(
            "/v1/agents/A1/garden", headers=bearer("L2", "team_leader", "C1-D1-T2")
        )
        assert other.status_code == outside.status_code == 403
        assert other.json() == outside.json()
        assert (await client.post("/v1/agents/A1/garden", headers=bearer("A1"))).status_code == 405
        preflight = await client.options(
            "/v1/agents/A1/garden",
            headers={"Origin": "https://ui.example", "Access-Control-Request-Method": "GET"},
        )
        assert preflight.headers["access-control-allow-origin"] == "https://ui.example"
        cors = await client.get(
            "/v1/agents/A1/garden", headers={**bearer("A1"), "Origin": "https://ui.example"}
        )
        assert cors.status_code == 200
        assert cors.headers["access-control-allow-origin"] == "https://ui.example"
