"""Reward funds: admins create and close them; shares are an estimate while a fund is open
and final once it is closed; each member reads their own share and how it was computed."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from services.rewards import funding
from services.rewards.api import deps
from services.rewards.api.access import forbidden, may_read_fund, may_read_share, parse_owner
from services.rewards.domain.export import shares_csv
from services.rewards.domain.funds import fund_problems
from services.rewards.domain.ledger import Owner
from shared.auth.tokens import AdminPrincipal, CurrentPrincipal, Principal
from shared.errors import ApiError

router = APIRouter(prefix="/v1/funds", tags=["funds"])


def _missing(principal: Principal, fund_id: str) -> ApiError:
    return ApiError(404, f"no fund {fund_id!r}") if principal.is_admin else forbidden()


@router.post("", summary="Create a reward fund (admin)", status_code=201)
async def create_fund(request: Request, admin: AdminPrincipal) -> JSONResponse:
    """`{"id", "scope": "team:<id>"|"department:<id>"|"center:<id>", "members":
    "agent"|"team", "start", "end", "amount_fen", "minimum"}`; the same document again is a
    retry (200), another one under the same id 409 `fund_exists`."""
    document = await deps.json_body(request)
    if problems := fund_problems(document):
        raise deps.invalid("the fund is invalid", problems)
    try:
        async with deps.changes(request) as work:
            _, created = await funding.create(work.session, document, by=admin.subject)
            fund = await funding.read(work.session, document["id"])
    except funding.FundExists:
        raise ApiError(409, "another fund has this id", code="fund_exists") from None
    assert fund is not None
    return JSONResponse(funding.fund_out(fund), status_code=201 if created else 200)


@router.get("/{fund_id}", summary="A fund and its shares")
async def get_fund(
    request: Request,
    fund_id: str,
    principal: CurrentPrincipal,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Any:
    """Shares by fruit harvested in the period: an estimate while open, final once closed
    (`final`); for admins and the leaders or managers of the fund's unit."""
    async with deps.reading(request) as session:
        fund = await funding.read(session, fund_id)
    if fund is None:
        raise _missing(principal, fund_id)
    if not may_read_fund(principal, fund.stored.fund):
        raise forbidden()
    if format == "csv":
        return Response(
            shares_csv(fund.shares),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="fund-{fund_id}.csv"'},
        )
    return funding.fund_out(fund)


@router.post("/{fund_id}/close", summary="Close a fund (admin): its shares become final")
async def close_fund(request: Request, fund_id: str, admin: AdminPrincipal) -> dict[str, Any]:
    """Fix the shares as they stand; a closed fund never changes (closing again answers it)."""
    at = deps.now(request)
    async with deps.changes(request) as work:
        closed = await funding.close(work.session, fund_id, by=admin.subject, now=at)
        if closed is None:
            raise ApiError(404, f"no fund {fund_id!r}")
    fund, closing = closed
    if closing:
        scope = fund.stored.fund.scope_kind
        metered = deps.metrics(request)
        metered.funds_closed.labels(scope).inc()
        metered.fund_payouts.labels(scope).inc(sum(s.amount_fen for s in fund.shares))
    return funding.fund_out(fund)


@router.get("/{fund_id}/shares/{owner}", summary="One member's share and how it was computed")
async def get_share(
    request: Request, fund_id: str, owner: str, principal: CurrentPrincipal
) -> dict[str, Any]:
    """`owner` is the member id, or `agent:<id>`/`team:<id>`. An agent reads their own share,
    a leader their team's (and every share of a fund of their unit), an admin any."""
    named = parse_owner(owner)
    async with deps.reading(request) as session:
        fund = await funding.read(session, fund_id)
    if fund is None:
        raise _missing(principal, fund_id)
    kind = fund.stored.fund.member_kind
    member = named or Owner(kind, owner)
    in_scope = may_read_share(principal, member) or may_read_fund(principal, fund.stored.fund)
    if not in_scope:
        raise forbidden()
    if member.kind != kind:
        raise ApiError(404, f"the members of {fund_id!r} are {kind}s")
    share = fund.share_of(member.id)
    return {
        "fund_id": fund_id,
        "member": member.key,
        "final": fund.final,
        "status": fund.stored.status,
        "share": funding.share_out(share),
    }
