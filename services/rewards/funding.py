"""Reward fund use cases: create, read the shares (estimate while open, final once closed),
close, and one member's share with how it was computed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services.rewards.domain.funds import (
    Share,
    fund_document,
    fund_from_document,
    share_of,
    split,
    unallocated,
)
from services.rewards.repo import funds
from services.rewards.repo.funds import StoredFund


class FundExists(Exception):
    """Another fund already has this id."""


@dataclass(frozen=True, slots=True)
class Split:
    """A fund with the fruit per member its shares come from."""

    stored: StoredFund
    fruit_by_member: dict[str, int]

    @property
    def final(self) -> bool:
        return self.stored.status == "closed"

    @property
    def shares(self) -> list[Share]:
        fund = self.stored.fund
        return split(fund.amount_fen, self.fruit_by_member, minimum=fund.minimum)

    def share_of(self, member_id: str) -> Share:
        fund = self.stored.fund
        return share_of(member_id, fund.amount_fen, self.fruit_by_member, minimum=fund.minimum)


def share_out(share: Share) -> dict[str, Any]:
    """Render a share (with its amount)."""
    return {**asdict(share), "amount_fen": share.amount_fen}


def fund_out(fund_split: Split) -> dict[str, Any]:
    """Render a fund with its shares and what they leave unallocated."""
    stored, shares = fund_split.stored, fund_split.shares
    return {
        **fund_document(stored.fund),
        "status": stored.status,
        "final": fund_split.final,
        "closed_at": stored.closed_at.isoformat() if stored.closed_at else None,
        "closed_by": stored.closed_by,
        "qualifying_fruit": sum(s.fruit for s in shares),
        "allocated_fen": sum(s.amount_fen for s in shares),
        "unallocated_fen": unallocated(stored.fund.amount_fen, shares),
        "shares": [share_out(s) for s in shares],
    }


async def create(
    session: AsyncSession, document: Mapping[str, Any], *, by: str
) -> tuple[StoredFund, bool]:
    """Open a valid fund; the same id with the same document is a retry (created False)."""
    fund = fund_from_document(document)
    if not await funds.insert(session, fund, by=by):
        existing = await funds.get(session, fund.fund_id)
        assert existing is not None
        if existing.fund != fund:
            raise FundExists(fund.fund_id)
        return existing, False
    stored = await funds.get(session, fund.fund_id)
    assert stored is not None
    return stored, True


async def read(session: AsyncSession, fund_id: str) -> Split | None:
    """Return a fund and the fruit it splits by: live while open, as closed once closed."""
    stored = await funds.get(session, fund_id)
    return None if stored is None else await _split(session, stored)


async def _split(session: AsyncSession, stored: StoredFund) -> Split:
    if stored.final is not None:
        return Split(stored, dict(stored.final["fruit_by_member"]))
    return Split(stored, await funds.fruit_by_member(session, stored.fund))


async def close(
    session: AsyncSession, fund_id: str, *, by: str, now: datetime
) -> tuple[Split, bool] | None:
    """Close a fund with its shares as they stand (True: closed now); closing a closed fund
    changes nothing."""
    stored = await funds.get(session, fund_id, for_update=True)
    if stored is None:
        return None
    if stored.status == "closed":
        return await _split(session, stored), False
    fruit = await funds.fruit_by_member(session, stored.fund)
    shares = Split(stored, fruit).shares
    final = {"fruit_by_member": fruit, "shares": [share_out(s) for s in shares]}
    await funds.close(session, fund_id, final, by=by, at=now)
    closed = await funds.get(session, fund_id)
    assert closed is not None
    return await _split(session, closed), True
