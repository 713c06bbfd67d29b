"""Redemption use cases: request a prize, and move a redemption on (approve, fulfil,
reject, cancel), each in the caller's unit of work.

Lock order, always: the owner's wallet lock (advisory), then the redemption row
(`FOR UPDATE`), then the prize row (`FOR UPDATE`, or the conditional stock
update). Credits from the consumer take wallet locks only, sorted; admin prize
changes take the prize row only. So no two transactions wait on each other in a
cycle, and a balance or a stock count read under its lock cannot change before
the commit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from services.rewards.changes import Changes
from services.rewards.domain import redemptions as rules
from services.rewards.domain.ledger import LedgerEntry, Owner, entry_recorded, post
from services.rewards.domain.periods import limit_period
from services.rewards.domain.redemptions import Redemption
from services.rewards.domain.refusals import Refusal
from services.rewards.repo import prizes, redemptions, wallets

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


async def request(
    changes: Changes, ask: Ask, *, zone_of: Callable[[str | None], ZoneInfo]
) -> Answer | Refusal:
    """Grant or refuse a request; a retry (same owner and key) answers the first redemption."""
    session = changes.session
    rid = rules.redemption_id(ask.owner, ask.idempotency_key)
    await wallets.lock(session, [ask.owner])
    found = await redemptions.get(session, rid)
    if found is not None:
        existing, named = found
        same = rules.repeats(existing, prize_id=ask.prize_id, owner=ask.owner)
        return Answer(existing, False) if same and named == ask.fruit else _reused(existing)
    prize = await prizes.get(session, ask.prize_id, for_update=True)
    if prize is None:
        raise UnknownPrize(ask.prize_id)
    held = 0
    if prize.limit is not None:
        zone = zone_of(await wallets.home_center(session, ask.owner))
        period = limit_period(prize.limit.per, ask.now, zone)
        held = await redemptions.holding_in(session, ask.owner, prize.prize_id, period)
    plan = rules.request(
        prize,
        redemption_id=rid,
        owner=ask.owner,
        requester=ask.requester,
        balances=await wallets.balances(session, ask.owner),
        stock_left=prize.stock,
        redeemed_in_period=held,
        now=ask.now,
        fruit=ask.fruit,
    )
    if isinstance(plan, Refusal):
        return plan
    await redemptions.insert(
        session, plan.redemption, key=ask.idempotency_key, requested_fruit=ask.fruit
    )
    [debit] = await wallets.record(session, [wallets.Posting(ask.owner, plan.debit)])
    if plan.stock_change:
        left = await prizes.move_stock(session, prize.prize_id, plan.stock_change)
        if left is not None:
            changes.stock[prize.prize_id] = left
    changes.stage(entry_recorded(debit))
    changes.stage(rules.redemption_event(plan.redemption))
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
