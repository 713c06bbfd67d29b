"""Events on `cc.rewards.v1` (rewards): wallet ledger entries and redemptions.

Keyed by owner id (an agent or a team), so one wallet's entries stay in order.
A ledger entry is final; the balance after it is `balance`. A redemption's
events follow its life: requested → approved (when the prize needs it) →
fulfilled, or rejected / cancelled (with a refund entry).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StrictInt, StrictStr

from shared.contracts.derived import DerivedEvent, Name, example
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

    model_config = example(
        event_id="rewards:ledger:1024",
        type="ledger.entry_recorded",
        source="rewards",
        occurred_at="2026-12-01T09:30:01+00:00",
        owner_kind="agent",
        owner_id="A1001",
        entry_id=1024,
        entry_kind="credit",
        fruit="watermelon",
        amount=2,
        balance=12,
        reason="harvest",
        actor="garden",
        reference="garden:harvest:7f3c2a9e",
    )
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


RedemptionStatus = Literal["requested", "approved", "rejected", "fulfilled", "cancelled"]


class RedemptionEvent(RewardsEvent):
    """A redemption changed status."""

    redemption_id: Name
    prize_id: Name
    fruit: Name
    price: Amount
    """Fruit debited for it (refunded when rejected or cancelled)."""
    status: RedemptionStatus
    actor: Name
    reason: StrictStr | None = None


def _example(status: str, actor: str, reason: str | None = None) -> ConfigDict:
    return example(
        event_id=f"rewards:redemption:R-88:{status}",
        type=f"redemption.{status}",
        source="rewards",
        occurred_at="2026-12-01T10:00:00+00:00",
        owner_kind="agent",
        owner_id="A1001",
        redemption_id="R-88",
        prize_id="water-cup",
        fruit="watermelon",
        price=10,
        status=status,
        actor=actor,
        reason=reason,
    )


class RedemptionRequested(RedemptionEvent):
    """An owner asked for a prize: the fruit is debited and the stock reserved."""

    model_config = _example("requested", "A1001")
    type: Literal["redemption.requested"] = "redemption.requested"
    status: Literal["requested"] = "requested"


class RedemptionApproved(RedemptionEvent):
    """An admin approved a redemption whose prize needs approval."""

    model_config = _example("approved", "admin-1")
    type: Literal["redemption.approved"] = "redemption.approved"
    status: Literal["approved"] = "approved"


class RedemptionRejected(RedemptionEvent):
    """An admin refused a redemption: the fruit is refunded and the stock returned."""

    model_config = _example("rejected", "admin-1", "out of season")
    type: Literal["redemption.rejected"] = "redemption.rejected"
    status: Literal["rejected"] = "rejected"


class RedemptionFulfilled(RedemptionEvent):
    """The prize was handed over: the redemption is complete."""

    model_config = _example("fulfilled", "admin-1")
    type: Literal["redemption.fulfilled"] = "redemption.fulfilled"
    status: Literal["fulfilled"] = "fulfilled"


class RedemptionCancelled(RedemptionEvent):
    """The requester withdrew before fulfilment: the fruit is refunded and the stock returned."""

    model_config = _example("cancelled", "A1001")
    type: Literal["redemption.cancelled"] = "redemption.cancelled"
    status: Literal["cancelled"] = "cancelled"


REWARDS_EVENTS: tuple[type[RewardsEvent], ...] = (
    LedgerEntryRecorded,
    RedemptionRequested,
    RedemptionApproved,
    RedemptionRejected,
    RedemptionFulfilled,
    RedemptionCancelled,
)
