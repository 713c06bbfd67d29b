"""How the rewards API writes its resources as JSON."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from services.rewards.domain.catalog import Prize, prize_document
from services.rewards.domain.ledger import Recorded
from services.rewards.domain.redemptions import Redemption


def entry_out(recorded: Recorded) -> dict[str, Any]:
    """A ledger entry."""
    e = recorded.entry
    return {
        "entry_id": recorded.entry_id,
        "recorded_at": recorded.recorded_at.astimezone(UTC).isoformat(),
        "owner": recorded.owner.key,
        "kind": e.kind,
        "fruit": e.fruit,
        "amount": e.amount,
        "balance": e.balance,
        "reason": e.reason,
        "actor": e.actor,
        "reference": e.reference,
    }


def redemption_out(redemption: Redemption) -> dict[str, Any]:
    """A redemption as it stands."""
    r = redemption
    return {
        "id": r.redemption_id,
        "owner": r.owner.key,
        "prize_id": r.prize_id,
        "fruit": r.fruit,
        "price": r.price,
        "status": r.status,
        "needs_approval": r.needs_approval,
        "requested_at": r.requested_at.astimezone(UTC).isoformat(),
        "requested_by": r.requested_by,
        "changed_at": r.changed_at.astimezone(UTC).isoformat(),
        "changed_by": r.changed_by,
        "reason": r.reason,
    }


def prize_out(prize: Prize) -> dict[str, Any]:
    """A prize's full document (its stock is the counter as it stands)."""
    return prize_document(prize)
