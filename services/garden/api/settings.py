"""The garden configuration admin API: read and change a center's configuration."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request

from services.garden.api.deps import errors
from services.garden.api.schemas import GardenConfigOut
from services.garden.domain.config import (
    DEFAULT_CONFIG,
    config_document,
    config_from_document,
    config_problems,
)
from services.garden.repo import config as config_store
from services.garden.repo.config import EVERY_DAY
from services.garden.versions import StoredVersion
from shared.auth.tokens import AdminPrincipal
from shared.errors import ApiError
from shared.web import SessionDep

router = APIRouter(prefix="/v1", tags=["configuration"])
Center = Annotated[str, Query(min_length=1, max_length=128, description="the center")]


def _out(center_id: str, version: StoredVersion | None) -> GardenConfigOut:
    if version is None:
        return GardenConfigOut(
            center_id=center_id,
            version=None,
            effective_from=None,
            created_by=None,
            config=config_document(DEFAULT_CONFIG),
        )
    return GardenConfigOut(
        center_id=center_id,
        version=version.id,
        effective_from=None if version.effective_from == EVERY_DAY else version.effective_from,
        created_by=version.created_by,
        config=config_document(config_from_document(version.document)),
    )


@router.get(
    "/config/garden",
    response_model=GardenConfigOut,
    responses=errors(401, 403, 422),
    summary="A center's garden configuration",
)
async def get_garden_config(
    _: AdminPrincipal, session: SessionDep, center_id: Center
) -> GardenConfigOut:
    """The newest version (the defaults when none is stored), every key given."""
    return _out(center_id, await config_store.newest_version(session, center_id))


@router.put(
    "/config/garden",
    response_model=GardenConfigOut,
    responses=errors(401, 403, 422),
    summary="Change a center's garden configuration",
)
async def put_garden_config(
    request: Request,
    principal: AdminPrincipal,
    session: SessionDep,
    center_id: Center,
    document: Annotated[
        dict[str, Any],
        Body(
            examples=[{"fruit_at": 120, "auto_harvest_days": 3, "fruits": {"fcr": "apple"}}],
            description="keys left out take their defaults; unknown keys are refused",
        ),
    ],
) -> GardenConfigOut:
    """Store a new version, in force from the day after the center's latest grown day
    (422 with every problem when the document is invalid)."""
    if problems := config_problems(document):
        raise ApiError(
            422, "the garden configuration was refused", details=[dict(p) for p in problems]
        )
    version = await config_store.store_version(
        session, center_id, document, created_by=principal.subject
    )
    await session.commit()  # then forget: this process reads the new version back at once
    request.app.state.garden_cache.forget_all()
    request.app.state.metrics.cache_invalidations.labels("local").inc()
    return _out(center_id, version)
