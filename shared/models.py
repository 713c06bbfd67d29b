"""Tables the plumbing owns: processed events (dedup) and the transactional outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, Identity, Index, LargeBinary, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel


def timestamp_now() -> Any:
    """A `timestamptz NOT NULL DEFAULT now()` column: when the database wrote the row."""
    return Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


class ProcessedEvent(SQLModel, table=True):
    """An event a consumer has applied; written in the same transaction as its effects."""

    __tablename__ = "processed_events"
    __table_args__ = (Index("ix_processed_events_age", "processed_at"),)  # pruning by age

    consumer: str = Field(sa_column=Column(String(64), primary_key=True))
    event_id: str = Field(sa_column=Column(String(160), primary_key=True))
    processed_at: datetime | None = timestamp_now()


class OutboxMessage(SQLModel, table=True):
    """A derived event waiting to be published; committed with the state it describes."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_producer_id", "producer", "id"),)

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger, Identity(always=True), primary_key=True)
    )
    producer: str = Field(sa_column=Column(String(64), nullable=False))
    topic: str = Field(sa_column=Column(String(249), nullable=False))
    key: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    payload: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    headers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    created_at: datetime | None = timestamp_now()
