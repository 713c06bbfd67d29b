"""Stored first answers of requests with an `Idempotency-Key`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson
from sqlmodel.ext.asyncio.session import AsyncSession

from shared import sql


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    request_hash: str
    status: int
    response: dict[str, Any]


async def hold_key(session: AsyncSession, principal: str, key: str) -> None:
    """Serialise requests with one caller's key until the transaction ends."""
    await sql.lock(session, f"garden.idempotency:{principal}:{key}")


async def stored_answer(session: AsyncSession, principal: str, key: str) -> StoredAnswer | None:
    """Return the first answer given to this caller's key, if any."""
    rows = await sql.mappings(
        session,
        "SELECT request_hash, status, response FROM garden_idempotency "
        "WHERE principal = :p AND key = :k",
        {"p": principal, "k": key},
    )
    return StoredAnswer(**rows[0]) if rows else None


async def store_answer(
    session: AsyncSession,
    principal: str,
    key: str,
    *,
    route: str,
    request_hash: str,
    status: int,
    response: dict[str, Any],
) -> None:
    """Remember the answer (in the transaction that made it)."""
    await sql.execute(
        session,
        "INSERT INTO garden_idempotency (principal, key, route, request_hash, status, response) "
        "VALUES (:p, :k, :r, :h, :s, CAST(:b AS jsonb))",
        {
            "p": principal,
            "k": key,
            "r": route,
            "h": request_hash,
            "s": status,
            "b": orjson.dumps(response).decode(),
        },
    )


async def forget_older_than(session: AsyncSession, age: timedelta) -> int:
    """Delete answers older than `age`; return how many went."""
    result = await sql.execute(
        session,
        "DELETE FROM garden_idempotency WHERE created_at < now() - CAST(:age AS interval)",
        {"age": age},
    )
    return int(result.rowcount)
