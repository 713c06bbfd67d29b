"""Reward funds split by fruit harvested, exact to the fen (domain.md §7)."""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.rewards.domain.funds import (
    Fund,
    fund_document,
    fund_from_document,
    fund_problems,
    share_of,
    split,
    unallocated,
)

FUND = {
    "id": "march",
    "scope": "team:T1",
    "members": "agent",
    "start": "2025-03-01",
    "end": "2025-04-01",
    "amount_fen": 100_000,
}


def amounts(shares: list[Any]) -> dict[str, int]:
    return {share.member_id: share.amount_fen for share in shares}


def test_leftover_fen_go_by_remainder_then_fruit_then_id() -> None:
    # 100 fen over 3 + 3 + 1 fruit: exact 42.86, 42.86, 14.29 -> 42, 42, 14 and 2 fen left;
    # remainders 6/7, 6/7, 2/7: both 3-fruit members get one, in id order
    assert amounts(split(100, {"b": 3, "a": 3, "c": 1})) == {"a": 43, "b": 43, "c": 14}
    # 10 fen over three equal members: 1 fen left, to the smallest id
    assert amounts(split(10, {"z": 1, "y": 1, "x": 1})) == {"x": 4, "y": 3, "z": 3}


def test_shares_say_how_they_were_computed() -> None:
    first, *_ = split(100, {"a": 3, "b": 3, "c": 1})
    assert (first.member_id, first.fruit, first.qualifying_fruit, first.fund_fen) == (
        "a",
        3,
        7,
        100,
    )
    assert (first.base_fen, first.extra_fen) == (42, 1)
    assert first.rule == "100 fen × 3 / 7 fruit = 42 fen rounded down, +1 fen by largest remainder"


def test_the_minimum_and_the_unallocated_money() -> None:
    shares = split(1000, {"a": 12, "b": 9, "c": 0}, minimum=10)
    assert amounts(shares) == {"a": 1000}
    assert split(1000, {"a": 3, "b": 0}, minimum=5) == []
    assert unallocated(1000, []) == 1000
    assert unallocated(1000, shares) == 0
    below = share_of("b", 1000, {"a": 12, "b": 9}, minimum=10)
    assert (below.amount_fen, below.rule) == (0, "9 fruit, below the minimum of 10: no share")
    assert share_of("d", 1000, {"a": 12}).rule == "no fruit harvested in the period: no share"
    assert share_of("a", 1000, {"a": 12, "b": 9}, minimum=10).amount_fen == 1000


def test_negative_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="never negative"):
        split(-1, {"a": 1})
    with pytest.raises(ValueError, match="never negative"):
        split(1, {"a": -1})


fruit_maps = st.dictionaries(
    st.text("abcdefgh", min_size=1, max_size=3), st.integers(0, 500), max_size=25
)


@given(st.integers(0, 10**9), fruit_maps, st.integers(0, 50), st.randoms())
def test_splits_are_exact_proportional_deterministic_and_honour_the_minimum(
    amount: int, fruit: dict[str, int], minimum: int, rng: Any
) -> None:
    shares = split(amount, fruit, minimum=minimum)
    qualifying = {m: f for m, f in fruit.items() if f >= max(minimum, 1)}
    total = sum(qualifying.values())
    assert {s.member_id for s in shares} == set(qualifying)
    assert sum(s.amount_fen for s in shares) == (amount if qualifying else 0)
    for share in shares:
        exact = Fraction(amount * share.fruit, total)
        assert abs(share.amount_fen - exact) < 1
        assert share.qualifying_fruit == total
    items = list(fruit.items())
    rng.shuffle(items)
    assert split(amount, dict(items), minimum=minimum) == shares
    for a in shares:  # more fruit never earns less
        assert all(a.amount_fen <= b.amount_fen for b in shares if b.fruit > a.fruit)


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"id": "Bad id"}, ["id"]),
        ({"scope": "team"}, ["scope"]),
        ({"scope": "region:R1"}, ["scope"]),
        ({"members": "team"}, ["members"]),
        ({"members": "department", "scope": "center:C1"}, ["members"]),
        ({"start": "2025-3-1"}, ["start"]),
        ({"end": "2025-03-01"}, ["end"]),
        ({"end": "2026-04-01"}, ["end"]),
        ({"amount_fen": 0}, ["amount_fen"]),
        ({"amount_fen": 12.5}, ["amount_fen"]),
        ({"minimum": -1}, ["minimum"]),
        ({"status": "open"}, ["status"]),
    ],
)
def test_fund_problems(changes: dict[str, Any], fields: list[str]) -> None:
    assert [p["field"] for p in fund_problems({**FUND, **changes})] == fields
    with pytest.raises(ValueError, match="invalid fund"):
        fund_from_document({**FUND, **changes})


def test_fund_documents_round_trip() -> None:
    fund = fund_from_document({**FUND, "scope": "department:D1", "members": "team"})
    assert fund == Fund(
        "march", "department", "D1", "team", date(2025, 3, 1), date(2025, 4, 1), 100_000
    )
    assert fund_from_document(fund_document(fund)) == fund
    assert fund_problems(fund_document(fund)) == []
