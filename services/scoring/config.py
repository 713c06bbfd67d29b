"""Scoring settings (environment variables)."""

from __future__ import annotations

from pydantic import Field

from shared.settings import ServiceSettings
from shared.vocabulary import DEFAULT_TIMEZONE


class ScoringSettings(ServiceSettings):
    """Settings of the scoring service."""

    service_name: str = "scoring"
    http_port: int = 8002
    consumer_group: str = "scoring"
    batch_max_records: int = Field(default=20_000, ge=1, le=50_000)
    fcr_window_hours: float = Field(default=24, gt=0, le=24 * 7)
    max_state_span_hours: float = Field(default=12, gt=0, le=48)
    preview_seconds: float = Field(default=5.0, gt=0)
    settle_check_seconds: float = Field(default=5.0, gt=0)
    quiet_seconds: float = Field(default=60.0, ge=0)
    settlement_grace_minutes: float = Field(default=30, ge=0)
    allowed_lateness_hours: float = Field(default=2, ge=0)
    default_timezone: str = DEFAULT_TIMEZONE
