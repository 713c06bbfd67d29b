"""Tables of the scoring pipeline: per-owner-day aggregates and results.

Aggregates are sums per (agent, business day), updated by bulk upserts as
events arrive; settlement reads these, never the events.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel


def _int() -> int:
    return Field(default=0, sa_column_kwargs={"nullable": False, "server_default": "0"})  # type: ignore[no-any-return]


class AgentDay(SQLModel, table=True):
    """What one agent did on one business day: additive totals."""

    __tablename__ = "scoring_agent_days"

    agent_id: str = Field(sa_column=Column(String(128), primary_key=True))
    business_date: date = Field(sa_column=Column(Date, primary_key=True))
    calls: int = _int()
    handle_seconds: float = Field(
        default=0.0, sa_column=Column(Float, nullable=False, server_default="0")
    )
    repeated_calls: int = _int()
    score_1: int = _int()
    score_2: int = _int()
    score_3: int = _int()
    score_4: int = _int()
    score_5: int = _int()
    logged_in_seconds: float = Field(
        default=0.0, sa_column=Column(Float, nullable=False, server_default="0")
    )
    busy_seconds: float = Field(
        default=0.0, sa_column=Column(Float, nullable=False, server_default="0")
    )
    justified_complaints: int = _int()
    late_events: int = _int()


class AgentMetric(SQLModel, table=True):
    """A department indicator's reported values for one agent-day (sum and count)."""

    __tablename__ = "scoring_agent_metrics"

    agent_id: str = Field(sa_column=Column(String(128), primary_key=True))
    business_date: date = Field(sa_column=Column(Date, primary_key=True))
    indicator: str = Field(sa_column=Column(String(48), primary_key=True))
    total: float = Field(default=0.0, sa_column=Column(Float, nullable=False))
    count: int = Field(default=0, sa_column=Column(Integer, nullable=False))


class FcrCall(SQLModel, table=True):
    """A call kept for `fcr_window` to find repeat calls by the same caller."""

    __tablename__ = "scoring_fcr_calls"
    __table_args__ = (Index("ix_scoring_fcr_calls_caller", "caller_id", "answered_at"),)

    call_key: str = Field(sa_column=Column(String(200), primary_key=True))
    caller_id: str = Field(sa_column=Column(String(128), nullable=False))
    answered_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    agent_id: str = Field(sa_column=Column(String(128), nullable=False))
    business_date: date = Field(sa_column=Column(Date, nullable=False))
    repeated: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))


class AgentCursor(SQLModel, table=True):
    """An agent's current state and since when (to close state spans)."""

    __tablename__ = "scoring_agent_cursors"

    agent_id: str = Field(sa_column=Column(String(128), primary_key=True))
    state: str = Field(sa_column=Column(String(16), nullable=False))
    since: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    entered_at_since: list[str] = Field(
        default_factory=list,
        sa_column=Column(ARRAY(String(16)), nullable=False, server_default=text("'{}'")),
    )
    """Every state entered at `since`, in order (a copy of one of them changes nothing)."""


class ComplaintRecord(SQLModel, table=True):
    """A complaint about an agent's service, as last known (for the justified count)."""

    __tablename__ = "scoring_complaints"

    complaint_id: str = Field(sa_column=Column(String(128), primary_key=True))
    agent_id: str | None = Field(default=None, sa_column=Column(String(128), nullable=True))
    business_date: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    justified: bool | None = Field(default=None, sa_column=Column(Boolean, nullable=True))
    withdrawn: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    counted: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    last_update_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    justified_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class Watermark(SQLModel, table=True):
    """The latest `occurred_at` seen on one partition (event time), for settlement."""

    __tablename__ = "scoring_watermarks"

    topic: str = Field(sa_column=Column(String(249), primary_key=True))
    partition: int = Field(sa_column=Column(Integer, primary_key=True))
    max_occurred_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    touched_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class DirtyDay(SQLModel, table=True):
    """A business day whose aggregates changed since its last preview."""

    __tablename__ = "scoring_dirty_days"

    business_date: date = Field(sa_column=Column(Date, primary_key=True))


class ScoreResult(SQLModel, table=True):
    """An indicator's outcome for an owner and day: live preview, then settled (final)."""

    __tablename__ = "scoring_results"
    __table_args__ = (Index("ix_scoring_results_day", "business_date", "owner_kind"),)

    owner_kind: str = Field(sa_column=Column(String(16), primary_key=True))
    owner_id: str = Field(sa_column=Column(String(128), primary_key=True))
    business_date: date = Field(sa_column=Column(Date, primary_key=True))
    indicator: str = Field(sa_column=Column(String(48), primary_key=True))
    center_id: str = Field(sa_column=Column(String(128), nullable=False))
    value: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    sample: float = Field(default=0.0, sa_column=Column(Float, nullable=False))
    points: float = Field(default=0.0, sa_column=Column(Float, nullable=False))
    state: str = Field(sa_column=Column(String(16), nullable=False))
    settled: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    revision: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    computed_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
