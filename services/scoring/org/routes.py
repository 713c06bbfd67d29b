"""The org admin API: read the tree (now or on a past day) and replace it."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Query

from services.scoring.org.schemas import OrgPut
from services.scoring.org.store import OrgRejected, apply_org, read_tree
from shared.auth.tokens import AdminPrincipal
from shared.errors import ApiError
from shared.web import NowDep, SessionDep

org_router = APIRouter(prefix="/v1", tags=["org"])


@org_router.get("/org")
async def get_org(
    _: AdminPrincipal,
    session: SessionDep,
    on: date | None = Query(default=None, description="the tree as of this day (YYYY-MM-DD)"),
) -> dict[str, Any]:
    """Return the org tree (current, or as of the day `on`)."""
    tree = await read_tree(session, on=on)
    return {**tree, "on": on.isoformat() if on else None}


@org_router.put("/org")
async def put_org(
    body: OrgPut, _: AdminPrincipal, session: SessionDep, now: NowDep
) -> dict[str, Any]:
    """Replace the org with the tree; answer what changed."""
    try:
        plan = await apply_org(session, body, effective_from=body.effective_from, now=now)
    except OrgRejected as exc:
        raise ApiError(422, "the org tree was refused", details=exc.problems) from None
    return plan.summary()
