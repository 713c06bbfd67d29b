"""Plants, their settled days, previews, timeline rows and the member view.

Every function takes many plants at once: a consumer batch touches thousands,
and each read or write is one statement.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson
from sqlmodel.ext.asyncio.session import AsyncSession

from services.garden.domain.plant import Plant, SettledDay
from shared import sql

PLANT_COLUMNS = {"owner_kind": "text", "owner_id": "text", "indicator": "text"}
_KEYS = sql.unnest({"kinds": "text", "owners": "text", "indicators": "text"})


def plant_params(plants: Iterable[Plant]) -> dict[str, list[str]]:
    """The parallel arrays that name `plants` in a statement (joined via `_KEYS`)."""
    ordered = sorted(set(plants))
    return {
        "kinds": [p.owner_kind for p in ordered],
        "owners": [p.owner_id for p in ordered],
        "indicators": [p.indicator for p in ordered],
    }


def _plant(row: Any) -> Plant:
    return Plant(row.owner_kind, row.owner_id, row.indicator)


@dataclass(frozen=True, slots=True)
class Place:
    """Where a plant's owner sits in the organisation."""

    center_id: str
    department_id: str | None
    team_id: str | None


async def days_of(
    session: AsyncSession, plants: Collection[Plant]
) -> dict[Plant, list[SettledDay]]:
    """Return the stored settled days of `plants` (one query)."""
    found: dict[Plant, list[SettledDay]] = {p: [] for p in plants}
    if not plants:
        return found
    rows = await sql.execute(
        session,
        "SELECT d.owner_kind, d.owner_id, d.indicator, d.business_date, d.points, d.state, "
        f"d.revision, d.fruit, d.value FROM {_KEYS} AS k(kind, owner, indicator) "
        "JOIN garden_plant_days d ON d.owner_kind = k.kind AND d.owner_id = k.owner "
        "AND d.indicator = k.indicator",
        plant_params(plants),
    )
    for row in rows:
        found[_plant(row)].append(
            SettledDay(row.business_date, row.points, row.state, row.fruit, row.revision, row.value)
        )
    return found


async def save_days(session: AsyncSession, rows: Sequence[tuple[Plant, SettledDay]]) -> None:
    """Write the copies of days that now count (replacing the stored copy of the date)."""
    await sql.insert_rows(
        session,
        "garden_plant_days",
        {
            **PLANT_COLUMNS,
            "business_date": "date",
            "points": "float8",
            "state": "text",
            "revision": "int",
            "fruit": "text",
            "value": "float8",
        },
        [
            (
                p.owner_kind,
                p.owner_id,
                p.indicator,
                d.business_date,
                d.points,
                d.state,
                d.revision,
                d.fruit,
                d.value,
            )
            for p, d in sorted(rows, key=lambda r: (r[0], r[1].business_date))
        ],
        on_conflict="(owner_kind, owner_id, indicator, business_date) DO UPDATE SET "
        "points = EXCLUDED.points, state = EXCLUDED.state, revision = EXCLUDED.revision, "
        "fruit = EXCLUDED.fruit, value = EXCLUDED.value",
    )


async def places_of(session: AsyncSession, plants: Collection[Plant]) -> dict[Plant, Place]:
    """Return where the stored plants among `plants` belong."""
    if not plants:
        return {}
    rows = await sql.execute(
        session,
        "SELECT p.owner_kind, p.owner_id, p.indicator, p.center_id, p.department_id, p.team_id "
        f"FROM {_KEYS} AS k(kind, owner, indicator) JOIN garden_plants p "
        "ON p.owner_kind = k.kind AND p.owner_id = k.owner AND p.indicator = k.indicator",
        plant_params(plants),
    )
    return {_plant(r): Place(r.center_id, r.department_id, r.team_id) for r in rows}


PlantRow = tuple[Any, ...]
"""owner_kind, owner_id, indicator, center_id, department_id, team_id, fruit, stage, growth,
state, cycle, fruit_ripened, fruit_harvested, last_rated."""


async def save_plants(session: AsyncSession, rows: Sequence[PlantRow]) -> None:
    """Upsert plant rows; harvested fruit only ever goes up (harvests write it too)."""
    await sql.insert_rows(
        session,
        "garden_plants",
        {
            **PLANT_COLUMNS,
            "center_id": "text",
            "department_id": "text",
            "team_id": "text",
            "fruit": "text",
            "stage": "smallint",
            "growth": "float8",
            "state": "text",
            "cycle": "int",
            "fruit_ripened": "int",
            "fruit_harvested": "int",
            "last_rated": "date",
        },
        sorted(rows, key=lambda r: (r[0], r[1], r[2])),
        on_conflict="(owner_kind, owner_id, indicator) DO UPDATE SET "
        "center_id = EXCLUDED.center_id, department_id = EXCLUDED.department_id, "
        "team_id = EXCLUDED.team_id, fruit = EXCLUDED.fruit, stage = EXCLUDED.stage, "
        "growth = EXCLUDED.growth, state = EXCLUDED.state, cycle = EXCLUDED.cycle, "
        "fruit_ripened = EXCLUDED.fruit_ripened, fruit_harvested = "
        "GREATEST(garden_plants.fruit_harvested, EXCLUDED.fruit_harvested), "
        "last_rated = EXCLUDED.last_rated, updated_at = now()",
    )


async def save_previews(
    session: AsyncSession, rows: Sequence[tuple[Plant, date, float, str, int]]
) -> None:
    """Keep each plant's and day's newest preview (a lower revision changes nothing)."""
    newest: dict[tuple[Plant, date], tuple[Plant, date, float, str, int]] = {}
    for row in rows:
        held = newest.get((row[0], row[1]))
        if held is None or row[4] > held[4]:
            newest[(row[0], row[1])] = row
    await sql.insert_rows(
        session,
        "garden_previews",
        {**PLANT_COLUMNS, "business_date": "date", "points": "float8", "state": "text"}
        | {"revision": "int"},
        [
            (p.owner_kind, p.owner_id, p.indicator, day, points, state, revision)
            for (p, day), (_, _, points, state, revision) in sorted(newest.items())
        ],
        on_conflict="(owner_kind, owner_id, indicator, business_date) DO UPDATE SET "
        "points = EXCLUDED.points, state = EXCLUDED.state, revision = EXCLUDED.revision "
        "WHERE EXCLUDED.revision > garden_previews.revision",
    )


MemberRow = tuple[str, str, str, str | None, str | None, str | None, date]
"""owner_kind, owner_id, center_id, department_id, team_id, name, as_of."""


async def save_members(session: AsyncSession, rows: Iterable[MemberRow]) -> None:
    """Record where owners sit as of their latest settled day (older days change nothing)."""
    latest: dict[tuple[str, str], MemberRow] = {}
    for row in rows:
        held = latest.get((row[0], row[1]))
        if held is None or row[6] >= held[6]:
            latest[(row[0], row[1])] = row
    await sql.insert_rows(
        session,
        "garden_members",
        {
            "owner_kind": "text",
            "owner_id": "text",
            "center_id": "text",
            "department_id": "text",
            "team_id": "text",
            "name": "text",
            "as_of": "date",
        },
        [latest[key] for key in sorted(latest)],
        on_conflict="(owner_kind, owner_id) DO UPDATE SET center_id = EXCLUDED.center_id, "
        "department_id = EXCLUDED.department_id, team_id = EXCLUDED.team_id, "
        "name = COALESCE(EXCLUDED.name, garden_members.name), as_of = EXCLUDED.as_of, "
        "updated_at = now() WHERE EXCLUDED.as_of >= garden_members.as_of",
    )


TimelineRow = tuple[str, str, str, str, str, date, dict[str, Any]]
"""entry_id, owner_kind, owner_id, indicator, kind, business_date, detail."""


async def add_timeline(session: AsyncSession, rows: Sequence[TimelineRow]) -> set[str]:
    """Insert timeline rows not recorded yet; return the ids of those that are new."""
    if not rows:
        return set()
    result = await sql.insert_rows(
        session,
        "garden_timeline",
        {
            "entry_id": "text",
            "owner_kind": "text",
            "owner_id": "text",
            "indicator": "text",
            "kind": "text",
            "business_date": "date",
            "detail": "jsonb",
        },
        [(*row[:6], orjson.dumps(row[6]).decode()) for row in rows],
        on_conflict="(entry_id) DO NOTHING",
        returning="entry_id",
    )
    return set(result.scalars())


async def drop_stale_entries(
    session: AsyncSession, since: Mapping[Plant, date], keep: Collection[str]
) -> None:
    """Delete the plants' growth entries from their `since` day on that a regrow no longer
    gives (a late revision rewrote that part of the history); harvests stay."""
    ordered = sorted(since)
    await sql.execute(
        session,
        "DELETE FROM garden_timeline t USING "
        + sql.unnest({"kinds": "text", "owners": "text", "indicators": "text", "since": "date"})
        + " AS u(kind, owner, indicator, since) WHERE t.owner_kind = u.kind "
        "AND t.owner_id = u.owner AND t.indicator = u.indicator AND t.business_date >= u.since "
        "AND t.kind <> 'fruit.harvested' AND NOT (t.entry_id = ANY(CAST(:keep AS text[])))",
        {**plant_params(ordered), "since": [since[p] for p in ordered], "keep": sorted(keep)},
    )
