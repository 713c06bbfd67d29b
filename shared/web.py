"""Request dependencies a service's routes share: one transaction per request, the clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.errors import ApiError


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
