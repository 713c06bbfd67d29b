"""Ripe fruit and harvests (收获): by the owner, or automatically after a number of days.

A plant's fruit are numbered 1, 2, 3, … in the order they ripen (the number is the
cycle that ended). Fruit are always collected oldest first, so what has been
harvested is the fruit numbered 1 to the highest `through` of the plant's
harvests, and a harvest is named by the fruit it collects: two requests, two
instances or a replay that collect the same fruit produce the same harvest id.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import groupby
from typing import Literal

from services.garden.domain.config import GardenConfig
from services.garden.domain.plant import Plant, stable_id

HarvestTrigger = Literal["owner", "automatic"]


@dataclass(frozen=True, slots=True, order=True)
class Ripening:
    """A fruit that ripened: its number on the plant, the settled day and its kind."""

    number: int
    business_date: date
    fruit: str


@dataclass(frozen=True, slots=True)
class Harvest:
    """A lot of fruit of one kind collected from one plant (one `fruit.harvested` event)."""

    harvest_id: str
    plant: Plant
    fruit: str
    first: int
    """The number of the oldest fruit collected."""
    through: int
    """The number of the newest fruit collected."""
    business_date: date
    """The day it was collected (the center's local date)."""
    trigger: HarvestTrigger

    @property
    def count(self) -> int:
        """Return how many fruit the lot holds."""
        return self.through - self.first + 1


def harvest_id(plant: Plant, first: int, through: int) -> str:
    """Return the id of the harvest that collects fruit `first`..`through` of `plant`."""
    return stable_id(plant, "harvest", f"{first}-{through}")


def harvested_through(harvests: Iterable[Harvest]) -> int:
    """Return the number of the newest fruit harvested (0 when none was)."""
    return max((h.through for h in harvests), default=0)


def ripe_waiting(ripened: Iterable[Ripening], harvests: Iterable[Harvest]) -> list[Ripening]:
    """Return the ripe fruit still on the plant, oldest first."""
    done = harvested_through(harvests)
    return sorted({r for r in ripened if r.number > done})


def ripe_fruit_after(number: int, harvests: Iterable[Harvest]) -> int:
    """Return the ripe fruit waiting right after fruit `number` ripened.

    Every harvest that did not collect fruit `number` counts as made before it
    ripened, so the count depends only on the set of harvests, never on when
    they were read.
    """
    before = max((h.through for h in harvests if h.through < number), default=0)
    return number - before


def _lots(
    plant: Plant, fruit: Iterable[Ripening], *, today: date, trigger: HarvestTrigger
) -> list[Harvest]:
    lots: list[Harvest] = []
    for kind, run in groupby(sorted(fruit), key=lambda r: r.fruit):
        numbers = [r.number for r in run]
        first, through = numbers[0], numbers[-1]
        lots.append(
            Harvest(harvest_id(plant, first, through), plant, kind, first, through, today, trigger)
        )
    return lots


def harvest_plan(
    plant: Plant,
    ripened: Iterable[Ripening],
    harvests: Iterable[Harvest],
    *,
    today: date,
    trigger: HarvestTrigger = "owner",
) -> list[Harvest]:
    """Return what a harvest now collects: all ripe fruit, one lot per run of one kind."""
    return _lots(plant, ripe_waiting(ripened, harvests), today=today, trigger=trigger)


def auto_harvest_due(
    plant: Plant,
    ripened: Iterable[Ripening],
    harvests: Iterable[Harvest],
    *,
    today: date,
    config: GardenConfig,
) -> list[Harvest]:
    """Return the automatic harvest due on `today`: unharvested fruit ripe for `auto_harvest_days`."""
    if config.auto_harvest_days <= 0:
        return []
    last_day = today - timedelta(days=config.auto_harvest_days)
    waiting = ripe_waiting(ripened, harvests)
    due: list[Ripening] = []
    for fruit in waiting:  # oldest first: stop at the first fruit not yet due
        if fruit.business_date > last_day:
            break
        due.append(fruit)
    return _lots(plant, due, today=today, trigger="automatic")
