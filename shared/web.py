"""Request dependencies a service's routes share: one transaction per request, reads outside
any transaction, the clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, TypeVar

import asyncpg
from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.db import DatabaseUnavailable, read_on_driver
from shared.errors import ApiError, unstorable_input

T = TypeVar("T")


async def request_session(request: Request) -> AsyncIterator[AsyncSession]:
    """Yield a session whose transaction commits when the endpoint returns cleanly and rolls
    back when it raises (`app.state.sessions` is the session factory)."""
    factory: async_sessionmaker[AsyncSession] | None = getattr(request.app.state, "sessions", None)
    if factory is None:
        raise ApiError(503, "the database is not configured")
    async with factory() as session, session.begin():
        yield session


SessionDep = Annotated[AsyncSession, Depends(request_session, scope="function")]
"""A request's session; `scope="function"` commits before the response is sent."""


def wall_clock() -> datetime:
    """Return the current instant (a dependency, so a test can set the time)."""
    return datetime.now(UTC)


NowDep = Annotated[datetime, Depends(wall_clock)]
"""The instant a request is served at."""


def request_engine(request: Request) -> AsyncEngine:
    """The engine behind the app's session factory (`app.state.sessions`)."""
    factory: async_sessionmaker[AsyncSession] | None = getattr(request.app.state, "sessions", None)
    if factory is None:
        raise ApiError(503, "the database is not configured")
    engine: AsyncEngine = factory.kw["bind"]
    return engine


async def driver_read(request: Request, read: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    """Run a read-only `read` on a driver connection outside any transaction (`read_on_driver`);
    503 when the database cannot be reached, 422 for a value it cannot hold."""
    try:
        return await read_on_driver(request_engine(request), read)
    except DatabaseUnavailable:
        raise ApiError(503, "the database is unavailable; try again") from None
    except asyncpg.PostgresError as exc:
        if not unstorable_input(exc):
            raise
        raise ApiError(422, "a value of the request cannot be stored (a NUL character)") from None


@asynccontextmanager
async def read_connection(request: Request) -> AsyncIterator[AsyncConnection]:
    """A Core connection in autocommit for read-only statements: no `BEGIN`/`COMMIT` round
    trips, each statement its own snapshot (`shared.sql` functions take it)."""
    async with request_engine(request).connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        yield connection
