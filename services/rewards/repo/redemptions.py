"""Redemptions: rows, limit counts and pages (never commits)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services.rewards.domain.ledger import Owner
from services.rewards.domain.periods import LimitPeriod
from services.rewards.domain.redemptions import HOLDING, Redemption
from services.rewards.repo import from_row
from shared import sql

_COLUMNS = (
    "redemption_id, owner_kind, owner_id, prize_id, fruit, price, needs_approval, "
    "stock_reserved, status, requested_by, requested_at, changed_by, changed_at, reason, "
    "requested_fruit"
)
_STEP_COLUMNS = {
    "approved": ("approved_at", "approved_by"),
    "fulfilled": ("fulfilled_at", "fulfilled_by"),
    "rejected": ("rejected_at", "rejected_by"),
    "cancelled": ("cancelled_at", "cancelled_by"),
}


def _redemption(row: Any) -> Redemption:
    return from_row(Redemption, row, owner=Owner(row["owner_kind"], row["owner_id"]))


async def get(
    session: AsyncSession, redemption_id: str, *, for_update: bool = False
) -> tuple[Redemption, str | None] | None:
    """Return a redemption and the fruit its request named (locking its row if asked)."""
    rows = await sql.mappings(
        session,
        f"SELECT {_COLUMNS} FROM rewards_redemptions WHERE redemption_id = :r"
        + (" FOR UPDATE" if for_update else ""),
        {"r": redemption_id},
    )
    return (_redemption(rows[0]), rows[0]["requested_fruit"]) if rows else None


async def owner_of(session: AsyncSession, redemption_id: str) -> Owner | None:
    """Return whose redemption `redemption_id` is (None: no such redemption)."""
    rows = await sql.execute(
        session,
        "SELECT owner_kind, owner_id FROM rewards_redemptions WHERE redemption_id = :r",
        {"r": redemption_id},
    )
    row = rows.first()
    return None if row is None else Owner(row.owner_kind, row.owner_id)


async def holding_in(
    session: AsyncSession, owner: Owner, prize_id: str, period: LimitPeriod
) -> int:
    """Count an owner's redemptions of a prize requested in `period` that hold their fruit."""
    count = await sql.scalar(
        session,
        "SELECT count(*) FROM rewards_redemptions WHERE owner_kind = :k AND owner_id = :o "
        "AND prize_id = :p AND status = ANY(:holding) "
        "AND requested_at >= coalesce(CAST(:start AS timestamptz), '-infinity') "
        "AND requested_at < coalesce(CAST(:end AS timestamptz), 'infinity')",
        {
            "k": owner.kind,
            "o": owner.id,
            "p": prize_id,
            "holding": sorted(HOLDING),
            "start": period.start,
            "end": period.end,
        },
    )
    return int(count or 0)


async def insert(
    session: AsyncSession, redemption: Redemption, *, key: str, requested_fruit: str | None
) -> None:
    """Store a new (requested) redemption."""
    r = redemption
    await sql.execute(
        session,
        "INSERT INTO rewards_redemptions (redemption_id, owner_kind, owner_id, prize_id, fruit, "
        "price, needs_approval, stock_reserved, status, idempotency_key, requested_fruit, "
        "requested_at, requested_by, changed_at, changed_by) VALUES (:r, :k, :o, :p, :f, :price, "
        ":approval, :reserved, :status, :key, :named, :at, :by, :at, :by)",
        {
            "r": r.redemption_id,
            "k": r.owner.kind,
            "o": r.owner.id,
            "p": r.prize_id,
            "f": r.fruit,
            "price": r.price,
            "approval": r.needs_approval,
            "reserved": r.stock_reserved,
            "status": r.status,
            "key": key,
            "named": requested_fruit,
            "at": r.requested_at,
            "by": r.requested_by,
        },
    )


async def update(session: AsyncSession, redemption: Redemption) -> None:
    """Store a redemption's move (its row locked by the caller)."""
    r = redemption
    at, by = _STEP_COLUMNS[r.status]
    await sql.execute(
        session,
        f"UPDATE rewards_redemptions SET status = :status, {at} = :at, {by} = :by, "
        "changed_at = :at, changed_by = :by, reason = :reason WHERE redemption_id = :r",
        {
            "r": r.redemption_id,
            "status": r.status,
            "at": r.changed_at,
            "by": r.changed_by,
            "reason": r.reason,
        },
    )


async def page(
    session: AsyncSession,
    *,
    owner: Owner | None,
    status: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[Redemption]:
    """Return redemptions newest first, those after the cursor (requested_at, id)."""
    where = ["TRUE"]
    params: dict[str, Any] = {"limit": limit}
    if owner is not None:
        where.append("owner_kind = :k AND owner_id = :o")
        params.update(k=owner.kind, o=owner.id)
    if status is not None:
        where.append("status = :status")
        params["status"] = status
    if after is not None:
        where.append("(requested_at, redemption_id) < (:at, :id)")
        params.update(at=after[0], id=after[1])
    rows = await sql.mappings(
        session,
        f"SELECT {_COLUMNS} FROM rewards_redemptions WHERE {' AND '.join(where)} "
        "ORDER BY requested_at DESC, redemption_id DESC LIMIT :limit",
        params,
    )
    return [_redemption(row) for row in rows]
