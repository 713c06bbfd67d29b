"""Growth and fruit (domain.md §5–6): the fold over settled days, its timeline and its invariants."""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.garden.domain.config import DEFAULT_CONFIG, GardenConfig, Multipliers
from services.garden.domain.growth import (
    FruitRipenedEntry,
    PestsAppearedEntry,
    PestsRemovedEntry,
    PlantHistory,
    PlantWateredEntry,
    PlantWiltedEntry,
    StageReachedEntry,
    grow,
)
from services.garden.domain.plant import DayState, Plant, SettledDay, plant_of, settled_day
from shared.contracts import garden as contracts
from shared.contracts.scores import ScoreSettled

PLANT = Plant("agent", "A1024", "satisfaction")
D0 = date(2025, 3, 1)
STATES: tuple[DayState, ...] = ("healthy", "pests", "withered", "not_rated")


def default(_: date) -> GardenConfig:
    return DEFAULT_CONFIG


def day(offset: int, points: float, state: DayState = "healthy", **kw: Any) -> SettledDay:
    return SettledDay(D0 + timedelta(days=offset), points, state, **kw)


def kinds(history: PlantHistory) -> list[str]:
    return [e.kind.removeprefix("plant.") for e in history.timeline]


settled_days = st.lists(
    st.builds(
        SettledDay,
        business_date=st.integers(0, 60).map(lambda n: D0 + timedelta(days=n)),
        points=st.sampled_from([0, 2, 4, 6, 8, 10]) | st.floats(0, 10),
        state=st.sampled_from(STATES),
    ),
    max_size=60,
    unique_by=lambda d: d.business_date,
)


def test_a_new_plant_is_a_healthy_seed() -> None:
    h = grow(PLANT, [], default)
    assert (h.stage, h.growth, h.state, h.cycle, h.fruit_ripened) == (0, 0, "healthy", 1, 0)
    assert (h.fruit, h.last_rated, h.timeline, h.ripe_fruit) == (None, None, (), 0)


def test_growth_by_multiplier_and_stages() -> None:
    h = grow(PLANT, [day(0, 10), day(1, 10, "pests"), day(2, 10, "withered")], default)
    assert h.growth == pytest.approx(10 + 5 + 2)
    assert [d.added for d in h.days] == pytest.approx([10, 5, 2])
    assert h.stage == 1 and h.state == "withered" and h.fruit == "watermelon"
    assert kinds(h) == ["stage_reached", "pests_appeared", "wilted"]


def test_ten_healthy_tens_ripen_one_fruit_and_restart() -> None:
    h = grow(PLANT, [day(i, 10) for i in range(10)], default)
    assert (h.fruit_ripened, h.cycle, h.growth, h.stage) == (1, 2, 0, 0)
    stages = [e.stage for e in h.timeline if isinstance(e, StageReachedEntry)]
    assert stages == [1, 2, 3, 4]
    ripe = [e for e in h.timeline if isinstance(e, FruitRipenedEntry)]
    assert [(e.cycle, e.ripe_fruit, e.business_date) for e in ripe] == [(1, 1, D0 + timedelta(9))]
    assert h.ripenings[0].number == 1 and h.ripenings[0].fruit == "watermelon"


def test_overflow_carries_and_several_fruit_can_ripen_in_a_day() -> None:
    small = GardenConfig(stage_thresholds=(0, 1, 2, 3, 4), fruit_at=4)
    h = grow(PLANT, [day(0, 3), day(1, 10)], lambda _: small)
    assert h.fruit_ripened == 3 and h.cycle == 4 and h.growth == pytest.approx(1)
    ripened = [e for e in h.timeline if isinstance(e, FruitRipenedEntry)]
    assert [e.cycle for e in ripened] == [1, 2, 3]
    assert len({e.entry_id for e in h.timeline}) == len(h.timeline)
    # the day that ends a cycle reports the full cycle on the stage it entered on the way
    last_stage_of_cycle_1 = [e for e in h.timeline if isinstance(e, StageReachedEntry)][3]
    assert last_stage_of_cycle_1.stage == 4 and last_stage_of_cycle_1.growth == 4


def test_state_transitions_give_their_entries() -> None:
    h = grow(
        PLANT,
        [
            day(0, 0, "pests"),  # healthy → pests
            day(1, 0, "healthy"),  # pests → healthy
            day(2, 0, "withered"),  # healthy → withered
            day(3, 0, "pests"),  # withered → pests: watered, then pests
            day(4, 0, "withered"),  # pests → withered
            day(5, 0, "healthy"),  # withered → healthy
            day(6, 0, "healthy"),
        ],
        default,
    )
    assert [type(e) for e in h.timeline] == [
        PestsAppearedEntry,
        PestsRemovedEntry,
        PlantWiltedEntry,
        PlantWateredEntry,
        PestsAppearedEntry,
        PlantWiltedEntry,
        PlantWateredEntry,
    ]


def test_not_rated_days_change_nothing() -> None:
    rated = [day(0, 8, "pests"), day(3, 6, "healthy")]
    h1 = grow(PLANT, rated, default)
    h2 = grow(PLANT, [*rated, day(1, 10, "not_rated"), day(5, 9, "not_rated")], default)
    assert (h1.growth, h1.state, h1.stage, h1.timeline, h1.last_rated) == (
        h2.growth,
        h2.state,
        h2.stage,
        h2.timeline,
        h2.last_rated,
    )
    assert h2.last_rated == D0 + timedelta(3)
    assert [d.added for d in h2.days if d.business_date.day in (2, 6)] == [0, 0]


def test_entry_ids_are_stable_and_unique() -> None:
    h = grow(PLANT, [day(i, 10, "pests" if i % 3 else "healthy") for i in range(30)], default)
    ids = [e.entry_id for e in h.timeline]
    assert len(ids) == len(set(ids))
    assert ids[0] == "agent:A1024:satisfaction/2025-03-01/stage_reached/0"
    again = grow(PLANT, [day(i, 10, "pests" if i % 3 else "healthy") for i in range(30)], default)
    assert [e.entry_id for e in again.timeline] == ids


def test_a_long_owner_id_still_gives_short_ids() -> None:
    plant = Plant("agent", "x" * 128, "y" * 128)
    h = grow(plant, [day(0, 10)], default)
    assert all(len(e.entry_id) <= 256 for e in h.timeline)
    assert h.timeline[0].entry_id.startswith("plant:")


def test_conflicting_copies_resolve_by_revision_then_content() -> None:
    a = day(0, 4, "pests", revision=1)
    b = day(0, 10, "healthy", revision=2)
    c = day(0, 6, "withered", revision=2)
    for days in ([a, b, c], [c, b, a], [b, a, c]):
        h = grow(PLANT, days, default)
        assert (h.growth, h.state) == (10, "healthy")


def test_configuration_by_day() -> None:
    double = GardenConfig(
        multipliers=Multipliers(1.0, 1.0, 1.0), fruits=(("satisfaction", "melon"),)
    )

    def config_for(d: date) -> GardenConfig:
        return double if d >= D0 + timedelta(1) else DEFAULT_CONFIG

    h = grow(PLANT, [day(0, 10, "pests"), day(1, 10, "pests")], config_for)
    assert h.growth == pytest.approx(15)
    assert h.fruit == "melon"
    assert [e.fruit for e in h.timeline] == ["watermelon", "melon"]


def test_fruit_named_by_the_score_for_a_department_indicator() -> None:
    h = grow(Plant("agent", "A1", "qa_score"), [day(0, 2, fruit="pear")], default)
    assert h.fruit == "pear"


def test_settled_scores_become_days() -> None:
    score = ScoreSettled(
        event_id="s1",
        occurred_at=datetime(2025, 3, 2, tzinfo=UTC),
        revision=3,
        owner_kind="team",
        owner_id="T1",
        business_date=D0,
        indicator="aht",
        fruit="grape",
        center_id="C1",
        department_id="D1",
        team_id="T1",
        value=300.0,
        sample=40.0,
        points=6.0,
        state="pests",
    )
    assert plant_of(score) == Plant("team", "T1", "aht")
    assert settled_day(score) == SettledDay(D0, 6.0, "pests", "grape", 3, 300.0)


ENTRY_CONTRACTS: dict[type[Any], type[contracts.GardenEvent]] = {
    PestsAppearedEntry: contracts.PestsAppeared,
    PestsRemovedEntry: contracts.PestsRemoved,
    PlantWiltedEntry: contracts.PlantWilted,
    PlantWateredEntry: contracts.PlantWatered,
    StageReachedEntry: contracts.StageReached,
    FruitRipenedEntry: contracts.FruitRipened,
}


def test_every_entry_becomes_its_contract_event() -> None:
    h = grow(
        PLANT,
        [
            day(i, 10, ("healthy", "pests", "withered", "pests", "healthy")[i % 5])
            for i in range(40)
        ],
        default,
    )
    assert {type(e) for e in h.timeline} == set(ENTRY_CONTRACTS)
    for entry in h.timeline:
        contract = ENTRY_CONTRACTS[type(entry)]
        assert contract.model_fields["type"].default == entry.kind
        extra = {f.name: getattr(entry, f.name) for f in dataclasses.fields(entry)}
        event = contract(
            event_id=extra.pop("entry_id"),
            occurred_at=datetime(2025, 5, 1, tzinfo=UTC),
            owner_kind=PLANT.owner_kind,
            owner_id=PLANT.owner_id,
            center_id="C1",
            indicator=PLANT.indicator,
            **extra,
        )
        assert event.model_extra == {}


# --- properties ---------------------------------------------------------------------------


@given(settled_days)
def test_growth_is_monotone_within_a_cycle(days: list[SettledDay]) -> None:
    h = grow(PLANT, days, default)
    for before, after in zip(h.days, h.days[1:], strict=False):
        if after.cycle == before.cycle:
            assert after.growth >= before.growth
            assert after.stage >= before.stage
        else:
            assert after.cycle > before.cycle


@given(settled_days)
def test_overflow_is_carried(days: list[SettledDay]) -> None:
    h = grow(PLANT, days, default)
    m = DEFAULT_CONFIG.multipliers
    total = sum(d.points * m.of(d.state) for d in days if d.state != "not_rated")
    assert math.isclose(
        total, h.fruit_ripened * DEFAULT_CONFIG.fruit_at + h.growth, rel_tol=1e-9, abs_tol=1e-6
    )
    assert 0 <= h.growth < DEFAULT_CONFIG.fruit_at
    assert h.cycle == h.fruit_ripened + 1


@given(settled_days)
def test_stage_follows_the_thresholds(days: list[SettledDay]) -> None:
    h = grow(PLANT, days, default)
    assert h.stage == DEFAULT_CONFIG.stage_of(h.growth)
    for d in h.days:
        assert d.stage == DEFAULT_CONFIG.stage_of(d.growth)


@given(settled_days)
def test_state_is_the_latest_rated_day(days: list[SettledDay]) -> None:
    h = grow(PLANT, days, default)
    rated = sorted((d for d in days if d.state != "not_rated"), key=lambda d: d.business_date)
    assert h.state == (rated[-1].state if rated else "healthy")
    assert h.last_rated == (rated[-1].business_date if rated else None)


@given(st.floats(0, 1), st.floats(0, 1), st.integers(0, 10), st.sampled_from(STATES[:3]))
def test_multipliers_scale_growth(a: float, b: float, points: int, state: DayState) -> None:
    pests, withered = max(a, b), min(a, b)
    config = GardenConfig(multipliers=Multipliers(1.0, pests, withered))
    h = grow(PLANT, [day(0, points, state)], lambda _: config)
    expected = points * {"healthy": 1.0, "pests": pests, "withered": withered}[state]
    assert h.growth == pytest.approx(expected)


@given(settled_days, st.randoms(use_true_random=False), st.integers(0, 3))
@settings(max_examples=200)
def test_order_and_repeats_do_not_matter(days: list[SettledDay], rnd: Any, repeats: int) -> None:
    shuffled = days + [rnd.choice(days) for _ in range(repeats)] if days else []
    rnd.shuffle(shuffled)
    assert grow(PLANT, shuffled, default) == grow(PLANT, days, default)


@given(settled_days)
def test_not_rated_days_are_invisible(days: list[SettledDay]) -> None:
    rated = [d for d in days if d.state != "not_rated"]
    full, bare = grow(PLANT, days, default), grow(PLANT, rated, default)
    assert full.timeline == bare.timeline
    assert (full.growth, full.stage, full.state, full.cycle) == (
        bare.growth,
        bare.stage,
        bare.state,
        bare.cycle,
    )


@given(settled_days)
def test_ids_unique_and_timeline_in_date_order(days: list[SettledDay]) -> None:
    h = grow(PLANT, days, default)
    assert len({e.entry_id for e in h.timeline}) == len(h.timeline)
    dates = [e.business_date for e in h.timeline]
    assert dates == sorted(dates)
    assert sum(isinstance(e, FruitRipenedEntry) for e in h.timeline) == h.fruit_ripened


any_days = st.lists(
    st.builds(
        SettledDay,
        business_date=st.integers(0, 10).map(lambda n: D0 + timedelta(days=n)),
        points=st.sampled_from([0, 3, 10]),
        state=st.sampled_from(STATES),
        revision=st.integers(1, 3),
    ),
    max_size=30,
)


@given(any_days, st.randoms(use_true_random=False))
def test_conflicting_copies_do_not_depend_on_arrival(days: list[SettledDay], rnd: Any) -> None:
    shuffled = list(days)
    rnd.shuffle(shuffled)
    assert grow(PLANT, shuffled, default) == grow(PLANT, days, default)


def test_first_rated_day_counts_as_a_change_from_healthy() -> None:
    assert kinds(grow(PLANT, [day(0, 0, "withered")], default)) == ["wilted"]
    assert kinds(grow(PLANT, [day(0, 0, "pests")], default)) == ["pests_appeared"]
    assert kinds(grow(PLANT, [day(0, 0, "healthy")], default)) == []


def test_raised_thresholds_lower_the_stage_without_an_entry() -> None:
    higher = GardenConfig(stage_thresholds=(0, 30, 50, 70, 90))

    def config_for(d: date) -> GardenConfig:
        return higher if d > D0 else DEFAULT_CONFIG

    h = grow(PLANT, [day(0, 10), day(1, 0)], config_for)
    assert [d.stage for d in h.days] == [1, 0]
    assert kinds(h) == ["stage_reached"]
