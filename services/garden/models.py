"""Garden tables: plants and the settled days they grow from, previews, the timeline,
harvests, the member view, configuration versions, idempotency records and improvement
campaigns.

A plant is (owner_kind, owner_id, indicator). Its row is derived: the consumer
regrows it from its stored days (`garden_plant_days`) with the configuration
in force on each day, so a replay or a late revision recomputes the same row.
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
    Identity,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from shared.models import timestamp_now
from shared.tables import DocumentVersion, optional, required, row_id

NAME = 128
"""Longest owner id, unit id, indicator code or fruit kind (the contracts' `Name`)."""
ENTRY_ID = 256
"""Longest timeline entry or harvest id (the contracts' event id)."""
_OWNER_KINDS = "owner_kind IN ('agent', 'team', 'department', 'center')"


def _name(*, primary_key: bool = False, nullable: bool = False) -> Any:
    return Field(sa_column=Column(String(NAME), primary_key=primary_key, nullable=nullable))


def _optional_name() -> Any:
    return Field(default=None, sa_column=Column(String(NAME), nullable=True))


class GardenPlant(SQLModel, table=True):
    """One owner's plant for one indicator, as grown from its settled days."""

    __tablename__ = "garden_plants"
    __table_args__ = (
        CheckConstraint(_OWNER_KINDS, name="ck_garden_plants_owner_kind"),
        Index("ix_garden_plants_center", "center_id"),
        Index("ix_garden_plants_ripe", "center_id", "owner_kind", "owner_id"),
    )

    owner_kind: str = Field(sa_column=Column(String(16), primary_key=True))
    owner_id: str = _name(primary_key=True)
    indicator: str = _name(primary_key=True)
    center_id: str = _name()
    department_id: str | None = _optional_name()
    team_id: str | None = _optional_name()
    fruit: str | None = _optional_name()
    stage: int = required(SmallInteger)
    growth: float = required(Float)
    state: str = required(String(16))
    cycle: int = required(Integer)
    fruit_ripened: int = required(Integer)
    fruit_harvested: int = required(Integer)
    last_rated: date | None = optional(Date)
    updated_at: datetime | None = timestamp_now()


class _PlantDayScore(SQLModel):
    """A plant's score on one day: the columns settled days and previews share."""

    owner_kind: str = Field(primary_key=True, sa_type=String(16))
    owner_id: str = Field(primary_key=True, sa_type=String(NAME))
    indicator: str = Field(primary_key=True, sa_type=String(NAME))
    business_date: date = Field(primary_key=True, sa_type=Date)
    points: float = Field(nullable=False, sa_type=Float)
    state: str = Field(nullable=False, sa_type=String(16))
    revision: int = Field(nullable=False, sa_type=Integer)


class GardenPlantDay(_PlantDayScore, table=True):
    """A settled day of a plant (the copy that counts: highest revision, then content)."""

    __tablename__ = "garden_plant_days"

    fruit: str | None = _optional_name()
    value: float | None = optional(Float)
    """The indicator's value that day (None when nothing could be measured)."""


class GardenPreview(_PlantDayScore, table=True):
    """The latest `score.previewed` of a plant for an open day (grows nothing)."""

    __tablename__ = "garden_previews"


class GardenTimelineEntry(SQLModel, table=True):
    """Something that happened to a plant; each entry is one event of `cc.garden.v1`."""

    __tablename__ = "garden_timeline"
    __table_args__ = (Index("ix_garden_timeline_owner", "owner_kind", "owner_id", "seq"),)

    entry_id: str = Field(sa_column=Column(String(ENTRY_ID), primary_key=True))
    seq: int | None = Field(
        default=None, sa_column=Column(BigInteger, Identity(always=True), nullable=False)
    )
    owner_kind: str = required(String(16))
    owner_id: str = _name()
    indicator: str = _name()
    kind: str = required(String(32))
    business_date: date = required(Date)
    detail: dict[str, Any] = required(JSONB)
    recorded_at: datetime | None = timestamp_now()


class GardenHarvest(SQLModel, table=True):
    """A lot of fruit collected from a plant: fruit `first_fruit`..`through_fruit`."""

    __tablename__ = "garden_harvests"
    __table_args__ = (
        CheckConstraint("trigger IN ('owner', 'automatic')", name="ck_garden_harvests_trigger"),
        Index("ix_garden_harvests_plant", "owner_kind", "owner_id", "indicator"),
        Index("ix_garden_harvests_period", "center_id", "business_date"),
    )

    harvest_id: str = Field(sa_column=Column(String(ENTRY_ID), primary_key=True))
    owner_kind: str = required(String(16))
    owner_id: str = _name()
    indicator: str = _name()
    center_id: str = _name()
    fruit: str = _name()
    first_fruit: int = required(Integer)
    through_fruit: int = required(Integer)
    count: int = required(Integer)
    trigger: str = required(String(16))
    harvested_by: str | None = _optional_name()
    business_date: date = required(Date)
    harvested_at: datetime | None = timestamp_now()


class GardenMember(SQLModel, table=True):
    """Where an owner sits in the organisation as of its latest settled day (from the scores)."""

    __tablename__ = "garden_members"
    __table_args__ = (
        CheckConstraint(_OWNER_KINDS, name="ck_garden_members_owner_kind"),
        Index("ix_garden_members_team", "team_id"),
        Index("ix_garden_members_department", "department_id"),
        Index("ix_garden_members_center", "center_id"),
    )

    owner_kind: str = Field(sa_column=Column(String(16), primary_key=True))
    owner_id: str = _name(primary_key=True)
    center_id: str = _name()
    department_id: str | None = _optional_name()
    team_id: str | None = _optional_name()
    name: str | None = optional(Text)
    as_of: date = required(Date)
    updated_at: datetime | None = timestamp_now()


class GardenConfigVersion(DocumentVersion, table=True):
    """A center's garden configuration from `effective_from` on (admin `PUT /v1/config/garden`)."""

    __tablename__ = "garden_config_versions"
    __table_args__ = (
        Index("ix_garden_config_versions_lookup", "center_id", "effective_from", "id"),
    )

    id: int | None = row_id()
    center_id: str = _name()


class GardenIdempotency(SQLModel, table=True):
    """The first answer to a request with an `Idempotency-Key` (per caller)."""

    __tablename__ = "garden_idempotency"
    __table_args__ = (Index("ix_garden_idempotency_age", "created_at"),)

    principal: str = Field(sa_column=Column(String(NAME), primary_key=True))
    key: str = Field(sa_column=Column(String(NAME), primary_key=True))
    route: str = required(Text)
    request_hash: str = required(String(64))
    status: int = required(SmallInteger)
    response: dict[str, Any] = required(JSONB)
    created_at: datetime | None = timestamp_now()


CAMPAIGN_ID = 64
"""Longest campaign id (`cmp-` and 24 hex digits today)."""
_CLASSES = "IN ('A', 'B', 'C', 'unrated')"


def _campaign_id(*, primary_key: bool = True) -> Any:
    return Field(sa_column=Column(String(CAMPAIGN_ID), primary_key=primary_key, nullable=False))


class GardenCampaign(SQLModel, table=True):
    """An improvement campaign: one indicator, one unit, a period and a goal; its start
    snapshot (`start`: classes and the unit's value) and, once over, its result."""

    __tablename__ = "garden_campaigns"
    __table_args__ = (
        CheckConstraint(
            "unit_kind IN ('team', 'department', 'center')", name="ck_garden_campaigns_unit_kind"
        ),
        CheckConstraint("ends_on >= starts_on", name="ck_garden_campaigns_period"),
        Index("ix_garden_campaigns_seq", "seq", unique=True),
        Index("ix_garden_campaigns_unit", "unit_kind", "unit_id", "indicator"),
        Index("ix_garden_campaigns_center", "center_id", "seq"),
        Index("ix_garden_campaigns_department", "department_id"),
        Index("ix_garden_campaigns_team", "team_id"),
    )

    campaign_id: str = _campaign_id()
    seq: int | None = Field(
        default=None, sa_column=Column(BigInteger, Identity(always=True), nullable=False)
    )
    name: str = required(Text)
    indicator: str = _name()
    unit_kind: str = required(String(16))
    unit_id: str = _name()
    center_id: str = _name()
    department_id: str | None = _optional_name()
    team_id: str | None = _optional_name()
    starts_on: date = required(Date)
    ends_on: date = required(Date)
    goal: dict[str, Any] = required(JSONB)
    start: dict[str, Any] = required(JSONB)
    created_by: str = _name()
    created_at: datetime | None = timestamp_now()
    last_recorded: date | None = optional(Date)
    ended_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    result: dict[str, Any] | None = optional(JSONB)
    result_digest: str | None = optional(String(64))


class GardenCampaignMember(SQLModel, table=True):
    """A member of a campaign (an agent of its unit when it started) and their start class."""

    __tablename__ = "garden_campaign_members"
    __table_args__ = (
        CheckConstraint(f"start_class {_CLASSES}", name="ck_garden_campaign_members_class"),
        Index("ix_garden_campaign_members_agent", "agent_id"),
    )

    campaign_id: str = _campaign_id()
    agent_id: str = _name(primary_key=True)
    name: str = required(Text)
    start_class: str = required(String(16))
    start_value: float | None = optional(Float)
    start_date: date | None = optional(Date)


class GardenCampaignDay(SQLModel, table=True):
    """A settled day of a campaign: every member's class and value, the split, the unit's
    value and the moves of that day (`digest` tells whether a recompute changed it)."""

    __tablename__ = "garden_campaign_days"

    campaign_id: str = _campaign_id()
    business_date: date = Field(sa_column=Column(Date, primary_key=True))
    classes: dict[str, Any] = required(JSONB)
    unit_value: float | None = optional(Float)
    members: dict[str, Any] = required(JSONB)
    moves: list[Any] = required(JSONB)
    digest: str = required(String(64))
    recorded_at: datetime | None = timestamp_now()


class GardenCampaignCountermeasure(SQLModel, table=True):
    """A countermeasure of a campaign's plan (IAPDS "Plan"): what, who, when it is checked."""

    __tablename__ = "garden_campaign_countermeasures"
    __table_args__ = (Index("ix_garden_campaign_countermeasures_campaign", "campaign_id", "id"),)

    id: int | None = row_id()
    campaign_id: str = _campaign_id(primary_key=False)
    what: str = required(Text)
    who: str = required(Text)
    check_on: date = required(Date)
    done: bool = required(Boolean)
    done_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    done_by: str | None = _optional_name()
    created_by: str = _name()
    created_at: datetime | None = timestamp_now()
