"""Wallets (domain.md §7): one append-only ledger per owner and fruit kind.

A wallet's balance is the sum of its entries' signed amounts and is never
negative. Each entry names its source in `reference`; the store keeps one entry
per (owner, reference), so a harvest, a redemption or an adjustment that is
delivered or retried twice changes a wallet once.

| kind | amount | reference |
|---|---|---|
| credit | + count | `harvest:<harvest_id>` |
| debit | − price | `redemption:<redemption_id>` |
| refund | + price | `redemption:<redemption_id>/refund` |
| adjustment | ± n | `adjustment:<caller's reference>` |
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal, TypeGuard

from services.rewards.domain.refusals import Refusal
from shared.contracts.garden import FruitHarvested
from shared.contracts.rewards import LedgerEntryRecorded, WalletOwnerKind
from shared.vocabulary import Problem, problem

EntryKind = Literal["credit", "debit", "refund", "adjustment"]

FRUIT_PATTERN: Final = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
"""A fruit kind (the garden configuration's names)."""
REFERENCE_PATTERN: Final = re.compile(r"^[\x21-\x7e]{1,200}$")
"""An adjustment's caller-supplied reference: printable ASCII without spaces."""
MAX_ADJUSTMENT: Final = 100_000
"""The largest amount one adjustment may add or take (a typo guard)."""
MAX_REASON: Final = 500
_SIGNS: Final[dict[EntryKind, int]] = {"credit": 1, "debit": -1, "refund": 1, "adjustment": 0}


@dataclass(frozen=True, slots=True, order=True)
class Owner:
    """Who a wallet belongs to: an agent or a team."""

    kind: WalletOwnerKind
    id: str

    @property
    def key(self) -> str:
        """Return the owner as text (`agent:A1024`)."""
        return f"{self.kind}:{self.id}"


@dataclass(frozen=True, slots=True, order=True)
class Wallet:
    """One owner's wallet of one fruit kind."""

    owner: Owner
    fruit: str


@dataclass(frozen=True, slots=True)
class EntryRequest:
    """A change asked of a wallet; `post` decides whether it is recorded."""

    kind: EntryKind
    fruit: str
    amount: int
    """Signed: credits and refunds add, debits take, adjustments either way (never 0)."""
    reason: str
    actor: str
    reference: str

    def __post_init__(self) -> None:
        sign = _SIGNS[self.kind]
        if self.amount == 0 or (sign and (self.amount > 0) != (sign > 0)):
            raise ValueError(f"a {self.kind} cannot have the amount {self.amount}")


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """A recorded change of one wallet and the balance after it."""

    kind: EntryKind
    fruit: str
    amount: int
    balance: int
    reason: str
    actor: str
    reference: str

    @property
    def request(self) -> EntryRequest:
        """Return the request this entry recorded."""
        return EntryRequest(
            self.kind, self.fruit, self.amount, self.reason, self.actor, self.reference
        )


@dataclass(frozen=True, slots=True)
class Recorded:
    """An entry as the store keeps it: numbered in one sequence over all wallets."""

    entry_id: int
    owner: Owner
    recorded_at: datetime
    entry: LedgerEntry


def whole_number(value: Any) -> TypeGuard[int]:
    """Say whether a document's value is a whole number (not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool)


def post(balance: int, request: EntryRequest) -> LedgerEntry | Refusal:
    """Record `request` on a wallet holding `balance`, unless it would go negative."""
    if balance < 0:
        raise ValueError(f"a wallet never holds a negative balance ({balance})")
    after = balance + request.amount
    if after < 0:
        return Refusal(
            "insufficient_fruit",
            f"{-request.amount} {request.fruit} asked, {balance} held",
        )
    r = request
    return LedgerEntry(r.kind, r.fruit, r.amount, after, r.reason, r.actor, r.reference)


def replay_of(entry: LedgerEntry, request: EntryRequest) -> bool:
    """Say whether `request` repeats the recorded `entry` (a retry), not a new change."""
    return entry.request == request


def reused(entry: LedgerEntry) -> Refusal:
    """Refuse a different change under a reference already recorded."""
    return Refusal("reference_reused", f"the reference {entry.reference} was used otherwise")


def balances(entries: Iterable[LedgerEntry]) -> dict[str, int]:
    """Return the balance of every fruit kind the entries touch, sorted by fruit."""
    totals: dict[str, int] = {}
    for entry in entries:
        totals[entry.fruit] = totals.get(entry.fruit, 0) + entry.amount
    return dict(sorted(totals.items()))


def ledger_faults(entries: Iterable[LedgerEntry]) -> list[str]:
    """Return how one owner's entries, in posting order, break the ledger's invariants."""
    faults: list[str] = []
    running: dict[str, int] = {}
    for n, entry in enumerate(entries):
        held = running.get(entry.fruit, 0)
        running[entry.fruit] = held + entry.amount
        if entry.amount == 0:
            faults.append(f"entry {n}: amount 0")
        if entry.balance != held + entry.amount:
            faults.append(f"entry {n}: balance {entry.balance}, expected {held + entry.amount}")
        if entry.balance < 0:
            faults.append(f"entry {n}: negative balance {entry.balance}")
    return faults


def harvest_reference(harvest_id: str) -> str:
    """Return the reference of the credit for a harvest."""
    return f"harvest:{harvest_id}"


def redemption_reference(redemption_id: str) -> str:
    """Return the reference of the debit for a redemption."""
    return f"redemption:{redemption_id}"


def refund_reference(redemption_id: str) -> str:
    """Return the reference of the refund of a redemption."""
    return f"redemption:{redemption_id}/refund"


def adjustment_reference(reference: str) -> str:
    """Return the ledger reference of an adjustment with the caller's `reference`."""
    return f"adjustment:{reference}"


def credit_for(harvest: FruitHarvested) -> tuple[Owner, EntryRequest] | None:
    """Return the credit a harvest brings its owner; None for an owner without a wallet."""
    if harvest.owner_kind not in ("agent", "team"):
        return None
    reason = (
        f"harvest of {harvest.count} {harvest.fruit} ({harvest.indicator}, {harvest.business_date})"
    )
    return Owner(harvest.owner_kind, harvest.owner_id), EntryRequest(
        "credit",
        harvest.fruit,
        harvest.count,
        reason,
        harvest.harvested_by or "garden",
        harvest_reference(harvest.harvest_id),
    )


def debit_for(
    redemption_id: str, fruit: str, price: int, *, actor: str, prize_id: str
) -> EntryRequest:
    """Return the debit that pays for a redemption."""
    reason = f"redemption {redemption_id} of {prize_id}"[:MAX_REASON]
    return EntryRequest("debit", fruit, -price, reason, actor, redemption_reference(redemption_id))


def refund_for(redemption_id: str, fruit: str, price: int, *, actor: str, why: str) -> EntryRequest:
    """Return the refund of a rejected or cancelled redemption."""
    reason = f"redemption {redemption_id} {why}"[:MAX_REASON]
    return EntryRequest("refund", fruit, price, reason, actor, refund_reference(redemption_id))


def adjustment_problems(document: Any) -> list[Problem]:
    """Return what is wrong with an admin adjustment (`fruit`, `amount`, `reason`, `reference`)."""
    if not isinstance(document, Mapping):
        return [problem("", "must be an object")]
    keys = ("fruit", "amount", "reason", "reference")
    found = [problem(str(key), "unknown field") for key in document if key not in keys]
    fruit, amount = document.get("fruit"), document.get("amount")
    reason, reference = document.get("reason"), document.get("reference")
    if not isinstance(fruit, str) or not FRUIT_PATTERN.match(fruit):
        found.append(problem("fruit", "must match ^[a-z][a-z0-9_]{0,31}$"))
    if not whole_number(amount) or amount == 0:
        found.append(problem("amount", "must be a whole number other than 0"))
    elif abs(amount) > MAX_ADJUSTMENT:
        found.append(problem("amount", f"must lie within ±{MAX_ADJUSTMENT}"))
    if not isinstance(reason, str) or not reason.strip() or len(reason) > MAX_REASON:
        found.append(problem("reason", f"must be a text of 1 to {MAX_REASON} characters"))
    if not isinstance(reference, str) or not REFERENCE_PATTERN.match(reference):
        found.append(problem("reference", "must be 1 to 200 printable characters, no spaces"))
    return found


def adjustment_from_document(document: Mapping[str, Any], *, actor: str) -> EntryRequest:
    """Build the adjustment a valid document asks for; raise ValueError on an invalid one."""
    if found := adjustment_problems(document):
        raise ValueError(f"invalid adjustment: {found}")
    return EntryRequest(
        "adjustment",
        document["fruit"],
        document["amount"],
        document["reason"].strip(),
        actor,
        adjustment_reference(document["reference"]),
    )


def ledger_event_id(entry_id: int) -> str:
    """Return the event id of a recorded entry."""
    return f"ledger:{entry_id}"


def entry_recorded(recorded: Recorded) -> LedgerEntryRecorded:
    """Return the `ledger.entry_recorded` event of a recorded entry."""
    e = recorded.entry
    return LedgerEntryRecorded(
        event_id=ledger_event_id(recorded.entry_id),
        occurred_at=recorded.recorded_at,
        owner_kind=recorded.owner.kind,
        owner_id=recorded.owner.id,
        entry_id=recorded.entry_id,
        entry_kind=e.kind,
        fruit=e.fruit,
        amount=e.amount,
        balance=e.balance,
        reason=e.reason,
        actor=e.actor,
        reference=e.reference,
    )
