"""Scores API: per day and indicator the value, sample, points, state and settled flag.

Days are business days of the owner's center (an agent's current center): "today",
the default end of a range, is the date in that center's time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query
from sqlmodel.ext.asyncio.session import AsyncSession

from services.scoring.deps import NowDep, SessionDep
from services.scoring.domain import business_date
from services.scoring.org.store import agent_unit_path, find_unit, owner_zone, unit_path
from shared import sql
from shared.auth.tokens import CurrentPrincipal, Principal, Role
from shared.errors import ApiError
from shared.vocabulary import DEFAULT_TIMEZONE, OwnerKind, UnitKind

router = APIRouter(prefix="/v1", tags=["scores"])
MAX_DAYS = 366
DEFAULT_ZONE = ZoneInfo(DEFAULT_TIMEZONE)
"""The zone of an owner the organisation does not know."""
FirstDay = Annotated[date | None, Query(alias="from")]
LastDay = Annotated[date | None, Query(alias="to")]


def requested_days(start: date | None, end: date | None, *, today: date) -> tuple[date, date]:
    """Return the days asked for: `end` defaults to `today`, `start` to 29 days before `end`."""
    end = end or today
    start = start or end - timedelta(days=29)
    if start > end:
        raise ApiError(422, "`from` is after `to`")
    if (end - start).days >= MAX_DAYS:
        raise ApiError(422, f"at most {MAX_DAYS} days per request")
    return start, end


async def _business_today(
    session: AsyncSession, kind: OwnerKind, owner_id: str, now: datetime
) -> date:
    """Return today's business day of the owner's center."""
    return business_date(now, await owner_zone(session, kind, owner_id) or DEFAULT_ZONE)


async def _authorize(
    session: AsyncSession, principal: Principal, kind: OwnerKind, owner_id: str, today: date
) -> None:
    """Agents read their own scores; leaders and managers their unit's subtree; admins all."""
    if principal.is_admin:
        return
    if principal.role is Role.AGENT:
        if kind == "agent" and owner_id == principal.subject:
            return
        raise ApiError(403, "agents read only their own scores")
    target = (
        await agent_unit_path(session, owner_id, today)
        if kind == "agent"
        else await unit_path(session, kind, owner_id)
    )
    if target is None:
        raise ApiError(404, f"unknown {kind} {owner_id!r}")
    own = await find_unit(session, principal.unit) if principal.unit else None
    if own is None or not own.contains(target):
        raise ApiError(403, f"{owner_id!r} is outside your unit")


async def _scores(
    session: AsyncSession, kind: OwnerKind, owner_id: str, start: date, end: date
) -> list[dict[str, Any]]:
    rows = await sql.execute(
        session,
        "SELECT business_date, indicator, value, sample, points, state, settled "
        "FROM scoring_results WHERE owner_kind = :k AND owner_id = :o "
        "AND business_date BETWEEN :s AND :e ORDER BY business_date, indicator",
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


@dataclass
class ScoresRequest:
    """What every scores request carries: who asks, the transaction, the clock and the days."""

    principal: CurrentPrincipal
    session: SessionDep
    now: NowDep
    start: FirstDay = None
    end: LastDay = None

    async def days(self, kind: OwnerKind, owner_id: str) -> list[dict[str, Any]]:
        """The owner's scores on the days asked for, once the caller may read them."""
        today = await _business_today(self.session, kind, owner_id, self.now)
        await _authorize(self.session, self.principal, kind, owner_id, today)
        first, last = requested_days(self.start, self.end, today=today)
        return await _scores(self.session, kind, owner_id, first, last)


Scores = Annotated[ScoresRequest, Depends()]


@router.get("/agents/{agent_id}/scores", summary="An agent's daily scores")
async def agent_scores(agent_id: str, request: Scores) -> dict[str, Any]:
    """Per day and indicator: value, sample, points, state and whether the day is settled."""
    return {"agent_id": agent_id, "days": await request.days("agent", agent_id)}


@router.get(
    "/units/{kind}/{unit_id}/scores", summary="A team's, department's or center's daily scores"
)
async def unit_scores(kind: UnitKind, unit_id: str, request: Scores) -> dict[str, Any]:
    """Scores of a unit on its pooled data."""
    return {"kind": kind, "unit_id": unit_id, "days": await request.days(kind, unit_id)}
