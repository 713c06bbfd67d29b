"""Scoring settings (environment variables)."""

from __future__ import annotations

from pydantic import Field, model_validator

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
    history_retention_days: float = Field(default=30, gt=0)
    """Calls kept for FCR and complaints kept for their fold, counted from their latest
    instant; at least twice `DEDUP_RETENTION_DAYS` plus the FCR window."""
    history_prune_seconds: float = Field(default=3600, gt=0)

    @model_validator(mode="after")
    def _history_outlives_replay(self) -> ScoringSettings:
        # An event is accepted at most MAX_EVENT_AGE (< dedup retention) after its instants
        # and its record stays readable less than the dedup retention after that.
        needed = 2 * self.dedup_retention_days + self.fcr_window_hours / 24
        if self.history_retention_days < needed:
            raise ValueError(
                f"HISTORY_RETENTION_DAYS must be at least {needed:g} "
                "(twice DEDUP_RETENTION_DAYS plus the FCR window)"
            )
        return self
