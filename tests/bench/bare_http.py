"""The bare HTTP baseline of the read benchmarks: Starlette + asyncpg returning one stored row
by key, served by the same `shared.service.serve` (uvicorn, uvloop, httptools, the same GC
tuning) as every service.

    python -m tests.bench.bare_http      (DATABASE_URL, HTTP_PORT)

`GET /rows/{owner_id}` answers the `garden_members` row of an agent as JSON: one indexed
lookup, one pooled connection, no authentication, no validation, no framework around it.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shared.service import serve
from shared.settings import ServiceSettings

POOL_SIZE = ServiceSettings.model_fields["db_pool_size"].default
"""The same number of database connections a service keeps."""


def plain_dsn(url: str) -> str:
    """The libpq form of a `postgresql+asyncpg://` URL (what asyncpg itself takes)."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def row(request: Request) -> Response:
    pool: asyncpg.Pool = request.app.state.pool
    async with pool.acquire() as connection:
        found = await connection.fetchrow(
            "SELECT owner_kind, owner_id, center_id, department_id, team_id, name, as_of "
            "FROM garden_members WHERE owner_kind = 'agent' AND owner_id = $1",
            request.path_params["owner_id"],
        )
    if found is None:
        return Response(status_code=404)
    return Response(orjson.dumps(dict(found)), media_type="application/json")


async def ready(request: Request) -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")


def create_app() -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        dsn = plain_dsn(os.environ["DATABASE_URL"])
        app.state.pool = await asyncpg.create_pool(dsn, min_size=POOL_SIZE, max_size=POOL_SIZE)
        yield
        await app.state.pool.close()

    routes = [Route("/rows/{owner_id}", row), Route("/readyz", ready)]
    return Starlette(routes=routes, lifespan=lifespan)


if __name__ == "__main__":
    serve(
        "tests.bench.bare_http:create_app",
        ServiceSettings(service_name="bare-http", log_level="WARNING"),
    )
