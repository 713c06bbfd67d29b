"""Garden configuration versions per center.

A change to a center's configuration and the growth of its days serialise on
one advisory lock: growth holds it shared (many batches at once), a change
exclusively, so a version never claims a day already grown under the previous
one.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from datetime import date, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services.garden.versions import ConfigBook, StoredVersion
from shared import sql

EVERY_DAY = date.min
"""`effective_from` of a version stored before anything grew: it applies to every day."""


def _lock_name(center_id: str) -> str:
    return f"garden.config:{center_id}"


async def hold_config(session: AsyncSession, centers: Collection[str]) -> None:
    """Keep the centers' configuration from changing until the transaction ends (shared)."""
    names = sorted({_lock_name(c) for c in centers})
    if names:
        await sql.execute(
            session,
            "SELECT pg_advisory_xact_lock_shared(hashtext(n)) "
            "FROM unnest(CAST(:names AS text[])) n ORDER BY n",
            {"names": names},
        )


async def lock_config(session: AsyncSession, center_id: str) -> None:
    """Wait until no batch grows the center's days, and keep them from growing (exclusive)."""
    await sql.lock(session, _lock_name(center_id))


_SELECT = "SELECT id, center_id, effective_from, document, created_by FROM garden_config_versions"


async def config_book(session: sql.Executor, centers: Collection[str]) -> ConfigBook:
    """Return every version of `centers` (one query)."""
    if not centers:
        return ConfigBook()
    rows = await sql.execute(
        session, f"{_SELECT} WHERE center_id = ANY(:c)", {"c": sorted(set(centers))}
    )
    return ConfigBook.of(StoredVersion(*tuple(row)) for row in rows)


async def newest_version(session: AsyncSession, center_id: str) -> StoredVersion | None:
    """Return the center's newest version (the one for days not grown yet)."""
    row = (
        await sql.execute(
            session,
            f"{_SELECT} WHERE center_id = :c ORDER BY effective_from DESC, id DESC LIMIT 1",
            {"c": center_id},
        )
    ).first()
    return StoredVersion(*tuple(row)) if row is not None else None


async def next_ungrown_day(session: AsyncSession, center_id: str) -> date:
    """Return the day after the center's latest grown (settled) day, else `EVERY_DAY`."""
    latest = await sql.scalar(
        session,
        "SELECT max(d.business_date) FROM garden_plants p JOIN garden_plant_days d "
        "ON d.owner_kind = p.owner_kind AND d.owner_id = p.owner_id "
        "AND d.indicator = p.indicator WHERE p.center_id = :c",
        {"c": center_id},
    )
    return latest + timedelta(days=1) if latest is not None else EVERY_DAY


async def store_version(
    session: AsyncSession, center_id: str, document: Mapping[str, Any], *, created_by: str
) -> StoredVersion:
    """Store a version in force from the center's next ungrown day (takes the lock)."""
    await lock_config(session, center_id)
    day = await next_ungrown_day(session, center_id)
    version_id = await sql.scalar(
        session,
        "INSERT INTO garden_config_versions (center_id, effective_from, document, created_by) "
        "VALUES (:c, :d, CAST(:doc AS jsonb), :by) RETURNING id",
        {"c": center_id, "d": day, "doc": json.dumps(document), "by": created_by},
    )
    return StoredVersion(version_id, center_id, day, document, created_by)
