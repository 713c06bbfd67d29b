"""The garden app's wiring: its routes in OpenAPI, each answer with an example, and its metrics."""

from __future__ import annotations

from typing import Any

import httpx

from services.garden.app import create_app
from services.garden.config import GardenSettings

SETTINGS = GardenSettings(
    jwt_secret="garden-unit-test-secret-of-32-bytes", cors_origins=["https://ui.example"]
)


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref:
        return dict(spec["components"]["schemas"][ref.rsplit("/", 1)[-1]])
    return schema


def test_every_answer_of_every_garden_route_has_an_example() -> None:
    spec = create_app(SETTINGS).openapi()
    routes = [(p, m, op) for p, ops in spec["paths"].items() for m, op in ops.items()]
    garden = [r for r in routes if r[0].startswith("/v1/")]
    assert len(garden) == 16
    for path, method, operation in garden:
        assert "security" in operation or "401" in operation["responses"], (method, path)
        for status, answer in operation["responses"].items():
            if status in ("304",) or (status.startswith("422") and "content" not in answer):
                continue
            for media in answer.get("content", {}).values():
                schema = _resolve(spec, media.get("schema", {}))
                assert "example" in media or "examples" in schema, (method, path, status)


async def test_metrics_name_the_route_templates_and_cors_answers_the_origin() -> None:
    app = create_app(SETTINGS)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://garden") as client:
        assert (await client.get("/v1/agents/A1/garden")).status_code == 401
        preflight = await client.options(
            "/v1/agents/A1/garden",
            headers={"Origin": "https://ui.example", "Access-Control-Request-Method": "GET"},
        )
        assert preflight.headers["access-control-allow-origin"] == "https://ui.example"
        text = (await client.get("/metrics")).text
    assert 'route="/v1/agents/{agent_id}/garden"' in text
    for name in (
        "garden_plants",
        "garden_fruit_harvested_total",
        "garden_harvest_seconds",
        "garden_campaigns_started_total",
        "garden_campaigns_ended_total",
        "garden_campaign_days_recorded_total",
        "consumer_records_total",
    ):
        assert f"# HELP {name}" in text, name
