"""Rewards settings (environment variables)."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from shared.settings import ServiceSettings
from shared.vocabulary import DEFAULT_TIMEZONE


class RewardsSettings(ServiceSettings):
    """Settings of the rewards service."""

    service_name: str = "rewards"
    http_port: int = 8005
    consumer_group: str = "rewards"
    max_records: int = Field(default=2000, ge=1, le=100_000)
    timezone: str = Field(
        default=DEFAULT_TIMEZONE, description="limit periods of a center that names no zone"
    )
    center_timezones: dict[str, str] = Field(
        default_factory=dict,
        description='per-center zones of limit periods, JSON: {"C2": "America/New_York"}',
    )
    page_size: int = Field(default=50, ge=1, le=1000, description="ledger/redemptions per page")
    max_page_size: int = Field(default=500, ge=1, le=10_000)
    csv_max_rows: int = Field(default=100_000, ge=1, description="ledger rows in one CSV")
    seed_catalog: bool = Field(
        default=True, description="load the demo prizes on start when the catalog is empty"
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("center_timezones")
    @classmethod
    def _known_zones(cls, value: dict[str, str]) -> dict[str, str]:
        for zone in value.values():
            cls._known_zone(zone)
        return value

    def zone_of(self, center_id: str | None) -> ZoneInfo:
        """Return the time zone of a center's limit periods (the default for an unknown one)."""
        return ZoneInfo(self.center_timezones.get(center_id or "", self.timezone))
