"""The statements of a prize request, on a driver (asyncpg) connection in the caller's
transaction (never commits): the wallet lock, one read of what the rules decide on, one
write of what a granted request changes.

Lock order, as every rewards writer: the owner's wallet lock (advisory), then the prize row
(`FOR UPDATE`). The read runs after the wallet lock is held, so its snapshot holds every
change of the wallet and its redemptions (they are written under that lock only); the
prize row is read as locked, its stock as it stands.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import asyncpg
import orjson

from services.rewards.domain.catalog import Prize, prize_from_document
from services.rewards.domain.ledger import LedgerEntry, Owner, Recorded
from services.rewards.domain.periods import LimitPeriod
from services.rewards.domain.redemptions import HOLDING, Redemption
from services.rewards.repo.prizes import StockExhausted
from services.rewards.repo.redemptions import _COLUMNS, _redemption
from services.rewards.repo.wallets import LostUpdate, wallet_lock


@dataclass(frozen=True, slots=True)
class RequestRead:
    """What a request is decided on, read under the wallet lock."""

    existing: tuple[Redemption, str | None] | None
    """The redemption under the request's id and the fruit its request named (a retry)."""
    prize: Prize | None
    balances: dict[str, int]


REQUEST_READ = f"""
SELECT r.*, p.document, p.stock, b.balances
FROM (SELECT 1) AS one
LEFT JOIN (SELECT {_COLUMNS} FROM rewards_redemptions WHERE redemption_id = $1) AS r ON true
LEFT JOIN (SELECT document::text AS document, stock FROM rewards_prizes WHERE prize_id = $2
           FOR UPDATE) AS p ON true
LEFT JOIN (SELECT json_object_agg(fruit, balance)::text AS balances FROM rewards_balances
           WHERE owner_kind = $3 AND owner_id = $4) AS b ON true
"""

_PRIZES: dict[str, Prize] = {}
"""Prizes by their stored document (without the stock): the same document, the same prize."""


def _prize(document: str, stock: int | None) -> Prize:
    prize = _PRIZES.get(document)
    if prize is None:
        prize = prize_from_document({**orjson.loads(document), "stock": None})
        if len(_PRIZES) >= 1024:
            _PRIZES.clear()
        _PRIZES[document] = prize
    return prize if stock is None else replace(prize, stock=stock)


async def lock_wallet(db: asyncpg.Connection, owner: Owner) -> None:
    """Wait for the owner's wallet lock (held until the transaction ends)."""
    await db.execute("SELECT pg_advisory_xact_lock(hashtext($1))", wallet_lock(owner))


async def read_request(
    db: asyncpg.Connection, redemption_id: str, prize_id: str, owner: Owner
) -> RequestRead:
    """Read the redemption under `redemption_id`, the prize (its row locked) and the owner's
    balances, in one statement (call with the wallet lock held)."""
    row = await db.fetchrow(REQUEST_READ, redemption_id, prize_id, owner.kind, owner.id)
    assert row is not None  # one row whatever is found
    balances = orjson.loads(row["balances"]) if row["balances"] is not None else {}
    document = row["document"]
    return RequestRead(
        existing=None
        if row["redemption_id"] is None
        else (_redemption(row), row["requested_fruit"]),
        prize=None if document is None else _prize(document, row["stock"]),
        balances=balances,
    )


async def home_center(db: asyncpg.Connection, owner: Owner) -> str | None:
    """The center of the owner's latest harvest (whose zone bounds its limit periods)."""
    value = await db.fetchval(
        "SELECT center_id FROM rewards_ledger WHERE owner_kind = $1 AND owner_id = $2 "
        "AND center_id IS NOT NULL ORDER BY id DESC LIMIT 1",
        owner.kind,
        owner.id,
    )
    return None if value is None else str(value)


async def holding_in(
    db: asyncpg.Connection, owner: Owner, prize_id: str, period: LimitPeriod
) -> int:
    """Count the owner's redemptions of a prize requested in `period` that hold their fruit."""
    count = await db.fetchval(
        "SELECT count(*) FROM rewards_redemptions WHERE owner_kind = $1 AND owner_id = $2 "
        "AND prize_id = $3 AND status = ANY($4::text[]) "
        "AND requested_at >= coalesce($5::timestamptz, '-infinity') "
        "AND requested_at < coalesce($6::timestamptz, 'infinity')",
        owner.kind,
        owner.id,
        prize_id,
        sorted(HOLDING),
        period.start,
        period.end,
    )
    return int(count or 0)


# A granted request in one statement: the redemption, its debit, the balance moved relative
# to what is stored, the stock taken (conditionally). Every part runs; what they return lets
# the caller refuse to commit a lost update or an oversold stock.
GRANT = """
WITH redemption AS (
  INSERT INTO rewards_redemptions (redemption_id, owner_kind, owner_id, prize_id, fruit, price,
    needs_approval, stock_reserved, status, idempotency_key, requested_fruit, requested_at,
    requested_by, changed_at, changed_by)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $12, $13)
), debit AS (
  INSERT INTO rewards_ledger (owner_kind, owner_id, fruit, kind, amount, balance, reason, actor,
    reference)
  VALUES ($2, $3, $14, $15, $16, $17, $18, $19, $20)
  RETURNING id, recorded_at
), moved AS (
  UPDATE rewards_balances SET balance = balance + $16, updated_at = now()
  WHERE owner_kind = $2 AND owner_id = $3 AND fruit = $14
  RETURNING balance
), stock AS (
  UPDATE rewards_prizes SET stock = stock + $21, updated_at = now()
  WHERE $21 <> 0 AND prize_id = $4 AND stock IS NOT NULL AND stock + $21 >= 0
  RETURNING stock
)
SELECT (SELECT id FROM debit) AS entry_id, (SELECT recorded_at FROM debit) AS recorded_at,
  (SELECT balance FROM moved) AS balance, (SELECT stock FROM stock) AS stock_left
"""


async def grant(
    db: asyncpg.Connection,
    redemption: Redemption,
    debit: LedgerEntry,
    *,
    key: str,
    requested_fruit: str | None,
    stock_change: int,
) -> tuple[Recorded, int | None]:
    """Store a granted request; return the recorded debit and the stock left (None for an
    unlimited prize). `LostUpdate` when the balance moved under the wallet lock,
    `StockExhausted` when no unit was left: the caller rolls back."""
    r, e = redemption, debit
    row = await db.fetchrow(
        GRANT,
        r.redemption_id, r.owner.kind, r.owner.id, r.prize_id, r.fruit, r.price,
        r.needs_approval, r.stock_reserved, r.status, key, requested_fruit, r.requested_at,
        r.requested_by, e.fruit, e.kind, e.amount, e.balance, e.reason, e.actor, e.reference,
        stock_change,
    )  # fmt: skip
    assert row is not None
    if row["balance"] != e.balance:
        raise LostUpdate(f"{r.owner.key} {e.fruit}: {row['balance']}, expected {e.balance}")
    left = row["stock_left"]
    if stock_change < 0 and left is None:
        raise StockExhausted(r.prize_id)
    recorded = Recorded(row["entry_id"], r.owner, row["recorded_at"], e)
    return recorded, None if left is None else int(left)
