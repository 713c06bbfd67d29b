"""What the API reads: an owner's plants, previews, recent days, timeline pages, unit members."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services.garden.domain.plant import SettledDay
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


async def member(session: AsyncSession, kind: OwnerKind, owner_id: str) -> Member | None:
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


async def _unit_below(session: AsyncSession, kind: UnitKind, unit_id: str) -> Member | None:
    """Place a unit with no score of its own by the members that name it."""
    row = (
        await sql.execute(
            session,
            "SELECT center_id, department_id FROM garden_members "
            f"WHERE {_in_unit(kind)} = :u ORDER BY as_of DESC LIMIT 1",
            {"u": unit_id},
        )
    ).first()
    if row is None:
        return None
    department = row.department_id if kind != "center" else None
    team = unit_id if kind == "team" else None
    return Member(kind, unit_id, row.center_id, department, team, None)


async def unit_member(session: AsyncSession, unit_id: str) -> Member | None:
    """Return the place of the unit with id `unit_id`, whatever its kind (unit ids are
    unique across kinds)."""
    kinds: tuple[UnitKind, ...] = ("team", "department")
    for kind in kinds:
        found = await member(session, kind, unit_id)
        if found is not None:
            return found
    return await _unit_below(session, "center", unit_id)


async def plants(session: AsyncSession, kind: OwnerKind, owner_id: str) -> list[dict[str, Any]]:
    """Return an owner's plants, by indicator."""
    return await sql.mappings(
        session,
        "SELECT indicator, fruit, stage, growth, state, cycle, fruit_ripened, fruit_harvested, "
        "last_rated, center_id, updated_at FROM garden_plants "
        "WHERE owner_kind = :k AND owner_id = :o ORDER BY indicator",
        {"k": kind, "o": owner_id},
    )


async def plant(
    session: AsyncSession, kind: OwnerKind, owner_id: str, indicator: str
) -> dict[str, Any] | None:
    """Return one plant (None when it has not grown yet)."""
    rows = await sql.mappings(
        session,
        "SELECT indicator, fruit, stage, state, fruit_ripened, fruit_harvested, updated_at "
        "FROM garden_plants WHERE owner_kind = :k AND owner_id = :o AND indicator = :i",
        {"k": kind, "o": owner_id, "i": indicator},
    )
    return rows[0] if rows else None


async def previews_on(
    session: AsyncSession, kind: OwnerKind, owner_id: str, day: date
) -> dict[str, float]:
    """Return the owner's live preview points on `day`, by indicator."""
    rows: list[Any] = list(
        await sql.execute(
            session,
            "SELECT indicator, points FROM garden_previews "
            "WHERE owner_kind = :k AND owner_id = :o AND business_date = :d",
            {"k": kind, "o": owner_id, "d": day},
        )
    )
    return {r[0]: r[1] for r in rows}


async def days_between(
    session: AsyncSession, kind: OwnerKind, owner_id: str, start: date, end: date
) -> dict[str, list[SettledDay]]:
    """Return the owner's settled days in [start, end), by indicator, in date order."""
    rows: list[Any] = list(
        await sql.execute(
            session,
            "SELECT indicator, business_date, points, state, fruit, revision FROM garden_plant_days "
            "WHERE owner_kind = :k AND owner_id = :o AND business_date >= :s AND business_date < :e "
            "ORDER BY indicator, business_date",
            {"k": kind, "o": owner_id, "s": start, "e": end},
        )
    )
    found: dict[str, list[SettledDay]] = {}
    for indicator, day, points, state, fruit, revision in map(tuple, rows):
        found.setdefault(indicator, []).append(SettledDay(day, points, state, fruit, revision))
    return found


async def timeline(
    session: AsyncSession, kind: OwnerKind, owner_id: str, *, before: int | None, limit: int
) -> list[dict[str, Any]]:
    """Return a page of the owner's timeline, newest first (entries with `seq` < `before`)."""
    return await sql.mappings(
        session,
        "SELECT seq, entry_id, kind, indicator, business_date, detail, recorded_at "
        "FROM garden_timeline WHERE owner_kind = :k AND owner_id = :o "
        "AND (CAST(:b AS bigint) IS NULL OR seq < :b) ORDER BY seq DESC LIMIT :n",
        {"k": kind, "o": owner_id, "b": before, "n": limit},
    )


def _in_unit(kind: UnitKind) -> str:
    return {"team": "team_id", "department": "department_id", "center": "center_id"}[kind]


async def members_of(
    session: AsyncSession, kind: UnitKind, unit_id: str, *, owners: OwnerKind = "agent"
) -> dict[str, str]:
    """Return the agents (or teams) of a unit's subtree as of their latest settled day:
    id → name (the id when no score named them)."""
    rows: list[Any] = list(
        await sql.execute(
            session,
            "SELECT owner_id, COALESCE(name, owner_id) FROM garden_members "
            f"WHERE owner_kind = :k AND {_in_unit(kind)} = :u",
            {"k": owners, "u": unit_id},
        )
    )
    return {r[0]: r[1] for r in rows}


async def member_plants(
    session: AsyncSession, kind: OwnerKind, owners: list[str]
) -> list[tuple[str, str, str, date | None]]:
    """Return (owner_id, indicator, state, last_rated) of the owners' plants."""
    rows: list[Any] = list(
        await sql.execute(
            session,
            "SELECT owner_id, indicator, state, last_rated FROM garden_plants "
            "WHERE owner_kind = :k AND owner_id = ANY(:o) ORDER BY owner_id, indicator",
            {"k": kind, "o": owners},
        )
    )
    return [(r[0], r[1], r[2], r[3]) for r in rows]


async def count_plants(session: AsyncSession) -> dict[tuple[str, str], int]:
    """Return how many plants there are by owner kind and state."""
    rows: list[Any] = list(
        await sql.execute(
            session, "SELECT owner_kind, state, count(*) FROM garden_plants GROUP BY 1, 2"
        )
    )
    return {(r[0], r[1]): r[2] for r in rows}
