"""The rewards API: wallets, prizes, redemptions and reward funds (every route needs a
bearer token; see `access` for who may do what)."""

from __future__ import annotations

from fastapi import APIRouter

from services.rewards.api import funds, prizes, redemptions, wallets

router = APIRouter()
for part in (wallets.router, prizes.router, redemptions.router, funds.router):
    # The parts' routes themselves, in order (each already has its full path and tags): the
    # same routes and OpenAPI document as including each part, one router fewer to match
    # every request through.
    router.routes.extend(part.routes)
