"""A plant and the settled days it grows from."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Final, Literal

from shared.contracts.scores import ScoreSettled
from shared.vocabulary import OwnerKind

DayState = Literal["healthy", "pests", "withered", "not_rated"]
"""The state a settled day gave one indicator (`not_rated`: below the minimum sample)."""

MAX_ID_LENGTH: Final = 256
"""The longest event id the contracts accept."""

_STATE_ORDER: Final = {"healthy": 0, "pests": 1, "withered": 2, "not_rated": 3}


@dataclass(frozen=True, slots=True, order=True)
class Plant:
    """One owner's plant for one indicator."""

    owner_kind: OwnerKind
    owner_id: str
    indicator: str

    @property
    def key(self) -> str:
        """Return a stable text key of the plant (the prefix of its timeline and harvest ids)."""
        return f"{self.owner_kind}:{self.owner_id}:{self.indicator}"


@dataclass(frozen=True, slots=True)
class SettledDay:
    """What one settled day brought a plant."""

    business_date: date
    points: float
    state: DayState
    fruit: str | None = None
    """The fruit kind the score names, if any."""
    revision: int = 1
    """The score's revision; of two copies of a date the higher one counts."""
    value: float | None = None
    """The indicator's value that day (None when nothing could be measured)."""

    @property
    def rated(self) -> bool:
        """Whether the day was rated (a `not_rated` day grows nothing and changes nothing)."""
        return self.state != "not_rated"

    def precedence(self) -> tuple[int, float, int, str, float]:
        """Return the order in which conflicting copies of one date are preferred (greatest wins)."""
        value = self.value if self.value is not None else -math.inf
        return (self.revision, self.points, _STATE_ORDER[self.state], self.fruit or "", value)


def plant_of(score: ScoreSettled) -> Plant:
    """Return the plant a settled score belongs to."""
    return Plant(score.owner_kind, score.owner_id, score.indicator)


def settled_day(score: ScoreSettled) -> SettledDay:
    """Return the settled day a score brings its plant."""
    return SettledDay(
        business_date=score.business_date,
        points=score.points,
        state=score.state,
        fruit=score.fruit,
        revision=score.revision,
        value=score.value,
    )


def distinct_days(days: Iterable[SettledDay]) -> list[SettledDay]:
    """Return one day per date, sorted by date: repeats are dropped, conflicts resolved by precedence."""
    chosen: dict[date, SettledDay] = {}
    for day in days:
        held = chosen.get(day.business_date)
        if held is None or day.precedence() > held.precedence():
            chosen[day.business_date] = day
    return [chosen[d] for d in sorted(chosen)]


def stable_id(plant: Plant, *parts: object) -> str:
    """Return a deterministic id made of the plant and `parts`, short enough for an event id."""
    tail = "/".join(str(part) for part in parts)
    whole = f"{plant.key}/{tail}"
    if len(whole) <= MAX_ID_LENGTH:
        return whole
    digest = hashlib.sha256(plant.key.encode()).hexdigest()[:32]
    return f"plant:{digest}/{tail}"
