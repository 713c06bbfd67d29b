"""The prize catalog: admin documents, their round trip and the "any fruit" rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.rewards.domain.catalog import (
    ANY_FRUIT,
    Limit,
    Prize,
    patch_problems,
    patched,
    payment_fruit,
    prize_document,
    prize_from_document,
    prize_problems,
)
from services.rewards.domain.refusals import Refusal

CUP = {"id": "water_cup", "name": "Water cup", "fruit": "watermelon", "price": 10}


def test_a_minimal_document_takes_the_defaults() -> None:
    prize = prize_from_document(CUP)
    assert prize == Prize("water_cup", "Water cup", "watermelon", 10)
    assert (prize.stock, prize.limit, prize.material, prize.needs_approval) == (
        None,
        None,
        True,
        False,
    )
    assert prize.owner_kinds == ("agent",)


def test_a_non_material_prize_needs_approval_by_default_and_always() -> None:
    leave = {**CUP, "id": "day_of_leave", "material": False}
    assert prize_from_document(leave).needs_approval
    assert prize_problems({**leave, "needs_approval": False}) == [
        {"field": "needs_approval", "reason": "a non-material prize needs an admin's approval"}
    ]
    assert prize_from_document({**CUP, "needs_approval": True}).needs_approval


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"id": "Cup!"}, ["id"]),
        ({"name": "  "}, ["name"]),
        ({"description": 3}, ["description"]),
        ({"fruit": "Melon"}, ["fruit"]),
        ({"price": 0}, ["price"]),
        ({"price": 2.5}, ["price"]),
        ({"stock": -1}, ["stock"]),
        ({"limit": {"count": 0, "per": "year"}}, ["limit.count", "limit.per"]),
        ({"limit": {"count": 1, "per": "day", "x": 1}}, ["limit.x"]),
        ({"limit": 3}, ["limit"]),
        ({"available_from": "2025-03-01T00:00:00"}, ["available_from"]),
        (
            {
                "available_from": "2025-03-02T00:00:00+08:00",
                "available_until": "2025-03-01T00:00:00+08:00",
            },
            ["available_until"],
        ),
        ({"material": "yes"}, ["material"]),
        ({"owner_kinds": []}, ["owner_kinds"]),
        ({"owner_kinds": ["agent", "agent"]}, ["owner_kinds"]),
        ({"owner_kinds": ["department"]}, ["owner_kinds"]),
        ({"colour": "red"}, ["colour"]),
    ],
)
def test_problems_name_the_field(changes: dict[str, Any], fields: list[str]) -> None:
    assert [p["field"] for p in prize_problems({**CUP, **changes})] == fields
    with pytest.raises(ValueError, match="invalid prize"):
        prize_from_document({**CUP, **changes})


def test_required_fields_and_non_objects() -> None:
    assert [p["field"] for p in prize_problems({})] == ["id", "name", "fruit", "price"]
    assert prize_problems([]) == [{"field": "", "reason": "must be an object"}]


def test_window_is_half_open() -> None:
    start = datetime(2025, 3, 1, tzinfo=UTC)
    prize = Prize("p", "P", "apple", 1, available_from=start, available_until=start + timedelta(1))
    assert not prize.on_offer(start - timedelta(microseconds=1))
    assert prize.on_offer(start)
    assert not prize.on_offer(start + timedelta(1))
    assert Prize("p", "P", "apple", 1).on_offer(start)


def test_patch_keeps_the_id_and_validates_the_whole() -> None:
    prize = prize_from_document(CUP)
    assert patched(prize, {"stock": 5}).stock == 5
    assert [p["field"] for p in patch_problems(prize, {"id": "other"})] == ["id"]
    assert [p["field"] for p in patch_problems(prize, {"price": -1})] == ["price"]


@pytest.mark.parametrize(
    ("fruit", "balances", "named", "paid"),
    [
        ("watermelon", {"apple": 50}, None, "watermelon"),
        ("watermelon", {}, "watermelon", "watermelon"),
        (ANY_FRUIT, {"apple": 3, "grape": 7, "corn": 7}, None, "corn"),
        (ANY_FRUIT, {"apple": 3, "grape": 7}, "apple", "apple"),
        (ANY_FRUIT, {"apple": 0}, "apple", "apple"),
    ],
)
def test_which_fruit_pays(
    fruit: str, balances: dict[str, int], named: str | None, paid: str
) -> None:
    assert payment_fruit(Prize("p", "P", fruit, 5), balances, named) == paid


def test_fruit_refusals() -> None:
    fixed = Prize("p", "P", "watermelon", 5)
    assert payment_fruit(fixed, {}, "apple") == Refusal(
        "fruit_not_accepted", "p is paid in watermelon"
    )
    refusal = payment_fruit(Prize("p", "P", ANY_FRUIT, 5), {"apple": 0})
    assert isinstance(refusal, Refusal) and refusal.code == "insufficient_fruit"


zones = st.sampled_from([UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-3))])
moments = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=zones
)


@st.composite
def prizes(draw: st.DrawFn) -> Prize:
    start = draw(st.none() | moments)
    length = draw(st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=400)))
    end = draw(st.none() | st.just((start or datetime(2025, 1, 1, tzinfo=UTC)) + length))
    material = draw(st.booleans())
    limits = st.builds(Limit, st.integers(1, 10), st.sampled_from(["day", "week", "month", "ever"]))
    return Prize(
        prize_id=draw(st.from_regex(r"^[a-z0-9][a-z0-9_-]{0,20}$", fullmatch=True)),
        name=draw(st.text(min_size=1, max_size=20).map(str.strip).filter(bool)),
        fruit=draw(st.sampled_from([ANY_FRUIT, "apple", "watermelon"])),
        price=draw(st.integers(1, 1000)),
        description=draw(st.text(max_size=30)),
        stock=draw(st.none() | st.integers(0, 100)),
        limit=draw(st.none() | limits),
        available_from=start,
        available_until=end,
        material=material,
        needs_approval=True if not material else draw(st.booleans()),
        owner_kinds=draw(st.sampled_from([("agent",), ("team",), ("agent", "team")])),
        active=draw(st.booleans()),
    )


@given(prizes())
def test_documents_round_trip(prize: Prize) -> None:
    document = prize_document(prize)
    assert prize_problems(document) == []
    assert prize_from_document(document) == prize
    assert prize_document(prize_from_document(document)) == document
