"""Leaderboards (成果排行榜): fruit harvested in a day, ISO week or month of a scope."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any, Literal, cast

import orjson
from fastapi import APIRouter, Query, Response
from sqlalchemy.ext.asyncio import AsyncConnection

from services.garden.api.access import board_view
from services.garden.api.deps import Read, errors
from services.garden.api.http import conditional
from services.garden.api.schemas import LeaderboardOut
from services.garden.domain.config import GardenConfig
from services.garden.domain.leaderboard import (
    Period,
    PeriodKind,
    Standing,
    period_of,
    rank_totals,
    visible_entries,
)
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


@dataclass(frozen=True, slots=True)
class _Ranked:
    """A board as ranked for one version of what it is made of."""

    version: tuple[Any, ...]
    ranked: tuple[Standing, ...]
    config: GardenConfig
    entries: bytes
    """Every row, as the answer's JSON array (what leaders and admins see)."""
    rows: dict[str, Standing]


_BOARDS: OrderedDict[tuple[Any, ...], _Ranked] = OrderedDict()
BOARDS_KEPT = 256
"""Boards kept ranked per process (scope, period, fruit and owners each)."""


def _rendered(standings: Iterable[Standing]) -> bytes:
    return orjson.dumps(
        [{"rank": s.rank, "owner": s.owner_id, "name": s.name, "fruit": s.fruit} for s in standings]
    )


async def _ranked(
    db: AsyncConnection, center: str, window: Period, key: tuple[Any, ...], **board: Any
) -> _Ranked:
    """The board of `key`, ranked again only when what it is made of changed."""
    version = await reads.board_version(db, center, window.start, window.end)
    held = _BOARDS.get(key)
    if held is not None and held.version == version:
        _BOARDS.move_to_end(key)
        return held
    totals = await harvest_store.totals_in(db, center, window.start, window.end, **board)
    ranked = rank_totals(
        {owner: total for owner, _, total in totals}, {owner: name for owner, name, _ in totals}
    )
    config = await config_on(db, center, window.start)
    made = _Ranked(version, ranked, config, _rendered(ranked), {s.owner_id: s for s in ranked})
    _BOARDS[key] = made
    if len(_BOARDS) > BOARDS_KEPT:
        _BOARDS.popitem(last=False)
    return made


@router.get(
    "/leaderboards",
    response_model=LeaderboardOut,
    responses=errors(304, 401, 403, 422),
    summary="Owners ranked by fruit harvested",
)
async def leaderboard(
    call: Read,
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
    principal = call.principal
    kind, unit = parse_scope(scope)
    span = parse_period(period)
    async with call.connection() as db:
        sees_all = await board_view(db, principal, unit, kind)
        place = await reads.member(db, kind, unit)
        center = place.center_id if place else unit
        window = period_of(*span)
        board = await _ranked(
            db,
            center,
            window,
            (center, kind, unit, window, fruit, owners),
            owners=owners,
            unit_kind=kind,
            unit_id=unit,
            fruit=fruit,
        )
    if sees_all:
        entries, me = board.entries, board.rows.get(principal.subject)
    else:
        seen = visible_entries(board.ranked, principal.subject, "agent", board.config)
        entries, me = _rendered(seen.entries), seen.me
    head = {  # `LeaderboardOut`, as plain data: a board of a center has thousands of rows
        "scope": scope,
        "period": period,
        "start": window.start,
        "end": window.end - timedelta(days=1),
        "fruit": fruit,
        "owners": owners,
    }
    tail = {"me": {"rank": me.rank, "fruit": me.fruit} if me else None}
    body = b"".join(
        (orjson.dumps(head)[:-1], b',"entries":', entries, b",", orjson.dumps(tail)[1:])
    )
    return conditional(call.request, body, media_type="application/json")
