"""Database plumbing: the async engine and the unit of work.

A unit of work is one transaction: nothing is committed unless `commit()` is
called, and leaving the block without it rolls everything back. Repositories
never commit; handlers and services decide when a change is whole.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import asyncpg
from sqlalchemy import event, text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.util import greenlet_spawn
from sqlmodel.ext.asyncio.session import AsyncSession

T = TypeVar("T")


def make_engine(database_url: str, *, pool_size: int = 10) -> AsyncEngine:
    """Return an engine for `database_url` (postgresql+asyncpg).

    The pool keeps up to twice `pool_size` connections, the most it ever opened (it used to
    open `pool_size` more as overflow and close each again when it came back: under
    sustained concurrency above `pool_size`, a new connection, with its TLS negotiation,
    authentication and codec set-up, every few requests). It opens them as they are needed.

    No pre-ping round trip on checkout: a connection the server closed (a restart, an
    administrator's termination) is known closed by the driver as soon as the event loop
    has read the server's goodbye, so `_closed_on_checkout` swaps it for a fresh one at no
    cost. A connection that dies while in use fails its statement with
    `DBAPIError.connection_invalidated`, which the pool answers by replacing every
    connection opened before it; consumers retry that as transient, as they always did.
    """
    engine = create_async_engine(
        database_url,
        pool_size=2 * pool_size,
        max_overflow=0,
        pool_pre_ping=False,
        pool_recycle=1800,
    )
    event.listen(engine.sync_engine, "checkout", _closed_on_checkout)
    return engine


def _closed_on_checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """Refuse a pooled connection the driver already knows closed (the pool retries with a
    new one); what a pre-ping's `SELECT` caught, without the round trip."""
    driver = getattr(dbapi_connection, "driver_connection", None)
    if driver is not None and driver.is_closed():
        raise DisconnectionError("the server closed this pooled connection")


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Return a session factory whose objects survive commit (no lazy reloads)."""
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


@asynccontextmanager
async def unit_of_work(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """Open a transaction that rolls back unless the caller commits it."""
    async with factory() as session, session.begin():
        yield session
        # session.begin() commits on a clean exit; callers that want a rollback
        # raise. Explicit commits inside are also fine.


async def ping(engine: AsyncEngine) -> None:
    """Raise unless the database answers."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


class DatabaseUnavailable(RuntimeError):
    """The database could not be reached for a read, even on a fresh connection."""


def _lost(exc: BaseException) -> bool:
    """Tell whether `exc` says the connection is gone (not that the statement failed)."""
    return isinstance(
        exc,
        asyncpg.PostgresConnectionError
        | asyncpg.ConnectionDoesNotExistError
        | asyncpg.exceptions.OperatorInterventionError
        | ConnectionError
        | OSError,
    )


@asynccontextmanager
async def driver_connection(engine: AsyncEngine) -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection's own asyncpg connection, outside any transaction the pool knows
    of (the caller manages its own): no SQLAlchemy work per statement. It goes back to the
    pool when the block ends; it is dropped instead if it died, was cancelled in the
    middle of a statement or was left in a transaction."""
    pooled = await engine.raw_connection()
    driver: asyncpg.Connection = pooled.driver_connection
    try:
        yield driver
    except BaseException as exc:
        if driver.is_closed() or not isinstance(exc, Exception):
            # dead, or cancelled in the middle of a statement: never hand it on
            await greenlet_spawn(pooled.invalidate, exc)
        raise
    finally:
        if not driver.is_closed() and driver.is_in_transaction():
            # a transaction the block left open: never hand it on
            await greenlet_spawn(pooled.invalidate)
        await greenlet_spawn(pooled.close)


async def read_on_driver(
    engine: AsyncEngine, read: Callable[[asyncpg.Connection], Awaitable[T]]
) -> T:
    """Run the read-only `read` on a driver connection outside any transaction (each
    statement is its own snapshot): no `BEGIN`/`COMMIT` round trips and no SQLAlchemy work
    per statement, for the hottest reads.

    A connection that turns out dead is dropped from the pool and the read runs once more
    on a fresh one; `DatabaseUnavailable` when that fails too.
    """
    for attempt in range(2):
        try:
            async with driver_connection(engine) as driver:
                return await read(driver)
        except Exception as exc:
            if not _lost(exc):
                raise
            if attempt:
                raise DatabaseUnavailable(str(exc)) from exc
    raise AssertionError("unreachable")
