"""Rewards settings (environment variables)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import NoDecode

from shared.settings import CenterZones, ServiceSettings, listed

GARDEN_SCREENS: tuple[str, ...] = ("http://127.0.0.1:8004", "http://localhost:8004")
"""Where the garden serves its screens on a local run (they call this API from the browser)."""


class RewardsSettings(CenterZones, ServiceSettings):
    """Settings of the rewards service."""

    service_name: str = "rewards"
    http_port: int = 8005
    consumer_group: str = "rewards"
    max_records: int = Field(default=2000, ge=1, le=100_000)
    page_size: int = Field(default=50, ge=1, le=1000, description="ledger/redemptions per page")
    max_page_size: int = Field(default=500, ge=1, le=10_000)
    csv_max_rows: int = Field(default=100_000, ge=1, description="ledger rows in one CSV")
    outbox_wake_seconds: float = Field(
        default=0.05,
        gt=0,
        le=1,
        description="how long after a commit the outbox relay looks for its events: the commits "
        "of that time leave in one round (a round costs the same for one event as for hundreds)",
    )
    seed_catalog: bool = Field(
        default=True, description="load the demo prizes on start when the catalog is empty"
    )
    ui_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(GARDEN_SCREENS),
        description="origins of the web pages that may call this API from a browser (CORS): "
        "`https://garden.example,…`; empty: none",
    )

    @field_validator("ui_origins", mode="before")
    @classmethod
    def _origins(cls, value: Any) -> Any:
        return listed(value)
