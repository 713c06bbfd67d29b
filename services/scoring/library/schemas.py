"""Payloads of the configuration API: a center's library and settings, and tiers."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from services.scoring.domain import DEFAULT_VETO, Direction, WarningMethod
from shared.vocabulary import OwnerKind

DEFAULT_SATISFIED_MIN_SCORE = 4


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, populate_by_name=True)


class IndicatorIn(_Strict):
    """A library entry; omitted fields take the core indicator's default (or a generic one)."""

    code: str
    name: str | None = None
    direction: Direction | None = None
    min_sample: float | None = None
    fruit: str | None = None
    warning: WarningMethod | None = None
    tail_pct: float | None = None
    trend_days: int | None = None
    department_id: str | None = None


class CenterSettingsIn(_Strict):
    """A center's scoring settings."""

    veto: list[str] = Field(default_factory=lambda: list(DEFAULT_VETO))
    fcr_window_hours: float = 24
    allowed_lateness_hours: float = 2
    settlement_grace_minutes: float = 30
    satisfied_min_score: int = DEFAULT_SATISFIED_MIN_SCORE


class LibraryPut(_Strict):
    """`PUT /v1/config/indicators`: a center's whole library and settings."""

    center_id: str
    indicators: list[IndicatorIn]
    settings: CenterSettingsIn = Field(default_factory=CenterSettingsIn)


class TierIn(_Strict):
    """The five tiers of one indicator and the points each earns."""

    pass_: float = Field(alias="pass")
    center_avg: float | None = None
    center_benchmark: float
    group_avg: float
    group_excellence: float
    points: list[float] = Field(default_factory=lambda: [2.0] * 5)


class TiersPut(_Strict):
    """`PUT /v1/config/tiers`: the tiers of one scope (replaces that scope's tiers)."""

    center_id: str
    department_id: str | None = None
    owner_kind: OwnerKind = "agent"
    tiers: dict[str, TierIn]
