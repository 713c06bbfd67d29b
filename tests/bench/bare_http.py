"""The bare HTTP baseline of the read benchmarks: Starlette + asyncpg returning one stored row
by key, served by the same `shared.service.serve` (uvicorn, uvloop, httptools, the same GC
tuning) as every service.

    python -m tests.bench.bare_http      (DATABASE_URL, HTTP_PORT)

`GET /rows/{owner_id}` answers the `garden_members` row of an agent as JSON: one indexed
lookup, one pooled connection, no authentication, no validation, no framework around it.
`GET /gardens/{agent_id}` runs the garden's own agent-garden statement and answers the JSON
PostgreSQL built (no token, no star level): what that statement alone costs.

`BARE_APP=fastapi` serves the same two routes as a minimal FastAPI app (path parameters, no
dependencies, no middleware): what the framework alone adds to them.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from zoneinfo import ZoneInfo

import asyncpg
import orjson
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.garden.domain.stars import STAR_WINDOW_DAYS
from services.garden.repo.reads import AGENT_GARDEN
from shared.service import serve
from shared.settings import ServiceSettings
from shared.vocabulary import DEFAULT_TIMEZONE

POOL_SIZE = ServiceSettings.model_fields["db_pool_size"].default
"""The same number of database connections a service keeps."""


def plain_dsn(url: str) -> str:
    """The libpq form of a `postgresql+asyncpg://` URL (what asyncpg itself takes)."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def one_row(pool: asyncpg.Pool, owner_id: str) -> Response:
    async with pool.acquire() as connection:
        found = await connection.fetchrow(
            "SELECT owner_kind, owner_id, center_id, department_id, team_id, name, as_of "
            "FROM garden_members WHERE owner_kind = 'agent' AND owner_id = $1",
            owner_id,
        )
    if found is None:
        return Response(status_code=404)
    return Response(orjson.dumps(dict(found)), media_type="application/json")


async def one_garden(pool: asyncpg.Pool, agent_id: str) -> Response:
    today = datetime.now(ZoneInfo(DEFAULT_TIMEZONE)).date()  # the garden's, without zones
    async with pool.acquire() as connection:
        found = await connection.fetchrow(AGENT_GARDEN, agent_id, [], [], today, STAR_WINDOW_DAYS)
    assert found is not None
    body = b"".join(
        (
            b'{"today":"', today.isoformat().encode(), b'","average_points":',
            orjson.dumps(found["average"]), b',"plants":', found["plants"].encode(),
            b',"days":', found["days"].encode(), b"}",
        )
    )  # fmt: skip
    return Response(body, media_type="application/json")


async def row(request: Request) -> Response:
    return await one_row(request.app.state.pool, request.path_params["owner_id"])


async def garden(request: Request) -> Response:
    return await one_garden(request.app.state.pool, request.path_params["agent_id"])


async def ready(request: Request) -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")


async def cpu(request: Request) -> Response:
    """The CPU time this process has used, in seconds (the benchmark's per-answer cost)."""
    return Response(orjson.dumps(time.process_time()), media_type="application/json")


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    dsn = plain_dsn(os.environ["DATABASE_URL"])
    app.state.pool = await asyncpg.create_pool(dsn, min_size=POOL_SIZE, max_size=POOL_SIZE)
    yield
    await app.state.pool.close()


def create_app() -> Starlette:
    routes = [
        Route("/rows/{owner_id}", row),
        Route("/gardens/{agent_id}", garden),
        Route("/readyz", ready),
        Route("/cpu", cpu),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def create_fastapi_app() -> FastAPI:
    app = FastAPI(lifespan=lifespan)

    @app.get("/rows/{owner_id}")
    async def fastapi_row(owner_id: str, request: Request) -> Response:
        return await one_row(request.app.state.pool, owner_id)

    @app.get("/gardens/{agent_id}")
    async def fastapi_garden(agent_id: str, request: Request) -> Response:
        return await one_garden(request.app.state.pool, agent_id)

    app.add_route("/readyz", ready)
    app.add_route("/cpu", cpu)
    return app


if __name__ == "__main__":
    factory = "create_fastapi_app" if os.environ.get("BARE_APP") == "fastapi" else "create_app"
    serve(
        f"tests.bench.bare_http:{factory}",
        ServiceSettings(service_name="bare-http", log_level="WARNING"),
    )
