"""Ingest settings (environment variables)."""

from __future__ import annotations

from pydantic import Field

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
