"""Wallets: balances and a page of the ledger (or the whole ledger as CSV), and an
admin's adjustments."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from services.rewards import wallets as use_cases
from services.rewards.api import deps
from services.rewards.api.access import forbidden, may_read_wallet
from services.rewards.api.render import entry_out
from services.rewards.domain.export import ledger_csv
from services.rewards.domain.ledger import Owner, adjustment_problems
from services.rewards.domain.refusals import Refusal
from services.rewards.paging import ledger_cursor, read_ledger_cursor
from services.rewards.repo import wallets
from shared.auth.tokens import AdminPrincipal, CurrentPrincipal
from shared.contracts.rewards import WalletOwnerKind

router = APIRouter(prefix="/v1/wallets", tags=["wallets"])


@router.get("/{kind}/{owner_id}", summary="An agent's or a team's wallet")
async def get_wallet(
    request: Request,
    kind: WalletOwnerKind,
    owner_id: str,
    principal: CurrentPrincipal,
    limit: Annotated[int | None, Query(description="ledger entries per page")] = None,
    cursor: Annotated[str | None, Query(description="`next` of the previous page")] = None,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Any:
    """Balances per fruit and the ledger newest first, a page at a time (`next` is the
    cursor of the following page); `format=csv` answers the whole ledger in posting order."""
    owner = Owner(kind, owner_id)
    if not may_read_wallet(principal, owner):
        raise forbidden()
    size = deps.page_size(request, limit)
    before = deps.cursor(read_ledger_cursor, cursor)
    async with deps.reading(request) as session:
        if format == "csv":
            entries = await wallets.ledger(
                session, owner, limit=deps.settings(request).csv_max_rows
            )
            return Response(
                ledger_csv(entries),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{kind}-{owner_id}.csv"'},
            )
        balances = await wallets.balances(session, owner)
        page = await wallets.ledger_page(session, owner, before=before, limit=size + 1)
    more = len(page) > size
    page = page[:size]
    return {
        "owner": owner.key,
        "kind": kind,
        "id": owner_id,
        "balances": balances,
        "ledger": [entry_out(r) for r in page],
        "next": ledger_cursor(page[-1].entry_id) if more else None,
    }


@router.post("/{kind}/{owner_id}/adjustments", summary="Adjust a wallet (admin)")
async def adjust_wallet(
    request: Request, kind: WalletOwnerKind, owner_id: str, admin: AdminPrincipal
) -> JSONResponse:
    """`{"fruit", "amount", "reason", "reference"}`: applied once per reference — a retry
    with the same content answers the recorded entry (200), other content under the same
    reference is refused (409 `reference_reused`); 409 `insufficient_fruit` when it would
    take the balance below 0."""
    document = await deps.json_body(request)
    if problems := adjustment_problems(document):
        raise deps.invalid("the adjustment is invalid", problems)
    async with deps.changes(request) as work:
        outcome = await use_cases.adjust(work, Owner(kind, owner_id), document, actor=admin.subject)
        if isinstance(outcome, Refusal):
            raise deps.refused(request, outcome)
    return JSONResponse(entry_out(outcome.recorded), status_code=201 if outcome.created else 200)
