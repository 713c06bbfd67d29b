"""The prize catalog: documents and stock counters (never commits).

A redemption locks its prize row (`FOR UPDATE`) after the owner's wallet lock, and
takes stock with a conditional `UPDATE ... WHERE stock > 0`: the row lock orders
concurrent requests, the condition and the CHECK (stock ≥ 0) make overselling
impossible even for a writer that did not lock.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlmodel.ext.asyncio.session import AsyncSession

from services.rewards.domain.catalog import Prize, prize_document, prize_from_document
from shared import sql


class StockExhausted(RuntimeError):
    """The conditional stock update found no unit left."""


def _prize(row: Any) -> Prize:
    return prize_from_document({**row["document"], "stock": row["stock"]})


def _stored(prize: Prize) -> bytes:
    document = prize_document(prize)
    del document["stock"]
    return orjson.dumps(document)


async def get(session: AsyncSession, prize_id: str, *, for_update: bool = False) -> Prize | None:
    """Return a prize (locking its row for the transaction when `for_update`)."""
    rows = await sql.mappings(
        session,
        "SELECT document, stock FROM rewards_prizes WHERE prize_id = :p"
        + (" FOR UPDATE" if for_update else ""),
        {"p": prize_id},
    )
    return _prize(rows[0]) if rows else None


async def catalog(session: AsyncSession) -> list[Prize]:
    """Return every prize, by id."""
    rows = await sql.mappings(
        session, "SELECT document, stock FROM rewards_prizes ORDER BY prize_id"
    )
    return [_prize(row) for row in rows]


async def is_empty(session: AsyncSession) -> bool:
    """Say whether the catalog holds no prize at all."""
    return await sql.scalar(session, "SELECT NOT EXISTS (SELECT 1 FROM rewards_prizes)") is True


async def insert(session: AsyncSession, prize: Prize, *, by: str) -> bool:
    """Add a prize; False when its id is taken."""
    result = await sql.execute(
        session,
        "INSERT INTO rewards_prizes (prize_id, document, stock, updated_by) "
        "VALUES (:p, CAST(:d AS jsonb), :s, :by) ON CONFLICT (prize_id) DO NOTHING",
        {"p": prize.prize_id, "d": _stored(prize).decode(), "s": prize.stock, "by": by},
    )
    return result.rowcount == 1


async def replace(session: AsyncSession, prize: Prize, *, by: str) -> None:
    """Store a changed prize (its row locked by the caller)."""
    await sql.execute(
        session,
        "UPDATE rewards_prizes SET document = CAST(:d AS jsonb), stock = :s, "
        "updated_by = :by, updated_at = now() WHERE prize_id = :p",
        {"p": prize.prize_id, "d": _stored(prize).decode(), "s": prize.stock, "by": by},
    )


async def move_stock(session: AsyncSession, prize_id: str, change: int) -> int | None:
    """Take (−1) or give back (+1) a unit of a stocked prize; return the stock left.

    Taking is conditional (`stock > 0`): `StockExhausted` when no unit is left.
    """
    left = await sql.scalar(
        session,
        "UPDATE rewards_prizes SET stock = stock + :c, updated_at = now() "
        "WHERE prize_id = :p AND stock IS NOT NULL AND stock + :c >= 0 RETURNING stock",
        {"p": prize_id, "c": change},
    )
    if left is None and change < 0:
        raise StockExhausted(prize_id)
    return None if left is None else int(left)
