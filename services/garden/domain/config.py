"""The garden configuration (admin `GET/PUT /v1/config/garden`, per center and versioned).

A document is validated with `config_problems` and turned into a `GardenConfig`
with `config_from_document`; `config_document` gives the document back.
Keys left out of a document take their defaults; unknown keys are refused.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from shared.vocabulary import Problem, problem

PlantState = Literal["healthy", "pests", "withered"]
"""The health of a plant: the state of its latest rated day."""

PLANT_STATES: Final[tuple[PlantState, ...]] = ("healthy", "pests", "withered")
NAME_PATTERN: Final = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
"""A fruit kind or an indicator code in the configuration."""

CORE_FRUITS: Final[tuple[tuple[str, str], ...]] = (
    ("aht", "grape"),
    ("call_volume", "corn"),
    ("complaint_rate", "strawberry"),
    ("fcr", "apple"),
    ("satisfaction", "watermelon"),
    ("utilization", "orange"),
)
DEFAULT_FRUIT: Final = "apple"
"""The fruit of an indicator the configuration does not list and the score does not name
(the same default as the scoring library's indicators)."""

MAX_AUTO_HARVEST_DAYS: Final = 365
MAX_POINTS: Final = 10.0
"""The top of a day's health points per indicator (five tiers of 2 points)."""


@dataclass(frozen=True, slots=True)
class Multipliers:
    """How much of a day's points become growth, by the day's state."""

    healthy: float = 1.0
    pests: float = 0.5
    withered: float = 0.2

    def of(self, state: PlantState) -> float:
        """Return the multiplier of `state`."""
        return {"healthy": self.healthy, "pests": self.pests, "withered": self.withered}[state]


@dataclass(frozen=True, slots=True)
class GardenConfig:
    """Growth, fruit, harvest, star and leaderboard settings in force on a day."""

    multipliers: Multipliers = field(default_factory=Multipliers)
    stage_thresholds: tuple[float, float, float, float, float] = (0, 10, 25, 45, 70)
    """Growth in the cycle at which stages 0–4 (seed … fruiting) begin."""
    fruit_at: float = 100
    fruits: tuple[tuple[str, str], ...] = CORE_FRUITS
    """(indicator, fruit kind) pairs, sorted by indicator."""
    default_fruit: str = DEFAULT_FRUIT
    auto_harvest_days: int = 7
    """Ripe fruit is harvested automatically this many days after ripening; 0 = never."""
    star_thresholds: tuple[float, float, float, float] = (2, 4, 6, 8)
    """Average daily points from which 2, 3, 4 and 5 stars are given (below the first: 1)."""
    leaderboard_top: int = 10
    """Rows an agent sees from the top of a leaderboard."""
    leaderboard_neighbours: int = 2
    """Rows an agent sees just above and just below their own."""

    def fruit_for(self, indicator: str, named: str | None = None) -> str:
        """Return the fruit kind of `indicator`: configured, else named by the score, else the default."""
        for code, fruit in self.fruits:
            if code == indicator:
                return fruit
        return named or self.default_fruit

    def stage_of(self, growth: float) -> int:
        """Return the stage (0–4) of a plant with `growth` in its cycle."""
        return max(i for i, threshold in enumerate(self.stage_thresholds) if growth >= threshold)


DEFAULT_CONFIG: Final = GardenConfig()

_KEYS: Final = frozenset(
    {
        "multipliers",
        "stage_thresholds",
        "fruit_at",
        "fruits",
        "default_fruit",
        "auto_harvest_days",
        "star_thresholds",
        "leaderboard",
    }
)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _series(
    doc: Mapping[str, Any], key: str, length: int
) -> tuple[list[float] | None, list[Problem]]:
    values = doc.get(key)
    if values is None:
        return None, []
    if not isinstance(values, list) or len(values) != length or not all(map(_number, values)):
        return None, [problem(key, f"must be a list of {length} numbers")]
    if any(b <= a for a, b in itertools.pairwise(values)):
        return None, [problem(key, "must be strictly increasing")]
    return [float(v) for v in values], []


def _multiplier_problems(doc: Mapping[str, Any]) -> list[Problem]:
    raw = doc.get("multipliers", {})
    if not isinstance(raw, Mapping):
        return [problem("multipliers", "must be an object")]
    found = [
        problem(f"multipliers.{key}", "unknown state") for key in raw if key not in PLANT_STATES
    ]
    values = {
        state: raw.get(state, getattr(DEFAULT_CONFIG.multipliers, state)) for state in PLANT_STATES
    }
    for state, value in values.items():
        if not _number(value) or not 0 <= value <= 1:
            found.append(problem(f"multipliers.{state}", "must be a number from 0 to 1"))
    if found:
        return found
    if values["healthy"] <= 0:
        found.append(problem("multipliers.healthy", "must be above 0: a healthy plant grows"))
    if not values["healthy"] >= values["pests"] >= values["withered"]:
        found.append(problem("multipliers", "must be ordered healthy ≥ pests ≥ withered"))
    return found


def _growth_problems(doc: Mapping[str, Any]) -> list[Problem]:
    found: list[Problem] = []
    fruit_at = doc.get("fruit_at", DEFAULT_CONFIG.fruit_at)
    if not _number(fruit_at) or fruit_at <= 0:
        found.append(problem("fruit_at", "must be a positive number"))
        fruit_at = math.inf
    thresholds, bad = _series(doc, "stage_thresholds", 5)
    found += bad
    if "stage_thresholds" not in doc:
        thresholds = list(DEFAULT_CONFIG.stage_thresholds)
    if thresholds is not None and thresholds[0] != 0:
        found.append(problem("stage_thresholds", "must start at 0 (the seed)"))
    if thresholds is not None and thresholds[-1] >= fruit_at:
        found.append(problem("stage_thresholds", "must stay below fruit_at"))
    return found


def _fruit_problems(doc: Mapping[str, Any]) -> list[Problem]:
    found: list[Problem] = []
    fruits = doc.get("fruits", {})
    if not isinstance(fruits, Mapping):
        return [problem("fruits", "must be an object of indicator → fruit kind")]
    for indicator, fruit in fruits.items():
        if not isinstance(indicator, str) or not NAME_PATTERN.match(indicator):
            found.append(
                problem(f"fruits.{indicator}", "indicator must match ^[a-z][a-z0-9_]{0,31}$")
            )
        if not isinstance(fruit, str) or not NAME_PATTERN.match(fruit):
            found.append(problem(f"fruits.{indicator}", "fruit must match ^[a-z][a-z0-9_]{0,31}$"))
    default = doc.get("default_fruit", DEFAULT_FRUIT)
    if not isinstance(default, str) or not NAME_PATTERN.match(default):
        found.append(problem("default_fruit", "must match ^[a-z][a-z0-9_]{0,31}$"))
    return found


def _other_problems(doc: Mapping[str, Any]) -> list[Problem]:
    found: list[Problem] = []
    days = doc.get("auto_harvest_days", DEFAULT_CONFIG.auto_harvest_days)
    if not _integer(days) or not 0 <= days <= MAX_AUTO_HARVEST_DAYS:
        found.append(
            problem(
                "auto_harvest_days", f"must be a whole number from 0 to {MAX_AUTO_HARVEST_DAYS}"
            )
        )
    stars, bad = _series(doc, "star_thresholds", 4)
    found += bad
    if stars is not None and not (stars[0] > 0 and stars[-1] <= MAX_POINTS):
        found.append(problem("star_thresholds", f"must lie above 0 and at most {MAX_POINTS:g}"))
    board = doc.get("leaderboard", {})
    if not isinstance(board, Mapping):
        return [*found, problem("leaderboard", "must be an object")]
    found += [
        problem(f"leaderboard.{key}", "unknown setting")
        for key in board
        if key not in ("top", "neighbours")
    ]
    for key in ("top", "neighbours"):
        value = board.get(key, 0)
        if not _integer(value) or value < 0:
            found.append(problem(f"leaderboard.{key}", "must be a whole number ≥ 0"))
    return found


def config_problems(document: Any) -> list[Problem]:
    """Return what is wrong with an admin garden document (empty when it is valid)."""
    if not isinstance(document, Mapping):
        return [problem("", "must be an object")]
    found = [problem(str(key), "unknown setting") for key in document if key not in _KEYS]
    for check in (_multiplier_problems, _growth_problems, _fruit_problems, _other_problems):
        found += check(document)
    return found


def config_from_document(document: Mapping[str, Any]) -> GardenConfig:
    """Build the configuration a valid document describes; raise ValueError on an invalid one."""
    if found := config_problems(document):
        raise ValueError(f"invalid garden configuration: {found}")
    base = DEFAULT_CONFIG
    raw_multipliers = document.get("multipliers", {})
    board = document.get("leaderboard", {})
    fruits = document.get("fruits")
    return GardenConfig(
        multipliers=Multipliers(
            **{s: float(raw_multipliers.get(s, getattr(base.multipliers, s))) for s in PLANT_STATES}
        ),
        stage_thresholds=_five(document.get("stage_thresholds", base.stage_thresholds)),
        fruit_at=float(document.get("fruit_at", base.fruit_at)),
        fruits=base.fruits if fruits is None else tuple(sorted(fruits.items())),
        default_fruit=document.get("default_fruit", base.default_fruit),
        auto_harvest_days=document.get("auto_harvest_days", base.auto_harvest_days),
        star_thresholds=_four(document.get("star_thresholds", base.star_thresholds)),
        leaderboard_top=board.get("top", base.leaderboard_top),
        leaderboard_neighbours=board.get("neighbours", base.leaderboard_neighbours),
    )


def config_document(config: GardenConfig) -> dict[str, Any]:
    """Return the admin document of `config` (every key given)."""
    m = config.multipliers
    return {
        "multipliers": {"healthy": m.healthy, "pests": m.pests, "withered": m.withered},
        "stage_thresholds": list(config.stage_thresholds),
        "fruit_at": config.fruit_at,
        "fruits": dict(config.fruits),
        "default_fruit": config.default_fruit,
        "auto_harvest_days": config.auto_harvest_days,
        "star_thresholds": list(config.star_thresholds),
        "leaderboard": {"top": config.leaderboard_top, "neighbours": config.leaderboard_neighbours},
    }


def _five(values: Any) -> tuple[float, float, float, float, float]:
    a, b, c, d, e = (float(v) for v in values)
    return (a, b, c, d, e)


def _four(values: Any) -> tuple[float, float, float, float]:
    a, b, c, d = (float(v) for v in values)
    return (a, b, c, d)
