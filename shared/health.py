"""`/healthz` (alive) and `/readyz` (dependencies reachable)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

from fastapi import APIRouter
from fastapi.responses import JSONResponse

ReadinessCheck = Callable[[], Awaitable[None]]


def health_router(checks: Mapping[str, ReadinessCheck], *, timeout: float = 2.0) -> APIRouter:
    """Return the health routes; each readiness check raises when its dependency is down."""
    router = APIRouter(tags=["health"])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz() -> JSONResponse:
        async def run(check: ReadinessCheck) -> str:
            try:
                await asyncio.wait_for(check(), timeout)
            except Exception as exc:  # any failure means "not ready"; say which
                return f"down: {type(exc).__name__}: {exc}"[:200]
            return "up"

        names = list(checks)
        results = await asyncio.gather(*(run(checks[n]) for n in names))
        report = dict(zip(names, results, strict=True))
        ready = all(r == "up" for r in results)
        return JSONResponse(
            {"status": "ready" if ready else "not_ready", "checks": report},
            status_code=200 if ready else 503,
        )

    return router
