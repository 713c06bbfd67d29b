"""Growth (成长): a plant's history folded from the set of its settled days.

`grow` sorts the days by date and keeps one per date (`distinct_days`), so the
result depends only on which days were settled, never on their arrival order
or on repeats. Each timeline entry maps onto one event of `cc.garden.v1`
(`kind` is the event's `type`) and has an id built from the plant, the date,
the kind and an ordinal, so recomputing gives the same ids.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import ClassVar, Final

from services.garden.domain.config import GardenConfig, PlantState
from services.garden.domain.harvest import Harvest, Ripening, harvested_through, ripe_fruit_after
from services.garden.domain.plant import Plant, SettledDay, distinct_days, stable_id

ConfigFor = Callable[[date], GardenConfig]
"""The garden configuration in force on a business day."""

NEW_PLANT_STATE: Final[PlantState] = "healthy"
"""The state of a plant before its first rated day (a healthy seed)."""


@dataclass(frozen=True, slots=True)
class Entry:
    """Something that happened to a plant on a settled day."""

    kind: ClassVar[str]
    entry_id: str
    business_date: date
    fruit: str


@dataclass(frozen=True, slots=True)
class PestsAppearedEntry(Entry):
    """The plant got pests (from healthy or from withered)."""

    kind: ClassVar[str] = "plant.pests_appeared"


@dataclass(frozen=True, slots=True)
class PestsRemovedEntry(Entry):
    """The pests went away (自动杀虫): pests → healthy."""

    kind: ClassVar[str] = "plant.pests_removed"


@dataclass(frozen=True, slots=True)
class PlantWiltedEntry(Entry):
    """The plant withered (from healthy or from pests)."""

    kind: ClassVar[str] = "plant.wilted"


@dataclass(frozen=True, slots=True)
class PlantWateredEntry(Entry):
    """The plant was watered (自动浇水): withered → healthy or pests."""

    kind: ClassVar[str] = "plant.watered"


@dataclass(frozen=True, slots=True)
class StageReachedEntry(Entry):
    """The plant entered stage 1–4 of its cycle."""

    kind: ClassVar[str] = "plant.stage_reached"
    stage: int
    growth: float
    """Growth in the stage's cycle after the day (`fruit_at` if that cycle ripened that day)."""


@dataclass(frozen=True, slots=True)
class FruitRipenedEntry(Entry):
    """A fruit ripened and a new cycle began."""

    kind: ClassVar[str] = "plant.fruit_ripened"
    ripe_fruit: int
    """Ripe fruit waiting after this one ripened (see `ripe_fruit_after`)."""
    cycle: int
    """The cycle that ended; also the fruit's number on the plant."""


TimelineEntry = (
    PestsAppearedEntry
    | PestsRemovedEntry
    | PlantWiltedEntry
    | PlantWateredEntry
    | StageReachedEntry
    | FruitRipenedEntry
)


@dataclass(frozen=True, slots=True)
class DayGrowth:
    """The plant after one settled day."""

    business_date: date
    added: float
    """Growth the day brought (points × multiplier; 0 on a not-rated day)."""
    cycle: int
    growth: float
    stage: int
    state: PlantState


@dataclass(frozen=True, slots=True)
class PlantHistory:
    """A plant folded from its settled days: where it stands now and how it got there."""

    plant: Plant
    stage: int
    growth: float
    """Growth in the current cycle."""
    state: PlantState
    cycle: int
    """The current cycle, from 1."""
    fruit_ripened: int
    """Fruit ripened in all (= completed cycles)."""
    fruit: str | None
    """The fruit kind of the latest rated day (None before the first)."""
    last_rated: date | None
    timeline: tuple[TimelineEntry, ...]
    days: tuple[DayGrowth, ...]
    ripenings: tuple[Ripening, ...]
    fruit_harvested: int = 0

    @property
    def ripe_fruit(self) -> int:
        """Return the ripe fruit waiting to be harvested."""
        return self.fruit_ripened - self.fruit_harvested


StateEntry = PestsAppearedEntry | PestsRemovedEntry | PlantWiltedEntry | PlantWateredEntry

_STATE_ENTRIES: Final[dict[tuple[PlantState, PlantState], tuple[type[StateEntry], ...]]] = {
    ("healthy", "pests"): (PestsAppearedEntry,),
    ("healthy", "withered"): (PlantWiltedEntry,),
    ("pests", "healthy"): (PestsRemovedEntry,),
    ("pests", "withered"): (PlantWiltedEntry,),
    ("withered", "healthy"): (PlantWateredEntry,),
    ("withered", "pests"): (PlantWateredEntry, PestsAppearedEntry),
}
"""The entries of a change of state, in order (withered → pests: watered, then pests appeared)."""


class _Fold:
    """The running plant while its days are folded in date order."""

    def __init__(self, plant: Plant, harvests: tuple[Harvest, ...]) -> None:
        self.plant = plant
        self.harvests = harvests
        self.state: PlantState = NEW_PLANT_STATE
        self.cycle, self.growth, self.stage, self.ripened = 1, 0.0, 0, 0
        self.fruit: str | None = None
        self.last_rated: date | None = None
        self.timeline: list[TimelineEntry] = []
        self.days: list[DayGrowth] = []
        self.ripenings: list[Ripening] = []
        self._ordinals: dict[tuple[date, str], int] = {}

    def _id(self, day: date, kind: str) -> str:
        ordinal = self._ordinals.get((day, kind), 0)
        self._ordinals[(day, kind)] = ordinal + 1
        return stable_id(self.plant, day.isoformat(), kind.removeprefix("plant."), ordinal)

    def _stages(self, day: date, fruit: str, upto: int, growth: float) -> None:
        for stage in range(self.stage + 1, upto + 1):
            entry_id = self._id(day, StageReachedEntry.kind)
            self.timeline.append(StageReachedEntry(entry_id, day, fruit, stage, growth))
        self.stage = upto  # lower only when a new day's thresholds rose: no entry for that

    def settle(self, day: SettledDay, config: GardenConfig) -> None:
        added = 0.0
        if day.state != "not_rated":
            state: PlantState = day.state
            fruit = config.fruit_for(self.plant.indicator, day.fruit)
            for entry in _STATE_ENTRIES.get((self.state, state), ()):
                entry_id = self._id(day.business_date, entry.kind)
                self.timeline.append(entry(entry_id, day.business_date, fruit))
            added = day.points * config.multipliers.of(state)
            self._grow(day.business_date, fruit, added, config)
            self.state, self.fruit, self.last_rated = state, fruit, day.business_date
        self.days.append(
            DayGrowth(day.business_date, added, self.cycle, self.growth, self.stage, self.state)
        )

    def _grow(self, day: date, fruit: str, added: float, config: GardenConfig) -> None:
        self.growth += added
        while self.growth >= config.fruit_at:
            self._stages(day, fruit, len(config.stage_thresholds) - 1, float(config.fruit_at))
            self.ripened += 1
            self.ripenings.append(Ripening(self.ripened, day, fruit))
            ripe = ripe_fruit_after(self.ripened, self.harvests)
            entry_id = self._id(day, FruitRipenedEntry.kind)
            self.timeline.append(FruitRipenedEntry(entry_id, day, fruit, ripe, self.cycle))
            self.growth -= config.fruit_at
            self.cycle += 1
            self.stage = 0
        self._stages(day, fruit, config.stage_of(self.growth), self.growth)


def grow(
    plant: Plant,
    days: Iterable[SettledDay],
    config_for: ConfigFor,
    *,
    harvests: Iterable[Harvest] = (),
) -> PlantHistory:
    """Fold a plant's settled days into its history (order and repeats of `days` do not matter)."""
    held = tuple(h for h in harvests if h.plant == plant)
    fold = _Fold(plant, held)
    for day in distinct_days(days):
        fold.settle(day, config_for(day.business_date))
    return PlantHistory(
        plant=plant,
        stage=fold.stage,
        growth=fold.growth,
        state=fold.state,
        cycle=fold.cycle,
        fruit_ripened=fold.ripened,
        fruit=fold.fruit,
        last_rated=fold.last_rated,
        timeline=tuple(fold.timeline),
        days=tuple(fold.days),
        ripenings=tuple(fold.ripenings),
        fruit_harvested=min(harvested_through(held), fold.ripened),
    )
