"""Countermeasures of campaigns (the IAPDS plan) and the pages of the campaign list."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date, datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services.garden.repo.campaigns import CAMPAIGN_COLUMNS
from services.garden.repo.reads import unit_column
from shared import sql
from shared.vocabulary import UnitKind

_COLUMNS = "id, what, who, check_on, done, done_at"


async def countermeasures(session: AsyncSession, campaign_id: str) -> list[dict[str, Any]]:
    """Return a campaign's countermeasures in the order they were added."""
    return await sql.mappings(
        session,
        f"SELECT {_COLUMNS} FROM garden_campaign_countermeasures "
        "WHERE campaign_id = :id ORDER BY id",
        {"id": campaign_id},
    )


async def countermeasures_of(
    session: AsyncSession, ids: Collection[str]
) -> dict[str, list[dict[str, Any]]]:
    """Return the countermeasures of many campaigns, each in the order they were added."""
    found: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
    rows = await sql.mappings(
        session,
        f"SELECT campaign_id, {_COLUMNS} FROM garden_campaign_countermeasures "
        "WHERE campaign_id = ANY(CAST(:ids AS text[])) ORDER BY campaign_id, id",
        {"ids": sorted(ids)},
    )
    for row in rows:
        found[row.pop("campaign_id")].append(row)
    return found


async def add_countermeasure(
    session: AsyncSession, campaign_id: str, *, what: str, who: str, check_on: date, by: str
) -> dict[str, Any]:
    """Store a new countermeasure (not done) and return it."""
    rows = await sql.mappings(
        session,
        "INSERT INTO garden_campaign_countermeasures "
        "(campaign_id, what, who, check_on, done, created_by) "
        f"VALUES (:c, :what, :who, :check, false, :by) RETURNING {_COLUMNS}",
        {"c": campaign_id, "what": what, "who": who, "check": check_on, "by": by},
    )
    return rows[0]


async def mark_done(
    session: AsyncSession, campaign_id: str, countermeasure_id: int, *, by: str, at: datetime
) -> dict[str, Any] | None:
    """Mark a countermeasure done (once: marking it again keeps the first instant); None when
    the campaign has no such countermeasure."""
    rows = await sql.mappings(
        session,
        "UPDATE garden_campaign_countermeasures SET done = true, "
        "done_at = COALESCE(done_at, :at), done_by = COALESCE(done_by, :by) "
        f"WHERE campaign_id = :c AND id = :id RETURNING {_COLUMNS}",
        {"c": campaign_id, "id": countermeasure_id, "by": by, "at": at},
    )
    return rows[0] if rows else None


STATUS = (
    "CASE WHEN c.ended_at IS NOT NULL THEN 'ended' "
    "WHEN c.last_recorded IS NOT NULL OR c.starts_on <= COALESCE(z.d, CAST(:today AS date)) "
    "THEN 'running' ELSE 'scheduled' END"
)
"""A campaign's status in SQL: ended once its result is in; running from its first day (the
center's business day) or its first recorded day; scheduled before."""


async def campaign_page(
    session: AsyncSession,
    *,
    scope: str | None,
    unit: tuple[UnitKind, str] | None,
    status: str | None,
    before: int | None,
    limit: int,
    today_by_center: Mapping[str, date],
    today: date,
) -> list[dict[str, Any]]:
    """Return campaigns newest first (`seq` below `before`): those whose unit lies in the
    subtree of `scope` (every campaign when None) and of `unit`, with the status asked for."""
    unit_filter = f"c.{unit_column(unit[0])} = :unit_id" if unit is not None else "true"
    columns = ", ".join(f"c.{c.strip()}" for c in CAMPAIGN_COLUMNS.split(","))
    return await sql.mappings(
        session,
        f"SELECT {columns}, {STATUS} AS status FROM garden_campaigns c "
        "LEFT JOIN unnest(CAST(:zc AS text[]), CAST(:zd AS date[])) AS z(c, d) "
        "ON z.c = c.center_id "
        "WHERE (CAST(:scope AS text) IS NULL OR :scope IN (c.team_id, c.department_id, c.center_id)) "
        f"AND {unit_filter} "
        f"AND (CAST(:status AS text) IS NULL OR {STATUS} = :status) "
        "AND (CAST(:before AS bigint) IS NULL OR c.seq < :before) "
        "ORDER BY c.seq DESC LIMIT :n",
        {
            "scope": scope,
            "unit_id": unit[1] if unit is not None else None,
            "status": status,
            "before": before,
            "n": limit,
            "zc": list(today_by_center),
            "zd": list(today_by_center.values()),
            "today": today,
        },
    )
