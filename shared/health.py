"""`/healthz` (alive) and `/readyz` (dependencies reachable)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from shared.logging import get_logger

log = get_logger(__name__)

ReadinessCheck = Callable[[], Awaitable[None]]


def health_router(checks: Mapping[str, ReadinessCheck], *, timeout: float = 2.0) -> APIRouter:
    """Return the health routes; each readiness check raises when its dependency is down.

    `/readyz` answers only `up` or `down` per dependency: the reason (an exception's
    text can carry host names, ports, user names) goes to the log, not to the caller."""
    router = APIRouter(tags=["health"])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz() -> JSONResponse:
        async def run(name: str, check: ReadinessCheck) -> str:
            try:
                await asyncio.wait_for(check(), timeout)
            except Exception as exc:  # any failure means "not ready"; the log says why
                log.warning(
                    "dependency not ready",
                    dependency=name,
                    error=f"{type(exc).__name__}: {exc}"[:300],
                )
                return "down"
            return "up"

        names = list(checks)
        results = await asyncio.gather(*(run(n, checks[n]) for n in names))
        report = dict(zip(names, results, strict=True))
        ready = all(r == "up" for r in results)
        return JSONResponse(
            {"status": "ready" if ready else "not_ready", "checks": report},
            status_code=200 if ready else 503,
        )

    return router
