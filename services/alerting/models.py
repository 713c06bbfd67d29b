"""Alerting tables: complaint history per minute, baselines, incidents, audit trail, SMS.

Window state lives here, not in the consumer's memory: per-minute counts per
(category, region) are summed into windows, so a restart or a rebalance loses
nothing, and they are the history the baselines learn from.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from shared.models import timestamp_now
from shared.tables import required, row_id


def _ts(nullable: bool = False, **kw: Any) -> Any:
    return Field(sa_column=Column(DateTime(timezone=True), nullable=nullable, **kw))


class ComplaintBucket(SQLModel, table=True):
    """Complaints of a category in a region filed in one minute (and withdrawn since)."""

    __tablename__ = "alert_complaint_buckets"

    category: str = Field(sa_column=Column(String(128), primary_key=True))
    region: str = Field(sa_column=Column(String(128), primary_key=True))
    minute: datetime = Field(sa_column=Column(DateTime(timezone=True), primary_key=True))
    filed: int = Field(sa_column=Column(Integer, nullable=False, server_default="0"))
    withdrawn: int = Field(sa_column=Column(Integer, nullable=False, server_default="0"))


class ComplaintSeen(SQLModel, table=True):
    """A complaint counted (or withdrawn before it was filed): counts each complaint once."""

    __tablename__ = "alert_complaints"

    complaint_id: str = Field(sa_column=Column(String(128), primary_key=True))
    category: str | None = Field(default=None, sa_column=Column(String(128)))
    region: str | None = Field(default=None, sa_column=Column(String(128)))
    minute: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    withdrawn: bool = Field(sa_column=Column(Boolean, nullable=False, server_default="false"))


class DetectionClockRow(SQLModel, table=True):
    """A category's detection clock: latest event time and the wall time it was seen."""

    __tablename__ = "alert_clocks"

    category: str = Field(sa_column=Column(String(128), primary_key=True))
    watermark: datetime = _ts()
    observed_at: datetime = _ts()


class Series(SQLModel, table=True):
    """A watched series (category, region or `*`) and the hour its baseline learned up to."""

    __tablename__ = "alert_series"

    category: str = Field(sa_column=Column(String(128), primary_key=True))
    region: str = Field(sa_column=Column(String(128), primary_key=True))
    learned_through: datetime = _ts()


class BaselineRow(SQLModel, table=True):
    """Complaints per hour a series typically sees in one hour of the week."""

    __tablename__ = "alert_baselines"

    category: str = Field(sa_column=Column(String(128), primary_key=True))
    region: str = Field(sa_column=Column(String(128), primary_key=True))
    hour_of_week: int = Field(sa_column=Column(SmallInteger, primary_key=True))
    per_hour: float = required(Float)
    samples: int = required(Integer)


class RuleSet(SQLModel, table=True):
    """A version of the surge rules (the newest is in force; older ones are history)."""

    __tablename__ = "alert_rule_sets"

    id: int | None = row_id()
    document: dict[str, Any] = required(JSONB)
    updated_by: str = required(String(128))
    created_at: datetime | None = timestamp_now()


class SilenceRow(SQLModel, table=True):
    """A silence: SMS held back for a category (and region) during a time range."""

    __tablename__ = "alert_silences"

    id: int | None = row_id()
    category: str = required(String(128))
    region: str = required(String(128))
    starts_at: datetime = _ts()
    ends_at: datetime = _ts()
    reason: str = Field(sa_column=Column(Text, nullable=False, server_default=""))
    created_by: str = required(String(128))
    created_at: datetime | None = timestamp_now()


class IncidentRow(SQLModel, table=True):
    """A complaint surge from detection to resolution (at most one active per series)."""

    __tablename__ = "alert_incidents"
    __table_args__ = (
        Index(
            "ux_alert_incidents_active",
            "rule_id",
            "region",
            unique=True,
            postgresql_where=text("status <> 'resolved'"),
        ),
        Index("ix_alert_incidents_status", "status", "id"),
    )

    id: int | None = row_id()
    rule_id: str = required(String(260))
    category: str = required(String(128))
    region: str = required(String(128))
    department: str = required(String(128))
    status: str = required(String(16))
    level: int = required(SmallInteger)
    notified_level: int = required(SmallInteger)
    opened_at: datetime = _ts()
    last_notified_at: datetime | None = _ts(nullable=True)
    repeats: int = required(Integer)
    acknowledged_at: datetime | None = _ts(nullable=True)
    acknowledged_by: str | None = Field(default=None, sa_column=Column(String(128)))
    below_since: datetime | None = _ts(nullable=True)
    resolved_at: datetime | None = _ts(nullable=True)
    resolved_by: str | None = Field(default=None, sa_column=Column(String(128)))
    resolution: str | None = Field(default=None, sa_column=Column(String(16)))
    last_count: int = required(Integer)
    peak_count: int = required(Integer)
    baseline: float = required(Float)
    threshold: int = required(Integer)
    silenced: bool = required(Boolean)
    window_minutes: int = required(Integer)
    created_at: datetime | None = timestamp_now()
    updated_at: datetime | None = timestamp_now()


class IncidentEventRow(SQLModel, table=True):
    """One entry of an incident's audit trail (also published on cc.alerts.v1)."""

    __tablename__ = "alert_incident_events"
    __table_args__ = (Index("ix_alert_incident_events_incident", "incident_id", "id"),)

    id: int | None = row_id()
    incident_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("alert_incidents.id"), nullable=False)
    )
    kind: str = required(String(32))
    at: datetime = _ts()
    level: int = required(SmallInteger)
    count: int = required(Integer)
    actor: str | None = Field(default=None, sa_column=Column(String(128)))
    detail: dict[str, Any] = required(JSONB)
    recorded_at: datetime | None = timestamp_now()


class SmsMessage(SQLModel, table=True):
    """An SMS in the SMS outbox: queued → sending → sent → delivered / failed.

    Written in the transaction that decided it; unique per incident, level,
    kind and recipient, so the same SMS can never be queued twice.
    """

    __tablename__ = "alert_sms"
    __table_args__ = (
        UniqueConstraint("incident_id", "level", "kind", "phone", name="ux_alert_sms_once"),
        Index(
            "ix_alert_sms_due",
            "next_attempt_at",
            postgresql_where=text("status IN ('queued', 'sending')"),
        ),
        Index("ix_alert_sms_recipient", "phone", "sent_at"),
        Index("ix_alert_sms_incident", "incident_id", "id"),
    )

    id: int | None = row_id()
    incident_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("alert_incidents.id"), nullable=False)
    )
    level: int = required(SmallInteger)
    kind: str = required(String(32))
    phone: str = required(String(32))
    recipient: str = required(String(128))
    body: str = required(Text)
    status: str = required(String(16))
    attempts: int = Field(sa_column=Column(Integer, nullable=False, server_default="0"))
    next_attempt_at: datetime = _ts()
    lease_until: datetime | None = _ts(nullable=True)
    provider: str | None = Field(default=None, sa_column=Column(String(16)))
    provider_message_id: str | None = Field(default=None, sa_column=Column(String(128)))
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    detected_at: datetime | None = _ts(nullable=True)
    created_at: datetime | None = timestamp_now()
    sent_at: datetime | None = _ts(nullable=True)
    delivered_at: datetime | None = _ts(nullable=True)
    failed_at: datetime | None = _ts(nullable=True)
