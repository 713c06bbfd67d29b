"""Redemption use cases: request a prize, and move a redemption on (approve, fulfil,
reject, cancel), each in the caller's unit of work.

Lock order, always: the owner's wallet lock (advisory), then the redemption row
(`FOR UPDATE`), then the prize row (`FOR UPDATE`, or the conditional stock
update). Credits from the consumer take wallet locks only, sorted; admin prize
changes take the prize row only. So no two transactions wait on each other in a
cycle, and a balance read under its lock cannot change before the commit. A
request takes its prize row with its write, which writes only if the prize is
still as decided on (`repo/requests.py`), so what it decided on holds until the
commit too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

import asyncpg

from services.rewards.changes import Changes
from services.rewards.domain import redemptions as rules
from services.rewards.domain.ledger import LedgerEntry, Owner, Recorded, entry_recorded, post
from services.rewards.domain.periods import limit_period
from services.rewards.domain.redemptions import Redemption
from services.rewards.domain.refusals import Refusal
from services.rewards.repo import prizes, redemptions, requests, wallets
from services.rewards.repo.prizes import StockExhausted
from shared.contracts.derived import DerivedEvent

Move = Literal["approve", "fulfil", "reject", "cancel"]
TARGET: dict[Move, rules.Status] = {
    "approve": "approved",
    "fulfil": "fulfilled",
    "reject": "rejected",
    "cancel": "cancelled",
}


class UnknownPrize(LookupError):
    """The request names a prize the catalog does not hold."""


@dataclass(frozen=True, slots=True)
class Ask:
    """A request for a prize, as the API read it."""

    owner: Owner
    prize_id: str
    fruit: str | None
    idempotency_key: str
    requester: str
    now: datetime


@dataclass(frozen=True, slots=True)
class Answer:
    """The redemption a request created, or found when it was a retry."""

    redemption: Redemption
    created: bool


def _reused(existing: Redemption) -> Refusal:
    return Refusal(
        "reference_reused",
        f"this Idempotency-Key was used for another request ({existing.redemption_id})",
    )


@dataclass
class Requesting:
    """A prize request's unit of work on a driver connection, and what it staged."""

    db: asyncpg.Connection
    events: list[DerivedEvent] = field(default_factory=list)
    stock: dict[str, int] = field(default_factory=dict)
    """Stock left per stocked prize the request took from."""


async def request(
    work: Requesting, ask: Ask, *, zone_of: Callable[[str | None], ZoneInfo]
) -> Answer | Refusal:
    """Grant or refuse a request; a retry (same owner and key) answers the first redemption.

    In the caller's transaction: the wallet lock and, in one call, the existing redemption,
    the prize and the balances; for a prize with a limit, the owner's home center and count
    in the period; the grant and its two events in one write, which takes the prize row. When
    the prize changed between the read and the write (its stock ran out, an admin edited
    it), nothing was written: the request is read again with the prize row locked first and
    decided again.
    """
    rid = rules.redemption_id(ask.owner, ask.idempotency_key)
    for lock_prize in (False, True):
        answer = await _decide(work, ask, rid, lock_prize=lock_prize, zone_of=zone_of)
        if answer is not None:
            return answer
    raise StockExhausted(ask.prize_id)  # the prize changed under its own row lock: never


async def _decide(
    work: Requesting,
    ask: Ask,
    rid: str,
    *,
    lock_prize: bool,
    zone_of: Callable[[str | None], ZoneInfo],
) -> Answer | Refusal | None:
    """Read, decide and write a request once; None when the prize changed before the write."""
    db = work.db
    read = await requests.read_request(db, rid, ask.prize_id, ask.owner, lock_prize=lock_prize)
    if read.existing is not None:
        existing, named = read.existing
        same = rules.repeats(existing, prize_id=ask.prize_id, owner=ask.owner)
        return Answer(existing, False) if same and named == ask.fruit else _reused(existing)
    prize, document, entry_id = read.prize, read.document, read.entry_id
    if prize is None or document is None or entry_id is None:
        raise UnknownPrize(ask.prize_id)
    held = 0
    if prize.limit is not None:
        zone = zone_of(await requests.home_center(db, ask.owner))
        period = limit_period(prize.limit.per, ask.now, zone)
        held = await requests.holding_in(db, ask.owner, prize.prize_id, period)
    plan = rules.request(
        prize,
        redemption_id=rid,
        owner=ask.owner,
        requester=ask.requester,
        balances=read.balances,
        stock_left=read.stock,
        redeemed_in_period=held,
        now=ask.now,
        fruit=ask.fruit,
    )
    if isinstance(plan, Refusal):
        return plan
    debit = Recorded(entry_id, ask.owner, read.recorded_at, plan.debit)
    events = [entry_recorded(debit), rules.redemption_event(plan.redemption)]
    granted = await requests.grant(
        db,
        plan.redemption,
        debit,
        events,
        key=ask.idempotency_key,
        requested_fruit=ask.fruit,
        stock_change=plan.stock_change,
        document=document,
    )
    if granted is None:
        return None
    if granted.stock_left is not None:
        work.stock[prize.prize_id] = granted.stock_left
    work.events += events
    return Answer(plan.redemption, True)


async def move(
    changes: Changes,
    redemption_id: str,
    step: Move,
    *,
    actor: str,
    now: datetime,
    reason: str | None = None,
) -> Redemption | Refusal | None:
    """Move a redemption on; None when there is no such redemption.

    Asking again for the status it already has answers it unchanged (a retry).
    """
    session = changes.session
    owner = await redemptions.owner_of(session, redemption_id)
    if owner is None:
        return None
    await wallets.lock(session, [owner])
    found = await redemptions.get(session, redemption_id, for_update=True)
    assert found is not None  # redemptions are never deleted
    current = found[0]
    if current.status == TARGET[step]:
        return current
    if step == "approve":
        moved = rules.approve(current, actor, now)
    elif step == "fulfil":
        moved = rules.fulfil(current, actor, now)
    elif step == "reject":
        moved = rules.reject(current, actor, now, reason=reason)
    else:
        moved = rules.cancel(current, actor, now, reason=reason)
    if isinstance(moved, Refusal):
        return moved
    await redemptions.update(session, moved.redemption)
    if moved.refund is not None:
        balance = (await wallets.balances(session, owner)).get(moved.refund.fruit, 0)
        entry = post(balance, moved.refund)
        assert isinstance(entry, LedgerEntry)  # a refund always posts
        [refund] = await wallets.record(session, [wallets.Posting(owner, entry)])
        changes.stage(entry_recorded(refund))
    if moved.stock_change:
        left = await prizes.move_stock(session, current.prize_id, moved.stock_change)
        if left is not None:
            changes.stock[current.prize_id] = left
    changes.stage(rules.redemption_event(moved.redemption))
    return moved.redemption
