"""Read use cases: an owner's plants with today's previews, stars and recent days; a unit's
members and their A/B/C split."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services.garden.api.schemas import DayPoints, MemberOut, PlantOut, SplitOut
from services.garden.domain.config import GardenConfig
from services.garden.domain.split import MemberPlant, abc_split
from services.garden.domain.stars import average_daily_points, star_level, star_window
from services.garden.repo import config as config_store
from services.garden.repo import reads
from shared.vocabulary import OwnerKind, UnitKind


def plant_out(row: dict[str, Any], preview: float | None) -> PlantOut:
    """Return a plant's document from its row."""
    return PlantOut(
        indicator=row["indicator"],
        fruit=row["fruit"],
        stage=row["stage"],
        state=row["state"],
        growth=row["growth"],
        ripe_fruit=max(0, row["fruit_ripened"] - row["fruit_harvested"]),
        preview_points=preview,
        cycle=row["cycle"],
        fruit_ripened=row["fruit_ripened"],
        fruit_harvested=min(row["fruit_harvested"], row["fruit_ripened"]),
        last_rated=row["last_rated"],
    )


async def config_on(session: AsyncSession, center_id: str, day: date) -> GardenConfig:
    """Return the center's configuration in force on `day`."""
    return (await config_store.config_book(session, [center_id])).on(center_id, day)


async def owner_plants(
    session: AsyncSession, kind: OwnerKind, owner_id: str, today: date
) -> list[PlantOut]:
    """Return an owner's plants with today's preview points."""
    previews = await reads.previews_on(session, kind, owner_id, today)
    rows = await reads.plants(session, kind, owner_id)
    return [plant_out(row, previews.get(row["indicator"])) for row in rows]


async def recent_days(
    session: AsyncSession, kind: OwnerKind, owner_id: str, today: date, config: GardenConfig
) -> tuple[int, float | None, dict[str, list[DayPoints]]]:
    """Return the star level, the average daily points and the days of the star window."""
    start, end = star_window(today)
    days = await reads.days_between(session, kind, owner_id, start, end)
    average = average_daily_points(days, today=today)
    shown = {
        indicator: [DayPoints(date=d.business_date, points=d.points, state=d.state) for d in rows]
        for indicator, rows in days.items()
    }
    return star_level(average, config), average, shown


async def unit_members(
    session: AsyncSession, kind: UnitKind, unit_id: str, indicators: set[str]
) -> tuple[list[MemberOut], list[SplitOut]]:
    """Return the agents of a unit's subtree with their plants' states, and the split."""
    members = await reads.members_of(session, kind, unit_id)
    plants = [
        MemberPlant(owner, indicator, state if last_rated is not None else None)  # type: ignore[arg-type]
        for owner, indicator, state, last_rated in await reads.member_plants(
            session, "agent", list(members)
        )
    ]
    codes = indicators | {p.indicator for p in plants}
    states: dict[str, dict[str, Any]] = {m: {code: None for code in sorted(codes)} for m in members}
    for p in plants:
        states[p.member_id][p.indicator] = p.state
    order = sorted(members, key=lambda m: (members[m], m))
    out = [MemberOut(owner_id=m, name=members[m], states=states[m]) for m in order]
    split = [
        SplitOut(
            indicator=s.indicator, a=list(s.a), b=list(s.b), c=list(s.c), unrated=list(s.unrated)
        )
        for s in abc_split(members, plants, codes)
    ]
    return out, split
