"""Events on `cc.garden.v1` (garden): what happened to a plant, and harvests.

Keyed by owner id (an agent, team, department or center), so one owner's
plant events stay in order. A plant belongs to one owner and one indicator;
`business_date` is the settled day that caused the event (for a harvest, the
day it was collected, in the center's time zone).

Rewards credits wallets from `fruit.harvested`, exactly once per `harvest_id`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StrictFloat, StrictInt

from shared.contracts.derived import BusinessDate, DerivedEvent, Name
from shared.contracts.scores import OwnerKindName
from shared.contracts.topics import GARDEN

Stage = Annotated[StrictInt, Field(ge=0, le=4)]
"""0 seed, 1 sprout, 2 leafy, 3 flowering, 4 fruiting."""


class GardenEvent(DerivedEvent):
    """Something happened to one owner's plant for one indicator."""

    topic = GARDEN

    source: Literal["garden"] = "garden"
    owner_kind: OwnerKindName
    owner_id: Name
    center_id: Name
    indicator: Name
    fruit: Name
    business_date: BusinessDate

    @property
    def partition_key(self) -> str:
        return self.owner_id


class PestsAppeared(GardenEvent):
    """The plant got pests: the indicator met `pass` but not the center's bar (long tail)."""

    type: Literal["plant.pests_appeared"] = "plant.pests_appeared"


class PestsRemoved(GardenEvent):
    """The pests went away on their own (自动杀虫): the owner left the long tail."""

    type: Literal["plant.pests_removed"] = "plant.pests_removed"


class PlantWilted(GardenEvent):
    """The plant withered: the indicator fell below `pass`."""

    type: Literal["plant.wilted"] = "plant.wilted"


class PlantWatered(GardenEvent):
    """The plant was watered (自动浇水): the indicator met the requirement again."""

    type: Literal["plant.watered"] = "plant.watered"


class StageReached(GardenEvent):
    """The plant grew into a new stage of its cycle."""

    type: Literal["plant.stage_reached"] = "plant.stage_reached"
    stage: Stage
    growth: Annotated[StrictFloat, Field(ge=0)]
    """Growth in the current cycle after the day."""


class FruitRipened(GardenEvent):
    """The plant's growth reached `fruit_at`: a fruit ripened and a new cycle began."""

    type: Literal["plant.fruit_ripened"] = "plant.fruit_ripened"
    ripe_fruit: Annotated[StrictInt, Field(ge=1)]
    """Ripe fruit waiting on the plant after this one ripened."""
    cycle: Annotated[StrictInt, Field(ge=1)]
    """The number of the cycle that ended."""


class FruitHarvested(GardenEvent):
    """Ripe fruit was collected from a plant, by its owner or automatically."""

    type: Literal["fruit.harvested"] = "fruit.harvested"
    count: Annotated[StrictInt, Field(ge=1)]
    harvest_id: Name
    """Unique per harvest: the wallet is credited once per id."""
    trigger: Literal["owner", "automatic"]
    harvested_by: Name | None
    """Who harvested (the owner or their leader); None for an automatic harvest."""


GARDEN_EVENTS: tuple[type[GardenEvent], ...] = (
    PestsAppeared,
    PestsRemoved,
    PlantWilted,
    PlantWatered,
    StageReached,
    FruitRipened,
    FruitHarvested,
)
