"""Tables the scoring service owns."""

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
    ForeignKey,
    Identity,
    Index,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

# =================================================================================================
# Organisation and configuration (migration 0002_scoring_config; services/scoring/org/ and
# services/scoring/library/). Keep other tables outside this section.
# =================================================================================================

ID_LENGTH = 64
"""Longest id an upstream system may give a center, department, team or agent."""


def _id_column(*, primary_key: bool = False, references: str | None = None) -> Column[Any]:
    foreign = (ForeignKey(references),) if references else ()
    return Column(String(ID_LENGTH), *foreign, primary_key=primary_key, nullable=False)


def _active_column() -> Column[Any]:
    return Column(Boolean, nullable=False, server_default=text("true"))


def _updated_column() -> Column[Any]:
    return Column(DateTime(timezone=True), nullable=False, server_default=func.now())


class OrgCenter(SQLModel, table=True):
    """A center (中心); inactive once removed from the org, kept for history."""

    __tablename__ = "scoring_centers"

    id: str = Field(sa_column=_id_column(primary_key=True))
    name: str = Field(sa_column=Column(Text, nullable=False))
    timezone: str = Field(
        default="Asia/Shanghai",
        sa_column=Column(Text, nullable=False, server_default="Asia/Shanghai"),
    )
    active: bool = Field(default=True, sa_column=_active_column())
    updated_at: datetime | None = Field(default=None, sa_column=_updated_column())


class OrgDepartment(SQLModel, table=True):
    """A department (部门) of a center."""

    __tablename__ = "scoring_departments"
    __table_args__ = (Index("ix_scoring_departments_center", "center_id"),)

    id: str = Field(sa_column=_id_column(primary_key=True))
    center_id: str = Field(sa_column=_id_column(references="scoring_centers.id"))
    name: str = Field(sa_column=Column(Text, nullable=False))
    active: bool = Field(default=True, sa_column=_active_column())
    updated_at: datetime | None = Field(default=None, sa_column=_updated_column())


class OrgTeam(SQLModel, table=True):
    """A team (班组) of a department."""

    __tablename__ = "scoring_teams"
    __table_args__ = (Index("ix_scoring_teams_department", "department_id"),)

    id: str = Field(sa_column=_id_column(primary_key=True))
    department_id: str = Field(sa_column=_id_column(references="scoring_departments.id"))
    name: str = Field(sa_column=Column(Text, nullable=False))
    active: bool = Field(default=True, sa_column=_active_column())
    updated_at: datetime | None = Field(default=None, sa_column=_updated_column())


class OrgAgent(SQLModel, table=True):
    """An agent (个体), by work number; where they sit is in `OrgMembership`."""

    __tablename__ = "scoring_agents"

    id: str = Field(sa_column=_id_column(primary_key=True))
    name: str = Field(sa_column=Column(Text, nullable=False))
    active: bool = Field(default=True, sa_column=_active_column())
    updated_at: datetime | None = Field(default=None, sa_column=_updated_column())


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

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger, Identity(always=True), primary_key=True)
    )
    agent_id: str = Field(sa_column=_id_column(references="scoring_agents.id"))
    team_id: str = Field(sa_column=_id_column(references="scoring_teams.id"))
    valid_from: date = Field(sa_column=Column(Date, nullable=False))
    valid_to: date | None = Field(default=None, sa_column=Column(Date, nullable=True))


class SettledDay(SQLModel, table=True):
    """A center's business day that settlement has made final (written by the pipeline)."""

    __tablename__ = "scoring_settled_days"

    center_id: str = Field(sa_column=Column(Text, primary_key=True))
    business_date: date = Field(sa_column=Column(Date, primary_key=True))
    settled_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


OWNER_KINDS = ("agent", "team", "department", "center")


class LibraryVersion(SQLModel, table=True):
    """A center's indicator library and settings, in force from `effective_from` on."""

    __tablename__ = "scoring_library_versions"
    __table_args__ = (
        Index("ix_scoring_library_versions_lookup", "center_id", "effective_from", "id"),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger, Identity(always=True), primary_key=True)
    )
    center_id: str = Field(sa_column=_id_column(references="scoring_centers.id"))
    effective_from: date = Field(sa_column=Column(Date, nullable=False))
    document: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    created_by: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


class TierVersion(SQLModel, table=True):
    """Tiers of one scope (center, optional department, owner kind) from `effective_from` on."""

    __tablename__ = "scoring_tier_versions"
    __table_args__ = (
        CheckConstraint(
            "owner_kind IN ('agent', 'team', 'department', 'center')",
            name="ck_scoring_tier_versions_owner_kind",
        ),
        Index("ix_scoring_tier_versions_lookup", "center_id", "effective_from", "id"),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger, Identity(always=True), primary_key=True)
    )
    center_id: str = Field(sa_column=_id_column(references="scoring_centers.id"))
    department_id: str | None = Field(
        default=None,
        sa_column=Column(String(ID_LENGTH), ForeignKey("scoring_departments.id"), nullable=True),
    )
    owner_kind: str = Field(sa_column=Column(Text, nullable=False))
    effective_from: date = Field(sa_column=Column(Date, nullable=False))
    document: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    created_by: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


# ============================================ end of the organisation and configuration section
