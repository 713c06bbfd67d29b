"""Where the pipeline gets the scoring configuration in force on a day."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from fastapi import APIRouter
from sqlmodel.ext.asyncio.session import AsyncSession

from services.scoring.library import config_router, load_configs
from services.scoring.org import org_router
from services.scoring.scorecard import ConfigFor
from services.scoring.settlement import ConfigLoader


def config_loader() -> ConfigLoader:
    """Load the versioned configuration (per center and department) in force on a day."""

    async def load(session: AsyncSession, day: date) -> ConfigFor:
        book = await load_configs(session, day)
        return book.for_owner

    return load


def extra_routers() -> Sequence[APIRouter]:
    """Admin routers of the organisation and configuration."""
    return (org_router, config_router)
