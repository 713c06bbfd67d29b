"""Pooled connections across a database restart: without a pre-ping round trip, a
connection the server closed is never handed out, and a driver read that meets a dead one
runs again on a fresh connection."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from shared.db import make_engine, make_session_factory, read_on_driver, unit_of_work
from tests.infra import Infrastructure

pytestmark = pytest.mark.integration


async def test_a_restart_costs_no_request_its_connections(
    infra: Infrastructure, database: str
) -> None:
    if infra.database_server is None:
        pytest.skip(f"the database cannot be restarted on the {infra.origin} path")
    engine = make_engine(database, pool_size=3)
    sessions = make_session_factory(engine)

    async def in_a_unit_of_work() -> int:
        async with unit_of_work(sessions) as session:
            return int((await session.execute(text("SELECT 1"))).scalar_one())

    async def on_the_driver() -> int:
        return int(await read_on_driver(engine, lambda db: db.fetchval("SELECT 1")))

    try:
        assert await asyncio.gather(*(in_a_unit_of_work() for _ in range(3))) == [1, 1, 1]
        assert await asyncio.gather(*(on_the_driver() for _ in range(3))) == [1, 1, 1]
        infra.database_server.stop()
        infra.database_server.start()
        await asyncio.sleep(0.2)  # the server's goodbye reaches the pooled connections
        for _ in range(3):  # each pooled connection is dead: none is handed out
            assert await asyncio.gather(in_a_unit_of_work(), on_the_driver()) == [1, 1]
    finally:
        await engine.dispose()


async def test_a_driver_connection_cancelled_mid_statement_is_not_handed_on(
    database: str,
) -> None:
    engine = make_engine(database, pool_size=1)
    try:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(
                read_on_driver(engine, lambda db: db.fetchval("SELECT pg_sleep(5)")), 0.2
            )
        for _ in range(3):  # the one pooled connection serves the next reads at once
            assert (
                await asyncio.wait_for(
                    read_on_driver(engine, lambda db: db.fetchval("SELECT 2")), 2
                )
                == 2
            )
    finally:
        await engine.dispose()
