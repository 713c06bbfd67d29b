"""Integration fixtures: the ingest app in-process, on the real broker."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from services.ingest.app import create_app
from services.ingest.config import IngestSettings
from shared.db import make_engine
from shared.migrate import migrate
from simulator.org import build_org
from tests.integration.garden_support import garden_settings, running_garden
from tests.integration.scoring_support import load_org, reset_scoring

pytestmark = pytest.mark.integration

SWITCH_KEY = "switch-key-123"
CRM_KEY = "crm-key-4567"
ALL_KEY = "all-types-key"
SCORING_DAY = date(2026, 3, 2)


def ingest_settings(bootstrap: str, **overrides: object) -> IngestSettings:
    values: dict[str, object] = {
        "kafka_bootstrap_servers": bootstrap,
        "ingest_api_keys": f"{SWITCH_KEY}:call.completed,agent.state;"
        f"{CRM_KEY}:survey.answered,complaint.filed,complaint.updated;{ALL_KEY}:*",
        "produce_timeout_seconds": 3.0,
        "max_batch_events": 600,
        "max_body_bytes": 512 * 1024,
        "topic_partitions": 3,
        # the tests' events are dated in early 2026: accept them (keys kept longer still)
        "max_event_age_hours": 24 * 3650,
        "dedup_retention_days": 3651,
    }
    values.update(overrides)
    return IngestSettings(**values)  # type: ignore[arg-type]


@pytest.fixture
async def ingest(kafka: str) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on a running ingest app (lifespan started)."""
    app = create_app(ingest_settings(kafka, validator_enabled=False))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ingest") as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


@asynccontextmanager
async def own_database(server: str, prefix: str) -> AsyncIterator[str]:
    """Create a migrated database of its own next to `server`'s; drop it afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        await migrate(url)
        yield url
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@pytest.fixture
async def scoring_db(database: str) -> AsyncIterator[tuple[AsyncEngine, str]]:
    """Empty scoring tables with a small org; the engine and one agent of it."""
    engine = make_engine(database, pool_size=2)
    await reset_scoring(engine)
    org = build_org(5, seed=3)
    await load_org(engine, org, since=SCORING_DAY - timedelta(days=400))
    agent = org["centers"][0]["departments"][0]["teams"][0]["agents"][0]["id"]
    yield engine, agent
    await engine.dispose()


@pytest.fixture
async def garden_api(kafka: str, database: str) -> AsyncIterator[httpx.AsyncClient]:
    """The garden app in-process, on the real broker and database."""
    async with running_garden(garden_settings(kafka, database)) as http:
        yield http


@pytest.fixture(scope="module")
async def rewards(kafka: str, database: str) -> AsyncIterator[httpx.AsyncClient]:
    """A rewards app with its lifespan running, one per test module."""
    from tests.integration.rewards_support import rewards_app, rewards_settings

    async with rewards_app(rewards_settings(kafka, database)) as client:
        yield client
