"""Database plumbing: the async engine and the unit of work.

A unit of work is one transaction: nothing is committed unless `commit()` is
called, and leaving the block without it rolls everything back. Repositories
never commit; handlers and services decide when a change is whole.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession


def make_engine(database_url: str, *, pool_size: int = 10) -> AsyncEngine:
    """Return an engine for `database_url` (postgresql+asyncpg)."""
    return create_async_engine(
        database_url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_recycle=1800,
    )


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
