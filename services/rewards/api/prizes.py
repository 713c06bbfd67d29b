"""The prize catalog: what the caller may redeem now; admins add and change prizes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from services.rewards import catalog
from services.rewards.api import deps
from services.rewards.api.access import own_wallet
from services.rewards.api.render import prize_out
from services.rewards.repo import prizes
from shared.auth.tokens import AdminPrincipal, CurrentPrincipal
from shared.errors import ApiError

router = APIRouter(prefix="/v1/prizes", tags=["prizes"])


@router.get("", summary="Prizes")
async def list_prizes(request: Request, principal: CurrentPrincipal) -> dict[str, Any]:
    """For an admin the whole catalog; for anyone else the prizes their wallet (an agent's
    own, a leader's team's; an agent's for a manager) may ask for now: active, on offer,
    for that kind of owner and in stock."""
    async with deps.reading(request) as session:
        every = await prizes.catalog(session)
    if principal.is_admin:
        return {"prizes": [prize_out(p) for p in every]}
    wallet = own_wallet(principal)
    kind = wallet.kind if wallet is not None else "agent"
    at = deps.now(request)
    return {"prizes": [prize_out(p) for p in every if catalog.redeemable(p, kind, at)]}


@router.post("", summary="Add a prize (admin)", status_code=201)
async def add_prize(request: Request, admin: AdminPrincipal) -> JSONResponse:
    """A prize document (docs/rewards.md); 422 lists every problem, 409 `prize_exists`."""
    document = await deps.json_body(request)
    try:
        async with deps.changes(request) as work:
            prize = await catalog.add(work, document, by=admin.subject)
    except catalog.InvalidPrize as exc:
        raise deps.invalid("the prize is invalid", exc.problems) from None
    except catalog.PrizeExists:
        raise ApiError(409, "a prize with this id exists", code="prize_exists") from None
    return JSONResponse(prize_out(prize), status_code=201)


@router.patch("/{prize_id}", summary="Change a prize (admin)")
async def change_prize(request: Request, prize_id: str, admin: AdminPrincipal) -> dict[str, Any]:
    """Keys to change, applied onto the whole document and validated again (422 lists every
    problem); `stock` sets the counter anew; the id never changes."""
    document = await deps.json_body(request)
    try:
        async with deps.changes(request) as work:
            prize = await catalog.change(work, prize_id, document, by=admin.subject)
            if prize is None:
                raise ApiError(404, f"no prize {prize_id!r}")
    except catalog.InvalidPrize as exc:
        raise deps.invalid("the change is invalid", exc.problems) from None
    return prize_out(prize)
