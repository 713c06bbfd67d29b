"""What the API reads: an owner's plants, previews, recent days, timeline pages, unit members."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg
import orjson

from shared import sql
from shared.vocabulary import OwnerKind, UnitKind


@dataclass(frozen=True, slots=True)
class Member:
    """Where an owner sits, as of its latest settled day."""

    owner_kind: str
    owner_id: str
    center_id: str
    department_id: str | None
    team_id: str | None
    name: str | None

    @property
    def units(self) -> tuple[str, ...]:
        """Return the owner's own unit (for a unit) and the units above it."""
        chain = [self.team_id, self.department_id, self.center_id]
        return tuple(u for u in chain if u is not None)


async def member(session: sql.Executor, kind: OwnerKind, owner_id: str) -> Member | None:
    """Return an owner's place in the member view (None when no settled score named it)."""
    if kind == "center":
        return Member("center", owner_id, owner_id, None, None, None)
    row = (
        await sql.execute(
            session,
            "SELECT owner_kind, owner_id, center_id, department_id, team_id, name "
            "FROM garden_members WHERE owner_kind = :k AND owner_id = :o",
            {"k": kind, "o": owner_id},
        )
    ).first()
    if row is not None:
        return Member(*tuple(row))
    if kind == "agent":
        return None
    return await _unit_below(session, kind, owner_id)


async def _unit_below(session: sql.Executor, kind: UnitKind, unit_id: str) -> Member | None:
    """Place a unit with no score of its own by the members that name it."""
    row = (
        await sql.execute(
            session,
            "SELECT center_id, department_id FROM garden_members "
            f"WHERE {unit_column(kind)} = :u ORDER BY as_of DESC LIMIT 1",
            {"u": unit_id},
        )
    ).first()
    if row is None:
        return None
    department = row.department_id if kind != "center" else None
    team = unit_id if kind == "team" else None
    return Member(kind, unit_id, row.center_id, department, team, None)


async def unit_member(session: sql.Executor, unit_id: str) -> Member | None:
    """Return the place of the unit with id `unit_id`, whatever its kind (unit ids are
    unique across kinds)."""
    kinds: tuple[UnitKind, ...] = ("team", "department")
    for kind in kinds:
        found = await member(session, kind, unit_id)
        if found is not None:
            return found
    return await _unit_below(session, "center", unit_id)


async def plant(
    session: sql.Executor, kind: OwnerKind, owner_id: str, indicator: str
) -> dict[str, Any] | None:
    """Return one plant (None when it has not grown yet)."""
    rows = await sql.mappings(
        session,
        "SELECT indicator, fruit, stage, state, fruit_ripened, fruit_harvested, updated_at "
        "FROM garden_plants WHERE owner_kind = :k AND owner_id = :o AND indicator = :i",
        {"k": kind, "o": owner_id, "i": indicator},
    )
    return rows[0] if rows else None


async def timeline(
    session: sql.Executor, kind: OwnerKind, owner_id: str, *, before: int | None, limit: int
) -> list[dict[str, Any]]:
    """Return a page of the owner's timeline, newest first (entries with `seq` < `before`)."""
    return await sql.mappings(
        session,
        "SELECT seq, entry_id, kind, indicator, business_date, detail, recorded_at "
        "FROM garden_timeline WHERE owner_kind = :k AND owner_id = :o "
        "AND (CAST(:b AS bigint) IS NULL OR seq < :b) ORDER BY seq DESC LIMIT :n",
        {"k": kind, "o": owner_id, "b": before, "n": limit},
    )


def unit_column(kind: UnitKind) -> str:
    """Return the member view's column naming a unit of `kind`."""
    return {"team": "team_id", "department": "department_id", "center": "center_id"}[kind]


async def count_plants(session: sql.Executor) -> dict[tuple[str, str], int]:
    """Return how many plants there are by owner kind and state."""
    rows: list[Any] = list(
        await sql.execute(
            session, "SELECT owner_kind, state, count(*) FROM garden_plants GROUP BY 1, 2"
        )
    )
    return {(r[0], r[1]): r[2] for r in rows}


@dataclass(frozen=True, slots=True)
class GardenRead:
    """Everything an agent's garden shows, read in one statement; the plants and the days
    come as the JSON the answer carries (`PlantOut` items, `DayPoints` lists by indicator)."""

    member: Member | None
    today: date
    versions: str | None
    """JSON [[id, center_id, effective_from, document, created_by], ...] of the center's
    configuration versions (None: the center has none)."""
    plants_json: str
    days_json: str
    average_points: float | None
    """The average daily points of the star window (`domain.stars.average_daily_points`)."""


# The agent's business day `t` is its center's (from the zones configured) or the default
# one's. The average sums each day's points in indicator order, then the days in date order,
# in float8, as `average_daily_points` does: the same value to the last bit.
AGENT_GARDEN = """
WITH m AS (
  SELECT owner_kind, owner_id, center_id, department_id, team_id, name
  FROM garden_members WHERE owner_kind = 'agent' AND owner_id = $1
), t AS (
  SELECT COALESCE(
    (SELECT z.d FROM unnest($2::text[], $3::date[]) AS z(c, d) JOIN m ON z.c = m.center_id),
    $4::date) AS today
), d AS (
  SELECT d.indicator, d.business_date, d.points, d.state
  FROM garden_plant_days d, t
  WHERE d.owner_kind = 'agent' AND d.owner_id = $1
    AND d.business_date >= t.today - $5::int AND d.business_date < t.today
)
SELECT
  (SELECT json_build_array(owner_kind, owner_id, center_id, department_id, team_id, name)::text
   FROM m) AS member,
  (SELECT today FROM t) AS today,
  (SELECT json_agg(json_build_array(v.id, v.center_id, v.effective_from, v.document,
     v.created_by) ORDER BY v.id)::text
   FROM garden_config_versions v WHERE v.center_id = COALESCE((SELECT center_id FROM m), ''))
   AS versions,
  (SELECT '[' || COALESCE(string_agg(row_to_json(x)::text, ',' ORDER BY x.indicator), '') || ']'
   FROM (SELECT p.indicator, p.fruit, p.stage, p.state, p.growth,
           GREATEST(0, p.fruit_ripened - p.fruit_harvested) AS ripe_fruit,
           v.points AS preview_points, p.cycle, p.fruit_ripened,
           LEAST(p.fruit_harvested, p.fruit_ripened) AS fruit_harvested, p.last_rated
         FROM garden_plants p LEFT JOIN garden_previews v
           ON v.owner_kind = p.owner_kind AND v.owner_id = p.owner_id
           AND v.indicator = p.indicator AND v.business_date = (SELECT today FROM t)
         WHERE p.owner_kind = 'agent' AND p.owner_id = $1) AS x) AS plants,
  (SELECT '{' || COALESCE(string_agg(to_json(x.indicator)::text || ':' || x.points, ','
     ORDER BY x.indicator), '') || '}'
   FROM (SELECT d.indicator, '[' || string_agg(row_to_json(e)::text, ',' ORDER BY e.date)
           || ']' AS points
         FROM d, LATERAL (SELECT d.business_date AS date, d.points, d.state) AS e
         GROUP BY d.indicator) AS x) AS days,
  (SELECT avg(mean ORDER BY business_date)
   FROM (SELECT business_date, avg(points ORDER BY indicator) AS mean
         FROM d WHERE state <> 'not_rated' GROUP BY business_date) AS y) AS average
"""


async def agent_garden(
    db: asyncpg.Connection,
    agent_id: str,
    *,
    today_by_center: Mapping[str, date],
    today: date,
    window_days: int,
) -> GardenRead:
    """Read an agent's place, its center's configuration versions, its plants with the
    previews of its business day and the settled days of the `window_days` before it, in one
    statement on a driver connection. The business day is `today_by_center[center]` for the
    agent's center, `today` for any other (or no) center."""
    row = await db.fetchrow(
        AGENT_GARDEN,
        agent_id,
        list(today_by_center),
        list(today_by_center.values()),
        today,
        window_days,
    )
    assert row is not None  # one row whatever the agent
    place = orjson.loads(row["member"]) if row["member"] is not None else None
    return GardenRead(
        member=Member(*place) if place is not None else None,
        today=row["today"],
        versions=row["versions"],
        plants_json=row["plants"],
        days_json=row["days"],
        average_points=row["average"],
    )


async def plants_with_previews(
    session: sql.Executor, kind: OwnerKind, owner_id: str, day: date
) -> list[tuple[Any, ...]]:
    """Return an owner's plants by indicator with their preview points on `day` (or None):
    (indicator, fruit, stage, state, growth, cycle, fruit_ripened, fruit_harvested,
    last_rated, preview_points)."""
    rows: list[Any] = list(
        await sql.execute(
            session,
            "SELECT p.indicator, p.fruit, p.stage, p.state, p.growth, p.cycle, p.fruit_ripened, "
            "p.fruit_harvested, p.last_rated, v.points FROM garden_plants p "
            "LEFT JOIN garden_previews v ON v.owner_kind = p.owner_kind "
            "AND v.owner_id = p.owner_id AND v.indicator = p.indicator AND v.business_date = :d "
            "WHERE p.owner_kind = :k AND p.owner_id = :o ORDER BY p.indicator",
            {"k": kind, "o": owner_id, "d": day},
        )
    )
    return [tuple(r) for r in rows]


async def members_with_plants(
    session: sql.Executor, kind: UnitKind, unit_id: str
) -> tuple[dict[str, str], list[tuple[str, str, str | None]]]:
    """Return the agents of a unit's subtree (id → name, the id when no score named them) and
    (owner_id, indicator, state) of their plants, the state None before a rated day."""
    rows: list[Any] = list(
        await sql.execute(
            session,
            "SELECT m.owner_id, COALESCE(m.name, m.owner_id), p.indicator, "
            "CASE WHEN p.last_rated IS NOT NULL THEN p.state END FROM garden_members m "
            "LEFT JOIN garden_plants p ON p.owner_kind = 'agent' AND p.owner_id = m.owner_id "
            f"WHERE m.owner_kind = 'agent' AND m.{unit_column(kind)} = :u "
            "ORDER BY m.owner_id, p.indicator",
            {"u": unit_id},
        )
    )
    members: dict[str, str] = {}
    plants: list[tuple[str, str, str | None]] = []
    for owner, name, indicator, state in map(tuple, rows):
        members[owner] = name
        if indicator is not None:
            plants.append((owner, indicator, state))
    return members, plants


async def board_version(
    db: sql.Executor, center_id: str, start: date, end: date
) -> tuple[Any, ...]:
    """Return what changes whenever a board of the center's business days [start, end) may:
    its harvests (count, fruit and the newest row version), the center's members (names and
    units) and its configuration versions (the rows an agent sees). Equal versions, equal
    boards; each row's `xmin` is the transaction that last wrote it."""
    row = (
        await sql.execute(
            db,
            "SELECT (SELECT ARRAY[count(*), COALESCE(sum(count), 0), "
            "COALESCE(max(xmin::text::bigint), 0)] FROM garden_harvests "
            "WHERE center_id = :c AND business_date >= :s AND business_date < :e), "
            "(SELECT ARRAY[count(*), COALESCE(max(xmin::text::bigint), 0)] FROM garden_members "
            "WHERE center_id = :c), "
            "(SELECT ARRAY[count(*), COALESCE(max(xmin::text::bigint), 0)] "
            "FROM garden_config_versions WHERE center_id = :c)",
            {"c": center_id, "s": start, "e": end},
        )
    ).one()
    return tuple(tuple(part) for part in row)
