"""Configuration versions in the database: read what is in force, store new versions.

Never commits: the caller's transaction decides. A change to a center's
configuration and the settlement of its days serialise on one advisory lock
(`lock_center_config`), so a version never claims a day settled under the
previous one.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services.scoring.domain import SettlementPolicy, Tiers
from services.scoring.library.resolution import (
    ConfigBook,
    Library,
    PolicyBook,
    Scope,
    ScoringConfig,
    library_document,
    parse_tiers,
    resolve,
    settlement_policy,
    tiers_document,
)
from services.scoring.library.rules import library_problems, tiers_problems
from services.scoring.library.schemas import LibraryPut, TiersPut
from shared import sql
from shared.vocabulary import Problem, problem

EVERY_DAY = date.min
"""`effective_from` of a version stored while nothing was settled: it applies to every day."""
LATEST = date.max
"""Pass as `day` to read the newest versions (those that apply to unsettled days)."""
_NEWEST_FIRST = "ORDER BY effective_from DESC, id DESC"


async def lock_center_config(session: AsyncSession, center_id: str) -> None:
    """Serialise configuration changes and settlement of one center (until the commit).

    A PUT takes it before reading the settled days; settlement should take it
    before reading the configuration and recording the day settled, so a
    version can never claim a day that settled under the previous one.
    """
    await sql.lock(session, f"scoring.config:{center_id}")


async def next_unsettled_day(session: AsyncSession, center_id: str) -> date:
    """Return the first day a change may apply to: after the latest settled day, else every day."""
    latest = await sql.scalar(
        session,
        "SELECT max(business_date) FROM scoring_settled_days WHERE center_id = :c",
        {"c": center_id},
    )
    return latest + timedelta(days=1) if latest is not None else EVERY_DAY


@dataclass(frozen=True, slots=True)
class Version:
    """A stored configuration version."""

    id: int
    effective_from: date
    document: Mapping[str, Any]
    created_by: str


async def library_version(session: AsyncSession, center_id: str, day: date) -> Version | None:
    """Return the center's library version in force on `day` (`LATEST`: the newest)."""
    result = await sql.execute(
        session,
        "SELECT id, effective_from, document, created_by FROM scoring_library_versions "
        f"WHERE center_id = :c AND effective_from <= :day {_NEWEST_FIRST} LIMIT 1",
        {"c": center_id, "day": day},
    )
    row = result.first()
    return Version(*row) if row is not None else None


async def tier_versions(
    session: AsyncSession, center_id: str, department_id: str | None, day: date
) -> dict[Scope, Version]:
    """Return the tier versions in force on `day` for the center and the department."""
    rows = await sql.execute(
        session,
        "SELECT DISTINCT ON (department_id, owner_kind) department_id, owner_kind, "
        "id, effective_from, document, created_by FROM scoring_tier_versions "
        "WHERE center_id = :c AND effective_from <= :day "
        "AND (department_id IS NULL OR department_id = :d) "
        "ORDER BY department_id, owner_kind, effective_from DESC, id DESC",
        {"c": center_id, "day": day, "d": department_id},
    )
    return {(r[0], r[1]): Version(*r[2:]) for r in rows}


async def scoring_config(
    session: AsyncSession,
    center_id: str,
    department_id: str | None,
    day: date,
    owner_kind: str = "agent",
) -> ScoringConfig:
    """Return the configuration in force on `day` for an owner (two queries)."""
    version = await library_version(session, center_id, day)
    library = Library.parse(version.document if version else None)
    versions = await tier_versions(session, center_id, department_id, day)
    scopes = {scope: parse_tiers(v.document) for scope, v in versions.items()}
    return resolve(library, scopes, department_id, owner_kind)


async def load_configs(session: AsyncSession, day: date) -> ConfigBook:
    """Load every center's configuration in force on `day` (two queries)."""
    libraries = {
        center: Library.parse(document)
        for center, document in await sql.execute(
            session,
            "SELECT DISTINCT ON (center_id) center_id, document FROM scoring_library_versions "
            "WHERE effective_from <= :day ORDER BY center_id, effective_from DESC, id DESC",
            {"day": day},
        )
    }
    scopes: dict[str, dict[Scope, Mapping[str, Tiers]]] = {}
    for center, department, kind, document in await sql.execute(
        session,
        "SELECT DISTINCT ON (center_id, department_id, owner_kind) center_id, department_id, "
        "owner_kind, document FROM scoring_tier_versions WHERE effective_from <= :day "
        "ORDER BY center_id, department_id, owner_kind, effective_from DESC, id DESC",
        {"day": day},
    ):
        scopes.setdefault(center, {})[(department, kind)] = parse_tiers(document)
    return ConfigBook(day, libraries, scopes)


async def center_policies(
    session: AsyncSession, days: Collection[date], *, default: SettlementPolicy
) -> PolicyBook:
    """The settlement policy of every center with a library, as in force on each of
    `days`; `default` (the service settings) for the others."""
    if not days:
        return PolicyBook({}, default)
    rows = await sql.execute(
        session,
        f"SELECT d, v.center_id, v.document FROM {sql.unnest({'days': 'date'})} AS d "
        "CROSS JOIN LATERAL (SELECT DISTINCT ON (center_id) center_id, document "
        "FROM scoring_library_versions WHERE effective_from <= d "
        "ORDER BY center_id, effective_from DESC, id DESC) v",
        {"days": sorted(days)},
    )
    in_force = {
        (center, day): settlement_policy(document["settings"]) for day, center, document in rows
    }
    return PolicyBook(in_force, default)


async def longest_fcr_window(session: AsyncSession) -> timedelta | None:
    """The longest FCR window any center's library has ever set (None: no library)."""
    hours = await sql.scalar(
        session,
        "SELECT max(CAST(document -> 'settings' ->> 'fcr_window_hours' AS float8)) "
        "FROM scoring_library_versions",
    )
    return timedelta(hours=hours) if hours is not None else None


_INSERT_LIBRARY = (
    "INSERT INTO scoring_library_versions (center_id, effective_from, document, created_by) "
    "VALUES (:c, :day, CAST(:doc AS jsonb), :by) RETURNING id"
)
_INSERT_TIERS = (
    "INSERT INTO scoring_tier_versions "
    "(center_id, department_id, owner_kind, effective_from, document, created_by) "
    "VALUES (:c, :d, :kind, :day, CAST(:doc AS jsonb), :by) RETURNING id"
)


class ConfigRejected(Exception):
    """The configuration cannot be stored; `problems` says why."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"the configuration was refused ({len(problems)} problems)")
        self.problems = problems


async def store_library(session: AsyncSession, doc: LibraryPut, *, created_by: str) -> Version:
    """Store a new library version from the center's next unsettled day.

    Raises `ConfigRejected` when the library is invalid.
    """
    await lock_center_config(session, doc.center_id)
    departments = await _departments_of_center(session, doc.center_id)
    _reject_if(library_problems(doc, departments=departments))
    day = await next_unsettled_day(session, doc.center_id)
    document = library_document(doc)
    params = {"c": doc.center_id, "day": day, "doc": json.dumps(document), "by": created_by}
    version_id = await sql.scalar(session, _INSERT_LIBRARY, params)
    return Version(version_id, day, document, created_by)


async def store_tiers(session: AsyncSession, doc: TiersPut, *, created_by: str) -> Version:
    """Store a new tiers version of the scope from the center's next unsettled day.

    Raises `ConfigRejected` when the tiers are invalid.
    """
    await lock_center_config(session, doc.center_id)
    departments = await _departments_of_center(session, doc.center_id)
    if doc.department_id is not None and doc.department_id not in departments:
        reason = f"{doc.department_id!r} is not an active department of {doc.center_id!r}"
        raise ConfigRejected([problem("department_id", reason)])
    version = await library_version(session, doc.center_id, LATEST)
    library = Library.parse(version.document if version else None)
    allowed = library.for_department(doc.department_id) if doc.department_id else library.indicators
    _reject_if(tiers_problems(doc, library=allowed))
    day = await next_unsettled_day(session, doc.center_id)
    document = tiers_document(doc)
    params = {
        "c": doc.center_id,
        "d": doc.department_id,
        "kind": doc.owner_kind,
        "day": day,
        "doc": json.dumps(document),
        "by": created_by,
    }
    version_id = await sql.scalar(session, _INSERT_TIERS, params)
    return Version(version_id, day, document, created_by)


def _reject_if(problems: list[Problem]) -> None:
    if problems:
        raise ConfigRejected(problems)


async def _departments_of_center(session: AsyncSession, center_id: str) -> set[str]:
    """Return the center's active departments; raise `ConfigRejected` for an unknown center."""
    departments = await active_departments(session, center_id)
    if departments is None:
        raise ConfigRejected([problem("center_id", f"unknown center {center_id!r}")])
    return departments


async def active_departments(session: AsyncSession, center_id: str) -> set[str] | None:
    """Return the center's active departments, or None when the center is not active."""
    rows = await sql.mappings(
        session,
        "SELECT d.id FROM scoring_centers c LEFT JOIN scoring_departments d "
        "ON d.center_id = c.id AND d.active WHERE c.id = :c AND c.active",
        {"c": center_id},
    )
    if not rows:
        return None
    return {row["id"] for row in rows if row["id"] is not None}
