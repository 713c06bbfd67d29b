"""Harvests (domain.md §6): ripe fruit waiting, harvesting by the owner, automatic harvests."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.garden.domain.config import DEFAULT_CONFIG, GardenConfig
from services.garden.domain.growth import FruitRipenedEntry, grow
from services.garden.domain.harvest import (
    Harvest,
    Ripening,
    auto_harvest_due,
    harvest_id,
    harvest_plan,
    harvested_through,
    ripe_fruit_after,
    ripe_waiting,
)
from services.garden.domain.plant import Plant, SettledDay

PLANT = Plant("agent", "A1024", "fcr")
D0 = date(2025, 3, 1)
TODAY = date(2025, 3, 20)


def ripened(*offsets: int, fruit: str = "apple") -> list[Ripening]:
    return [Ripening(n, D0 + timedelta(days=o), fruit) for n, o in enumerate(offsets, start=1)]


def test_a_harvest_collects_all_ripe_fruit() -> None:
    (lot,) = harvest_plan(PLANT, ripened(0, 3, 5), [], today=TODAY)
    assert (lot.first, lot.through, lot.count, lot.fruit) == (1, 3, 3, "apple")
    assert lot.harvest_id == "agent:A1024:fcr/harvest/1-3"
    assert (lot.trigger, lot.business_date) == ("owner", TODAY)


def test_nothing_ripe_nothing_harvested() -> None:
    assert harvest_plan(PLANT, [], [], today=TODAY) == []
    fruit = ripened(0, 3)
    done = harvest_plan(PLANT, fruit, [], today=TODAY)
    assert harvest_plan(PLANT, fruit, done, today=TODAY) == []
    assert ripe_waiting(fruit, done) == []


def test_a_second_harvest_starts_after_the_first() -> None:
    fruit = ripened(0, 3)
    first = harvest_plan(PLANT, fruit, [], today=TODAY)
    fruit += [Ripening(3, TODAY, "apple")]
    (second,) = harvest_plan(PLANT, fruit, first, today=TODAY)
    assert (second.first, second.through) == (3, 3)
    assert harvested_through([*first, second]) == 3


def test_two_requests_for_the_same_fruit_share_an_id() -> None:
    fruit = ripened(0, 1)
    assert harvest_plan(PLANT, fruit, [], today=TODAY) == harvest_plan(
        PLANT, list(reversed(fruit)), [], today=TODAY
    )


def test_one_lot_per_run_of_one_kind() -> None:
    fruit = [Ripening(1, D0, "apple"), Ripening(2, D0, "pear"), Ripening(3, D0, "pear")]
    lots = harvest_plan(PLANT, fruit, [], today=TODAY)
    assert [(h.fruit, h.first, h.through) for h in lots] == [("apple", 1, 1), ("pear", 2, 3)]
    assert len({h.harvest_id for h in lots}) == 2


def test_auto_harvest_after_the_configured_days() -> None:
    fruit = ripened(0, 12, 13, 19)  # 2025-03-01, -13, -14, -20
    (lot,) = auto_harvest_due(PLANT, fruit, [], today=TODAY, config=DEFAULT_CONFIG)
    assert (lot.first, lot.through, lot.trigger) == (1, 2, "automatic")  # 03-13 is 7 days old
    assert lot.harvest_id == harvest_id(PLANT, 1, 2)
    assert auto_harvest_due(PLANT, fruit, [lot], today=TODAY, config=DEFAULT_CONFIG) == []
    never = GardenConfig(auto_harvest_days=0)
    assert auto_harvest_due(PLANT, fruit, [], today=TODAY + timedelta(999), config=never) == []


def test_auto_harvest_is_the_same_on_every_instance() -> None:
    fruit = ripened(0, 1, 2)
    runs = [
        auto_harvest_due(PLANT, order, [], today=TODAY, config=DEFAULT_CONFIG)
        for order in (fruit, list(reversed(fruit)))
    ]
    assert runs[0] == runs[1]


def test_ripe_count_on_ripening() -> None:
    lot = Harvest(harvest_id(PLANT, 1, 2), PLANT, "apple", 1, 2, TODAY, "owner")
    assert [ripe_fruit_after(n, [lot]) for n in (1, 2, 3, 4)] == [1, 2, 1, 2]


def test_grow_knows_the_harvests() -> None:
    days = [SettledDay(D0 + timedelta(days=i), 10, "healthy") for i in range(40)]
    bare = grow(PLANT, days, lambda _: DEFAULT_CONFIG)
    assert [e.ripe_fruit for e in bare.timeline if isinstance(e, FruitRipenedEntry)] == [1, 2, 3, 4]
    lots = harvest_plan(PLANT, bare.ripenings[:2], [], today=TODAY)
    h = grow(PLANT, days, lambda _: DEFAULT_CONFIG, harvests=lots)
    assert [e.ripe_fruit for e in h.timeline if isinstance(e, FruitRipenedEntry)] == [1, 2, 1, 2]
    assert (h.fruit_ripened, h.fruit_harvested, h.ripe_fruit) == (4, 2, 2)
    other = Plant("agent", "A1025", "fcr")
    assert (
        grow(
            PLANT,
            days,
            lambda _: DEFAULT_CONFIG,
            harvests=harvest_plan(other, bare.ripenings, [], today=TODAY),
        )
        == bare
    )


@given(
    st.lists(st.integers(0, 30), max_size=20).map(sorted), st.integers(0, 20), st.integers(0, 60)
)
def test_harvests_take_every_fruit_once(offsets: list[int], taken: int, today: int) -> None:
    fruit = ripened(*offsets)
    first = harvest_plan(PLANT, fruit[:taken], [], today=D0)
    auto = auto_harvest_due(
        PLANT, fruit, first, today=D0 + timedelta(days=today), config=DEFAULT_CONFIG
    )
    rest = harvest_plan(PLANT, fruit, [*first, *auto], today=D0 + timedelta(days=today))
    numbers = [n for lot in [*first, *auto, *rest] for n in range(lot.first, lot.through + 1)]
    assert numbers == [r.number for r in fruit]
    for lot in auto:
        assert all(
            r.business_date <= D0 + timedelta(days=today - 7)
            for r in fruit
            if lot.first <= r.number <= lot.through
        )
