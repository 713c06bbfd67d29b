"""Rewards settings (environment variables)."""

from __future__ import annotations

from pydantic import Field

from shared.settings import CenterZones, ServiceSettings


class RewardsSettings(CenterZones, ServiceSettings):
    """Settings of the rewards service."""

    service_name: str = "rewards"
    http_port: int = 8005
    consumer_group: str = "rewards"
    max_records: int = Field(default=2000, ge=1, le=100_000)
    page_size: int = Field(default=50, ge=1, le=1000, description="ledger/redemptions per page")
    max_page_size: int = Field(default=500, ge=1, le=10_000)
    csv_max_rows: int = Field(default=100_000, ge=1, description="ledger rows in one CSV")
    seed_catalog: bool = Field(
        default=True, description="load the demo prizes on start when the catalog is empty"
    )
