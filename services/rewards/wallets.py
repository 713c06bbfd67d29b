"""Wallet use case: an admin's adjustment, applied once per reference."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.rewards.changes import Changes
from services.rewards.domain.ledger import (
    Owner,
    Recorded,
    adjustment_from_document,
    entry_recorded,
    post,
    replay_of,
    reused,
)
from services.rewards.domain.refusals import Refusal
from services.rewards.repo import wallets


@dataclass(frozen=True, slots=True)
class Adjusted:
    """The entry an adjustment recorded, or found when it was a retry."""

    recorded: Recorded
    created: bool


async def adjust(
    changes: Changes, owner: Owner, document: Mapping[str, Any], *, actor: str
) -> Adjusted | Refusal:
    """Apply a valid adjustment document once: the same reference and content is a retry."""
    session = changes.session
    request = adjustment_from_document(document, actor=actor)
    await wallets.lock(session, [owner])
    existing = await wallets.entry_by_reference(session, owner, request.reference)
    if existing is not None:
        if replay_of(existing.entry, request):
            return Adjusted(existing, False)
        return reused(existing.entry)
    entry = post((await wallets.balances(session, owner)).get(request.fruit, 0), request)
    if isinstance(entry, Refusal):
        return entry
    [recorded] = await wallets.record(session, [wallets.Posting(owner, entry)])
    changes.stage(entry_recorded(recorded))
    return Adjusted(recorded, True)
