"""Timelines: what happened to an owner's plants, newest first, in pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from services.garden.api.access import readable
from services.garden.api.deps import Call, CallContext, errors
from services.garden.api.http import conditional_json, decode_cursor, encode_cursor
from services.garden.api.schemas import TimelineEntryOut, TimelinePage
from services.garden.repo import reads
from shared.vocabulary import OwnerKind, UnitKind

router = APIRouter(prefix="/v1", tags=["timelines"])
Limit = Annotated[int, Query(ge=1, le=200, description="entries per page")]
Before = Annotated[str | None, Query(description="the `next` cursor of the previous page")]
_ANSWERS = errors(304, 401, 403, 422)


async def timeline_page(
    call: CallContext, kind: OwnerKind, owner_id: str, limit: int, before: str | None
) -> Response:
    """Answer a page of a timeline the caller may see."""
    await readable(call.session, call.principal, kind, owner_id)
    position = decode_cursor(before) if before is not None else None
    rows = await reads.timeline(call.session, kind, owner_id, before=position, limit=limit + 1)
    page = rows[:limit]
    entries = [
        TimelineEntryOut(
            entry_id=r["entry_id"],
            type=r["kind"],
            indicator=r["indicator"],
            business_date=r["business_date"],
            recorded_at=r["recorded_at"],
            detail=r["detail"],
        )
        for r in page
    ]
    more = encode_cursor(page[-1]["seq"]) if len(rows) > limit else None
    document = TimelinePage(owner_kind=kind, owner_id=owner_id, entries=entries, next=more)
    return conditional_json(call.request, document)


@router.get(
    "/agents/{agent_id}/timeline",
    response_model=TimelinePage,
    responses=_ANSWERS,
    summary="An agent's plant events",
)
async def agent_timeline(
    agent_id: str, call: Call, limit: Limit = 50, before: Before = None
) -> Response:
    """Plant events and harvests of the agent's plants, newest first."""
    return await timeline_page(call, "agent", agent_id, limit, before)


@router.get(
    "/units/{kind}/{unit_id}/timeline",
    response_model=TimelinePage,
    responses=_ANSWERS,
    summary="A unit's plant events",
)
async def unit_timeline(
    kind: UnitKind, unit_id: str, call: Call, limit: Limit = 50, before: Before = None
) -> Response:
    """Plant events and harvests of the unit's own plants, newest first."""
    return await timeline_page(call, kind, unit_id, limit, before)
