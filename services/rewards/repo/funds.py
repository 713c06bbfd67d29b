"""Reward funds and the fruit their members harvested (never commits)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import orjson
from sqlmodel.ext.asyncio.session import AsyncSession

from services.rewards.domain.funds import Fund
from services.rewards.repo import from_row
from shared import sql

_SCOPE_COLUMNS: Final = {"team": "team_id", "department": "department_id", "center": "center_id"}
"""Which membership a credit recorded from its harvest places it in a unit."""


@dataclass(frozen=True, slots=True)
class StoredFund:
    """A fund as the store keeps it: open, or closed with its final shares."""

    fund: Fund
    status: str
    created_by: str
    closed_at: datetime | None
    closed_by: str | None
    final: dict[str, Any] | None
    """At the close: `fruit_by_member` (what the split used) and the `shares`."""


async def get(
    session: AsyncSession, fund_id: str, *, for_update: bool = False
) -> StoredFund | None:
    """Return a fund (locking its row when `for_update`)."""
    rows = await sql.mappings(
        session,
        "SELECT fund_id, scope_kind, scope_id, member_kind, start_date AS start, "
        'end_date AS "end", amount_fen, minimum, status, created_by, closed_at, closed_by, '
        "final_shares AS final "
        "FROM rewards_funds WHERE fund_id = :f" + (" FOR UPDATE" if for_update else ""),
        {"f": fund_id},
    )
    return from_row(StoredFund, rows[0], fund=from_row(Fund, rows[0])) if rows else None


async def insert(session: AsyncSession, fund: Fund, *, by: str) -> bool:
    """Add an open fund; False when its id is taken."""
    result = await sql.execute(
        session,
        "INSERT INTO rewards_funds (fund_id, scope_kind, scope_id, member_kind, start_date, "
        "end_date, amount_fen, minimum, status, created_by) VALUES "
        "(:f, :sk, :si, :mk, :start, :end, :amount, :minimum, 'open', :by) "
        "ON CONFLICT (fund_id) DO NOTHING",
        {
            "f": fund.fund_id,
            "sk": fund.scope_kind,
            "si": fund.scope_id,
            "mk": fund.member_kind,
            "start": fund.start,
            "end": fund.end,
            "amount": fund.amount_fen,
            "minimum": fund.minimum,
            "by": by,
        },
    )
    return result.rowcount == 1


async def close(
    session: AsyncSession, fund_id: str, final: dict[str, Any], *, by: str, at: datetime
) -> None:
    """Close an open fund (its row locked by the caller) with its final shares."""
    await sql.execute(
        session,
        "UPDATE rewards_funds SET status = 'closed', closed_at = :at, closed_by = :by, "
        "final_shares = CAST(:shares AS jsonb) WHERE fund_id = :f AND status = 'open'",
        {"f": fund_id, "at": at, "by": by, "shares": orjson.dumps(final).decode()},
    )


async def fruit_by_member(session: AsyncSession, fund: Fund) -> dict[str, int]:
    """Return the fruit each member of a fund's scope harvested in its period (credits only,
    each harvest once: the ledger holds one credit per harvest id and owner)."""
    column = _SCOPE_COLUMNS[fund.scope_kind]
    rows = await sql.execute(
        session,
        "SELECT owner_id, sum(amount) AS fruit FROM rewards_ledger WHERE kind = 'credit' "
        f"AND owner_kind = :mk AND {column} = :scope "
        "AND business_date >= :start AND business_date < :end GROUP BY owner_id",
        {"mk": fund.member_kind, "scope": fund.scope_id, "start": fund.start, "end": fund.end},
    )
    return {row.owner_id: int(row.fruit) for row in rows}
