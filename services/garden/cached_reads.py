"""The agent garden's hot path: `GET /v1/agents/{agent_id}/garden` answered straight from the
cache, before FastAPI's routing and dependencies (most of the cost of a request that runs
no statement).

It answers only what the route itself would answer from the cache, the same bytes and
headers: a garden the cache holds for today, for a caller whose token verifies and who
may see it. Everything else goes on to the route unchanged: a miss, no or a bad token, a
refusal (the route gives the one 403), another method or path, and every request while
the app's dependencies are overridden (a test's clock). The route template is set on the
scope as the router would, so the latency metric labels it the same way.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request, Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from services.garden.api.access import admitted, may_ask
from services.garden.api.http import none_match
from services.garden.garden_cache import GardenCache
from services.garden.metrics import GardenMetrics
from shared.auth.tokens import current_principal
from shared.errors import ApiError
from shared.web import wall_clock

PREFIX, SUFFIX = "/v1/agents/", "/garden"
ROUTE = PREFIX + "{agent_id}" + SUFFIX


def agent_of(path: str) -> str | None:
    """Return the agent id of an agent garden's path (None for any other path)."""
    if not (path.startswith(PREFIX) and path.endswith(SUFFIX)):
        return None
    agent_id = path[len(PREFIX) : -len(SUFFIX)]
    return agent_id if agent_id and "/" not in agent_id else None


class CachedGardens:
    """ASGI middleware in front of the garden's routes (see the module's description)."""

    def __init__(self, app: ASGIApp, *, service: FastAPI) -> None:
        self._app = app
        self._service = service
        self._route: BaseRoute | None = next(
            (r for r in service.routes if getattr(r, "path", None) == ROUTE), None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            agent_id = agent_of(scope["path"])
            if agent_id is not None and not self._service.dependency_overrides:
                response = self._answer(scope, agent_id)
                if response is not None:
                    scope["route"] = self._route
                    await response(scope, receive, send)
                    return
        await self._app(scope, receive, send)

    def _answer(self, scope: Scope, agent_id: str) -> Response | None:
        state: Any = self._service.state
        cache: GardenCache = state.garden_cache
        if not cache.enabled:
            return None
        request = Request(scope)
        try:
            principal = current_principal(request)
            may_ask(principal, "agent", agent_id)
        except ApiError:
            return None
        now, settings = wall_clock(), state.settings
        entry = cache.get(agent_id, lambda center: now.astimezone(settings.zone_of(center)).date())
        if entry is None:
            return None
        try:
            admitted(principal, entry.member)
        except ApiError:
            return None
        metrics: GardenMetrics = state.metrics
        metrics.cache_hits.inc()
        headers = {"ETag": entry.etag, "Cache-Control": "private, no-cache"}
        if none_match(request.headers.get("if-none-match"), entry.etag):
            return Response(status_code=304, headers=headers)
        return Response(entry.body, media_type="application/json", headers=headers)
