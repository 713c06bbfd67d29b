"""Harvests: by the owner (or their leader) through the API, and automatically when fruit
has waited `auto_harvest_days`.

Both take the plant's harvest lock before reading its harvests, so one fruit
is collected once however many requests or instances try at the same time;
lot ids name the fruit they collect, so a replayed round inserts nothing new.
Each new lot is one harvest row, one timeline row and one `fruit.harvested`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.garden.domain.growth import grow
from services.garden.domain.harvest import Harvest, auto_harvest_due, harvest_plan
from services.garden.domain.plant import Plant
from services.garden.events import HARVESTED, harvest_detail, harvest_event
from services.garden.metrics import GardenMetrics
from services.garden.repo import config as config_store
from services.garden.repo import harvests as harvest_store
from services.garden.repo import plants as plant_store
from shared.db import unit_of_work
from shared.outbox import stage_event

AUTO_PAGE: Final = 200
"""Plants one automatic-harvest transaction locks and harvests."""


class NothingRipe(Exception):
    """The plant has no ripe fruit waiting (or does not exist)."""


@dataclass(frozen=True, slots=True)
class HarvestOutcome:
    """What a harvest collected and what is left."""

    plant: Plant
    lots: tuple[Harvest, ...]
    ripe_fruit: int
    """Ripe fruit left on the plant afterwards."""

    @property
    def count(self) -> int:
        """Return how many fruit were collected."""
        return sum(lot.count for lot in self.lots)


async def _collect(
    session: AsyncSession,
    lots: Sequence[Harvest],
    *,
    centers: Mapping[Plant, str],
    harvested_by: str | None,
    occurred_at: datetime,
) -> list[Harvest]:
    """Record the lots not recorded yet; stage one `fruit.harvested` per new lot."""
    fresh = await harvest_store.add_harvests(
        session, lots, centers=dict(centers), harvested_by=harvested_by
    )
    new = [lot for lot in lots if lot.harvest_id in fresh]
    await plant_store.add_timeline(
        session,
        [
            (
                lot.harvest_id,
                lot.plant.owner_kind,
                lot.plant.owner_id,
                lot.plant.indicator,
                HARVESTED,
                lot.business_date,
                harvest_detail(lot, harvested_by if lot.trigger == "owner" else None),
            )
            for lot in new
        ],
    )
    for lot in new:
        center = centers[lot.plant]
        event = harvest_event(
            lot, center_id=center, harvested_by=harvested_by, occurred_at=occurred_at
        )
        stage_event(session, event)
    return new


async def harvest_plant(
    session: AsyncSession,
    plant: Plant,
    *,
    today_of: Callable[[str], date],
    harvested_by: str,
    occurred_at: datetime,
) -> HarvestOutcome:
    """Collect every ripe fruit of `plant` for its owner; raise `NothingRipe` if none waits."""
    await harvest_store.lock_plants(session, [plant])
    place = (await plant_store.places_of(session, [plant])).get(plant)
    if place is None:
        raise NothingRipe(plant.key)
    days = (await plant_store.days_of(session, [plant]))[plant]
    harvests = (await harvest_store.harvests_of(session, [plant]))[plant]
    configs = await config_store.config_book(session, [place.center_id])
    history = grow(plant, days, configs.for_center(place.center_id), harvests=harvests)
    today = today_of(place.center_id)
    lots = harvest_plan(plant, history.ripenings, harvests, today=today, trigger="owner")
    if not lots:
        raise NothingRipe(plant.key)
    new = await _collect(
        session,
        lots,
        centers={plant: place.center_id},
        harvested_by=harvested_by,
        occurred_at=occurred_at,
    )
    through = max(lot.through for lot in lots)
    return HarvestOutcome(plant, tuple(new), history.fruit_ripened - through)


class AutoHarvest:
    """The automatic harvest round (a `Periodic` step): per center and its local date, the
    fruit due by `auto_harvest_due`, a page of plants per transaction."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        today_of: Callable[[str], date],
        metrics: GardenMetrics,
        after_commit: Callable[[], None] = lambda: None,
        clock: Callable[[], datetime],
        page: int = AUTO_PAGE,
    ) -> None:
        self._sessions = sessions
        self._today_of = today_of
        self._metrics = metrics
        self._after_commit = after_commit
        self._clock = clock
        self._page = page

    async def harvest_round(self) -> int:
        """Harvest everything due now; return how many fruit were collected."""
        with self._metrics.harvest_seconds.labels("automatic").time():
            async with unit_of_work(self._sessions) as session:
                centers = await harvest_store.centers_with_ripe_fruit(session)
            collected = 0
            for center in centers:
                collected += await self._center(center, self._today_of(center))
        return collected

    async def _center(self, center: str, today: date) -> int:
        collected, after = 0, None
        while True:
            async with unit_of_work(self._sessions) as session:
                plants = await harvest_store.plants_with_ripe_fruit(
                    session, center, after=after, limit=self._page
                )
                if not plants:
                    break
                collected += await self._page_of(session, center, plants, today)
            self._after_commit()
            if len(plants) < self._page:
                break
            after = plants[-1]
        return collected

    async def _page_of(
        self, session: AsyncSession, center: str, plants: Sequence[Plant], today: date
    ) -> int:
        await harvest_store.lock_plants(session, plants)
        days = await plant_store.days_of(session, plants)
        harvests = await harvest_store.harvests_of(session, plants)
        configs = await config_store.config_book(session, [center])
        config = configs.on(center, today)
        lots: list[Harvest] = []
        for plant in plants:
            history = grow(plant, days[plant], configs.for_center(center), harvests=harvests[plant])
            lots += auto_harvest_due(
                plant, history.ripenings, harvests[plant], today=today, config=config
            )
        new = await _collect(
            session,
            lots,
            centers={p: center for p in plants},
            harvested_by=None,
            occurred_at=self._clock(),
        )
        count = sum(lot.count for lot in new)
        self._metrics.fruit_harvested.labels("automatic").inc(count)
        return count
