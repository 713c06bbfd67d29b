"""What recording campaigns reads and writes, for many campaigns at once: a consumer batch
touches every campaign of the teams it carries, and each read or write is one statement."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import orjson
from sqlmodel.ext.asyncio.session import AsyncSession

from services.garden.domain.campaigns import ClassName, Day
from shared import sql


@dataclass
class PeriodDays:
    """A campaign's members with their start classes and the settled days of its period."""

    start: dict[str, ClassName] = field(default_factory=dict)
    members: dict[str, list[Day]] = field(default_factory=dict)
    unit: list[Day] = field(default_factory=list)
    later_day: bool = False
    """Whether a member or the unit has a settled day after the period."""


_IDS = "campaign_id = ANY(CAST(:ids AS text[]))"


async def period_days(session: AsyncSession, ids: Collection[str]) -> dict[str, PeriodDays]:
    """Return each campaign's members and the stored plant days of its period (four queries)."""
    found = {i: PeriodDays() for i in ids}
    params = {"ids": sorted(ids)}
    for row in await sql.execute(
        session,
        f"SELECT campaign_id, agent_id, start_class FROM garden_campaign_members WHERE {_IDS}",
        params,
    ):
        found[row.campaign_id].start[row.agent_id] = row.start_class
        found[row.campaign_id].members[row.agent_id] = []
    for row in await sql.execute(
        session,
        "SELECT m.campaign_id, d.owner_id, d.business_date, d.state, d.value "
        "FROM garden_campaign_members m JOIN garden_campaigns c USING (campaign_id) "
        "JOIN garden_plant_days d ON d.owner_kind = 'agent' AND d.owner_id = m.agent_id "
        "AND d.indicator = c.indicator AND d.business_date BETWEEN c.starts_on AND c.ends_on "
        f"WHERE m.{_IDS}",
        params,
    ):
        found[row.campaign_id].members[row.owner_id].append(
            Day(row.business_date, row.state, row.value)
        )
    for row in await sql.execute(
        session,
        "SELECT c.campaign_id, d.business_date, d.state, d.value FROM garden_campaigns c "
        "JOIN garden_plant_days d ON d.owner_kind = c.unit_kind AND d.owner_id = c.unit_id "
        "AND d.indicator = c.indicator AND d.business_date BETWEEN c.starts_on AND c.ends_on "
        f"WHERE c.{_IDS}",
        params,
    ):
        found[row.campaign_id].unit.append(Day(row.business_date, row.state, row.value))
    for row in await sql.execute(
        session,
        "SELECT c.campaign_id FROM garden_campaigns c WHERE c."
        + _IDS
        + " AND (EXISTS (SELECT 1 FROM garden_plant_days d WHERE d.owner_kind = c.unit_kind "
        "AND d.owner_id = c.unit_id AND d.indicator = c.indicator "
        "AND d.business_date > c.ends_on) OR EXISTS (SELECT 1 FROM garden_campaign_members m "
        "JOIN garden_plant_days d ON d.owner_kind = 'agent' AND d.owner_id = m.agent_id "
        "AND d.indicator = c.indicator AND d.business_date > c.ends_on "
        "WHERE m.campaign_id = c.campaign_id))",
        params,
    ):
        found[row.campaign_id].later_day = True
    return found


async def recorded_digests(
    session: AsyncSession, ids: Collection[str]
) -> dict[str, dict[date, str]]:
    """Return the digest of each recorded day of the campaigns."""
    found: dict[str, dict[date, str]] = {i: {} for i in ids}
    for row in await sql.execute(
        session,
        f"SELECT campaign_id, business_date, digest FROM garden_campaign_days WHERE {_IDS}",
        {"ids": sorted(ids)},
    ):
        found[row.campaign_id][row.business_date] = row.digest
    return found


DayRow = tuple[str, date, dict[str, Any], float | None, dict[str, Any], list[Any], str]
"""campaign_id, business_date, classes, unit_value, members, moves, digest."""


async def save_days(session: AsyncSession, rows: Sequence[DayRow]) -> None:
    """Write recorded days (replacing a date's earlier record)."""
    if not rows:
        return
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
            for campaign_id, day, classes, unit_value, of_members, moves, digest in sorted(
                rows, key=lambda r: (r[0], r[1])
            )
        ],
        on_conflict="(campaign_id, business_date) DO UPDATE SET classes = EXCLUDED.classes, "
        "unit_value = EXCLUDED.unit_value, members = EXCLUDED.members, "
        "moves = EXCLUDED.moves, digest = EXCLUDED.digest, recorded_at = now()",
    )


ProgressRow = tuple[str, date | None, datetime | None, dict[str, Any] | None, str | None]
"""campaign_id, last recorded day, end instant, result, result digest (None: unchanged)."""


async def save_progress(session: AsyncSession, rows: Sequence[ProgressRow]) -> None:
    """Record how far campaigns got; an end once recorded keeps its first instant."""
    if not rows:
        return
    keys = sql.unnest(
        {
            "ids": "text",
            "lasts": "date",
            "ends": "timestamptz",
            "results": "text",
            "digests": "text",
        }
    )
    await sql.execute(
        session,
        f"UPDATE garden_campaigns c SET last_recorded = u.last, "
        "ended_at = COALESCE(c.ended_at, u.ended), "
        "result = COALESCE(CAST(u.result AS jsonb), c.result), "
        "result_digest = COALESCE(u.digest, c.result_digest) "
        f"FROM {keys} AS u(id, last, ended, result, digest) WHERE c.campaign_id = u.id",
        sql.arrays(
            ["ids", "lasts", "ends", "results", "digests"],
            [
                (i, last, ended, orjson.dumps(result).decode() if result is not None else None, d)
                for i, last, ended, result, d in sorted(rows, key=lambda r: r[0])
            ],
        ),
    )
