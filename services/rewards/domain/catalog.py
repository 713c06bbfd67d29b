"""The prize catalog (admin `POST/PATCH /v1/prizes`): what fruit buys, when and for whom.

A document is validated with `prize_problems` and turned into a `Prize` with
`prize_from_document`; `prize_document` gives the document back with every key.
Keys left out take their defaults; unknown keys are refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, get_args

from services.rewards.domain.ledger import FRUIT_PATTERN, whole_number
from services.rewards.domain.periods import LimitPer
from services.rewards.domain.refusals import Refusal
from shared.contracts.rewards import WalletOwnerKind
from shared.vocabulary import Problem, problem

ANY_FRUIT: Final = "any"
"""The `fruit` of a prize that any one fruit kind pays for (so no fruit kind is named `any`)."""
PRIZE_ID_PATTERN: Final = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MAX_PRICE: Final = 100_000
MAX_NAME: Final = 100
MAX_DESCRIPTION: Final = 1000
LIMIT_PERS: Final[tuple[LimitPer, ...]] = get_args(LimitPer)
WALLET_OWNER_KINDS: Final[tuple[WalletOwnerKind, ...]] = get_args(WalletOwnerKind)
_REQUIRED: Final = ("id", "name", "fruit", "price")
_KEYS: Final = frozenset(
    {
        *_REQUIRED,
        "description",
        "stock",
        "limit",
        "available_from",
        "available_until",
        "material",
        "needs_approval",
        "owner_kinds",
        "active",
    }
)


@dataclass(frozen=True, slots=True)
class Limit:
    """At most `count` redemptions of a prize per owner in each period `per`."""

    count: int
    per: LimitPer


@dataclass(frozen=True, slots=True)
class Prize:
    """A prize of the catalog."""

    prize_id: str
    name: str
    fruit: str
    """A fruit kind, or `ANY_FRUIT`."""
    price: int
    description: str = ""
    stock: int | None = None
    """Redemptions that can still be requested; None: unlimited."""
    limit: Limit | None = None
    available_from: datetime | None = None
    available_until: datetime | None = None
    """The active window [from, until); None leaves that side open."""
    material: bool = True
    needs_approval: bool = False
    owner_kinds: tuple[WalletOwnerKind, ...] = ("agent",)
    active: bool = True

    def on_offer(self, now: datetime) -> bool:
        """Say whether `now` lies inside the prize's active window."""
        after_start = self.available_from is None or self.available_from <= now
        return after_start and (self.available_until is None or now < self.available_until)


def payment_fruit(
    prize: Prize, balances: Mapping[str, int], named: str | None = None
) -> str | Refusal:
    """Return the fruit kind that pays for `prize`.

    A prize priced in one kind takes that kind. An "any fruit" prize takes the
    kind the requester names, else the kind with the largest balance (ties: the
    first fruit name in alphabetical order). Whether it is enough is `post`'s call.
    """
    if prize.fruit != ANY_FRUIT:
        if named is not None and named != prize.fruit:
            return Refusal("fruit_not_accepted", f"{prize.prize_id} is paid in {prize.fruit}")
        return prize.fruit
    if named is not None:
        return named
    held = [(fruit, count) for fruit, count in balances.items() if count > 0]
    if not held:
        return Refusal("insufficient_fruit", f"{prize.price} fruit asked, none held")
    return min(held, key=lambda item: (-item[1], item[0]))[0]


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _text_problems(doc: Mapping[str, Any]) -> list[Problem]:
    found: list[Problem] = []
    prize_id, name = doc.get("id"), doc.get("name")
    if not isinstance(prize_id, str) or not PRIZE_ID_PATTERN.match(prize_id):
        found.append(problem("id", "must match ^[a-z0-9][a-z0-9_-]{0,63}$"))
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        found.append(problem("name", f"must be a text of 1 to {MAX_NAME} characters"))
    description = doc.get("description", "")
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
        found.append(problem("description", f"must be a text of at most {MAX_DESCRIPTION}"))
    return found


def _price_problems(doc: Mapping[str, Any]) -> list[Problem]:
    found: list[Problem] = []
    fruit, price = doc.get("fruit"), doc.get("price")
    if not isinstance(fruit, str) or not (fruit == ANY_FRUIT or FRUIT_PATTERN.match(fruit)):
        found.append(problem("fruit", 'must be a fruit kind or "any"'))
    if not whole_number(price) or not 1 <= price <= MAX_PRICE:
        found.append(problem("price", f"must be a whole number from 1 to {MAX_PRICE}"))
    stock = doc.get("stock")
    if stock is not None and (not whole_number(stock) or stock < 0):
        found.append(problem("stock", "must be a whole number ≥ 0, or null for unlimited"))
    return found


def _limit_problems(doc: Mapping[str, Any]) -> list[Problem]:
    limit = doc.get("limit")
    if limit is None:
        return []
    if not isinstance(limit, Mapping):
        return [problem("limit", "must be an object {count, per} or null")]
    found = [problem(f"limit.{k}", "unknown field") for k in limit if k not in ("count", "per")]
    if not whole_number(limit.get("count")) or limit["count"] < 1:
        found.append(problem("limit.count", "must be a whole number ≥ 1"))
    if limit.get("per") not in LIMIT_PERS:
        found.append(problem("limit.per", f"must be one of {', '.join(LIMIT_PERS)}"))
    return found


def _window_problems(doc: Mapping[str, Any]) -> list[Problem]:
    found: list[Problem] = []
    bounds = {}
    for key in ("available_from", "available_until"):
        value = doc.get(key)
        bounds[key] = _instant(value)
        if value is not None and bounds[key] is None:
            found.append(problem(key, "must be an RFC 3339 instant with an offset, or null"))
    start, end = bounds["available_from"], bounds["available_until"]
    if start is not None and end is not None and end <= start:
        found.append(problem("available_until", "must come after available_from"))
    return found


def _kind_problems(doc: Mapping[str, Any]) -> list[Problem]:
    found = [
        problem(key, "must be true or false")
        for key in ("material", "needs_approval", "active")
        if not isinstance(doc.get(key, True), bool)
    ]
    if doc.get("material") is False and doc.get("needs_approval", True) is False:
        found.append(problem("needs_approval", "a non-material prize needs an admin's approval"))
    kinds = doc.get("owner_kinds", ["agent"])
    if (
        not isinstance(kinds, list)
        or not kinds
        or len(set(map(str, kinds))) != len(kinds)
        or any(kind not in WALLET_OWNER_KINDS for kind in kinds)
    ):
        found.append(problem("owner_kinds", 'must list "agent", "team" or both, once each'))
    return found


def prize_problems(document: Any) -> list[Problem]:
    """Return what is wrong with an admin prize document (empty when it is valid)."""
    if not isinstance(document, Mapping):
        return [problem("", "must be an object")]
    missing = [key for key in _REQUIRED if key not in document]
    found = [problem(str(key), "unknown field") for key in document if key not in _KEYS]
    found += [problem(key, "is required") for key in missing]
    for check in (_text_problems, _price_problems, _limit_problems, _window_problems):
        found += [p for p in check(document) if p["field"] not in missing]
    return found + _kind_problems(document)


def prize_from_document(document: Mapping[str, Any]) -> Prize:
    """Build the prize a valid document describes; raise ValueError on an invalid one."""
    if found := prize_problems(document):
        raise ValueError(f"invalid prize: {found}")
    limit = document.get("limit")
    material = document.get("material", True)
    kinds = set(document.get("owner_kinds", ["agent"]))
    return Prize(
        prize_id=document["id"],
        name=document["name"].strip(),
        fruit=document["fruit"],
        price=document["price"],
        description=document.get("description", ""),
        stock=document.get("stock"),
        limit=None if limit is None else Limit(limit["count"], limit["per"]),
        available_from=_instant(document.get("available_from")),
        available_until=_instant(document.get("available_until")),
        material=material,
        needs_approval=document.get("needs_approval", not material),
        owner_kinds=tuple(kind for kind in WALLET_OWNER_KINDS if kind in kinds),
        active=document.get("active", True),
    )


def prize_document(prize: Prize) -> dict[str, Any]:
    """Return the admin document of `prize` (every key given)."""
    limit = prize.limit
    start, end = prize.available_from, prize.available_until
    return {
        "id": prize.prize_id,
        "name": prize.name,
        "description": prize.description,
        "fruit": prize.fruit,
        "price": prize.price,
        "stock": prize.stock,
        "limit": None if limit is None else {"count": limit.count, "per": limit.per},
        "available_from": None if start is None else start.isoformat(),
        "available_until": None if end is None else end.isoformat(),
        "material": prize.material,
        "needs_approval": prize.needs_approval,
        "owner_kinds": list(prize.owner_kinds),
        "active": prize.active,
    }


def patch_problems(prize: Prize, changes: Any) -> list[Problem]:
    """Return what is wrong with an admin's partial `changes` to `prize`."""
    if not isinstance(changes, Mapping):
        return [problem("", "must be an object")]
    found = prize_problems({**prize_document(prize), **changes})
    if changes.get("id", prize.prize_id) != prize.prize_id:
        found.append(problem("id", "cannot change"))
    return found


def patched(prize: Prize, changes: Mapping[str, Any]) -> Prize:
    """Return `prize` with valid partial `changes` applied; raise ValueError on invalid ones."""
    if found := patch_problems(prize, changes):
        raise ValueError(f"invalid prize: {found}")
    return prize_from_document({**prize_document(prize), **changes})
