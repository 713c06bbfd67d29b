"""The rewards API: wallets, prizes, redemptions and reward funds (every route needs a
bearer token; see `access` for who may do what)."""

from __future__ import annotations

from fastapi import APIRouter

from services.rewards.api import funds, prizes, redemptions, wallets

router = APIRouter()
for part in (wallets.router, prizes.router, redemptions.router, funds.router):
    router.include_router(part)
