"""Alerting settings (environment variables)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from shared.settings import ServiceSettings
from shared.vocabulary import DEFAULT_TIMEZONE

SMPP_TIMEOUT_SECONDS = 10.0
"""How long the SMPP provider waits for a submit_sm_resp."""


class AlertingSettings(ServiceSettings):
    """Settings of the alerting service; SMS provider settings are checked at start."""

    service_name: str = "alerting"
    http_port: int = 8003
    consumer_group: str = "alerting"
    max_records: int = Field(default=2000, ge=1, le=100_000)
    timezone: str = Field(default=DEFAULT_TIMEZONE, description="hours of the week are local")
    tick_seconds: float = Field(default=5.0, gt=0, le=300, description="wall-clock evaluation")
    baseline_alpha: float = Field(default=0.3, gt=0, le=1, description="EWMA weight of an hour")
    retention_days: int = Field(default=15, ge=2, description="minute buckets kept (history)")

    sms_provider: Literal["log", "http", "smpp"] = "log"
    sms_http_url: str | None = None
    sms_http_token: str | None = None
    sms_http_timeout_seconds: float = Field(default=5.0, gt=0, le=120)
    sms_receipt_url: str | None = Field(
        default=None, description="our receipt callback the HTTP gateway is told to call"
    )
    sms_receipt_token: str | None = None
    smpp_host: str = "127.0.0.1"
    smpp_port: int = Field(default=2775, ge=1, le=65535)
    smpp_system_id: str = "alerting"
    smpp_password: str = ""
    smpp_source_addr: str = "10086"
    sms_batch_size: int = Field(default=50, ge=1, le=1000)
    sms_poll_seconds: float = Field(default=0.5, gt=0, le=60)
    sms_lease_seconds: float = Field(default=30.0, ge=1, le=3600)
    sms_max_attempts: int = Field(default=15, ge=1, le=1000)
    sms_backoff_base_seconds: float = Field(default=1.0, gt=0, le=3600)
    sms_backoff_max_seconds: float = Field(default=120.0, gt=0, le=86_400)
    sms_rate_limit_count: int = Field(default=20, ge=1, description="SMS per recipient …")
    sms_rate_limit_window_seconds: float = Field(default=600.0, gt=0, description="… per window")

    @property
    def max_clock_lead_hours(self) -> float:
        """How far ahead of the wall clock the detection clock may run: the platform's
        `EVENT_TIME_TOLERANCE_SECONDS` (a few minutes of clock skew), in hours."""
        return self.event_time_tolerance_seconds / 3600

    @model_validator(mode="after")
    def _history_outlives_dedup(self) -> AlertingSettings:
        # complaint ids count a complaint once across resends under new event ids
        if self.retention_days <= self.dedup_retention_days:
            raise ValueError("RETENTION_DAYS must exceed DEDUP_RETENTION_DAYS")
        return self

    @model_validator(mode="after")
    def _provider_complete(self) -> AlertingSettings:
        if self.sms_provider == "http" and not self.sms_http_url:
            raise ValueError("SMS_PROVIDER=http needs SMS_HTTP_URL")
        if self.sms_provider == "http" and not self.sms_receipt_token:
            # Receipts mark SMS delivered or failed: without a token anyone who reaches
            # the port could rewrite every SMS's status.
            raise ValueError("SMS_PROVIDER=http needs SMS_RECEIPT_TOKEN (receipts are checked)")
        timeout = {"http": self.sms_http_timeout_seconds, "smpp": SMPP_TIMEOUT_SECONDS}.get(
            self.sms_provider, 0.0
        )
        if self.sms_lease_seconds <= timeout:
            # A lease renewed before each group must outlast the group's provider calls.
            raise ValueError(
                f"SMS_LEASE_SECONDS ({self.sms_lease_seconds:g}) must exceed the provider's "
                f"timeout ({timeout:g} s)"
            )
        return self
