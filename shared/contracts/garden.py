"""Events on `cc.garden.v1` (garden): what happened to a plant, and harvests.

Keyed by owner id (an agent, team, department or center), so one owner's
plant events stay in order. A plant belongs to one owner and one indicator;
`business_date` is the settled day that caused the event (for a harvest, the
day it was collected, in the center's time zone).

Rewards credits wallets from `fruit.harvested`, exactly once per `harvest_id`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StrictFloat, StrictInt

from shared.contracts.derived import BusinessDate, DerivedEvent, Name, example
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


_PLANT = {
    "source": "garden",
    "owner_kind": "agent",
    "owner_id": "A1001",
    "center_id": "C1",
    "indicator": "satisfaction",
    "fruit": "watermelon",
    "business_date": "2026-11-30",
}


def _example(kind: str, **fields: object) -> ConfigDict:
    return example(
        event_id=f"garden:agent:A1001:satisfaction:2026-11-30:{kind}",
        type=kind,
        occurred_at="2026-12-01T04:00:05+00:00",
        **_PLANT,
        **fields,
    )


class PestsAppeared(GardenEvent):
    """The plant got pests: the indicator met `pass` but not the center's bar (long tail)."""

    model_config = _example("plant.pests_appeared")
    type: Literal["plant.pests_appeared"] = "plant.pests_appeared"


class PestsRemoved(GardenEvent):
    """The pests went away on their own (自动杀虫): the owner left the long tail."""

    model_config = _example("plant.pests_removed")
    type: Literal["plant.pests_removed"] = "plant.pests_removed"


class PlantWilted(GardenEvent):
    """The plant withered: the indicator fell below `pass`."""

    model_config = _example("plant.wilted")
    type: Literal["plant.wilted"] = "plant.wilted"


class PlantWatered(GardenEvent):
    """The plant was watered (自动浇水): the indicator met the requirement again."""

    model_config = _example("plant.watered")
    type: Literal["plant.watered"] = "plant.watered"


class StageReached(GardenEvent):
    """The plant grew into a new stage of its cycle."""

    model_config = _example("plant.stage_reached", stage=2, growth=31.5)
    type: Literal["plant.stage_reached"] = "plant.stage_reached"
    stage: Stage
    growth: Annotated[StrictFloat, Field(ge=0)]
    """Growth in the current cycle after the day."""


class FruitRipened(GardenEvent):
    """The plant's growth reached `fruit_at`: a fruit ripened and a new cycle began."""

    model_config = _example("plant.fruit_ripened", ripe_fruit=1, cycle=3)
    type: Literal["plant.fruit_ripened"] = "plant.fruit_ripened"
    ripe_fruit: Annotated[StrictInt, Field(ge=1)]
    """Ripe fruit waiting on the plant after this one ripened."""
    cycle: Annotated[StrictInt, Field(ge=1)]
    """The number of the cycle that ended."""


class FruitHarvested(GardenEvent):
    """Ripe fruit was collected from a plant, by its owner or automatically."""

    model_config = example(
        event_id="garden:harvest:7f3c2a9e",
        type="fruit.harvested",
        occurred_at="2026-12-01T09:30:00+00:00",
        count=2,
        harvest_id="7f3c2a9e",
        trigger="owner",
        harvested_by="A1001",
        **{**_PLANT, "business_date": "2026-12-01"},
    )
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
