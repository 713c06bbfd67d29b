"""The change notifications of migration `0011_garden_changes` on the real database: the
agent ids a committed statement wrote, in payloads under PostgreSQL's 8000-byte limit, `*`
for a configuration version, nothing for a rollback or for other owners' rows; and the
downgrade removes them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date

import asyncpg
import orjson
import pytest
from alembic import command
from sqlalchemy import text

from services.garden.garden_listener import CHANNEL, driver_dsn
from shared.db import make_engine
from shared.migrate import alembic_config
from tests.integration.conftest import own_database
from tests.integration.garden_support import tag

pytestmark = pytest.mark.integration


@pytest.fixture
async def heard(database: str) -> AsyncIterator[list[str]]:
    payloads: list[str] = []
    listener = await asyncpg.connect(driver_dsn(database))
    await listener.add_listener(CHANNEL, lambda *args: payloads.append(args[3]))
    try:
        yield payloads
    finally:
        await listener.close()


async def settle(payloads: list[str], count: int) -> list[str]:
    """Wait until `count` payloads arrived (then a moment more, for any extra one)."""
    for _ in range(200):
        if len(payloads) >= count:
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.2)
    return list(payloads)


MEMBERS = (
    "INSERT INTO garden_members (owner_kind, owner_id, center_id, as_of) "
    "SELECT :kind, :prefix || n, 'C1', :day FROM generate_series(1, :n) AS n "
    "ON CONFLICT (owner_kind, owner_id) DO UPDATE SET as_of = EXCLUDED.as_of"
)


async def test_a_commit_sends_its_agents_in_payloads_under_the_limit(
    database: str, heard: list[str]
) -> None:
    prefix = f"N{tag()}-" + "x" * 100  # long ids: 2,000 of them need several payloads
    engine = make_engine(database, pool_size=1)
    try:
        async with engine.begin() as conn:
            params = {"kind": "agent", "prefix": prefix, "day": date(2026, 1, 1), "n": 2000}
            await conn.execute(text(MEMBERS), params)
        payloads = await settle(heard, 30)
        ids = [i for p in payloads for i in orjson.loads(p) if i.startswith(prefix)]
        assert sorted(ids) == sorted(f"{prefix}{n}" for n in range(1, 2001))
        assert len(payloads) > 1 and all(len(p.encode()) < 8000 for p in payloads)
        heard.clear()
        async with engine.begin() as conn:  # the upsert's update: the same agents again
            params = {"kind": "agent", "prefix": prefix, "day": date(2026, 1, 2), "n": 3}
            await conn.execute(text(MEMBERS), params)
        assert await settle(heard, 1) == [
            orjson.dumps([f"{prefix}{n}" for n in (1, 2, 3)]).decode()
        ]
    finally:
        await engine.dispose()


async def test_a_rollback_and_other_owners_send_nothing_a_version_sends_everything(
    database: str, heard: list[str]
) -> None:
    prefix = f"R{tag()}-"
    engine = make_engine(database, pool_size=1)
    try:
        async with engine.connect() as conn:
            await conn.execute(
                text(MEMBERS),
                {"kind": "agent", "prefix": prefix, "day": date(2026, 1, 1), "n": 5},
            )
            await conn.rollback()
        async with engine.begin() as conn:
            await conn.execute(
                text(MEMBERS), {"kind": "team", "prefix": prefix, "day": date(2026, 1, 1), "n": 5}
            )
        assert await settle(heard, 1) == []
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO garden_config_versions (center_id, effective_from, document, "
                    "created_by) VALUES (:c, '-infinity', '{}', 'test')"
                ),
                {"c": f"C{tag()}"},
            )
        assert await settle(heard, 1) == ["*"]
    finally:
        await engine.dispose()


async def test_the_downgrade_removes_the_triggers(database: str) -> None:
    async with own_database(database, "notify") as url:
        engine = make_engine(url, pool_size=1)
        try:
            async with engine.connect() as conn:

                def down(connection: object) -> None:
                    config = alembic_config(url)
                    config.attributes["connection"] = connection
                    command.downgrade(config, "0009_campaigns")

                await conn.run_sync(down)
                await conn.commit()
                left = await conn.scalar(
                    text("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'garden_%_notify%'")
                )
                assert left == 0
        finally:
            await engine.dispose()
