"""Improvement campaigns (专项提升): start one for a unit, list them, read one with its
progress and result, plan countermeasures.

Team leaders, managers and admins only. A leader reaches the campaigns of units in their
unit's subtree; any other campaign answers 404 exactly like one that does not exist, and
a unit outside the subtree is refused exactly like a unit that does not exist.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, BackgroundTasks, Path, Query, Response
from fastapi.responses import JSONResponse

from services.garden.api.campaign_schemas import (
    CampaignIn,
    CampaignOut,
    CampaignPage,
    CountermeasureIn,
    CountermeasureOut,
    Status,
)
from services.garden.api.deps import Call, CallContext, errors
from services.garden.api.http import conditional, decode_cursor, encode_cursor
from services.garden.api.idempotent import IdempotencyKey, idempotent_write
from services.garden.campaign_reading import (
    campaign_document,
    countermeasure_document,
    summaries,
)
from services.garden.campaigning import CampaignPlan, start_campaign
from services.garden.domain.campaigns import (
    MAX_AHEAD_DAYS,
    MAX_DAYS,
    MAX_PAST_DAYS,
    Goal,
    default_better,
)
from services.garden.domain.config import CORE_FRUITS
from services.garden.reading import config_on
from services.garden.repo import campaigns as store
from services.garden.repo import countermeasures as plans
from services.garden.repo.reads import Member
from shared import sql
from shared.auth.tokens import Principal, Role
from shared.errors import ERROR_SCHEMA, ApiError
from shared.vocabulary import Problem, UnitKind, problem

router = APIRouter(prefix="/v1", tags=["campaigns"])
CampaignId = Annotated[str, Path(min_length=1, max_length=64)]
UnitFilter = Annotated[
    str | None,
    Query(
        pattern=r"^(team|department|center):[^\x00-\x1f\x7f]{1,128}$",
        description="`team:T1`: campaigns of that unit and the units inside it",
    ),
]
_NOT_LEADER = ApiError(403, "campaigns are for team leaders, managers and admins", code="forbidden")


def _answer(code: str, message: str) -> dict[str, Any]:
    example = {"error": {"code": code, "message": message, "details": []}}
    content = {"application/json": {"schema": ERROR_SCHEMA, "example": example}}
    return {"description": message, "content": content}


_ANSWERS: dict[int | str, dict[str, Any]] = {
    404: _answer("not_found", "there is no such campaign"),
    409: _answer("campaign_ended", "the campaign has ended"),
    **errors(401, 403, 422),
}


def _leader(principal: Principal) -> None:
    if principal.role is Role.AGENT:
        raise _NOT_LEADER


def _reaches(principal: Principal, units: tuple[str | None, ...]) -> bool:
    return principal.is_admin or (principal.unit is not None and principal.unit in units)


def _not_found() -> ApiError:
    return ApiError(404, "there is no such campaign", code="not_found")


async def visible(call: CallContext, campaign_id: str) -> dict[str, Any]:
    """Return a campaign the caller may see; 404 (the same for one that does not exist)."""
    _leader(call.principal)
    row = await store.campaign(call.session, campaign_id)
    if row is None or not _reaches(
        call.principal, (row["team_id"], row["department_id"], row["center_id"])
    ):
        raise _not_found()
    return row


def _period_problems(body: CampaignIn) -> list[Problem]:
    found: list[Problem] = []
    if body.ends_on < body.starts_on:
        found.append(problem("ends_on", "must not be before starts_on"))
    elif (body.ends_on - body.starts_on).days + 1 > MAX_DAYS:
        found.append(problem("ends_on", f"a campaign lasts at most {MAX_DAYS} days"))
    if body.goal.unit_value is None and body.goal.healthy_share is None:
        found.append(problem("goal", "give unit_value, healthy_share or both"))
    return found


async def _unit_problems(call: CallContext, body: CampaignIn, unit: Member | None) -> list[Problem]:
    if unit is None:
        return [problem("unit", "no such unit among those you lead")]
    found: list[Problem] = []
    today = call.today(unit.center_id)
    if body.starts_on < today - timedelta(days=MAX_PAST_DAYS):
        found.append(
            problem("starts_on", f"starts more than {MAX_PAST_DAYS} days before today ({today})")
        )
    if body.starts_on > today + timedelta(days=MAX_AHEAD_DAYS):
        found.append(
            problem("starts_on", f"starts more than {MAX_AHEAD_DAYS} days after today ({today})")
        )
    known = {code for code, _ in CORE_FRUITS}
    known |= {code for code, _ in (await config_on(call.session, unit.center_id, today)).fruits}
    if body.indicator not in known and body.indicator not in await store.center_indicators(
        call.session, unit.center_id
    ):
        found.append(problem("indicator", "not an indicator of this center"))
    return found


async def _unit_in_reach(call: CallContext, kind: UnitKind, unit_id: str) -> Member | None:
    unit = await store.unit_place(call.session, kind, unit_id)
    if unit is None or not _reaches(call.principal, unit.units):
        return None
    return unit


@router.post(
    "/campaigns",
    status_code=201,
    response_model=CampaignOut,
    responses=_ANSWERS,
    summary="Start an improvement campaign",
)
async def create_campaign(
    body: CampaignIn,
    call: Call,
    background: BackgroundTasks,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Start a campaign for one indicator of a unit you lead: its members are classified
    A/B/C from their plants on the latest settled day before `starts_on`; 422 with every
    reason when the period, goal, unit or indicator is refused."""
    _leader(call.principal)
    who, session = call.principal.subject, call.session
    canonical = orjson.dumps(body.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
    write = idempotent_write(call, idempotency_key, canonical)
    if (first := await write.first_answer()) is not None:
        return first
    unit = await _unit_in_reach(call, body.unit.kind, body.unit.id)
    problems = _period_problems(body) + await _unit_problems(call, body, unit)
    if problems:
        raise ApiError(422, "the campaign was refused", details=[dict(p) for p in problems])
    assert unit is not None
    goal = Goal(
        body.goal.unit_value,
        body.goal.healthy_share,
        body.goal.better or default_better(body.indicator),
    )
    plan = CampaignPlan(body.name, body.indicator, body.starts_on, body.ends_on, goal)
    campaign_id, recorded = await start_campaign(
        session, plan, unit, created_by=who, occurred_at=call.now
    )
    row = await store.campaign(session, campaign_id)
    assert row is not None
    document = await campaign_document(session, row, call.today(unit.center_id))
    response = await write.answer(background, document, 201)
    call.metrics.campaigns_started.inc()
    call.metrics.campaign_days_recorded.inc(recorded.days)
    call.metrics.campaigns_ended.inc(recorded.ended)
    return response


@router.get(
    "/campaigns",
    response_model=CampaignPage,
    responses=errors(304, 401, 403, 422),
    summary="Campaigns, newest first",
)
async def list_campaigns(
    call: Call,
    unit: UnitFilter = None,
    status: Status | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    before: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """The campaigns of units in your subtree (all for an admin), optionally of one unit's
    subtree and one status; `next` is the cursor of the following page."""
    _leader(call.principal)
    position = decode_cursor(before) if before is not None else None
    chosen: tuple[UnitKind, str] | None = None
    if unit is not None:
        kind, _, unit_id = unit.partition(":")
        chosen = (kind, unit_id)  # type: ignore[assignment]
    scope = None if call.principal.is_admin else call.principal.unit
    rows: list[dict[str, Any]] = []
    if call.principal.is_admin or scope is not None:
        zones = call.settings.center_timezones
        rows = await plans.campaign_page(
            call.session,
            scope=scope,
            unit=chosen,
            status=status,
            before=position,
            limit=limit + 1,
            today_by_center={center: call.today(center) for center in zones},
            today=call.today(None),
        )
    page = rows[:limit]
    document = {
        "items": await summaries(call.session, page),
        "next": encode_cursor(page[-1]["seq"]) if len(rows) > limit else None,
    }
    return conditional(call.request, orjson.dumps(document), media_type="application/json")


@router.get(
    "/campaigns/{campaign_id}",
    response_model=CampaignOut,
    responses={**_ANSWERS, **errors(304)},
    summary="A campaign: start, progress, result, countermeasures",
)
async def get_campaign(campaign_id: CampaignId, call: Call) -> Response:
    """The members' classes at the start, every recorded day (classes, the unit's value),
    each member's moves, the result once the last day is settled, the countermeasures."""
    row = await visible(call, campaign_id)
    document = await campaign_document(call.session, row, call.today(row["center_id"]))
    return conditional(call.request, orjson.dumps(document), media_type="application/json")


@router.post(
    "/campaigns/{campaign_id}/countermeasures",
    status_code=201,
    response_model=CountermeasureOut,
    responses=_ANSWERS,
    summary="Add a countermeasure to a campaign's plan",
)
async def add_countermeasure(
    campaign_id: CampaignId, body: CountermeasureIn, call: Call
) -> JSONResponse:
    """What will be done, by whom, and the day its effect is checked (inside the period);
    409 `campaign_ended` once the campaign has ended."""
    _leader(call.principal)
    await sql.lock(call.session, store.lock_name(campaign_id))  # not while it is ending
    row = await visible(call, campaign_id)
    if row["ended_at"] is not None:
        raise ApiError(409, "the campaign has ended", code="campaign_ended")
    if not row["starts_on"] <= body.check_on <= row["ends_on"]:
        raise ApiError(
            422,
            "the countermeasure was refused",
            details=[dict(problem("check_on", "must lie inside the campaign's period"))],
        )
    added = await plans.add_countermeasure(
        call.session,
        campaign_id,
        what=body.what,
        who=body.who,
        check_on=body.check_on,
        by=call.principal.subject,
    )
    return JSONResponse(countermeasure_document(added), 201)


@router.post(
    "/campaigns/{campaign_id}/countermeasures/{countermeasure_id}/done",
    response_model=CountermeasureOut,
    responses=_ANSWERS,
    summary="Mark a countermeasure done",
)
async def countermeasure_done(
    campaign_id: CampaignId,
    countermeasure_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    call: Call,
) -> JSONResponse:
    """Mark it done (again: the first time is kept)."""
    await visible(call, campaign_id)
    done = await plans.mark_done(
        call.session, campaign_id, countermeasure_id, by=call.principal.subject, at=call.now
    )
    if done is None:
        raise ApiError(404, "there is no such countermeasure", code="not_found")
    return JSONResponse(countermeasure_document(done))
