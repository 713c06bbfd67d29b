"""Garden settings (environment variables)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import NoDecode

from shared.settings import CenterZones, ServiceSettings, listed


class GardenSettings(CenterZones, ServiceSettings):
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
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="`https://a.example,https://b.example` (none: no CORS)"
    )
    idempotency_hours: float = Field(
        default=24.0, gt=0, description="how long a harvest's Idempotency-Key is remembered"
    )
    picture_max_age_seconds: int = Field(default=60, ge=0, le=86_400)
    garden_cache_size: int = Field(
        default=10_000,
        ge=0,
        le=1_000_000,
        description="agents' gardens kept in the process between reads (0: none)",
    )
    garden_cache_ping_seconds: float = Field(
        default=5.0, gt=0, le=300, description="how often the change listener checks its link"
    )
    garden_cache_ping_timeout_seconds: float = Field(
        default=2.0, gt=0, le=60, description="how long that check may take before reconnecting"
    )
    rewards_public_url: str = Field(
        default="http://127.0.0.1:8005",
        description="where browsers reach the rewards API (the screens' wallets and prizes)",
    )

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins(cls, value: Any) -> Any:
        return listed(value)

    @field_validator("rewards_public_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        url = urlsplit(value.strip())
        if url.scheme not in ("http", "https") or not url.netloc or url.query or url.fragment:
            raise ValueError("must be an http(s) URL such as https://rewards.example")
        return value.strip().rstrip("/")
