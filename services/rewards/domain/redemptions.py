"""Redemptions (domain.md §7): an owner's fruit exchanged for a prize, and its life.

requested (fruit debited, stock reserved) → approved (only for a prize that
needs approval) → fulfilled; or rejected by an admin, or cancelled by the
requester, from requested or approved (fruit refunded, stock returned).
Fulfilled, rejected and cancelled are final. Each status reached is one
`redemption.*` event; a refund is one `ledger.entry_recorded`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final, Literal

from services.rewards.domain.catalog import Prize, payment_fruit
from services.rewards.domain.ledger import (
    EntryRequest,
    LedgerEntry,
    Owner,
    debit_for,
    post,
    refund_for,
)
from services.rewards.domain.periods import LimitPeriod
from services.rewards.domain.refusals import Refusal
from shared.contracts.rewards import (
    RedemptionApproved,
    RedemptionCancelled,
    RedemptionEvent,
    RedemptionFulfilled,
    RedemptionRejected,
    RedemptionRequested,
)

Status = Literal["requested", "approved", "fulfilled", "rejected", "cancelled"]

FINAL: Final[frozenset[Status]] = frozenset({"fulfilled", "rejected", "cancelled"})
HOLDING: Final[frozenset[Status]] = frozenset({"requested", "approved", "fulfilled"})
"""Statuses whose fruit stays debited: they count toward a per-owner limit."""
_EVENTS: Final[dict[Status, type[RedemptionEvent]]] = {
    "requested": RedemptionRequested,
    "approved": RedemptionApproved,
    "fulfilled": RedemptionFulfilled,
    "rejected": RedemptionRejected,
    "cancelled": RedemptionCancelled,
}


@dataclass(frozen=True, slots=True)
class Redemption:
    """One owner's redemption of one prize, as it stands."""

    redemption_id: str
    prize_id: str
    owner: Owner
    fruit: str
    price: int
    needs_approval: bool
    stock_reserved: bool
    """Whether a unit of stock was taken (False for an unlimited prize)."""
    status: Status
    requested_by: str
    requested_at: datetime
    changed_by: str
    changed_at: datetime
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    """What granting a request writes: the redemption, its debit and the stock taken."""

    redemption: Redemption
    debit: LedgerEntry
    stock_change: int
    """−1 for a stocked prize, 0 for an unlimited one."""


@dataclass(frozen=True, slots=True)
class Transition:
    """What a move writes: the redemption's new state, the refund and the stock returned."""

    redemption: Redemption
    refund: EntryRequest | None
    stock_change: int
    """+1 when a reserved unit goes back to stock, else 0."""


def redemption_id(owner: Owner, idempotency_key: str) -> str:
    """Return the id of the redemption an owner's request with `idempotency_key` creates."""
    digest = hashlib.sha256(f"{owner.key}\n{idempotency_key}".encode()).hexdigest()
    return f"r-{digest[:32]}"


def repeats(redemption: Redemption, *, prize_id: str, owner: Owner) -> bool:
    """Say whether a request under an existing redemption's id asks for the same thing."""
    return redemption.prize_id == prize_id and redemption.owner == owner


def redeemed_in(redemptions: Iterable[Redemption], period: LimitPeriod) -> int:
    """Count the redemptions requested in `period` that still hold their fruit."""
    return sum(1 for r in redemptions if r.status in HOLDING and r.requested_at in period)


def request(
    prize: Prize,
    *,
    redemption_id: str,
    owner: Owner,
    requester: str,
    balances: Mapping[str, int],
    stock_left: int | None,
    redeemed_in_period: int,
    now: datetime,
    fruit: str | None = None,
) -> Plan | Refusal:
    """Decide a request for `prize`: a plan to write, or why not.

    `stock_left` is the prize's stock now (None: unlimited); `redeemed_in_period`
    counts the owner's redemptions of this prize that hold their fruit in the
    limit period containing `now`. Checks run in the order of the reason codes:
    inactive_prize, not_active, not_for_owner_kind, limit_reached, out_of_stock,
    fruit_not_accepted, insufficient_fruit.
    """
    if not prize.active:
        return Refusal("inactive_prize", f"{prize.prize_id} is withdrawn")
    if not prize.on_offer(now):
        return Refusal("not_active", f"{prize.prize_id} is not on offer at {now.isoformat()}")
    if owner.kind not in prize.owner_kinds:
        return Refusal("not_for_owner_kind", f"{prize.prize_id} is not for a {owner.kind}")
    if prize.limit is not None and redeemed_in_period >= prize.limit.count:
        limit = prize.limit
        return Refusal("limit_reached", f"at most {limit.count} per {limit.per}")
    if stock_left is not None and stock_left < 1:
        return Refusal("out_of_stock", f"{prize.prize_id} is out of stock")
    paid_in = payment_fruit(prize, balances, fruit)
    if isinstance(paid_in, Refusal):
        return paid_in
    debit = debit_for(redemption_id, paid_in, prize.price, actor=requester, prize_id=prize.prize_id)
    entry = post(balances.get(paid_in, 0), debit)
    if isinstance(entry, Refusal):
        return entry
    redemption = Redemption(
        redemption_id=redemption_id,
        prize_id=prize.prize_id,
        owner=owner,
        fruit=paid_in,
        price=prize.price,
        needs_approval=prize.needs_approval,
        stock_reserved=stock_left is not None,
        status="requested",
        requested_by=requester,
        requested_at=now,
        changed_by=requester,
        changed_at=now,
    )
    return Plan(redemption, entry, -1 if redemption.stock_reserved else 0)


def _move(
    redemption: Redemption,
    to: Status,
    allowed: bool,
    *,
    actor: str,
    now: datetime,
    reason: str | None,
) -> Transition | Refusal:
    if not allowed:
        return Refusal(
            "invalid_transition",
            f"{redemption.redemption_id} cannot go from {redemption.status} to {to}",
        )
    moved = replace(redemption, status=to, changed_by=actor, changed_at=now, reason=reason)
    if to not in ("rejected", "cancelled"):
        return Transition(moved, None, 0)
    refund = refund_for(
        redemption.redemption_id, redemption.fruit, redemption.price, actor=actor, why=to
    )
    return Transition(moved, refund, 1 if redemption.stock_reserved else 0)


def approve(redemption: Redemption, actor: str, now: datetime) -> Transition | Refusal:
    """Approve a requested redemption whose prize needs approval."""
    allowed = redemption.status == "requested" and redemption.needs_approval
    return _move(redemption, "approved", allowed, actor=actor, now=now, reason=None)


def fulfil(redemption: Redemption, actor: str, now: datetime) -> Transition | Refusal:
    """Record that the prize was handed over (after approval, where it is needed)."""
    ready: Status = "approved" if redemption.needs_approval else "requested"
    return _move(
        redemption, "fulfilled", redemption.status == ready, actor=actor, now=now, reason=None
    )


def reject(
    redemption: Redemption, actor: str, now: datetime, *, reason: str | None = None
) -> Transition | Refusal:
    """Refuse a redemption before fulfilment: refund the fruit, return the stock."""
    allowed = redemption.status in ("requested", "approved")
    return _move(redemption, "rejected", allowed, actor=actor, now=now, reason=reason)


def cancel(
    redemption: Redemption, actor: str, now: datetime, *, reason: str | None = None
) -> Transition | Refusal:
    """Withdraw a redemption before fulfilment: refund the fruit, return the stock."""
    allowed = redemption.status in ("requested", "approved")
    return _move(redemption, "cancelled", allowed, actor=actor, now=now, reason=reason)


def redemption_event(redemption: Redemption) -> RedemptionEvent:
    """Return the event of the status the redemption has just reached."""
    r = redemption
    return _EVENTS[r.status].model_validate(
        {
            "event_id": f"redemption:{r.redemption_id}/{r.status}",
            "occurred_at": r.changed_at,
            "owner_kind": r.owner.kind,
            "owner_id": r.owner.id,
            "redemption_id": r.redemption_id,
            "prize_id": r.prize_id,
            "fruit": r.fruit,
            "price": r.price,
            "actor": r.changed_by,
            "reason": r.reason,
        }
    )
