"""Scores API: per day and indicator the value, sample, points, state and settled flag."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from services.scoring.org.store import agent_unit_path, find_unit, unit_path
from shared.auth.tokens import CurrentPrincipal, Principal, Role
from shared.errors import ApiError

router = APIRouter(prefix="/v1", tags=["scores"])
UnitKind = Literal["team", "department", "center"]
MAX_DAYS = 366


async def _session(request: Request) -> Any:
    async with request.app.state.sessions() as session:
        yield session


Session = Annotated[AsyncSession, Depends(_session)]


def _range(start: date | None, end: date | None) -> tuple[date, date]:
    end = end or date.today()
    start = start or end - timedelta(days=29)
    if start > end:
        raise ApiError(422, "`from` is after `to`")
    if (end - start).days >= MAX_DAYS:
        raise ApiError(422, f"at most {MAX_DAYS} days per request")
    return start, end


async def _authorize(session: AsyncSession, principal: Principal, kind: str, owner_id: str) -> None:
    """Agents read their own scores; leaders and managers their unit's subtree; admins all."""
    if principal.is_admin:
        return
    if principal.role is Role.AGENT:
        if kind == "agent" and owner_id == principal.subject:
            return
        raise ApiError(403, "agents read only their own scores")
    target = (
        await agent_unit_path(session, owner_id, date.today())
        if kind == "agent"
        else await unit_path(session, kind, owner_id)  # type: ignore[arg-type]
    )
    if target is None:
        raise ApiError(404, f"unknown {kind} {owner_id!r}")
    own = await find_unit(session, principal.unit) if principal.unit else None
    if own is None or not own.contains(target):
        raise ApiError(403, f"{owner_id!r} is outside your unit")


async def _scores(
    session: AsyncSession, kind: str, owner_id: str, start: date, end: date
) -> list[dict[str, Any]]:
    rows = await session.execute(
        text(
            "SELECT business_date, indicator, value, sample, points, state, settled "
            "FROM scoring_results WHERE owner_kind = :k AND owner_id = :o "
            "AND business_date BETWEEN :s AND :e ORDER BY business_date, indicator"
        ),
        {"k": kind, "o": owner_id, "s": start, "e": end},
    )
    days: dict[date, dict[str, Any]] = {}
    for day, indicator, value, sample, points, state, settled in rows:
        entry = days.setdefault(day, {"date": day.isoformat(), "indicators": {}})
        entry["indicators"][indicator] = {
            "value": value,
            "sample": sample,
            "points": points,
            "state": state,
            "settled": settled,
        }
    return list(days.values())


@router.get("/agents/{agent_id}/scores", summary="An agent's daily scores")
async def agent_scores(
    agent_id: str,
    principal: CurrentPrincipal,
    session: Session,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
) -> dict[str, Any]:
    """Per day and indicator: value, sample, points, state and whether the day is settled."""
    await _authorize(session, principal, "agent", agent_id)
    first, last = _range(start, end)
    return {"agent_id": agent_id, "days": await _scores(session, "agent", agent_id, first, last)}


@router.get(
    "/units/{kind}/{unit_id}/scores", summary="A team's, department's or center's daily scores"
)
async def unit_scores(
    kind: UnitKind,
    unit_id: str,
    principal: CurrentPrincipal,
    session: Session,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
) -> dict[str, Any]:
    """Scores of a unit on its pooled data."""
    await _authorize(session, principal, kind, unit_id)
    first, last = _range(start, end)
    return {
        "kind": kind,
        "unit_id": unit_id,
        "days": await _scores(session, kind, unit_id, first, last),
    }
