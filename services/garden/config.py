"""Garden settings (environment variables)."""

from __future__ import annotations

import json
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import NoDecode

from shared.settings import ServiceSettings
from shared.vocabulary import DEFAULT_TIMEZONE


def _listed(value: Any) -> Any:
    """Read `a,b` or a JSON list from the environment."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


def _mapped(value: Any) -> Any:
    """Read `C1=Asia/Shanghai,C2=America/New_York` or a JSON object from the environment."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{"):
            return json.loads(text)
        pairs = (part.split("=", 1) for part in text.split(",") if "=" in part)
        return {key.strip(): zone.strip() for key, zone in pairs}
    return value


class GardenSettings(ServiceSettings):
    """Settings of the garden service."""

    service_name: str = "garden"
    http_port: int = 8004
    consumer_group: str = "garden"
    batch_max_records: int = Field(default=5000, ge=1, le=50_000)
    auto_harvest_enabled: bool = Field(
        default=True, description="run the automatic harvest (off: only owners harvest)"
    )
    auto_harvest_seconds: float = Field(
        default=60.0, gt=0, le=86_400, description="how often fruit due is harvested"
    )
    plant_gauge_seconds: float = Field(
        default=30.0, gt=0, le=3600, description="how often plants are counted by state"
    )
    default_timezone: str = Field(
        default=DEFAULT_TIMEZONE, description="business days of a center not listed below"
    )
    center_timezones: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=dict, description="`C1=Asia/Shanghai,C2=…`: a center's business days"
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="`https://a.example,https://b.example` (none: no CORS)"
    )
    idempotency_hours: float = Field(
        default=24.0, gt=0, description="how long a harvest's Idempotency-Key is remembered"
    )
    picture_max_age_seconds: int = Field(default=60, ge=0, le=86_400)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins(cls, value: Any) -> Any:
        return _listed(value)

    @field_validator("center_timezones", mode="before")
    @classmethod
    def _zones(cls, value: Any) -> Any:
        return _mapped(value)

    @field_validator("center_timezones", mode="after")
    @classmethod
    def _known_zones(cls, value: dict[str, str]) -> dict[str, str]:
        for center, zone in value.items():
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {zone!r} for center {center!r}") from None
        return value

    def zone_of(self, center_id: str | None) -> ZoneInfo:
        """Return the time zone of a center's business days."""
        return ZoneInfo(self.center_timezones.get(center_id or "", self.default_timezone))
