"""Harvests: what was collected from plants, and which plants have ripe fruit waiting."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services.garden.domain.harvest import Harvest
from services.garden.domain.plant import Plant
from services.garden.repo.plants import _KEYS, plant_params
from services.garden.repo.reads import unit_column
from shared import sql
from shared.vocabulary import UnitKind


def plant_lock(plant: Plant) -> str:
    """The advisory lock a harvest of `plant` holds until its transaction ends."""
    return f"garden.plant:{plant.key}"


async def lock_plants(session: AsyncSession, plants: Collection[Plant]) -> None:
    """Wait for the harvest locks of `plants` (in one sorted order, no deadlock)."""
    await sql.lock(session, *(plant_lock(p) for p in plants))


async def harvests_of(
    session: AsyncSession, plants: Collection[Plant]
) -> dict[Plant, list[Harvest]]:
    """Return every harvest of `plants` (one query)."""
    found: dict[Plant, list[Harvest]] = {p: [] for p in plants}
    if not plants:
        return found
    rows: list[Any] = list(
        await sql.execute(
            session,
            "SELECT h.owner_kind, h.owner_id, h.indicator, h.harvest_id, h.fruit, h.first_fruit, "
            f"h.through_fruit, h.business_date, h.trigger FROM {_KEYS} AS k(kind, owner, indicator) "
            "JOIN garden_harvests h ON h.owner_kind = k.kind AND h.owner_id = k.owner "
            "AND h.indicator = k.indicator",
            plant_params(plants),
        )
    )
    for r in rows:
        plant = Plant(r.owner_kind, r.owner_id, r.indicator)
        found[plant].append(
            Harvest(
                r.harvest_id,
                plant,
                r.fruit,
                r.first_fruit,
                r.through_fruit,
                r.business_date,
                r.trigger,
            )
        )
    return found


async def add_harvests(
    session: AsyncSession,
    harvests: Sequence[Harvest],
    *,
    centers: dict[Plant, str],
    harvested_by: str | None,
) -> set[str]:
    """Insert harvests not recorded yet and raise their plants' harvested count; return the
    ids of the new ones."""
    if not harvests:
        return set()
    result = await sql.insert_rows(
        session,
        "garden_harvests",
        {
            "harvest_id": "text",
            "owner_kind": "text",
            "owner_id": "text",
            "indicator": "text",
            "center_id": "text",
            "fruit": "text",
            "first_fruit": "int",
            "through_fruit": "int",
            "count": "int",
            "trigger": "text",
            "harvested_by": "text",
            "business_date": "date",
        },
        [
            (
                h.harvest_id,
                h.plant.owner_kind,
                h.plant.owner_id,
                h.plant.indicator,
                centers[h.plant],
                h.fruit,
                h.first,
                h.through,
                h.count,
                h.trigger,
                harvested_by if h.trigger == "owner" else None,
                h.business_date,
            )
            for h in harvests
        ],
        on_conflict="(harvest_id) DO NOTHING",
        returning="harvest_id",
    )
    fresh = set(result.scalars())
    through: dict[Plant, int] = {}
    for h in harvests:
        through[h.plant] = max(through.get(h.plant, 0), h.through)
    ordered = sorted(through)
    await sql.execute(
        session,
        "UPDATE garden_plants p SET fruit_harvested = GREATEST(p.fruit_harvested, u.through), "
        "updated_at = now() FROM "
        + sql.unnest({"kinds": "text", "owners": "text", "indicators": "text", "through": "int"})
        + " AS u(kind, owner, indicator, through) WHERE p.owner_kind = u.kind "
        "AND p.owner_id = u.owner AND p.indicator = u.indicator",
        {**plant_params(ordered), "through": [through[p] for p in ordered]},
    )
    return fresh


async def centers_with_ripe_fruit(session: AsyncSession) -> list[str]:
    """Return the centers where some plant has ripe fruit waiting."""
    rows: list[Any] = list(
        await sql.execute(
            session,
            "SELECT DISTINCT center_id FROM garden_plants WHERE fruit_ripened > fruit_harvested "
            "ORDER BY center_id",
        )
    )
    return [row[0] for row in rows]


async def plants_with_ripe_fruit(
    session: AsyncSession, center_id: str, *, after: Plant | None, limit: int
) -> list[Plant]:
    """Return up to `limit` plants of a center with ripe fruit waiting, in key order after
    `after` (a page of the automatic harvest)."""
    start = (after.owner_kind, after.owner_id, after.indicator) if after else ("", "", "")
    rows: list[Any] = list(
        await sql.execute(
            session,
            "SELECT owner_kind, owner_id, indicator FROM garden_plants "
            "WHERE center_id = :c AND fruit_ripened > fruit_harvested "
            "AND (owner_kind, owner_id, indicator) > (:k, :o, :i) "
            "ORDER BY owner_kind, owner_id, indicator LIMIT :n",
            {"c": center_id, "k": start[0], "o": start[1], "i": start[2], "n": limit},
        )
    )
    return [Plant(r.owner_kind, r.owner_id, r.indicator) for r in rows]


async def harvests_in(
    session: AsyncSession, center_id: str, start: date, end: date, fruit: str | None
) -> list[tuple[str, str, str, date, str, int]]:
    """Return the harvests of a center's business days [start, end): (harvest_id, owner_kind,
    owner_id, business_date, fruit, count)."""
    rows: list[Any] = list(
        await sql.execute(
            session,
            "SELECT harvest_id, owner_kind, owner_id, business_date, fruit, count "
            "FROM garden_harvests WHERE center_id = :c AND business_date >= :s "
            "AND business_date < :e AND (CAST(:f AS text) IS NULL OR fruit = :f)",
            {"c": center_id, "s": start, "e": end, "f": fruit},
        )
    )
    return [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows]


async def totals_in(
    session: sql.Executor,
    center_id: str,
    start: date,
    end: date,
    *,
    owners: str,
    unit_kind: UnitKind,
    unit_id: str,
    fruit: str | None,
) -> list[tuple[str, str, int]]:
    """Return (owner_id, name, fruit) of the `owners` (agents or teams) of a unit whose
    harvests on the center's business days [start, end) bore fruit (of one kind when `fruit`
    is given)."""
    rows: list[Any] = list(
        await sql.execute(
            session,
            "SELECT h.owner_id, COALESCE(m.name, m.owner_id), sum(h.count) "
            "FROM garden_harvests h JOIN garden_members m "
            "ON m.owner_kind = h.owner_kind AND m.owner_id = h.owner_id "
            "WHERE h.center_id = :c AND h.business_date >= :s AND h.business_date < :e "
            f"AND h.owner_kind = :k AND m.{unit_column(unit_kind)} = :u "
            "AND (CAST(:f AS text) IS NULL OR h.fruit = :f) "
            "GROUP BY h.owner_id, m.name, m.owner_id HAVING sum(h.count) > 0",
            {"c": center_id, "s": start, "e": end, "k": owners, "u": unit_id, "f": fruit},
        )
    )
    return [(r[0], r[1], int(r[2])) for r in rows]
