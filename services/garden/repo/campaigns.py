"""Campaigns: the campaign rows, their members, recorded days and countermeasures, and the
plant days they are computed from. Nothing here commits."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson
from sqlmodel.ext.asyncio.session import AsyncSession

from services.garden.domain.campaigns import Day
from services.garden.repo.reads import Member, member, unit_column
from shared import sql
from shared.vocabulary import UnitKind

CAMPAIGN_COLUMNS = (
    "campaign_id, seq, name, indicator, unit_kind, unit_id, center_id, department_id, team_id, "
    "starts_on, ends_on, goal, start, created_by, created_at, last_recorded, ended_at, result"
)


def lock_name(campaign_id: str) -> str:
    """The advisory lock that serialises recording a campaign's days."""
    return f"garden.campaign:{campaign_id}"


async def unit_place(session: AsyncSession, kind: UnitKind, unit_id: str) -> Member | None:
    """Return where a unit sits, None when no settled score named it or one of its agents."""
    if kind != "center":
        return await member(session, kind, unit_id)
    row = (
        await sql.execute(
            session, "SELECT 1 FROM garden_members WHERE center_id = :u LIMIT 1", {"u": unit_id}
        )
    ).first()
    return Member("center", unit_id, unit_id, None, None, None) if row is not None else None


async def unit_agents(session: AsyncSession, kind: UnitKind, unit_id: str) -> dict[str, str]:
    """Return the agents of a unit's subtree in the member view: id → name (the id when no
    score named them)."""
    rows = await sql.execute(
        session,
        "SELECT owner_id, COALESCE(name, owner_id) AS name FROM garden_members "
        f"WHERE owner_kind = 'agent' AND {unit_column(kind)} = :u ORDER BY owner_id",
        {"u": unit_id},
    )
    return {str(r.owner_id): str(r.name) for r in rows.all()}


async def center_indicators(session: AsyncSession, center_id: str) -> set[str]:
    """Return the indicators the garden has plants of in a center."""
    rows = await sql.execute(
        session,
        "SELECT DISTINCT indicator FROM garden_plants WHERE center_id = :c",
        {"c": center_id},
    )
    return {r[0] for r in rows}


async def plant_days(
    session: AsyncSession,
    owner_kind: str,
    owners: Collection[str],
    indicator: str,
    *,
    since: date | None = None,
    until: date | None = None,
) -> dict[str, list[Day]]:
    """Return the settled days (state, value) of the owners' plants for one indicator,
    between `since` and `until` (inclusive; open when None)."""
    found: dict[str, list[Day]] = {o: [] for o in owners}
    if not owners:
        return found
    rows = await sql.execute(
        session,
        "SELECT owner_id, business_date, state, value FROM garden_plant_days "
        "WHERE owner_kind = :k AND indicator = :i AND owner_id = ANY(CAST(:o AS text[])) "
        "AND (CAST(:s AS date) IS NULL OR business_date >= :s) "
        "AND (CAST(:u AS date) IS NULL OR business_date <= :u)",
        {"k": owner_kind, "i": indicator, "o": sorted(owners), "s": since, "u": until},
    )
    for row in rows.all():
        found[row.owner_id].append(Day(row.business_date, row.state, row.value))
    return found


async def latest_day(
    session: AsyncSession, owner_kind: str, owners: Collection[str], indicator: str
) -> date | None:
    """Return the latest settled day of any of the owners' plants for one indicator."""
    if not owners:
        return None
    day: date | None = await sql.scalar(
        session,
        "SELECT max(business_date) FROM garden_plant_days WHERE owner_kind = :k "
        "AND indicator = :i AND owner_id = ANY(CAST(:o AS text[]))",
        {"k": owner_kind, "i": indicator, "o": sorted(owners)},
    )
    return day


@dataclass(frozen=True, slots=True)
class NewCampaign:
    campaign_id: str
    name: str
    indicator: str
    unit: Member
    starts_on: date
    ends_on: date
    goal: dict[str, Any]
    start: dict[str, Any]
    created_by: str


MemberStart = tuple[str, str, str, float | None, date | None]
"""agent_id, name, start class, start value, the day they come from."""


async def insert_campaign(
    session: AsyncSession, new: NewCampaign, members: Sequence[MemberStart]
) -> None:
    """Store a new campaign and its members' starting classes."""
    unit = new.unit
    await sql.execute(
        session,
        "INSERT INTO garden_campaigns (campaign_id, name, indicator, unit_kind, unit_id, "
        "center_id, department_id, team_id, starts_on, ends_on, goal, start, created_by) "
        "VALUES (:id, :name, :ind, :kind, :unit, :center, :dept, :team, :s, :e, "
        "CAST(:goal AS jsonb), CAST(:start AS jsonb), :by)",
        {
            "id": new.campaign_id,
            "name": new.name,
            "ind": new.indicator,
            "kind": unit.owner_kind,
            "unit": unit.owner_id,
            "center": unit.center_id,
            "dept": unit.department_id,
            "team": unit.team_id,
            "s": new.starts_on,
            "e": new.ends_on,
            "goal": orjson.dumps(new.goal).decode(),
            "start": orjson.dumps(new.start).decode(),
            "by": new.created_by,
        },
    )
    await sql.insert_rows(
        session,
        "garden_campaign_members",
        {
            "campaign_id": "text",
            "agent_id": "text",
            "name": "text",
            "start_class": "text",
            "start_value": "float8",
            "start_date": "date",
        },
        [(new.campaign_id, *m) for m in members],
    )


async def campaign(session: AsyncSession, campaign_id: str) -> dict[str, Any] | None:
    """Return a campaign's row (None when there is none)."""
    rows = await sql.mappings(
        session,
        f"SELECT {CAMPAIGN_COLUMNS} FROM garden_campaigns WHERE campaign_id = :id",
        {"id": campaign_id},
    )
    return rows[0] if rows else None


async def campaigns(session: AsyncSession, ids: Collection[str]) -> list[dict[str, Any]]:
    """Return the rows of the campaigns `ids`, by id."""
    return await sql.mappings(
        session,
        f"SELECT {CAMPAIGN_COLUMNS} FROM garden_campaigns "
        "WHERE campaign_id = ANY(CAST(:ids AS text[])) ORDER BY campaign_id",
        {"ids": sorted(ids)},
    )


async def members(session: AsyncSession, campaign_id: str) -> list[dict[str, Any]]:
    """Return a campaign's members with their starting classes, by name then id."""
    return await sql.mappings(
        session,
        "SELECT agent_id, name, start_class, start_value, start_date "
        "FROM garden_campaign_members WHERE campaign_id = :id ORDER BY name, agent_id",
        {"id": campaign_id},
    )


Span = tuple[str, str, str, date, date]
"""owner_kind, owner_id, indicator, earliest and latest changed day."""


async def touched_by(session: AsyncSession, spans: Iterable[Span]) -> list[str]:
    """Return the campaigns whose record the changed days may change: days of a member's or
    the unit's plant for the campaign's indicator, from its start on (after its end only
    while it has not ended)."""
    rows = sorted(set(spans))
    if not rows:
        return []
    keys = sql.unnest(
        {"kinds": "text", "owners": "text", "indicators": "text", "lows": "date", "highs": "date"}
    )
    params = sql.arrays(["kinds", "owners", "indicators", "lows", "highs"], rows)
    window = (
        "c.indicator = k.indicator AND k.high >= c.starts_on "
        "AND (k.low <= c.ends_on OR c.ended_at IS NULL)"
    )
    found = await sql.execute(
        session,
        f"SELECT m.campaign_id FROM {keys} AS k(kind, owner, indicator, low, high) "
        "JOIN garden_campaign_members m ON k.kind = 'agent' AND m.agent_id = k.owner "
        f"JOIN garden_campaigns c ON c.campaign_id = m.campaign_id AND {window} "
        f"UNION SELECT c.campaign_id FROM {keys} AS k(kind, owner, indicator, low, high) "
        f"JOIN garden_campaigns c ON c.unit_kind = k.kind AND c.unit_id = k.owner AND {window}",
        params,
    )
    return sorted({r[0] for r in found})


async def recorded_digests(session: AsyncSession, campaign_id: str) -> dict[date, str]:
    """Return the digest of each recorded day of a campaign."""
    rows = await sql.execute(
        session,
        "SELECT business_date, digest FROM garden_campaign_days WHERE campaign_id = :id",
        {"id": campaign_id},
    )
    return {r.business_date: r.digest for r in rows.all()}


DayRow = tuple[date, dict[str, Any], float | None, dict[str, Any], list[Any], str]
"""business_date, classes, unit_value, members, moves, digest."""


async def save_days(session: AsyncSession, campaign_id: str, rows: Sequence[DayRow]) -> None:
    """Write recorded days (replacing a date's earlier record)."""
    await sql.insert_rows(
        session,
        "garden_campaign_days",
        {
            "campaign_id": "text",
            "business_date": "date",
            "classes": "jsonb",
            "unit_value": "float8",
            "members": "jsonb",
            "moves": "jsonb",
            "digest": "text",
        },
        [
            (
                campaign_id,
                day,
                orjson.dumps(classes).decode(),
                unit_value,
                orjson.dumps(of_members).decode(),
                orjson.dumps(moves).decode(),
                digest,
            )
            for day, classes, unit_value, of_members, moves, digest in rows
        ],
        on_conflict="(campaign_id, business_date) DO UPDATE SET classes = EXCLUDED.classes, "
        "unit_value = EXCLUDED.unit_value, members = EXCLUDED.members, "
        "moves = EXCLUDED.moves, digest = EXCLUDED.digest, recorded_at = now()",
    )


async def recorded_days(session: AsyncSession, campaign_id: str) -> list[dict[str, Any]]:
    """Return a campaign's recorded days in date order."""
    return await sql.mappings(
        session,
        "SELECT business_date, classes, unit_value, members, moves FROM garden_campaign_days "
        "WHERE campaign_id = :id ORDER BY business_date",
        {"id": campaign_id},
    )


async def result_digest(session: AsyncSession, campaign_id: str) -> str | None:
    """Return the digest of the result stored for a campaign (None before it ended)."""
    digest: str | None = await sql.scalar(
        session,
        "SELECT result_digest FROM garden_campaigns WHERE campaign_id = :id",
        {"id": campaign_id},
    )
    return digest


async def save_progress(
    session: AsyncSession,
    campaign_id: str,
    *,
    last_recorded: date | None,
    ended_at: datetime | None,
    result: dict[str, Any] | None,
    digest: str | None,
) -> None:
    """Record how far a campaign got; an end once recorded keeps its first instant."""
    await sql.execute(
        session,
        "UPDATE garden_campaigns SET last_recorded = :last, "
        "ended_at = COALESCE(ended_at, :ended), "
        "result = COALESCE(CAST(:result AS jsonb), result), "
        "result_digest = COALESCE(:digest, result_digest) WHERE campaign_id = :id",
        {
            "id": campaign_id,
            "last": last_recorded,
            "ended": ended_at,
            "result": orjson.dumps(result).decode() if result is not None else None,
            "digest": digest,
        },
    )


async def day_summaries(
    session: AsyncSession, ids: Collection[str]
) -> dict[str, list[dict[str, Any]]]:
    """Return the recorded days of many campaigns without their members, in date order."""
    found: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
    rows = await sql.mappings(
        session,
        "SELECT campaign_id, business_date, classes, unit_value FROM garden_campaign_days "
        "WHERE campaign_id = ANY(CAST(:ids AS text[])) ORDER BY campaign_id, business_date",
        {"ids": sorted(ids)},
    )
    for row in rows:
        found[row.pop("campaign_id")].append(row)
    return found
