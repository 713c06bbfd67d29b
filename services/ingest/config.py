"""Ingest settings (environment variables)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, model_validator

from services.ingest.domain import TimeLimits
from shared.settings import ServiceSettings


class IngestSettings(ServiceSettings):
    """Settings of the ingest service."""

    service_name: str = "ingest"
    http_port: int = 8001
    ingest_api_keys: str = Field(
        default="", description="key:type,type;key:* — which upstream may send which event types"
    )
    max_batch_events: int = Field(default=1000, ge=1, le=100_000)
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    produce_timeout_seconds: float = Field(default=5.0, gt=0, le=120)
    retry_after_seconds: int = Field(default=5, ge=1, le=3600)
    validator_enabled: bool = True
    validator_group_id: str = "ingest-validator"
    max_event_age_hours: float = Field(default=144, gt=0)
    """The oldest an event's instants may be; below `DEDUP_RETENTION_DAYS`."""

    @model_validator(mode="after")
    def _age_below_dedup_retention(self) -> IngestSettings:
        if timedelta(hours=self.max_event_age_hours) >= self.dedup_retention:
            raise ValueError(
                "MAX_EVENT_AGE_HOURS must stay below DEDUP_RETENTION_DAYS: an event accepted "
                "after its processed key was pruned would be applied twice"
            )
        return self

    @property
    def time_limits(self) -> TimeLimits:
        """How far from the clock accepted events may be."""
        return TimeLimits(
            lead=self.event_time_tolerance, max_age=timedelta(hours=self.max_event_age_hours)
        )
