"""Catalog use cases: add and change prizes (validated by the domain), what an owner may
redeem now, and the demo catalog loaded on a first start.

The demo catalog (seed 000 and 002): a card holder and a water cup for 10
watermelons each, a day of leave and a training course for any fruit (both need
an admin's approval), and a garden sticker for one fruit of any kind, so a demo
agent's first harvest already buys something. It is loaded once, on a start that finds the catalog empty
(`SEED_CATALOG`, on by default), so `make run` shows prizes right away.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from sqlmodel.ext.asyncio.session import AsyncSession

from services.rewards.changes import Changes
from services.rewards.domain.catalog import (
    Prize,
    patch_problems,
    patched,
    prize_from_document,
    prize_problems,
)
from services.rewards.repo import prizes
from shared.contracts.rewards import WalletOwnerKind
from shared.vocabulary import Problem

DEMO_CATALOG: Final[tuple[dict[str, Any], ...]] = (
    {
        "id": "card-holder",
        "name": "卡套 card holder",
        "description": "A badge card holder with the center's garden on it.",
        "fruit": "watermelon",
        "price": 10,
        "stock": 200,
    },
    {
        "id": "water-cup",
        "name": "水杯 water cup",
        "description": "An insulated water cup.",
        "fruit": "watermelon",
        "price": 10,
        "stock": 200,
    },
    {
        "id": "day-of-leave",
        "name": "调休一天 a day of leave",
        "description": "One day off, scheduled with your team leader.",
        "fruit": "any",
        "price": 60,
        "material": False,
        "limit": {"count": 1, "per": "month"},
    },
    {
        "id": "training-course",
        "name": "培训课程 a training course",
        "description": "A place on a training course of your choice.",
        "fruit": "any",
        "price": 40,
        "material": False,
        "limit": {"count": 2, "per": "month"},
    },
    {
        "id": "garden-sticker",
        "name": "花园贴纸 a garden sticker",
        "description": "A sticker of the fruit you grew.",
        "fruit": "any",
        "price": 1,
        "limit": {"count": 3, "per": "day"},
    },
)
SEEDED_BY: Final = "rewards-demo-catalog"


class PrizeExists(Exception):
    """Another prize already has this id."""


class InvalidPrize(Exception):
    """A prize document or change is invalid; `problems` says where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("invalid prize")
        self.problems = problems


async def add(changes: Changes, document: Any, *, by: str) -> Prize:
    """Add a prize from a valid admin document."""
    if found := prize_problems(document):
        raise InvalidPrize(found)
    prize = prize_from_document(document)
    if not await prizes.insert(changes.session, prize, by=by):
        raise PrizeExists(prize.prize_id)
    if prize.stock is not None:
        changes.stock[prize.prize_id] = prize.stock
    return prize


async def change(changes: Changes, prize_id: str, document: Any, *, by: str) -> Prize | None:
    """Apply an admin's partial change to a prize; None when there is no such prize."""
    current = await prizes.get(changes.session, prize_id, for_update=True)
    if current is None:
        return None
    if found := patch_problems(current, document):
        raise InvalidPrize(found)
    prize = patched(current, document)
    await prizes.replace(changes.session, prize, by=by)
    if prize.stock is not None:
        changes.stock[prize.prize_id] = prize.stock
    return prize


def redeemable(prize: Prize, kind: WalletOwnerKind, now: datetime) -> bool:
    """Say whether an owner of `kind` may ask for `prize` now (its fruit aside)."""
    in_stock = prize.stock is None or prize.stock > 0
    return prize.active and prize.on_offer(now) and kind in prize.owner_kinds and in_stock


async def seed_demo_catalog(
    session: AsyncSession, catalog: tuple[Mapping[str, Any], ...] = DEMO_CATALOG
) -> int:
    """Load the demo prizes into an empty catalog; return how many were added."""
    if not await prizes.is_empty(session):
        return 0
    added = 0
    for document in catalog:
        added += await prizes.insert(session, prize_from_document(document), by=SEEDED_BY)
    return added
