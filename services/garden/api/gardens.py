"""Gardens: an agent's garden, a unit's garden, pictures of plants."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Response

from services.garden.api.access import admitted, may_ask, readable
from services.garden.api.deps import Call, CallContext, Read, ReadContext, errors
from services.garden.api.http import conditional, etag_of, none_match
from services.garden.api.schemas import AgentGarden, UnitGarden
from services.garden.domain.config import PlantState
from services.garden.domain.stars import STAR_WINDOW_DAYS
from services.garden.garden_cache import CachedGarden, GardenCache
from services.garden.metrics import GardenMetrics
from services.garden.pictures import plant_svg
from services.garden.reading import agent_garden_body, config_on, unit_garden_document
from services.garden.repo import reads
from shared.vocabulary import OwnerKind, UnitKind

router = APIRouter(prefix="/v1", tags=["gardens"])
Indicator = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
SVG = "image/svg+xml"


@router.get(
    "/agents/{agent_id}/garden",
    response_model=AgentGarden,
    responses=errors(304, 401, 403, 422),
    summary="An agent's garden",
)
async def agent_garden(agent_id: str, call: Read) -> Response:
    """Per plant: indicator, fruit, stage, state, growth, ripe fruit, today's preview points;
    the star level and the last 30 days of points per indicator."""
    may_ask(call.principal, "agent", agent_id)
    state = call.request.app.state
    cache: GardenCache = state.garden_cache
    metrics: GardenMetrics = state.metrics
    entry = cache.get(agent_id, call.today)
    if entry is None:
        metrics.cache_misses.inc()
        entry = await read_agent_garden(call, agent_id, cache)
    else:
        metrics.cache_hits.inc()
    admitted(call.principal, entry.member)
    headers = {"ETag": entry.etag, "Cache-Control": "private, no-cache"}
    if none_match(call.request.headers.get("if-none-match"), entry.etag):
        return Response(status_code=304, headers=headers)
    return Response(entry.body, media_type="application/json", headers=headers)


async def read_agent_garden(call: ReadContext, agent_id: str, cache: GardenCache) -> CachedGarden:
    """Read an agent's garden in its one statement and keep it in `cache` unless the agent
    changed while the statement ran (the epoch is taken before it)."""
    epoch = cache.epoch
    zones = call.settings.center_timezones
    read = await call.read(
        lambda db: reads.agent_garden(
            db,
            agent_id,
            today_by_center={center: call.today(center) for center in zones},
            today=call.today(None),
            window_days=STAR_WINDOW_DAYS,
        )
    )
    body = agent_garden_body(agent_id, read)
    center = read.member.center_id if read.member is not None else None
    entry = CachedGarden(read.member, center, read.today, body, etag_of(body))
    if cache.store(agent_id, entry, epoch):
        call.request.app.state.metrics.cache_entries.set(len(cache))
    return entry


@router.get(
    "/units/{kind}/{unit_id}/garden",
    response_model=UnitGarden,
    responses=errors(304, 401, 403, 422),
    summary="A team's, department's or center's garden",
)
async def unit_garden(kind: UnitKind, unit_id: str, call: Read) -> Response:
    """The unit's own plants, the agents of its subtree with each one's state per indicator,
    and the A/B/C split per indicator."""
    async with call.connection() as db:
        place = await readable(db, call.principal, kind, unit_id)
        center = place.center_id if place else None
        today = call.today(center)
        document = await unit_garden_document(db, kind, unit_id, today, center)
    return conditional(call.request, orjson.dumps(document), media_type="application/json")


async def picture(call: CallContext, kind: OwnerKind, owner_id: str, indicator: str) -> Response:
    """Draw a plant the caller may see (a healthy seed before it grew)."""
    place = await readable(call.session, call.principal, kind, owner_id)
    center = place.center_id if place else None
    row = await reads.plant(call.session, kind, owner_id, indicator)
    config = await config_on(call.session, center or "", call.today(center))
    state: PlantState = "healthy"
    stage, ripe, fruit = 0, 0, config.fruit_for(indicator)
    if row is not None:
        stage, state = row["stage"], row["state"]
        ripe = max(0, row["fruit_ripened"] - row["fruit_harvested"])
        fruit = row["fruit"] or fruit
    svg = plant_svg(stage, state, ripe, fruit, title=f"{owner_id} — {indicator}")
    cache = f"private, max-age={call.settings.picture_max_age_seconds}"
    return conditional(call.request, svg.encode(), media_type=SVG, cache_control=cache)


_PICTURE: dict[int | str, dict[str, Any]] = {
    200: {"content": {SVG: {"example": "<svg …>…</svg>"}}, "description": "SVG, 200 × 240"},
    **errors(304, 401, 403, 422),
}


@router.get(
    "/agents/{agent_id}/plants/{indicator}.svg",
    response_class=Response,
    responses=_PICTURE,
    summary="A picture of an agent's plant",
)
async def agent_plant_picture(agent_id: str, indicator: Indicator, call: Call) -> Response:
    """The plant drawn at its stage and state with its ripe fruit."""
    return await picture(call, "agent", agent_id, indicator)


@router.get(
    "/units/{kind}/{unit_id}/plants/{indicator}.svg",
    response_class=Response,
    responses=_PICTURE,
    summary="A picture of a unit's plant",
)
async def unit_plant_picture(
    kind: UnitKind, unit_id: str, indicator: Indicator, call: Call
) -> Response:
    """The unit's plant drawn at its stage and state with its ripe fruit."""
    return await picture(call, kind, unit_id, indicator)
