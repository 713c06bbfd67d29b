"""Garden configuration (architecture.md, admin `/v1/config/garden`): defaults, validation, round trip."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.garden.domain.config import (
    DEFAULT_CONFIG,
    GardenConfig,
    Multipliers,
    config_document,
    config_from_document,
    config_problems,
)


def fields_of(document: Any) -> set[str]:
    return {p["field"] for p in config_problems(document)}


def test_defaults_follow_the_domain() -> None:
    c = DEFAULT_CONFIG
    assert (c.multipliers.healthy, c.multipliers.pests, c.multipliers.withered) == (1.0, 0.5, 0.2)
    assert c.stage_thresholds == (0, 10, 25, 45, 70)
    assert c.fruit_at == 100
    assert c.auto_harvest_days == 7
    assert (c.leaderboard_top, c.leaderboard_neighbours) == (10, 2)
    assert c.star_thresholds == (2, 4, 6, 8)


@pytest.mark.parametrize(
    ("indicator", "named", "fruit"),
    [
        ("satisfaction", None, "watermelon"),
        ("fcr", "pear", "apple"),
        ("aht", None, "grape"),
        ("call_volume", None, "corn"),
        ("utilization", None, "orange"),
        ("complaint_rate", None, "strawberry"),
        ("qa_score", "pear", "pear"),
        ("qa_score", None, "apple"),
    ],
)
def test_fruit_kind_configured_then_named_then_default(
    indicator: str, named: str | None, fruit: str
) -> None:
    assert DEFAULT_CONFIG.fruit_for(indicator, named) == fruit


@pytest.mark.parametrize(
    ("growth", "stage"), [(0, 0), (9.99, 0), (10, 1), (24.9, 1), (25, 2), (45, 3), (70, 4), (99, 4)]
)
def test_stage_of_growth(growth: float, stage: int) -> None:
    assert DEFAULT_CONFIG.stage_of(growth) == stage


def test_the_empty_document_is_the_default() -> None:
    assert config_problems({}) == []
    assert config_from_document({}) == DEFAULT_CONFIG


def test_round_trip() -> None:
    doc = config_document(DEFAULT_CONFIG)
    assert config_problems(doc) == []
    assert config_from_document(doc) == DEFAULT_CONFIG
    custom = GardenConfig(
        multipliers=Multipliers(0.9, 0.4, 0.0),
        stage_thresholds=(0, 5, 10, 20, 30),
        fruit_at=40,
        fruits=(("qa_score", "pear"), ("satisfaction", "melon")),
        default_fruit="fig",
        auto_harvest_days=0,
        star_thresholds=(1, 3, 5, 7.5),
        leaderboard_top=3,
        leaderboard_neighbours=0,
    )
    assert config_from_document(config_document(custom)) == custom
    assert config_document(config_from_document(config_document(custom))) == config_document(custom)


@given(
    st.lists(st.floats(0, 1), min_size=3, max_size=3).map(sorted),
    st.lists(st.floats(0.5, 50), min_size=4, max_size=4),
    st.integers(0, 365),
)
def test_every_valid_document_round_trips(
    multipliers: list[float], steps: list[float], days: int
) -> None:
    withered, pests, healthy = multipliers
    thresholds = [0.0]
    for step in steps:
        thresholds.append(thresholds[-1] + step)
    doc = {
        "multipliers": {"healthy": max(healthy, 0.01), "pests": pests, "withered": withered},
        "stage_thresholds": thresholds,
        "fruit_at": thresholds[-1] + 1,
        "auto_harvest_days": days,
    }
    assert config_problems(doc) == []
    config = config_from_document(doc)
    assert config_from_document(config_document(config)) == config


BAD: list[tuple[dict[str, Any], str]] = [
    ({"colour": "green"}, "colour"),
    ({"multipliers": {"healthy": 1.2}}, "multipliers.healthy"),
    ({"multipliers": {"healthy": 0.4, "pests": 0.5}}, "multipliers"),
    ({"multipliers": {"pests": 0.1, "withered": 0.3}}, "multipliers"),
    ({"multipliers": {"healthy": True}}, "multipliers.healthy"),
    ({"multipliers": {"thirsty": 0.1}}, "multipliers.thirsty"),
    ({"multipliers": {"healthy": 0, "pests": 0, "withered": 0}}, "multipliers.healthy"),
    ({"stage_thresholds": [0, 10, 10, 45, 70]}, "stage_thresholds"),
    ({"stage_thresholds": [1, 10, 25, 45, 70]}, "stage_thresholds"),
    ({"stage_thresholds": [0, 10, 25, 45]}, "stage_thresholds"),
    ({"stage_thresholds": [0, 10, 25, 45, 120]}, "stage_thresholds"),
    ({"fruit_at": 60}, "stage_thresholds"),
    ({"fruit_at": 0}, "fruit_at"),
    ({"fruit_at": float("nan")}, "fruit_at"),
    ({"fruit_at": "100"}, "fruit_at"),
    ({"fruits": {"satisfaction": "Water Melon"}}, "fruits.satisfaction"),
    ({"fruits": {"Satisfaction": "melon"}}, "fruits.Satisfaction"),
    ({"fruits": ["melon"]}, "fruits"),
    ({"default_fruit": "x" * 33}, "default_fruit"),
    ({"auto_harvest_days": -1}, "auto_harvest_days"),
    ({"auto_harvest_days": 1.5}, "auto_harvest_days"),
    ({"star_thresholds": [2, 4, 6]}, "star_thresholds"),
    ({"star_thresholds": [2, 4, 4, 8]}, "star_thresholds"),
    ({"star_thresholds": [0, 4, 6, 8]}, "star_thresholds"),
    ({"star_thresholds": [2, 4, 6, 11]}, "star_thresholds"),
    ({"leaderboard": {"top": -1}}, "leaderboard.top"),
    ({"leaderboard": {"neighbours": 1.0}}, "leaderboard.neighbours"),
    ({"leaderboard": {"everyone": True}}, "leaderboard.everyone"),
]


@pytest.mark.parametrize(("document", "field"), BAD)
def test_invalid_documents_are_refused_with_the_field(document: dict[str, Any], field: str) -> None:
    assert field in fields_of(document)
    with pytest.raises(ValueError, match="invalid garden configuration"):
        config_from_document(document)


def test_not_an_object() -> None:
    assert fields_of([1, 2]) == {""}


def test_validation_leaves_the_document_alone() -> None:
    doc = config_document(DEFAULT_CONFIG)
    before = copy.deepcopy(doc)
    config_problems(doc)
    config_from_document(doc)
    assert doc == before
