"""Helpers of the rewards integration tests: the rewards app in-process on the real broker
and database, tokens, harvests produced to cc.garden.v1, and waiting with deadlines."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from services.rewards.app import create_app
from services.rewards.config import RewardsSettings
from shared import sql
from shared.auth.tokens import mint_token
from shared.contracts.garden import FruitHarvested
from shared.kafka import EventProducer, OutgoingRecord
from tests.integration.alerting_support import wait_for

JWT_SECRET = "rewards-test-secret-of-32-bytes-or-more"


def unique(prefix: str) -> str:
    """A fresh id, so tests sharing the database never see each other's owners."""
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def token(role: str = "admin", sub: str = "ops-admin", unit: str | None = None) -> dict[str, str]:
    jwt = mint_token(secret=JWT_SECRET, subject=sub, role=role, unit=unit)
    return {"Authorization": f"Bearer {jwt}"}


def agent(agent_id: str) -> dict[str, str]:
    return token("agent", agent_id)


def leader(team_id: str, sub: str = "leader-1") -> dict[str, str]:
    return token("team_leader", sub, unit=team_id)


ADMIN = token()


def rewards_settings(kafka: str, database: str, **overrides: Any) -> RewardsSettings:
    values: dict[str, Any] = {
        "kafka_bootstrap_servers": kafka,
        "database_url": database,
        "jwt_secret": JWT_SECRET,
        "consumer_group": unique("rewards-"),
        "topic_partitions": 3,
        "seed_catalog": False,
        "outbox_poll_seconds": 0.1,
        "db_pool_size": 10,
    }
    values.update(overrides)
    return RewardsSettings(**values)


@asynccontextmanager
async def rewards_app(settings: RewardsSettings) -> AsyncIterator[httpx.AsyncClient]:
    """The rewards app with its lifespan (consumer, relay) running; a client on its API."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://rewards", timeout=120
        ) as client:
            client.app = app  # type: ignore[attr-defined]
            await wait_for(lambda: _ready(client), within=60)
            yield client


async def _ready(client: httpx.AsyncClient) -> bool:
    return (await client.get("/readyz")).status_code == 200


def harvest(
    owner_id: str,
    count: int,
    *,
    owner_kind: str = "agent",
    fruit: str = "watermelon",
    harvest_id: str | None = None,
    day: date = date(2026, 12, 1),
    center: str = "C1",
    **extra: Any,
) -> FruitHarvested:
    """A `fruit.harvested` event as garden publishes it (`extra`: team_id, department_id)."""
    hid = harvest_id or unique("h-")
    return FruitHarvested(
        event_id=f"garden:harvest:{hid}:{uuid.uuid4().hex[:6]}",
        occurred_at=datetime.now(UTC),
        owner_kind=owner_kind,  # type: ignore[arg-type]
        owner_id=owner_id,
        center_id=center,
        indicator="satisfaction",
        fruit=fruit,
        business_date=day,
        count=count,
        harvest_id=hid,
        trigger="owner",
        harvested_by=owner_id,
        **extra,
    )


async def produce(kafka: str, events: list[Any]) -> None:
    """Publish events to their topics, keyed as their contracts say."""
    producer = EventProducer(kafka)
    await producer.start()
    try:
        await producer.send_all(
            [
                OutgoingRecord(
                    topic=e.topic.name,
                    value=e.to_json(),
                    key=e.partition_key.encode(),
                    headers=[("event_type", e.type.encode()), ("event_id", e.event_id.encode())],
                )
                for e in events
            ]
        )
    finally:
        await producer.stop()


async def balances(client: httpx.AsyncClient, kind: str, owner_id: str) -> dict[str, int]:
    response = await client.get(f"/v1/wallets/{kind}/{owner_id}", headers=ADMIN)
    assert response.status_code == 200, response.text
    return dict(response.json()["balances"])


async def fund_wallet(client: httpx.AsyncClient, owner: str, fruit: str, amount: int) -> None:
    """Give a wallet fruit by an admin adjustment (`owner` is `kind:id`)."""
    kind, _, owner_id = owner.partition(":")
    response = await client.post(
        f"/v1/wallets/{kind}/{owner_id}/adjustments",
        json={"fruit": fruit, "amount": amount, "reason": "test", "reference": unique("seed-")},
        headers=ADMIN,
    )
    assert response.status_code == 201, response.text


async def add_prize(client: httpx.AsyncClient, **document: Any) -> dict[str, Any]:
    body = {"id": unique("p-"), "name": "a prize", "fruit": "watermelon", "price": 10, **document}
    response = await client.post("/v1/prizes", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def ledger_rows(engine: AsyncEngine, kind: str, owner_id: str) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        return await sql.mappings(
            conn,
            "SELECT id, kind, fruit, amount, balance, reference FROM rewards_ledger "
            "WHERE owner_kind = :k AND owner_id = :o ORDER BY id",
            {"k": kind, "o": owner_id},
        )
