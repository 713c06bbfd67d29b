"""The statements of a prize request, on a driver (asyncpg) connection in the caller's
transaction (never commits): the wallet lock and one read of what the rules decide on in one
call, then one write of what a granted request changes, its events included.

Lock order, as every rewards writer: the owner's wallet lock (advisory), then the prize row.
The read runs after the wallet lock is held, so its snapshot holds every change of the
wallet and its redemptions (they are written under that lock only). It reads the prize
without locking its row; the write takes the row (the conditional stock update, or
`FOR UPDATE` for an unlimited prize) only where the stored document is still the one the
rules decided on, so the row is held from the write to the commit, not across the decision.
A prize changed in between writes nothing: the caller reads again with the row locked
first (`lock_prize`) and decides again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg
import orjson

from services.rewards.domain.catalog import Prize, prize_from_document
from services.rewards.domain.ledger import Owner, Recorded
from services.rewards.domain.periods import LimitPeriod
from services.rewards.domain.redemptions import HOLDING, Redemption
from services.rewards.repo.redemptions import _redemption
from services.rewards.repo.wallets import LostUpdate, wallet_lock
from shared.contracts.derived import DerivedEvent
from shared.outbox import outbox_arrays


@dataclass(frozen=True, slots=True)
class RequestRead:
    """What a request is decided on, read under the wallet lock."""

    existing: tuple[Redemption, str | None] | None
    """The redemption under the request's id and the fruit its request named (a retry)."""
    prize: Prize | None
    """The prize its stored document describes (its stock apart, in `stock`)."""
    document: str | None
    """The prize's stored document, which the write checks is unchanged."""
    stock: int | None
    """The prize's stock as it stands (None: unlimited)."""
    balances: dict[str, int]
    entry_id: int | None
    """The number of the debit of a new request (none for a retry or an unknown prize)."""
    recorded_at: datetime
    """The instant the transaction's entries are recorded at."""


# The wallet lock, then (for a retry of the decision) the prize row, then one read in a
# snapshot taken with the locks held: migrations/versions/0010_rewards_request_read.py.
REQUEST_READ = "SELECT * FROM rewards_request_read($1, $2, $3, $4, $5, $6)"

_PRIZES: dict[str, Prize] = {}
"""Prizes by their stored document (without the stock): the same document, the same prize."""


def _prize(document: str) -> Prize:
    prize = _PRIZES.get(document)
    if prize is None:
        prize = prize_from_document({**orjson.loads(document), "stock": None})
        if len(_PRIZES) >= 1024:
            _PRIZES.clear()
        _PRIZES[document] = prize
    return prize


async def read_request(
    db: asyncpg.Connection,
    redemption_id: str,
    prize_id: str,
    owner: Owner,
    *,
    lock_prize: bool = False,
) -> RequestRead:
    """Wait for the owner's wallet lock (held until the transaction ends), and the prize row's
    too when `lock_prize`; then read the redemption under `redemption_id`, the prize and the
    owner's balances."""
    row = await db.fetchrow(
        REQUEST_READ, wallet_lock(owner), redemption_id, prize_id, owner.kind, owner.id, lock_prize
    )
    assert row is not None  # one row whatever is found
    balances = orjson.loads(row["balances"]) if row["balances"] is not None else {}
    document = row["document"]
    return RequestRead(
        existing=None
        if row["redemption_id"] is None
        else (_redemption(row), row["requested_fruit"]),
        prize=None if document is None else _prize(document),
        document=document,
        stock=row["stock"],
        balances=balances,
        entry_id=row["entry_id"],
        recorded_at=row["recorded_at"],
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


# A granted request in one statement. The prize row first: the stock taken (conditionally),
# or an unlimited prize's row locked, only while its document is the one decided on; every
# other part writes only when that found the row: the redemption, its debit (numbered and
# timed by the read), the balance moved relative to what is stored, the two events. What it
# returns lets the caller decide again (nothing granted) or refuse to commit a lost update.
GRANT = """
WITH taken AS (
  UPDATE rewards_prizes SET stock = stock + $23, updated_at = now()
  WHERE $23 <> 0 AND prize_id = $4 AND document = $24::jsonb AND stock + $23 >= 0
  RETURNING stock
), held AS (
  SELECT stock FROM rewards_prizes
  WHERE $23 = 0 AND prize_id = $4 AND document = $24::jsonb AND stock IS NULL
  FOR UPDATE
), prize AS (
  SELECT stock FROM taken UNION ALL SELECT stock FROM held
), redemption AS (
  INSERT INTO rewards_redemptions (redemption_id, owner_kind, owner_id, prize_id, fruit, price,
    needs_approval, stock_reserved, status, idempotency_key, requested_fruit, requested_at,
    requested_by, changed_at, changed_by)
  SELECT $1, $2, $3, $4, $5, $6::int, $7::bool, $8::bool, $9, $10, $11, $12::timestamptz,
    $13, $12::timestamptz, $13
  FROM prize
), debit AS (
  INSERT INTO rewards_ledger (id, owner_kind, owner_id, fruit, kind, amount, balance, reason,
    actor, reference, recorded_at) OVERRIDING SYSTEM VALUE
  SELECT $14::bigint, $2, $3, $15, $16, $17::int, $18::int, $19, $20, $21, $22::timestamptz
  FROM prize
), moved AS (
  UPDATE rewards_balances SET balance = balance + $17, updated_at = now()
  WHERE owner_kind = $2 AND owner_id = $3 AND fruit = $15 AND EXISTS (SELECT FROM prize)
  RETURNING balance
), staged AS (
  INSERT INTO outbox (producer, topic, key, payload, headers)
  SELECT * FROM unnest($25::text[], $26::text[], $27::bytea[], $28::bytea[], $29::jsonb[])
  WHERE EXISTS (SELECT FROM prize)
)
SELECT EXISTS (SELECT FROM prize) AS granted, (SELECT balance FROM moved) AS balance,
  (SELECT stock FROM prize) AS stock_left
"""


@dataclass(frozen=True, slots=True)
class Granted:
    """What a granted request left: the stock of a stocked prize (None: unlimited)."""

    stock_left: int | None


async def grant(
    db: asyncpg.Connection,
    redemption: Redemption,
    debit: Recorded,
    events: Sequence[DerivedEvent],
    *,
    key: str,
    requested_fruit: str | None,
    stock_change: int,
    document: str,
) -> Granted | None:
    """Store a granted request and stage its events, if the prize's stored document is still
    `document` and a unit is left (a stocked prize); None when nothing was written.
    `LostUpdate` when the balance moved under the wallet lock: the caller rolls back."""
    r, e = redemption, debit.entry
    row = await db.fetchrow(
        GRANT,
        r.redemption_id, r.owner.kind, r.owner.id, r.prize_id, r.fruit, r.price,
        r.needs_approval, r.stock_reserved, r.status, key, requested_fruit, r.requested_at,
        r.requested_by, debit.entry_id, e.fruit, e.kind, e.amount, e.balance, e.reason, e.actor,
        e.reference, debit.recorded_at, stock_change, document, *outbox_arrays(events),
    )  # fmt: skip
    assert row is not None
    if not row["granted"]:
        return None
    if row["balance"] != e.balance:
        raise LostUpdate(f"{r.owner.key} {e.fruit}: {row['balance']}, expected {e.balance}")
    left = row["stock_left"]
    return Granted(None if left is None else int(left))
