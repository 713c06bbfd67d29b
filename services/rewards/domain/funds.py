"""Reward funds (成果奖励基金): money for a scope and period, split by fruit harvested.

A member qualifies with at least `minimum` fruit (and at least one). Each
qualifying member gets `amount × fruit / total` rounded down; the fen left over
(fewer than the qualifying members) go one each by the largest remainder, ties
to more fruit, then to the smaller member id. So the shares add up to the fund
exactly, each lies within 1 fen of its exact proportion, and the input order
never matters. With nobody qualifying there are no shares and the whole fund
stays unallocated.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final, get_args

from services.rewards.domain.ledger import whole_number
from shared.contracts.rewards import WalletOwnerKind
from shared.vocabulary import Problem, UnitKind, problem

FUND_ID_PATTERN: Final = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MAX_FUND_FEN: Final = 10**10
"""100 million yuan: a typo guard."""
MAX_DAYS: Final = 366
UNIT_KINDS: Final[tuple[UnitKind, ...]] = get_args(UnitKind)
MEMBER_KINDS: Final[tuple[WalletOwnerKind, ...]] = get_args(WalletOwnerKind)
_KEYS: Final = ("id", "scope", "members", "start", "end", "amount_fen", "minimum")


@dataclass(frozen=True, slots=True)
class Fund:
    """A sum of money for a unit's members and a period [start, end) of business dates."""

    fund_id: str
    scope_kind: UnitKind
    scope_id: str
    member_kind: WalletOwnerKind
    start: date
    end: date
    amount_fen: int
    minimum: int = 0


@dataclass(frozen=True, slots=True)
class Share:
    """One member's part of a fund, with what it was computed from."""

    member_id: str
    fruit: int
    qualifying_fruit: int
    """The fruit of every qualifying member together."""
    fund_fen: int
    base_fen: int
    """`fund_fen × fruit // qualifying_fruit`."""
    extra_fen: int
    """1 when a leftover fen went to this member, else 0."""
    rule: str

    @property
    def amount_fen(self) -> int:
        """Return the share in fen."""
        return self.base_fen + self.extra_fen


def qualifies(fruit: int, minimum: int) -> bool:
    """Say whether a member with `fruit` harvested takes part in the split."""
    return fruit >= max(minimum, 1)


def split(amount_fen: int, fruit_by_member: Mapping[str, int], *, minimum: int = 0) -> list[Share]:
    """Split `amount_fen` over the qualifying members, ordered by fruit, then member id."""
    if amount_fen < 0 or any(fruit < 0 for fruit in fruit_by_member.values()):
        raise ValueError("a fund and the fruit it is split by are never negative")
    members = {m: f for m, f in fruit_by_member.items() if qualifies(f, minimum)}
    total = sum(members.values())
    if not total:
        return []
    base = {m: amount_fen * f // total for m, f in members.items()}
    left = amount_fen - sum(base.values())
    order = sorted(members, key=lambda m: (-(amount_fen * members[m] % total), -members[m], m))
    lucky = set(order[:left])
    shares = []
    for member in sorted(members, key=lambda m: (-members[m], m)):
        extra = 1 if member in lucky else 0
        rule = (
            f"{amount_fen} fen × {members[member]} / {total} fruit = {base[member]} fen"
            f" rounded down{', +1 fen by largest remainder' if extra else ''}"
        )
        shares.append(Share(member, members[member], total, amount_fen, base[member], extra, rule))
    return shares


def share_of(
    member_id: str, amount_fen: int, fruit_by_member: Mapping[str, int], *, minimum: int = 0
) -> Share:
    """Return one member's share and why; a member who does not qualify gets 0 and the reason."""
    for share in split(amount_fen, fruit_by_member, minimum=minimum):
        if share.member_id == member_id:
            return share
    fruit = fruit_by_member.get(member_id, 0)
    total = sum(f for f in fruit_by_member.values() if qualifies(f, minimum))
    rule = (
        f"{fruit} fruit, below the minimum of {minimum}: no share"
        if fruit and fruit < minimum
        else "no fruit harvested in the period: no share"
    )
    return Share(member_id, fruit, total, amount_fen, 0, 0, rule)


def unallocated(amount_fen: int, shares: list[Share]) -> int:
    """Return the part of a fund no share took (the whole fund when nobody qualified)."""
    return amount_fen - sum(share.amount_fen for share in shares)


def _day(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        return None


def fund_problems(document: Any) -> list[Problem]:
    """Return what is wrong with an admin fund document (empty when it is valid)."""
    if not isinstance(document, Mapping):
        return [problem("", "must be an object")]
    found = [problem(str(key), "unknown field") for key in document if key not in _KEYS]
    fund_id, scope, members = document.get("id"), document.get("scope"), document.get("members")
    if not isinstance(fund_id, str) or not FUND_ID_PATTERN.match(fund_id):
        found.append(problem("id", "must match ^[a-z0-9][a-z0-9_-]{0,63}$"))
    kind, _, unit = scope.partition(":") if isinstance(scope, str) else ("", "", "")
    if kind not in UNIT_KINDS or not unit:
        found.append(problem("scope", "must be team:<id>, department:<id> or center:<id>"))
    if members not in MEMBER_KINDS or (kind == "team" and members != "agent"):
        found.append(problem("members", 'must be "agent", or "team" above a team'))
    start, end = _day(document.get("start")), _day(document.get("end"))
    for key, value in (("start", start), ("end", end)):
        if value is None:
            found.append(problem(key, "must be a date YYYY-MM-DD"))
    if start and end and not 0 < (end - start).days <= MAX_DAYS:
        found.append(problem("end", f"must come after start, at most {MAX_DAYS} days on"))
    amount, minimum = document.get("amount_fen"), document.get("minimum", 0)
    if not whole_number(amount) or not 1 <= amount <= MAX_FUND_FEN:
        found.append(problem("amount_fen", f"must be a whole number from 1 to {MAX_FUND_FEN}"))
    if not whole_number(minimum) or minimum < 0:
        found.append(problem("minimum", "must be a whole number ≥ 0"))
    return found


def fund_from_document(document: Mapping[str, Any]) -> Fund:
    """Build the fund a valid document describes; raise ValueError on an invalid one."""
    if found := fund_problems(document):
        raise ValueError(f"invalid fund: {found}")
    kind, _, unit = document["scope"].partition(":")
    return Fund(
        fund_id=document["id"],
        scope_kind=kind,
        scope_id=unit,
        member_kind=document["members"],
        start=date.fromisoformat(document["start"]),
        end=date.fromisoformat(document["end"]),
        amount_fen=document["amount_fen"],
        minimum=document.get("minimum", 0),
    )


def fund_document(fund: Fund) -> dict[str, Any]:
    """Return the admin document of `fund` (every key given)."""
    return {
        "id": fund.fund_id,
        "scope": f"{fund.scope_kind}:{fund.scope_id}",
        "members": fund.member_kind,
        "start": fund.start.isoformat(),
        "end": fund.end.isoformat(),
        "amount_fen": fund.amount_fen,
        "minimum": fund.minimum,
    }
