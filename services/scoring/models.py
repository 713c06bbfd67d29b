"""Tables the scoring service owns: the organisation and configuration, and the pipeline's
per-agent-day aggregates and results.

Aggregates are sums per (agent, business day), updated by bulk upserts as
events arrive; settlement reads these, never the events.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel

from shared.models import timestamp_now
from shared.tables import DocumentVersion, optional, required, row_id
from shared.vocabulary import DEFAULT_TIMEZONE

# =================================================================================================
# Organisation and configuration (migration 0002_scoring_config; services/scoring/org/ and
# services/scoring/library/). Keep other tables outside this section.
# =================================================================================================

ID_LENGTH = 64
"""Longest id an upstream system may give a center, department, team or agent."""


def _id_column(*, primary_key: bool = False, references: str | None = None) -> Column[Any]:
    foreign = (ForeignKey(references),) if references else ()
    return Column(String(ID_LENGTH), *foreign, primary_key=primary_key, nullable=False)


class _OrgNode(SQLModel):
    """Columns every org node has: its name, whether it is still in the org, when it changed."""

    name: str = Field(sa_type=Text, nullable=False)
    active: bool = Field(
        default=True, nullable=False, sa_column_kwargs={"server_default": text("true")}
    )
    updated_at: datetime | None = Field(
        default=None,
        sa_type=DateTime(timezone=True),
        nullable=False,
        sa_column_kwargs={"server_default": func.now()},
    )


class OrgCenter(_OrgNode, table=True):
    """A center (中心); inactive once removed from the org, kept for history."""

    __tablename__ = "scoring_centers"

    id: str = Field(sa_column=_id_column(primary_key=True))
    timezone: str = Field(
        default=DEFAULT_TIMEZONE,
        sa_column=Column(Text, nullable=False, server_default=DEFAULT_TIMEZONE),
    )


class OrgDepartment(_OrgNode, table=True):
    """A department (部门) of a center."""

    __tablename__ = "scoring_departments"
    __table_args__ = (Index("ix_scoring_departments_center", "center_id"),)

    id: str = Field(sa_column=_id_column(primary_key=True))
    center_id: str = Field(sa_column=_id_column(references="scoring_centers.id"))


class OrgTeam(_OrgNode, table=True):
    """A team (班组) of a department."""

    __tablename__ = "scoring_teams"
    __table_args__ = (Index("ix_scoring_teams_department", "department_id"),)

    id: str = Field(sa_column=_id_column(primary_key=True))
    department_id: str = Field(sa_column=_id_column(references="scoring_departments.id"))


class OrgAgent(_OrgNode, table=True):
    """An agent (个体), by work number; where they sit is in `OrgMembership`."""

    __tablename__ = "scoring_agents"

    id: str = Field(sa_column=_id_column(primary_key=True))


class OrgMembership(SQLModel, table=True):
    """An agent's membership of a team on the days [valid_from, valid_to)."""

    __tablename__ = "scoring_memberships"
    __table_args__ = (
        CheckConstraint(
            "valid_to IS NULL OR valid_to > valid_from", name="ck_scoring_memberships_range"
        ),
        Index(
            "ux_scoring_memberships_open",
            "agent_id",
            unique=True,
            postgresql_where=text("valid_to IS NULL"),
        ),
        Index("ix_scoring_memberships_agent_from", "agent_id", "valid_from"),
        Index("ix_scoring_memberships_team", "team_id"),
    )

    id: int | None = row_id()
    agent_id: str = Field(sa_column=_id_column(references="scoring_agents.id"))
    team_id: str = Field(sa_column=_id_column(references="scoring_teams.id"))
    valid_from: date = required(Date)
    valid_to: date | None = optional(Date)


class SettledDay(SQLModel, table=True):
    """A center's business day that settlement has made final (written by the pipeline)."""

    __tablename__ = "scoring_settled_days"

    center_id: str = Field(sa_column=Column(Text, primary_key=True))
    business_date: date = Field(sa_column=Column(Date, primary_key=True))
    settled_at: datetime | None = timestamp_now()


class LibraryVersion(DocumentVersion, table=True):
    """A center's indicator library and settings, in force from `effective_from` on."""

    __tablename__ = "scoring_library_versions"
    __table_args__ = (
        Index("ix_scoring_library_versions_lookup", "center_id", "effective_from", "id"),
    )

    id: int | None = row_id()
    center_id: str = Field(sa_column=_id_column(references="scoring_centers.id"))


class TierVersion(DocumentVersion, table=True):
    """Tiers of one scope (center, optional department, owner kind) from `effective_from` on."""

    __tablename__ = "scoring_tier_versions"
    __table_args__ = (
        CheckConstraint(
            "owner_kind IN ('agent', 'team', 'department', 'center')",
            name="ck_scoring_tier_versions_owner_kind",
        ),
        Index("ix_scoring_tier_versions_lookup", "center_id", "effective_from", "id"),
    )

    id: int | None = row_id()
    center_id: str = Field(sa_column=_id_column(references="scoring_centers.id"))
    department_id: str | None = Field(
        default=None,
        sa_column=Column(String(ID_LENGTH), ForeignKey("scoring_departments.id"), nullable=True),
    )
    owner_kind: str = required(Text)


# ============================================ end of the organisation and configuration section


# =================================================================================================
# The pipeline: per-agent-day aggregates, FCR calls, state cursors, complaints, watermarks and
# results (migrations 0004_scoring_days, 0006_state_copies; services/scoring/repo.py).
# =================================================================================================


def _int() -> int:
    return Field(default=0, sa_column_kwargs={"nullable": False, "server_default": "0"})  # type: ignore[no-any-return]


class AgentDay(SQLModel, table=True):
    """What one agent did on one business day: additive totals."""

    __tablename__ = "scoring_agent_days"
    __table_args__ = (Index("ix_scoring_agent_days_date", "business_date"),)

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
    caller_id: str = required(String(128))
    answered_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    agent_id: str = required(String(128))
    business_date: date = required(Date)
    repeated: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))


class AgentCursor(SQLModel, table=True):
    """An agent's current state and since when (to close state spans)."""

    __tablename__ = "scoring_agent_cursors"

    agent_id: str = Field(sa_column=Column(String(128), primary_key=True))
    state: str = required(String(16))
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
    agent_id: str | None = optional(String(128))
    business_date: date | None = optional(Date)
    justified: bool | None = optional(Boolean)
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
    center_id: str = required(String(128))
    value: float | None = optional(Float)
    sample: float = Field(default=0.0, sa_column=Column(Float, nullable=False))
    points: float = Field(default=0.0, sa_column=Column(Float, nullable=False))
    state: str = required(String(16))
    settled: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    revision: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    computed_at: datetime | None = timestamp_now()
