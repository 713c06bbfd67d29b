"""What the garden records and publishes about a plant: timeline rows and `cc.garden.v1` events.

Pure mappings: a timeline entry of `domain/growth.py` or a harvest of
`domain/harvest.py` becomes one timeline row (its `detail`) and one event of
the contract (`shared/contracts/garden.py`) with the entry's id as event id,
so a recomputed entry is the same event and consumers drop the copy.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from services.garden.domain.growth import (
    FruitRipenedEntry,
    PestsAppearedEntry,
    PestsRemovedEntry,
    PlantWateredEntry,
    PlantWiltedEntry,
    StageReachedEntry,
    TimelineEntry,
)
from services.garden.domain.harvest import Harvest
from services.garden.domain.plant import Plant
from shared.contracts import garden as contract

HARVESTED: Final = "fruit.harvested"
"""The timeline kind (and event type) of a harvest."""

_PLAIN: Final[dict[type[TimelineEntry], type[contract.GardenEvent]]] = {
    PestsAppearedEntry: contract.PestsAppeared,
    PestsRemovedEntry: contract.PestsRemoved,
    PlantWiltedEntry: contract.PlantWilted,
    PlantWateredEntry: contract.PlantWatered,
}


def entry_detail(entry: TimelineEntry) -> dict[str, Any]:
    """Return what a timeline row keeps of an entry beyond its plant, kind and date."""
    detail: dict[str, Any] = {"fruit": entry.fruit}
    if isinstance(entry, StageReachedEntry):
        detail |= {"stage": entry.stage, "growth": entry.growth}
    elif isinstance(entry, FruitRipenedEntry):
        detail |= {"ripe_fruit": entry.ripe_fruit, "cycle": entry.cycle}
    return detail


def entry_event(
    entry: TimelineEntry, plant: Plant, *, center_id: str, occurred_at: datetime
) -> contract.GardenEvent:
    """Return the `cc.garden.v1` event of a timeline entry."""
    common: dict[str, Any] = {
        "event_id": entry.entry_id,
        "occurred_at": occurred_at,
        "owner_kind": plant.owner_kind,
        "owner_id": plant.owner_id,
        "center_id": center_id,
        "indicator": plant.indicator,
        "fruit": entry.fruit,
        "business_date": entry.business_date,
    }
    if isinstance(entry, StageReachedEntry):
        return contract.StageReached(**common, stage=entry.stage, growth=float(entry.growth))
    if isinstance(entry, FruitRipenedEntry):
        return contract.FruitRipened(**common, ripe_fruit=entry.ripe_fruit, cycle=entry.cycle)
    return _PLAIN[type(entry)](**common)


def harvest_detail(harvest: Harvest, harvested_by: str | None) -> dict[str, Any]:
    """Return what a timeline row keeps of a harvest."""
    return {
        "fruit": harvest.fruit,
        "count": harvest.count,
        "harvest_id": harvest.harvest_id,
        "first": harvest.first,
        "through": harvest.through,
        "trigger": harvest.trigger,
        "harvested_by": harvested_by,
    }


def harvest_event(
    harvest: Harvest, *, center_id: str, harvested_by: str | None, occurred_at: datetime
) -> contract.FruitHarvested:
    """Return the `fruit.harvested` event of a harvest (its id is the harvest id)."""
    plant = harvest.plant
    return contract.FruitHarvested(
        event_id=harvest.harvest_id,
        occurred_at=occurred_at,
        owner_kind=plant.owner_kind,
        owner_id=plant.owner_id,
        center_id=center_id,
        indicator=plant.indicator,
        fruit=harvest.fruit,
        business_date=harvest.business_date,
        count=harvest.count,
        harvest_id=harvest.harvest_id,
        trigger=harvest.trigger,
        harvested_by=harvested_by if harvest.trigger == "owner" else None,
    )
