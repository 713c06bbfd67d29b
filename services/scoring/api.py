"""Scores API: per day and indicator the value, sample, points, state and settled flag.

Days are business days of the owner's center (an agent's current center): "today",
the default end of a range, is the date in that center's time zone.

Who reads what: agents their own scores; admins everything; leaders and managers
their unit's subtree, day by day for agents — the days an agent sat in the
caller's subtree are shown, the other days of the range are left out (an agent
who moved teams keeps the history of their former team from their new leader).
An agent never in the subtree during the range nor today, and a unit outside
it, is 403 — whether it exists or not, so the answer tells nothing of other units.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query
from sqlmodel.ext.asyncio.session import AsyncSession

from services.scoring.domain import business_date
from services.scoring.org.plan import UnitPath
from services.scoring.org.store import (
    agent_placements,
    agent_unit_path,
    find_unit,
    owner_zone,
    unit_path,
)
from shared import sql
from shared.auth.tokens import CurrentPrincipal, Principal, Role
from shared.errors import ApiError
from shared.vocabulary import DEFAULT_TIMEZONE, OwnerKind, UnitKind
from shared.web import NowDep, SessionDep

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


def days_within(
    placements: list[tuple[date, date | None, UnitPath]], scope: UnitPath, first: date, last: date
) -> set[date]:
    """The days of [first, last] on which the agent sat inside `scope` (memberships run
    from `valid_from` up to, not including, `valid_to`)."""
    days: set[date] = set()
    for start, end, path in placements:
        if not scope.contains(path):
            continue
        day = max(start, first)
        stop = min(end - timedelta(days=1), last) if end is not None else last
        while day <= stop:
            days.add(day)
            day += timedelta(days=1)
    return days


def _outside(owner_id: str) -> ApiError:
    return ApiError(403, f"{owner_id!r} is outside your unit")


async def _readable_days(
    session: AsyncSession,
    principal: Principal,
    kind: OwnerKind,
    owner_id: str,
    days: tuple[date, date],
    today: date,
) -> set[date] | None:
    """Which of the days the caller may read (None: all of them); 403 if none may be.
    Agents read their own scores; leaders and managers their unit's subtree (an agent's
    day by day); admins all."""
    if principal.is_admin:
        return None
    if principal.role is Role.AGENT:
        if kind == "agent" and owner_id == principal.subject:
            return None
        raise ApiError(403, "agents read only their own scores")
    own = await find_unit(session, principal.unit) if principal.unit else None
    if own is None:
        raise _outside(owner_id)
    if kind != "agent":
        target = await unit_path(session, kind, owner_id)
        if target is None or not own.contains(target):
            raise _outside(owner_id)
        return None
    first, last = days
    readable = days_within(await agent_placements(session, owner_id, first, last), own, *days)
    if not readable:
        current = await agent_unit_path(session, owner_id, today)
        if current is None or not own.contains(current):
            raise _outside(owner_id)
    return readable


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
        first, last = requested_days(self.start, self.end, today=today)
        readable = await _readable_days(
            self.session, self.principal, kind, owner_id, (first, last), today
        )
        scores = await _scores(self.session, kind, owner_id, first, last)
        if readable is None:
            return scores
        return [d for d in scores if date.fromisoformat(d["date"]) in readable]


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
