"""What every service's wiring shares: start-up retries, token verification, serving."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import uvicorn

from shared.auth.tokens import TokenVerifier
from shared.logging import configure_logging, get_logger
from shared.settings import ServiceSettings

log = get_logger(__name__)


async def retrying(what: str, step: Callable[[], Awaitable[object]]) -> None:
    """Run `step` until it succeeds, backing off while a dependency is down."""
    delay = 1.0
    while True:
        try:
            await step()
            return
        except Exception as exc:  # not reachable yet: keep trying
            log.warning(f"{what} not ready; retrying", error=str(exc)[:200], in_seconds=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 15.0)


def token_verifier(settings: ServiceSettings) -> TokenVerifier | None:
    """The bearer-token verifier of the configured issuer key, if one is configured."""
    key = settings.jwt_public_key or settings.jwt_secret
    if not key:
        return None
    return TokenVerifier(key=key, algorithms=settings.jwt_algorithms, issuer=settings.jwt_issuer)


def serve(factory: str, settings: ServiceSettings) -> None:
    """Run the app built by `factory` ("module:function") with uvicorn, logging structured."""
    configure_logging(
        service=settings.service_name, level=settings.log_level, fmt=settings.log_format
    )
    uvicorn.run(
        factory,
        factory=True,
        workers=settings.http_workers,
        host=settings.http_host,
        port=settings.http_port,
        loop="uvloop",
        http="httptools",
        log_config=None,
        access_log=False,
        proxy_headers=False,
        server_header=False,
    )
