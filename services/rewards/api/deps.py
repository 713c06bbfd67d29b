"""Request plumbing of the rewards API: units of work, the clock, pages, JSON bodies."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from fastapi import Request
from sqlmodel.ext.asyncio.session import AsyncSession

from services.rewards.changes import Changes, observe
from services.rewards.config import RewardsSettings
from services.rewards.domain.refusals import Refusal
from services.rewards.metrics import RewardsMetrics
from services.rewards.paging import BadCursor
from services.rewards.redeeming import Requesting
from shared.db import driver_connection, unit_of_work
from shared.errors import ApiError, unstorable_input
from shared.vocabulary import Problem
from shared.web import request_engine

C = TypeVar("C")


def settings(request: Request) -> RewardsSettings:
    value: RewardsSettings = request.app.state.settings
    return value


def metrics(request: Request) -> RewardsMetrics:
    value: RewardsMetrics = request.app.state.metrics
    return value


def now(request: Request) -> datetime:
    """The instant a request is served at (`app.state.clock` when a test sets one)."""
    clock = getattr(request.app.state, "clock", None)
    return clock() if clock is not None else datetime.now(UTC)


@asynccontextmanager
async def changes(request: Request) -> AsyncIterator[Changes]:
    """A unit of work for a change: committed when the block ends cleanly, then counted in
    the metrics and the outbox relay woken; rolled back on any exception."""
    state = request.app.state
    async with unit_of_work(state.sessions) as session:
        work = Changes(session)
        yield work
    work.observe(state.metrics)
    state.after_commit()


@asynccontextmanager
async def requesting(request: Request) -> AsyncIterator[Requesting]:
    """A prize request's transaction on a driver connection: committed when the block ends
    cleanly, then counted in the metrics and the outbox relay woken; rolled back on any
    exception. A value the database cannot hold is the caller's mistake (422)."""
    state = request.app.state
    async with driver_connection(request_engine(request)) as db:
        work = Requesting(db)
        try:
            async with db.transaction():
                yield work
        except Exception as exc:
            if unstorable_input(exc):
                raise ApiError(
                    422,
                    "a value of the request cannot be stored (a NUL character, or an integer "
                    "beyond 64 bits)",
                ) from None
            raise
    observe(state.metrics, work.events, work.stock)
    state.after_commit()


@asynccontextmanager
async def reading(request: Request) -> AsyncIterator[AsyncSession]:
    """A read-only transaction."""
    async with unit_of_work(request.app.state.sessions) as session:
        yield session


def page_size(request: Request, limit: int | None) -> int:
    """The page size asked for, within the configured bounds."""
    config = settings(request)
    if limit is None:
        return config.page_size
    if not 1 <= limit <= config.max_page_size:
        raise ApiError(
            422,
            "limit is out of range",
            details=[{"field": "limit", "reason": f"must be from 1 to {config.max_page_size}"}],
        )
    return limit


def cursor(read: Callable[[str], C], given: str | None) -> C | None:
    """The position a page cursor names (None: the first page; 422 for a foreign one)."""
    try:
        return read(given) if given else None
    except BadCursor:
        raise ApiError(422, "unknown cursor", code="invalid_cursor") from None


def refused(request: Request, refusal: Refusal) -> ApiError:
    """The 409 answering a refusal of the rules, with its reason code (counted)."""
    metrics(request).refusals.labels(refusal.code).inc()
    return ApiError(409, refusal.message, code=refusal.code)


def invalid(message: str, problems: list[Problem]) -> ApiError:
    """The 422 listing what is wrong with a request, field by field."""
    return ApiError(422, message, details=[dict(p) for p in problems])


async def json_body(request: Request) -> Any:
    """The request's JSON document (400 when it is not JSON)."""
    try:
        return await request.json()
    except ValueError:
        raise ApiError(400, "body is not JSON") from None
