"""Regrowing plants from their stored days: the step the consumer runs for every batch.

For each plant a batch touched: its stored days with the copies that now count,
the configuration in force on each day, its harvests → `grow` → the plant row,
the timeline entries from the earliest changed day on (inserted by id, so a
recomputed entry is not recorded twice) and one `cc.garden.v1` event per entry
that is new. Scoring settles an owner's days in date order, so a regrow only
adds entries; a late revision of an earlier day can rewrite the later history,
and the entries it no longer gives leave the timeline (their events were
published and stay facts of the topic).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from services.garden.domain.growth import FruitRipenedEntry, PlantHistory, TimelineEntry, grow
from services.garden.domain.harvest import Harvest
from services.garden.domain.plant import Plant, SettledDay, distinct_days
from services.garden.events import entry_detail, entry_event
from services.garden.repo import config as config_store
from services.garden.repo import harvests as harvest_store
from services.garden.repo import plants as plant_store
from services.garden.repo.plants import Place, PlantRow, TimelineRow
from shared.outbox import stage_event


def newer_days(stored: Iterable[SettledDay], incoming: Iterable[SettledDay]) -> list[SettledDay]:
    """Return the incoming copies that win over the stored copy of their date (if any)."""
    held = {d.business_date: d for d in distinct_days(stored)}
    return [
        day
        for day in distinct_days(incoming)
        if day.business_date not in held or day.precedence() > held[day.business_date].precedence()
    ]


def plant_row(history: PlantHistory, place: Place) -> PlantRow:
    """Return the stored row of a grown plant."""
    p = history.plant
    return (
        p.owner_kind,
        p.owner_id,
        p.indicator,
        place.center_id,
        place.department_id,
        place.team_id,
        history.fruit,
        history.stage,
        float(history.growth),
        history.state,
        history.cycle,
        history.fruit_ripened,
        history.fruit_harvested,
        history.last_rated,
    )


def entries_since(history: PlantHistory, since: date) -> list[TimelineEntry]:
    """Return the timeline entries of days from `since` on (earlier days did not change)."""
    return [e for e in history.timeline if e.business_date >= since]


def timeline_row(plant: Plant, entry: TimelineEntry) -> TimelineRow:
    """Return the stored timeline row of an entry."""
    return (
        entry.entry_id,
        plant.owner_kind,
        plant.owner_id,
        plant.indicator,
        entry.kind,
        entry.business_date,
        entry_detail(entry),
    )


@dataclass(frozen=True, slots=True)
class Regrown:
    """What a regrow recorded."""

    plants: int
    new_entries: tuple[TimelineEntry, ...]

    @property
    def fruit_ripened(self) -> int:
        """Return how many new entries are ripened fruit."""
        return sum(isinstance(e, FruitRipenedEntry) for e in self.new_entries)


async def regrow(
    session: AsyncSession,
    days: Mapping[Plant, Sequence[SettledDay]],
    *,
    places: Mapping[Plant, Place],
    since: Mapping[Plant, date],
    occurred_at: datetime,
) -> Regrown:
    """Regrow `days`' plants, store them and stage an event per new timeline entry."""
    configs = await config_store.config_book(session, {places[p].center_id for p in days})
    harvests: Mapping[Plant, list[Harvest]] = await harvest_store.harvests_of(session, list(days))
    rows: list[PlantRow] = []
    timeline: list[TimelineRow] = []
    entries: dict[str, tuple[Plant, TimelineEntry]] = {}
    for plant in sorted(days):
        place = places[plant]
        history = grow(
            plant, days[plant], configs.for_center(place.center_id), harvests=harvests[plant]
        )
        rows.append(plant_row(history, place))
        for entry in entries_since(history, since[plant]):
            timeline.append(timeline_row(plant, entry))
            entries[entry.entry_id] = (plant, entry)
    await plant_store.save_plants(session, rows)
    await plant_store.drop_stale_entries(session, since, entries)
    fresh = await plant_store.add_timeline(session, timeline)
    new: list[TimelineEntry] = []
    for row in timeline:  # in timeline order, so one owner's events leave in order
        if row[0] in fresh:
            plant, entry = entries[row[0]]
            center = places[plant].center_id
            stage_event(
                session, entry_event(entry, plant, center_id=center, occurred_at=occurred_at)
            )
            new.append(entry)
    return Regrown(len(rows), tuple(new))
