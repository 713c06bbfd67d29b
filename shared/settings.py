"""Settings base: every service reads its configuration from the environment.

Settings are built on demand by `get_settings(cls)` (cached), never at import,
so tests and tools can set the environment before anything connects. Bad
configuration fails fast with pydantic's message naming the variable.
"""

from __future__ import annotations

import json
from datetime import timedelta
from functools import lru_cache
from typing import Annotated, Any, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from shared.contracts.topics import LONGEST_READABLE
from shared.vocabulary import DEFAULT_TIMEZONE

S = TypeVar("S", bound="ServiceSettings")


class ServiceSettings(BaseSettings):
    """Settings every service shares."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    service_name: str = "service-garden"
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    topic_partitions: int = Field(default=6, ge=1, le=1000)
    """Partitions of each platform topic when a service creates it."""
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/garden"
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=1, le=65535)
    http_workers: int = Field(default=1, ge=1, le=64)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["console", "json"] = "console"
    jwt_secret: str | None = None
    jwt_public_key: str | None = None
    jwt_issuer: str = "service-garden"
    jwt_algorithms: tuple[str, ...] = ("HS256",)
    db_pool_size: int = Field(default=10, ge=1, le=200)
    outbox_poll_seconds: float = Field(default=0.2, gt=0, le=60)
    outbox_batch_size: int = Field(default=500, ge=1, le=10_000)
    dedup_retention_days: float = Field(default=8, gt=0)
    """How long processed-event keys are kept: longer than any record stays readable."""
    event_time_tolerance_seconds: float = Field(default=300, ge=0, le=3600)
    """How far ahead of the wall clock an event's time may be (clock skew): ingest refuses
    events further ahead, consumers never let event time run further ahead than this."""

    @property
    def dedup_retention(self) -> timedelta:
        return timedelta(days=self.dedup_retention_days)

    @property
    def event_time_tolerance(self) -> timedelta:
        return timedelta(seconds=self.event_time_tolerance_seconds)

    @field_validator("dedup_retention_days")
    @classmethod
    def _keys_outlive_records(cls, value: float) -> float:
        if timedelta(days=value) <= LONGEST_READABLE:
            raise ValueError(
                f"must exceed the longest a record stays readable in Kafka ({LONGEST_READABLE}: "
                "retention plus segment roll), or a replay applies events twice"
            )
        return value

    @field_validator("kafka_bootstrap_servers")
    @classmethod
    def _bootstrap_not_empty(cls, value: str) -> str:
        servers = [s.strip() for s in value.split(",") if s.strip()]
        if not servers or any(":" not in s for s in servers):
            raise ValueError("must be a comma-separated list of host:port")
        return ",".join(servers)

    @field_validator("jwt_secret")
    @classmethod
    def _strong_secret(cls, value: str | None) -> str | None:
        # RFC 7518 §3.2: an HS256 key must be at least as long as the hash (32 bytes).
        if value is not None and len(value.encode()) < 32:
            raise ValueError("must be at least 32 bytes (HS256)")
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            # Accept the plain libpq form and use the asyncpg driver.
            return "postgresql+asyncpg://" + value.split("://", 1)[1]
        if not value.startswith("postgresql+asyncpg://"):
            raise ValueError("must be a postgresql:// or postgresql+asyncpg:// URL")
        return value


@lru_cache
def get_settings(cls: type[S]) -> S:
    """Build (once) and return the settings of class `cls` from the environment."""
    return cls()


def listed(value: Any) -> Any:
    """Read `a,b` or a JSON list from the environment."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


def mapped(value: Any) -> Any:
    """Read `C1=Asia/Shanghai,C2=America/New_York` or a JSON object from the environment."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{"):
            return json.loads(text)
        pairs = (part.split("=", 1) for part in text.split(",") if "=" in part)
        return {key.strip(): zone.strip() for key, zone in pairs}
    return value


def known_zone(name: str) -> ZoneInfo:
    """Return the IANA time zone `name`, or raise ValueError naming it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None


class CenterZones(BaseSettings):
    """Settings of a service that needs each center's time zone but does not own the org:
    `CENTER_TIMEZONES` (`C1=Asia/Shanghai,C2=America/New_York` or a JSON object) and
    `DEFAULT_TIMEZONE` for a center not listed."""

    default_timezone: str = Field(
        default=DEFAULT_TIMEZONE, description="the zone of a center not listed"
    )
    center_timezones: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=dict, description="`C1=Asia/Shanghai,C2=…`: each center's zone"
    )

    @field_validator("center_timezones", mode="before")
    @classmethod
    def _read_zones(cls, value: Any) -> Any:
        return mapped(value)

    @field_validator("center_timezones", mode="after")
    @classmethod
    def _known_zones(cls, value: dict[str, str]) -> dict[str, str]:
        for center, zone in value.items():
            try:
                known_zone(zone)
            except ValueError as exc:
                raise ValueError(f"{exc} for center {center!r}") from None
        return value

    @field_validator("default_timezone")
    @classmethod
    def _known_default(cls, value: str) -> str:
        known_zone(value)
        return value

    def zone_of(self, center_id: str | None) -> ZoneInfo:
        """Return the time zone of a center (the default for one not listed)."""
        return ZoneInfo(self.center_timezones.get(center_id or "", self.default_timezone))
