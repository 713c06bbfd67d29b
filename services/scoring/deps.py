"""Request dependencies of the scoring API: one database transaction per request, the clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.errors import ApiError


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """Yield a session in a transaction that commits when the endpoint returns cleanly.

    The app provides `app.state.sessions` (an `async_sessionmaker`). An exception
    from the endpoint rolls the transaction back.
    """
    factory: async_sessionmaker[AsyncSession] | None = getattr(request.app.state, "sessions", None)
    if factory is None:
        raise ApiError(503, "the database is not configured")
    async with factory() as session, session.begin():
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
"""A request's session; `scope="function"` commits before the response is sent."""


def wall_clock() -> datetime:
    """Return the current instant (a dependency, so a test can set the time)."""
    return datetime.now(UTC)


NowDep = Annotated[datetime, Depends(wall_clock)]
"""The instant a request is served at."""
