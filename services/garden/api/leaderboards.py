"""Leaderboards (成果排行榜): fruit harvested in a day, ISO week or month of a scope."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Literal, cast

import orjson
from fastapi import APIRouter, Query, Response

from services.garden.api.access import board_view
from services.garden.api.deps import Call, errors
from services.garden.api.http import conditional
from services.garden.api.schemas import LeaderboardOut
from services.garden.domain.leaderboard import PeriodKind, period_of, rank_totals, visible_entries
from services.garden.reading import config_on
from services.garden.repo import harvests as harvest_store
from services.garden.repo import reads
from shared.errors import ApiError
from shared.vocabulary import UNIT_KINDS, UnitKind, problem

router = APIRouter(prefix="/v1", tags=["leaderboards"])
PERIODS = ("day", "week", "month")


def parse_scope(value: str) -> tuple[UnitKind, str]:
    """Read `team:ID`, `department:ID` or `center:ID`."""
    kind, _, unit = value.partition(":")
    if kind not in UNIT_KINDS or not unit:
        raise ApiError(
            422,
            "the scope is invalid",
            details=[dict(problem("scope", "team|department|center:<id>"))],
        )
    return kind, unit


def parse_period(value: str) -> tuple[PeriodKind, date]:
    """Read `day:YYYY-MM-DD`, `week:YYYY-MM-DD` or `month:YYYY-MM-DD` (any day inside it)."""
    kind, _, day = value.partition(":")
    try:
        if kind in PERIODS:
            return cast(PeriodKind, kind), date.fromisoformat(day)
    except ValueError:
        pass
    raise ApiError(
        422, "the period is invalid", details=[dict(problem("period", "day|week|month:YYYY-MM-DD"))]
    )


@router.get(
    "/leaderboards",
    response_model=LeaderboardOut,
    responses=errors(304, 401, 403, 422),
    summary="Owners ranked by fruit harvested",
)
async def leaderboard(
    call: Call,
    scope: Annotated[str, Query(description="team:ID, department:ID or center:ID")],
    period: Annotated[str, Query(description="day:DATE, week:DATE or month:DATE")],
    fruit: Annotated[str | None, Query(description="count only this fruit kind")] = None,
    owners: Annotated[
        Literal["agent", "team"],
        Query(description="rank agents, or teams (of a department or center)"),
    ] = "agent",
) -> Response:
    """Fruit harvested in the period by the scope's members, competition-ranked (1, 2, 2, 4).
    Leaders and admins see every row of their scope; agents the top rows, their
    neighbourhood and their own row (`me`)."""
    session, principal = call.session, call.principal
    kind, unit = parse_scope(scope)
    span = parse_period(period)
    sees_all = await board_view(session, principal, unit, kind)
    place = await reads.member(session, kind, unit)
    center = place.center_id if place else unit
    window = period_of(*span)
    totals = await harvest_store.totals_in(
        session,
        center,
        window.start,
        window.end,
        owners=owners,
        unit_kind=kind,
        unit_id=unit,
        fruit=fruit,
    )
    ranked = rank_totals(
        {owner: total for owner, _, total in totals}, {owner: name for owner, name, _ in totals}
    )
    config = await config_on(session, center, window.start)
    board = visible_entries(ranked, principal.subject, "admin" if sees_all else "agent", config)
    document = {  # `LeaderboardOut`, as plain data: a board of a center has thousands of rows
        "scope": scope,
        "period": period,
        "start": window.start,
        "end": window.end - timedelta(days=1),
        "fruit": fruit,
        "owners": owners,
        "entries": [
            {"rank": s.rank, "owner": s.owner_id, "name": s.name, "fruit": s.fruit}
            for s in board.entries
        ],
        "me": {"rank": board.me.rank, "fruit": board.me.fruit} if board.me else None,
    }
    return conditional(call.request, orjson.dumps(document), media_type="application/json")
