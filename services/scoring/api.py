"""Scores API: per day and indicator the value, sample, points, state and settled flag."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

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


async def _path_of(session: AsyncSession, kind: str, owner_id: str) -> list[str] | None:
    """The org units above and including an owner (for "a leader reads their subtree")."""
    if kind == "agent":
        query = (
            "SELECT m.team_id, t.department_id, d.center_id FROM scoring_memberships m "
            "JOIN scoring_teams t ON t.id = m.team_id JOIN scoring_departments d "
            "ON d.id = t.department_id WHERE m.agent_id = :id ORDER BY m.valid_from DESC LIMIT 1"
        )
    elif kind == "team":
        query = (
            "SELECT t.id, t.department_id, d.center_id FROM scoring_teams t "
            "JOIN scoring_departments d ON d.id = t.department_id WHERE t.id = :id"
        )
    elif kind == "department":
        query = "SELECT id, center_id FROM scoring_departments WHERE id = :id"
    else:
        query = "SELECT id FROM scoring_centers WHERE id = :id"
    row = (await session.execute(text(query), {"id": owner_id})).first()
    return list(row) if row else None


async def _authorize(session: AsyncSession, principal: Principal, kind: str, owner_id: str) -> None:
    if principal.is_admin:
        return
    if principal.role is Role.AGENT:
        if kind == "agent" and owner_id == principal.subject:
            return
        raise ApiError(403, "agents read only their own scores")
    path = await _path_of(session, kind, owner_id)
    if path is None:
        raise ApiError(404, f"unknown {kind} {owner_id!r}")
    if principal.unit is None or principal.unit not in path:
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
