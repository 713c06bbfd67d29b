"""The configuration admin API: read and change a center's library, settings and tiers."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import date
from typing import Any

from fastapi import APIRouter, Query
from sqlmodel.ext.asyncio.session import AsyncSession

from services.scoring.domain import Tiers
from services.scoring.library.resolution import (
    Library,
    default_library_document,
    parse_tiers,
    resolve_tiers,
    tier_chain,
)
from services.scoring.library.schemas import LibraryPut, TiersPut
from services.scoring.library.store import (
    EVERY_DAY,
    LATEST,
    ConfigRejected,
    Version,
    active_departments,
    library_version,
    store_library,
    store_tiers,
    tier_versions,
)
from shared.auth.tokens import AdminPrincipal
from shared.errors import ApiError
from shared.vocabulary import OwnerKind
from shared.web import SessionDep

config_router = APIRouter(prefix="/v1", tags=["configuration"])

CenterQuery = Query(description="the center whose configuration to read")
OnQuery = Query(default=None, description="the version in force on this day (default: newest)")


def _effective(day: date) -> str | None:
    return None if day == EVERY_DAY else day.isoformat()


def _version_fields(version: Version | None) -> dict[str, Any]:
    if version is None:
        return {"version": None, "effective_from": None, "created_by": None}
    return {
        "version": version.id,
        "effective_from": _effective(version.effective_from),
        "created_by": version.created_by,
    }


async def _stored(stored: Awaitable[Version], refused: str, **scope: Any) -> dict[str, Any]:
    """Answer with the version `stored` writes, after the scope it is of; 422 with every
    problem (and the message `refused`) when the store refuses the configuration."""
    try:
        version = await stored
    except ConfigRejected as exc:
        raise ApiError(422, refused, details=exc.problems) from None
    return {**scope, **_version_fields(version), **version.document}


async def _require_center(session: AsyncSession, center_id: str) -> None:
    if await active_departments(session, center_id) is None:
        raise ApiError(404, f"unknown center {center_id!r}")


@config_router.get("/config/indicators")
async def get_indicators(
    _: AdminPrincipal,
    session: SessionDep,
    center_id: str = CenterQuery,
    on: date | None = OnQuery,
) -> dict[str, Any]:
    """Return a center's indicator library and settings."""
    await _require_center(session, center_id)
    version = await library_version(session, center_id, on or LATEST)
    document = version.document if version else default_library_document()
    return {"center_id": center_id, **_version_fields(version), **document}


@config_router.put("/config/indicators")
async def put_indicators(
    body: LibraryPut, principal: AdminPrincipal, session: SessionDep
) -> dict[str, Any]:
    """Store a new library version, in force from the center's next unsettled day."""
    return await _stored(
        store_library(session, body, created_by=principal.subject),
        "the indicator library was refused",
        center_id=body.center_id,
    )


@config_router.get("/config/tiers")
async def get_tiers(
    _: AdminPrincipal,
    session: SessionDep,
    center_id: str = CenterQuery,
    department_id: str | None = Query(default=None),
    owner_kind: OwnerKind = Query(default="agent"),
    on: date | None = OnQuery,
) -> dict[str, Any]:
    """Return a scope's stored tiers and every indicator's tiers in force, with their source."""
    await _require_center(session, center_id)
    day = on or LATEST
    library_v = await library_version(session, center_id, day)
    library = Library.parse(library_v.document if library_v else None)
    versions = await tier_versions(session, center_id, department_id, day)
    own = versions.get((department_id, owner_kind))
    scopes = {scope: parse_tiers(v.document) for scope, v in versions.items()}
    chain = tier_chain(department_id, owner_kind)
    found = resolve_tiers(library.for_department(department_id), scopes, chain)
    return {
        "center_id": center_id,
        "department_id": department_id,
        "owner_kind": owner_kind,
        **_version_fields(own),
        "tiers": own.document["tiers"] if own else {},
        "resolved": {code: _tier_json(t, source) for code, (t, source) in found.items()},
    }


@config_router.put("/config/tiers")
async def put_tiers(
    body: TiersPut, principal: AdminPrincipal, session: SessionDep
) -> dict[str, Any]:
    """Store a new tiers version of the scope, in force from the center's next unsettled day."""
    return await _stored(
        store_tiers(session, body, created_by=principal.subject),
        "the tiers were refused",
        center_id=body.center_id,
        department_id=body.department_id,
        owner_kind=body.owner_kind,
    )


def _tier_json(tiers: Tiers, source: str) -> dict[str, Any]:
    return {
        "pass": tiers.pass_,
        "center_avg": tiers.center_avg,
        "center_benchmark": tiers.center_benchmark,
        "group_avg": tiers.group_avg,
        "group_excellence": tiers.group_excellence,
        "points": list(tiers.points),
        "source": source,
    }
