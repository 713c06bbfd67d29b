"""Where the pipeline gets the scoring configuration in force on a day."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from fastapi import APIRouter
from sqlmodel.ext.asyncio.session import AsyncSession

from services.scoring.domain import (
    DEFAULT_VETO,
    Indicator,
    Tiers,
    default_library,
    default_tiers,
)
from services.scoring.scorecard import ConfigFor
from services.scoring.settlement import ConfigLoader


@dataclass(frozen=True)
class DefaultConfig:
    """The domain defaults, used until operations configure a center."""

    library: Mapping[str, Indicator] = field(default_factory=default_library)
    tiers: Mapping[str, Tiers] = field(default_factory=default_tiers)
    veto: tuple[str, ...] = DEFAULT_VETO
    satisfied_min_score: int = 4


def config_loader() -> ConfigLoader:
    """The loader of the configuration library (versioned, per center and department)."""
    defaults = DefaultConfig()

    async def load(session: AsyncSession, day: date) -> ConfigFor:
        del session, day
        return lambda center, department, kind: defaults

    return load


def extra_routers() -> Sequence[APIRouter]:
    """Admin routers of the organisation and configuration."""
    return ()
