"""Events on `cc.rewards.v1` (rewards): wallet ledger entries and redemptions.

Keyed by owner id (an agent or a team), so one wallet's entries stay in order.
A ledger entry is final; the balance after it is `balance`. A redemption's
events follow its life: requested → approved (when the prize needs it) →
fulfilled, or rejected / cancelled (with a refund entry).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StrictInt, StrictStr

from shared.contracts.derived import DerivedEvent, Name
from shared.contracts.topics import REWARDS

WalletOwnerKind = Literal["agent", "team"]
Amount = Annotated[StrictInt, Field(ge=1)]


class RewardsEvent(DerivedEvent):
    """Something happened to an owner's wallet or redemption."""

    topic = REWARDS

    source: Literal["rewards"] = "rewards"
    owner_kind: WalletOwnerKind
    owner_id: Name

    @property
    def partition_key(self) -> str:
        return self.owner_id


class LedgerEntryRecorded(RewardsEvent):
    """A wallet changed: fruit credited, debited, refunded or adjusted."""

    type: Literal["ledger.entry_recorded"] = "ledger.entry_recorded"
    entry_id: Annotated[StrictInt, Field(ge=1)]
    entry_kind: Literal["credit", "debit", "refund", "adjustment"]
    fruit: Name
    amount: StrictInt
    """Signed: positive adds to the balance, negative takes from it (never 0)."""
    balance: Annotated[StrictInt, Field(ge=0)]
    """The wallet's balance of `fruit` after this entry (never negative)."""
    reason: Annotated[StrictStr, Field(min_length=1, max_length=500)]
    actor: Name
    reference: Annotated[StrictStr, Field(min_length=1, max_length=256)]
    """The source: a harvest's event id, a redemption id, or an adjustment's reference."""


class RedemptionEvent(RewardsEvent):
    """A redemption moved on in its life (its `type` says where to)."""

    redemption_id: Name
    prize_id: Name
    fruit: Name
    price: Amount
    """Fruit debited for it (refunded when rejected or cancelled)."""
    actor: Name
    reason: StrictStr | None = None


class RedemptionRequested(RedemptionEvent):
    """An owner asked for a prize: the fruit is debited and the stock reserved."""

    type: Literal["redemption.requested"] = "redemption.requested"


class RedemptionApproved(RedemptionEvent):
    """An admin approved a redemption whose prize needs approval."""

    type: Literal["redemption.approved"] = "redemption.approved"


class RedemptionRejected(RedemptionEvent):
    """An admin refused a redemption: the fruit is refunded and the stock returned."""

    type: Literal["redemption.rejected"] = "redemption.rejected"


class RedemptionFulfilled(RedemptionEvent):
    """The prize was handed over: the redemption is complete."""

    type: Literal["redemption.fulfilled"] = "redemption.fulfilled"


class RedemptionCancelled(RedemptionEvent):
    """The requester withdrew before fulfilment: the fruit is refunded and the stock returned."""

    type: Literal["redemption.cancelled"] = "redemption.cancelled"


REWARDS_EVENTS: tuple[type[RewardsEvent], ...] = (
    LedgerEntryRecorded,
    RedemptionRequested,
    RedemptionApproved,
    RedemptionRejected,
    RedemptionFulfilled,
    RedemptionCancelled,
)
