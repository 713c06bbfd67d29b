"""Request dependencies of the garden API: who asks, the transaction, the clock and the
service's parts, in one `Call`; the OpenAPI entries of error answers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, TypeVar

import asyncpg
from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from services.garden.config import GardenSettings
from services.garden.metrics import GardenMetrics
from shared.auth.tokens import Principal, current_principal
from shared.errors import ERROR_SCHEMA
from shared.web import SessionDep, driver_read, read_connection, wall_clock

T = TypeVar("T")


class _Asked:
    """What a garden request knows of its service and its moment: the settings, and the
    business day of a center at the request's `now`."""

    request: Request
    now: datetime

    @property
    def settings(self) -> GardenSettings:
        settings: GardenSettings = self.request.app.state.settings
        return settings

    def today(self, center_id: str | None) -> date:
        """Return the business day of a center now."""
        return self.now.astimezone(self.settings.zone_of(center_id)).date()


@dataclass
class CallContext(_Asked):
    """What every garden request carries."""

    request: Request
    principal: Principal
    session: AsyncSession
    now: datetime

    @property
    def metrics(self) -> GardenMetrics:
        metrics: GardenMetrics = self.request.app.state.metrics
        return metrics

    def after_commit(self) -> None:
        """Wake the outbox relay (call once the transaction committed)."""
        self.request.app.state.after_commit()


async def caller(request: Request) -> Principal:
    """The verified caller, on the event loop (a sync dependency would cost a thread hop)."""
    return current_principal(request)


async def call_context(
    request: Request, principal: Annotated[Principal, Depends(caller)], session: SessionDep
) -> CallContext:
    """Build a request's context without a thread-pool hop per part: FastAPI runs sync
    dependencies (a dataclass, the token check, the clock) in worker threads."""
    return CallContext(request, principal, session, wall_clock())


Call = Annotated[CallContext, Depends(call_context)]


@dataclass
class ReadContext(_Asked):
    """What a request that only reads carries: no session, no transaction; its statements
    run on a driver connection (`read`), each its own snapshot."""

    request: Request
    principal: Principal
    now: datetime

    def connection(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A Core connection in autocommit for the read's statements."""
        return read_connection(self.request)

    def read(self, statements: Callable[[asyncpg.Connection], Awaitable[T]]) -> Awaitable[T]:
        """Run read-only `statements` on a pooled driver connection (503 when the database
        cannot be reached)."""
        return driver_read(self.request, statements)


async def read_context(request: Request) -> ReadContext:
    """Build a read's context in one dependency (the token check, the clock)."""
    return ReadContext(request, current_principal(request), wall_clock())


Read = Annotated[ReadContext, Depends(read_context)]

_ANSWERS = {
    304: ("not_modified", "the client's copy is current (If-None-Match)"),
    401: ("unauthenticated", "a bearer token is required"),
    403: ("forbidden", "this owner is outside what you may see"),
    409: ("nothing_ripe", "there is no ripe fruit to harvest"),
    422: ("invalid", "the request is invalid"),
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries of the error answers a route gives, in the common error shape."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        code, message = _ANSWERS[status]
        if status == 304:
            out[status] = {"description": message}
            continue
        example = {"error": {"code": code, "message": message, "details": []}}
        content = {"application/json": {"schema": ERROR_SCHEMA, "example": example}}
        out[status] = {"description": message, "content": content}
    return out
