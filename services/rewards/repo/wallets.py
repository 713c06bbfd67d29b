"""The ledger and balances of wallets: locks, reads and bulk postings (never commits).

Lock order (every writer): the owners' wallet locks first — advisory locks named
`rewards.wallet:<kind>:<id>`, several taken in one sorted order — then, for a
redemption, the redemption row and then the prize row. A writer holds its wallet
locks until its transaction ends, so balances read under them cannot change.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services.rewards.domain.ledger import LedgerEntry, Owner, Recorded
from shared import sql

_LEDGER_COLUMNS = {
    "owner_kind": "text",
    "owner_id": "text",
    "fruit": "text",
    "kind": "text",
    "amount": "int",
    "balance": "int",
    "reason": "text",
    "actor": "text",
    "reference": "text",
    "business_date": "date",
    "center_id": "text",
    "team_id": "text",
    "department_id": "text",
}
_BALANCE_COLUMNS = {"owner_kind": "text", "owner_id": "text", "fruit": "text", "balance": "int"}
_ENTRY = "id, owner_kind, owner_id, fruit, kind, amount, balance, reason, actor, reference"


@dataclass(frozen=True, slots=True)
class Posting:
    """An entry to record on one owner's wallet, with what a credit's harvest said."""

    owner: Owner
    entry: LedgerEntry
    business_date: date | None = None
    center_id: str | None = None
    team_id: str | None = None
    department_id: str | None = None


class LostUpdate(RuntimeError):
    """A balance moved under a posting: a writer skipped the wallet lock."""


def wallet_lock(owner: Owner) -> str:
    """Return the name of an owner's wallet lock."""
    return f"rewards.wallet:{owner.key}"


async def lock(session: AsyncSession, owners: Iterable[Owner]) -> None:
    """Take the wallet locks of `owners` (sorted, so overlapping sets never deadlock)."""
    await sql.lock(session, *(wallet_lock(o) for o in owners))


async def balances(session: AsyncSession, owner: Owner) -> dict[str, int]:
    """Return an owner's balance of every fruit kind it holds or held, by fruit."""
    rows = await sql.execute(
        session,
        "SELECT fruit, balance FROM rewards_balances "
        "WHERE owner_kind = :k AND owner_id = :o ORDER BY fruit",
        {"k": owner.kind, "o": owner.id},
    )
    return {row.fruit: row.balance for row in rows}


async def balances_of(
    session: AsyncSession, owners: Collection[Owner]
) -> dict[tuple[Owner, str], int]:
    """Return the balances of several owners, by (owner, fruit)."""
    if not owners:
        return {}
    rows = await sql.execute(
        session,
        "SELECT b.owner_kind, b.owner_id, b.fruit, b.balance FROM rewards_balances b "
        f"JOIN {sql.unnest({'kinds': 'text', 'ids': 'text'})} AS w(k, o) "
        "ON b.owner_kind = w.k AND b.owner_id = w.o",
        sql.arrays(("kinds", "ids"), [(o.kind, o.id) for o in owners]),
    )
    return {(Owner(r.owner_kind, r.owner_id), r.fruit): r.balance for r in rows}


async def recorded_references(
    session: AsyncSession, keys: Collection[tuple[Owner, str]]
) -> set[tuple[Owner, str]]:
    """Return which of the (owner, reference) pairs the ledger already holds."""
    if not keys:
        return set()
    rows = await sql.execute(
        session,
        "SELECT l.owner_kind, l.owner_id, l.reference FROM rewards_ledger l "
        f"JOIN {sql.unnest({'kinds': 'text', 'ids': 'text', 'refs': 'text'})} AS w(k, o, r) "
        "ON l.owner_kind = w.k AND l.owner_id = w.o AND l.reference = w.r",
        sql.arrays(("kinds", "ids", "refs"), [(o.kind, o.id, r) for o, r in keys]),
    )
    return {(Owner(r.owner_kind, r.owner_id), r.reference) for r in rows}


def _recorded(row: Any) -> Recorded:
    return Recorded(
        entry_id=row["id"],
        owner=Owner(row["owner_kind"], row["owner_id"]),
        recorded_at=row["recorded_at"],
        entry=LedgerEntry(
            row["kind"],
            row["fruit"],
            row["amount"],
            row["balance"],
            row["reason"],
            row["actor"],
            row["reference"],
        ),
    )


async def entry_by_reference(
    session: AsyncSession, owner: Owner, reference: str
) -> Recorded | None:
    """Return the entry recorded on an owner's wallet under `reference`, if any."""
    rows = await sql.mappings(
        session,
        f"SELECT {_ENTRY}, recorded_at FROM rewards_ledger "
        "WHERE owner_kind = :k AND owner_id = :o AND reference = :r",
        {"k": owner.kind, "o": owner.id, "r": reference},
    )
    return _recorded(rows[0]) if rows else None


async def record(session: AsyncSession, postings: Sequence[Posting]) -> list[Recorded]:
    """Append `postings` (in order; balances computed under the wallet locks) and move the
    balances by their amounts in the same statement pair; return the recorded entries.

    Each balance is moved by the sum of its postings (an UPDATE relative to what is
    stored, an INSERT for a new wallet) and must then equal the last posting's balance:
    a writer that skipped the lock raises `LostUpdate` instead of losing a change, and
    the CHECK keeps every balance ≥ 0.
    """
    if not postings:
        return []
    rows = [
        (
            p.owner.kind,
            p.owner.id,
            p.entry.fruit,
            p.entry.kind,
            p.entry.amount,
            p.entry.balance,
            p.entry.reason,
            p.entry.actor,
            p.entry.reference,
            p.business_date,
            p.center_id,
            p.team_id,
            p.department_id,
        )
        for p in postings
    ]
    inserted = await sql.insert_rows(
        session, "rewards_ledger", _LEDGER_COLUMNS, rows, returning=f"{_ENTRY}, recorded_at"
    )
    recorded = sorted((_recorded(row) for row in inserted.mappings()), key=lambda r: r.entry_id)
    moves: dict[tuple[Owner, str], tuple[int, int]] = {}  # wallet → (sum of amounts, last balance)
    for p in postings:
        total, _ = moves.get((p.owner, p.entry.fruit), (0, 0))
        moves[(p.owner, p.entry.fruit)] = (total + p.entry.amount, p.entry.balance)
    columns = {"k": "text", "o": "text", "f": "text", "d": "int"}
    deltas = [(o.kind, o.id, fruit, total) for (o, fruit), (total, _) in moves.items()]
    moved = await sql.execute(
        session,
        "UPDATE rewards_balances AS b SET balance = b.balance + w.d, updated_at = now() "
        f"FROM {sql.unnest(columns)} AS w(k, o, f, d) "
        "WHERE b.owner_kind = w.k AND b.owner_id = w.o AND b.fruit = w.f "
        "RETURNING b.owner_kind, b.owner_id, b.fruit, b.balance",
        sql.arrays(tuple(columns), deltas),
    )
    found = {(Owner(r.owner_kind, r.owner_id), r.fruit): r.balance for r in moved}
    new = [row for row in deltas if (Owner(row[0], row[1]), row[2]) not in found]
    if new:  # a first entry of a wallet is a credit: never below 0
        await sql.insert_rows(session, "rewards_balances", _BALANCE_COLUMNS, new)
    found.update({(Owner(k, o), f): d for k, o, f, d in new})
    for (owner, fruit), balance in found.items():
        if balance != moves[(owner, fruit)][1]:
            raise LostUpdate(f"{owner.key} {fruit}: {balance}, expected {moves[(owner, fruit)][1]}")
    return recorded


async def ledger_page(
    session: AsyncSession, owner: Owner, *, before: int | None, limit: int
) -> list[Recorded]:
    """Return an owner's entries newest first, those numbered below `before` (a page)."""
    rows = await sql.mappings(
        session,
        f"SELECT {_ENTRY}, recorded_at FROM rewards_ledger "
        "WHERE owner_kind = :k AND owner_id = :o AND id < coalesce(CAST(:before AS bigint), :top) "
        "ORDER BY id DESC LIMIT :limit",
        {"k": owner.kind, "o": owner.id, "before": before, "top": 2**63 - 1, "limit": limit},
    )
    return [_recorded(row) for row in rows]


async def ledger(session: AsyncSession, owner: Owner, *, limit: int) -> list[Recorded]:
    """Return an owner's entries in posting order (at most `limit`)."""
    rows = await sql.mappings(
        session,
        f"SELECT {_ENTRY}, recorded_at FROM rewards_ledger "
        "WHERE owner_kind = :k AND owner_id = :o ORDER BY id LIMIT :limit",
        {"k": owner.kind, "o": owner.id, "limit": limit},
    )
    return [_recorded(row) for row in rows]


async def home_center(session: AsyncSession, owner: Owner) -> str | None:
    """Return the center of an owner's latest harvest (whose zone bounds its limit periods)."""
    value = await sql.scalar(
        session,
        "SELECT center_id FROM rewards_ledger WHERE owner_kind = :k AND owner_id = :o "
        "AND center_id IS NOT NULL ORDER BY id DESC LIMIT 1",
        {"k": owner.kind, "o": owner.id},
    )
    return None if value is None else str(value)
