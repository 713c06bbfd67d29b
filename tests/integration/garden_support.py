"""Helpers of the garden integration tests: the garden app in-process on the real broker
and database, score events produced to `cc.scores.v1`, tokens, reading the garden topic."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Any

import httpx
import orjson
from fastapi import FastAPI

from services.garden.app import create_app
from services.garden.config import GardenSettings
from services.garden.handlers import ScoreHandler
from shared.auth.tokens import mint_token
from shared.consumer import Delivery
from shared.contracts.catalog import parse_derived
from shared.contracts.garden import GardenEvent
from shared.contracts.scores import ScorePreviewed, ScoreRecorded, ScoreSettled
from shared.contracts.topics import GARDEN, SCORES
from shared.db import unit_of_work
from shared.kafka import EventProducer, OutgoingRecord
from tests.kafka_tools import read_all

JWT_SECRET = "garden-test-secret-of-32-bytes-or-more"
GARDEN_TABLES = (
    "garden_plants",
    "garden_plant_days",
    "garden_previews",
    "garden_timeline",
    "garden_harvests",
    "garden_members",
    "garden_config_versions",
    "garden_idempotency",
    "garden_campaigns",
    "garden_campaign_members",
    "garden_campaign_days",
    "garden_campaign_countermeasures",
)


def garden_settings(kafka: str, database: str, **overrides: Any) -> GardenSettings:
    values: dict[str, Any] = {
        "kafka_bootstrap_servers": kafka,
        "database_url": database,
        "consumer_group": f"garden-test-{uuid.uuid4().hex[:8]}",
        "jwt_secret": JWT_SECRET,
        "topic_partitions": 3,
        "outbox_poll_seconds": 0.1,
        "auto_harvest_enabled": False,
    }
    values.update(overrides)
    return GardenSettings(**values)


@asynccontextmanager
async def running_garden(settings: GardenSettings) -> AsyncIterator[httpx.AsyncClient]:
    """Run the garden app (lifespan started); yield a client on its API."""
    app: FastAPI = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://garden") as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


def bearer(sub: str, role: str = "agent", unit: str | None = None) -> dict[str, str]:
    token = mint_token(secret=JWT_SECRET, subject=sub, role=role, unit=unit)
    return {"Authorization": f"Bearer {token}"}


def tag() -> str:
    """A suffix that keeps one test's owners apart from every other test's."""
    return uuid.uuid4().hex[:6]


def score(
    owner_id: str,
    day: date,
    points: float,
    state: str = "healthy",
    *,
    indicator: str = "satisfaction",
    kind: str = "agent",
    center: str = "C1",
    department: str | None = "C1-D1",
    team: str | None = "C1-D1-T1",
    revision: int = 2,
    settled: bool = True,
    value: float | None = 90.0,
    **extra: Any,
) -> ScoreRecorded:
    model = ScoreSettled if settled else ScorePreviewed
    suffix = "settled" if settled else f"preview-{revision}"
    return model(
        event_id=f"{kind}:{owner_id}:{day}:{indicator}:{suffix}",
        occurred_at=datetime.now(UTC),
        revision=revision,
        owner_kind=kind,  # type: ignore[arg-type]
        owner_id=owner_id,
        business_date=day,
        indicator=indicator,
        fruit=None,
        center_id=center,
        department_id=department,
        team_id=team,
        value=value,
        sample=10.0,
        points=float(points),
        state=state,  # type: ignore[arg-type]
        **extra,
    )


async def produce(kafka: str, events: Iterable[ScoreRecorded]) -> None:
    producer = EventProducer(kafka)
    await producer.start()
    try:
        await producer.send_all(
            [
                OutgoingRecord(
                    SCORES.name,
                    e.to_json(),
                    e.partition_key.encode(),
                    [("event_type", e.type.encode()), ("event_id", e.event_id.encode())],
                )
                for e in events
            ]
        )
    finally:
        await producer.stop()


async def garden_events(kafka: str, owners: set[str]) -> list[GardenEvent]:
    """Every event on `cc.garden.v1` about `owners`, in topic order per partition."""
    found = []
    for seen in await read_all(kafka, GARDEN.name):
        if orjson.loads(seen.value).get("owner_id") in owners:
            event = parse_derived(seen.value)
            assert isinstance(event, GardenEvent)
            found.append(event)
    return found


async def grow(client: httpx.AsyncClient, events: list[ScoreRecorded]) -> None:
    """Apply score events to the garden behind `client` the way the consumer does (one
    transaction); return once its cache heard the commit's change notifications."""
    app = client.app  # type: ignore[attr-defined]
    handler = ScoreHandler(metrics=app.state.metrics)
    async with unit_of_work(app.state.sessions) as session:
        await handler.apply(session, [Delivery(None, None, e) for e in events])  # type: ignore[arg-type]
    await caught_up(client)


async def caught_up(client: httpx.AsyncClient) -> None:
    """Return once the cache of the garden behind `client` heard every change notification
    of what was committed before (a write made outside its API, then read through it)."""
    await client.app.state.change_listener.caught_up()  # type: ignore[attr-defined]
