"""Redemptions: request a prize (`Idempotency-Key`), list an owner's redemptions, and move
one on (approve, reject, fulfil: admin; cancel: the owner)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Final

import orjson
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from services.rewards import redeeming
from services.rewards.api import deps
from services.rewards.api.access import (
    forbidden,
    may_read_wallet,
    may_spend,
    own_wallet,
    parse_owner,
)
from services.rewards.api.render import redemption_out
from services.rewards.domain.ledger import Owner
from services.rewards.domain.redemptions import Redemption
from services.rewards.domain.refusals import Refusal
from services.rewards.paging import read_redemption_cursor, redemption_cursor
from services.rewards.repo import redemptions
from shared.auth.tokens import AdminPrincipal, CurrentPrincipal, Principal
from shared.errors import ApiError

router = APIRouter(prefix="/v1/redemptions", tags=["redemptions"])
KEY_PATTERN: Final = re.compile(r"^[\x21-\x7e]{1,200}$")
STATUSES: Final = ("requested", "approved", "fulfilled", "rejected", "cancelled")


class RedemptionIn(BaseModel):
    """A request for a prize; `owner` defaults to the caller's own wallet."""

    model_config = ConfigDict(extra="forbid")

    prize_id: Annotated[str, Field(min_length=1, max_length=64)]
    owner: Annotated[str | None, Field(description="agent:<id> or team:<id>")] = None
    fruit: Annotated[
        str | None, Field(max_length=32, description='the kind paying an "any fruit" prize')
    ] = None


class MoveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str | None, Field(max_length=500)] = None


def idempotency_key(value: str | None) -> str:
    """The request's `Idempotency-Key` (422 when it is missing or malformed)."""
    if value is None or not KEY_PATTERN.match(value):
        raise ApiError(
            422,
            "an Idempotency-Key header is required",
            code="idempotency_key_required",
            details=[{"field": "Idempotency-Key", "reason": "1 to 200 printable characters"}],
        )
    return value


def requested_owner(principal: Principal, given: str | None) -> Owner:
    """The wallet a request spends from: the one named, or the caller's own."""
    owner = own_wallet(principal) if given is None else parse_owner(given)
    if owner is None or not may_spend(principal, owner):
        raise forbidden()
    return owner


@router.post("", summary="Request a prize")
async def request_redemption(
    request: Request,
    body: RedemptionIn,
    principal: CurrentPrincipal,
    key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> Response:
    """Debit the price and reserve a unit of stock (201). A retry with the same key answers
    the first redemption (200) — even when sent concurrently; the same key for another
    request is refused (409 `reference_reused`). Refusals are 409 with the reason code:
    `inactive_prize`, `not_active`, `not_for_owner_kind`, `limit_reached`, `out_of_stock`,
    `fruit_not_accepted`, `insufficient_fruit`; an unknown prize is 404."""
    return await answer_request(request, body, principal, key)


async def answer_request(
    request: Request, body: RedemptionIn, principal: Principal, key: str | None
) -> Response:
    """Answer a request whose body and caller are valid (the route's work, also run by
    `api/quick.py`)."""
    ask = redeeming.Ask(
        owner=requested_owner(principal, body.owner),
        prize_id=body.prize_id,
        fruit=body.fruit,
        idempotency_key=idempotency_key(key),
        requester=principal.subject,
        now=deps.now(request),
    )
    zone_of = deps.settings(request).zone_of
    try:
        async with deps.requesting(request) as work:
            answer = await redeeming.request(work, ask, zone_of=zone_of)
            if isinstance(answer, Refusal):
                raise deps.refused(request, answer)
    except redeeming.UnknownPrize:
        raise ApiError(404, f"no prize {body.prize_id!r}", code="unknown_prize") from None
    return Response(
        orjson.dumps(redemption_out(answer.redemption)),
        status_code=201 if answer.created else 200,
        media_type="application/json",
    )


@router.get("", summary="Redemptions, newest first")
async def list_redemptions(
    request: Request,
    principal: CurrentPrincipal,
    owner: Annotated[str | None, Query(description="agent:<id> or team:<id>")] = None,
    status: Annotated[str | None, Query(description=", ".join(STATUSES))] = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> dict[str, Any]:
    """An owner's redemptions (by default the caller's own wallet's; an admin may list all)."""
    whose = parse_owner(owner) if owner is not None else own_wallet(principal)
    if owner is not None and whose is None:
        raise forbidden()
    if whose is None and not principal.is_admin:
        raise forbidden()
    if whose is not None and not may_read_wallet(principal, whose):
        raise forbidden()
    if status is not None and status not in STATUSES:
        raise ApiError(422, "unknown status", details=[{"field": "status", "reason": "unknown"}])
    size = deps.page_size(request, limit)
    after = deps.cursor(read_redemption_cursor, cursor)
    async with deps.reading(request) as session:
        rows = await redemptions.page(
            session, owner=whose, status=status, after=after, limit=size + 1
        )
    page = rows[:size]
    last = page[-1] if len(rows) > size else None
    return {
        "owner": whose.key if whose else None,
        "redemptions": [redemption_out(r) for r in page],
        "next": redemption_cursor(last.requested_at, last.redemption_id) if last else None,
    }


@router.get("/{redemption_id}", summary="One redemption")
async def get_redemption(
    request: Request, redemption_id: str, principal: CurrentPrincipal
) -> dict[str, Any]:
    async with deps.reading(request) as session:
        found = await redemptions.get(session, redemption_id)
    if found is None or not may_read_wallet(principal, found[0].owner):
        if principal.is_admin:
            raise ApiError(404, f"no redemption {redemption_id!r}")
        raise forbidden()
    return redemption_out(found[0])


async def _move(
    request: Request,
    redemption_id: str,
    step: redeeming.Move,
    principal: Principal,
    body: MoveIn | None,
) -> dict[str, Any]:
    async with deps.changes(request) as work:
        owner = await redemptions.owner_of(work.session, redemption_id)
        allowed = principal.is_admin if step != "cancel" else owner and may_spend(principal, owner)
        if not allowed:
            raise forbidden()
        if owner is None:
            raise ApiError(404, f"no redemption {redemption_id!r}")
        moved: Redemption | Refusal | None = await redeeming.move(
            work,
            redemption_id,
            step,
            actor=principal.subject,
            now=deps.now(request),
            reason=body.reason if body else None,
        )
        if isinstance(moved, Refusal):
            raise deps.refused(request, moved)
        assert moved is not None
    return redemption_out(moved)


ADMIN_MOVES: Final[tuple[tuple[redeeming.Move, str, str], ...]] = (
    ("approve", "Approve (admin)", "Approve a requested redemption whose prize needs approval."),
    (
        "reject",
        "Reject (admin): refund, stock back",
        "Refuse a requested or approved redemption, with an optional reason.",
    ),
    (
        "fulfil",
        "Fulfil (admin)",
        "Record that the prize was handed over (after approval where it is needed).",
    ),
)


def _admin_route(step: redeeming.Move, summary: str, description: str) -> None:
    async def endpoint(
        request: Request, redemption_id: str, admin: AdminPrincipal, body: MoveIn | None = None
    ) -> dict[str, Any]:
        return await _move(request, redemption_id, step, admin, body)

    router.post(f"/{{redemption_id}}/{step}", summary=summary, description=description)(endpoint)


for _step, _summary, _description in ADMIN_MOVES:
    _admin_route(_step, _summary, _description)


@router.post("/{redemption_id}/cancel", summary="Cancel (the owner): refund, stock back")
async def cancel(
    request: Request, redemption_id: str, principal: CurrentPrincipal, body: MoveIn | None = None
) -> dict[str, Any]:
    """Withdraw a requested or approved redemption of one's own wallet."""
    return await _move(request, redemption_id, "cancel", principal, body)
