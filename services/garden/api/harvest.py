"""Harvest (收获): collect a plant's ripe fruit, safely retried with an `Idempotency-Key`."""

from __future__ import annotations

import time
from datetime import date
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Path
from fastapi.responses import JSONResponse

from services.garden.api.access import harvestable
from services.garden.api.deps import Call, CallContext, errors
from services.garden.api.idempotent import IdempotencyKey, idempotent_write
from services.garden.api.schemas import HarvestOut, LotOut
from services.garden.domain.plant import Plant
from services.garden.harvesting import HarvestOutcome, NothingRipe, harvest_plant
from shared.errors import ApiError
from shared.vocabulary import UnitKind

router = APIRouter(prefix="/v1", tags=["harvest"])
Indicator = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
_ANSWERS = errors(401, 403, 409, 422)


def harvest_document(outcome: HarvestOutcome, today: date) -> HarvestOut:
    """Return the answer of a harvest."""
    lots = [
        LotOut(
            harvest_id=h.harvest_id, fruit=h.fruit, count=h.count, first=h.first, through=h.through
        )
        for h in outcome.lots
    ]
    plant = outcome.plant
    return HarvestOut(
        owner_kind=plant.owner_kind,
        owner_id=plant.owner_id,
        indicator=plant.indicator,
        count=outcome.count,
        fruit=outcome.lots[-1].fruit,
        harvest_ids=[lot.harvest_id for lot in lots],
        lots=lots,
        ripe_fruit=outcome.ripe_fruit,
        business_date=today,
    )


async def harvest(
    call: CallContext, background: BackgroundTasks, plant: Plant, key: str | None
) -> JSONResponse:
    """Harvest a plant the caller may harvest; the first answer again for a retried key."""
    started = time.perf_counter()
    session, who = call.session, call.principal.subject
    await harvestable(session, call.principal, plant.owner_kind, plant.owner_id)
    write = idempotent_write(call, key)
    if (first := await write.first_answer()) is not None:
        return first
    try:
        outcome = await harvest_plant(
            session, plant, today_of=call.today, harvested_by=who, occurred_at=call.now
        )
    except NothingRipe:
        raise ApiError(409, "there is no ripe fruit to harvest", code="nothing_ripe") from None
    body = harvest_document(outcome, outcome.lots[0].business_date).model_dump(mode="json")
    response = await write.answer(background, body)
    if plant.owner_kind == "agent":
        await session.commit()  # then forget: the harvester's next read shows the harvest
        call.request.app.state.garden_cache.forget([plant.owner_id])
        call.metrics.cache_invalidations.labels("local").inc()
    call.metrics.fruit_harvested.labels("owner").inc(outcome.count)
    call.metrics.harvest_seconds.labels("owner").observe(time.perf_counter() - started)
    return response


@router.post(
    "/agents/{agent_id}/plants/{indicator}/harvest",
    response_model=HarvestOut,
    responses=_ANSWERS,
    summary="Harvest an agent's ripe fruit",
)
async def harvest_agent_plant(
    agent_id: str,
    indicator: Indicator,
    call: Call,
    background: BackgroundTasks,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Collect every ripe fruit of the plant (the agent's own); 409 `nothing_ripe` if none."""
    return await harvest(call, background, Plant("agent", agent_id, indicator), idempotency_key)


@router.post(
    "/units/{kind}/{unit_id}/plants/{indicator}/harvest",
    response_model=HarvestOut,
    responses=_ANSWERS,
    summary="Harvest a unit's ripe fruit",
)
async def harvest_unit_plant(
    kind: UnitKind,
    unit_id: str,
    indicator: Indicator,
    call: Call,
    background: BackgroundTasks,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Collect every ripe fruit of the unit's plant (its leaders and the managers above)."""
    return await harvest(call, background, Plant(kind, unit_id, indicator), idempotency_key)
