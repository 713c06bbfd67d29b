"""What the garden records and publishes about a plant: timeline rows and `cc.garden.v1` events.

Pure mappings: a timeline entry of `domain/growth.py` or a harvest of
`domain/harvest.py` becomes one timeline row (its `detail`) and one event of
the contract (`shared/contracts/garden.py`) with the entry's id as event id,
so a recomputed entry is the same event and consumers drop the copy.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any, Final

from services.garden.domain.growth import TimelineEntry
from services.garden.domain.harvest import Harvest
from services.garden.domain.plant import Plant
from shared.contracts import garden as contract
from shared.contracts.kinds import by_type

HARVESTED: Final = "fruit.harvested"
"""The timeline kind (and event type) of a harvest."""

_EVENT_OF_KIND: Final = by_type(contract.GARDEN_EVENTS)
"""The contract event of each timeline kind (an entry's `kind` is its event's `type`)."""


def _entry_fields(entry: TimelineEntry) -> dict[str, Any]:
    """Return an entry's own fields but its id: its date, its fruit and what its kind adds."""
    return {
        f.name: getattr(entry, f.name) for f in dataclasses.fields(entry) if f.name != "entry_id"
    }


def _plant_fields(plant: Plant, *, center_id: str, occurred_at: datetime) -> dict[str, Any]:
    """Return what every event of a plant names: the plant, its owner's center and when."""
    return {
        "occurred_at": occurred_at,
        "owner_kind": plant.owner_kind,
        "owner_id": plant.owner_id,
        "center_id": center_id,
        "indicator": plant.indicator,
    }


def entry_detail(entry: TimelineEntry) -> dict[str, Any]:
    """Return what a timeline row keeps of an entry beyond its plant, kind and date."""
    detail = _entry_fields(entry)
    del detail["business_date"]
    return detail


def entry_event(
    entry: TimelineEntry, plant: Plant, *, center_id: str, occurred_at: datetime
) -> contract.GardenEvent:
    """Return the `cc.garden.v1` event of a timeline entry."""
    return _EVENT_OF_KIND[entry.kind](
        event_id=entry.entry_id,
        **_plant_fields(plant, center_id=center_id, occurred_at=occurred_at),
        **_entry_fields(entry),
    )


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
    return contract.FruitHarvested(
        event_id=harvest.harvest_id,
        **_plant_fields(harvest.plant, center_id=center_id, occurred_at=occurred_at),
        fruit=harvest.fruit,
        business_date=harvest.business_date,
        count=harvest.count,
        harvest_id=harvest.harvest_id,
        trigger=harvest.trigger,
        harvested_by=harvested_by if harvest.trigger == "owner" else None,
    )
