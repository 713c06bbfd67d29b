"""Garden: plants, their settled days, previews, timeline, harvests, members, configuration
versions and idempotency records.

Revision ID: 0007_garden
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from shared.tables import row_id_column, timestamp_now_column

revision: str = "0007_garden"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("garden",)
depends_on: str | Sequence[str] | None = None

NAME = 128
ENTRY_ID = 256
OWNER_KINDS = "owner_kind IN ('agent', 'team', 'department', 'center')"


def _plant_key() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("owner_kind", sa.String(16), primary_key=True),
        sa.Column("owner_id", sa.String(NAME), primary_key=True),
        sa.Column("indicator", sa.String(NAME), primary_key=True),
    ]


def _plant_day_score() -> list[sa.Column]:  # type: ignore[type-arg]
    """A plant's score on one business day: a settled day's and a preview's columns."""
    return [
        *_plant_key(),
        sa.Column("business_date", sa.Date, primary_key=True),
        sa.Column("points", sa.Float, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "garden_plants",
        *_plant_key(),
        sa.Column("center_id", sa.String(NAME), nullable=False),
        sa.Column("department_id", sa.String(NAME)),
        sa.Column("team_id", sa.String(NAME)),
        sa.Column("fruit", sa.String(NAME)),
        sa.Column("stage", sa.SmallInteger, nullable=False),
        sa.Column("growth", sa.Float, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("cycle", sa.Integer, nullable=False),
        sa.Column("fruit_ripened", sa.Integer, nullable=False),
        sa.Column("fruit_harvested", sa.Integer, nullable=False),
        sa.Column("last_rated", sa.Date),
        timestamp_now_column("updated_at"),
        sa.CheckConstraint(OWNER_KINDS, name="ck_garden_plants_owner_kind"),
    )
    op.create_index("ix_garden_plants_center", "garden_plants", ["center_id"])
    op.create_index(
        "ix_garden_plants_ripe", "garden_plants", ["center_id", "owner_kind", "owner_id"]
    )
    op.create_table(
        "garden_plant_days",
        *_plant_day_score(),
        sa.Column("fruit", sa.String(NAME)),
    )
    op.create_table(
        "garden_previews",
        *_plant_day_score(),
    )
    op.create_table(
        "garden_timeline",
        sa.Column("entry_id", sa.String(ENTRY_ID), primary_key=True),
        sa.Column("seq", sa.BigInteger, sa.Identity(always=True), nullable=False),
        sa.Column("owner_kind", sa.String(16), nullable=False),
        sa.Column("owner_id", sa.String(NAME), nullable=False),
        sa.Column("indicator", sa.String(NAME), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("business_date", sa.Date, nullable=False),
        sa.Column("detail", postgresql.JSONB, nullable=False),
        timestamp_now_column("recorded_at"),
    )
    op.create_index(
        "ix_garden_timeline_owner", "garden_timeline", ["owner_kind", "owner_id", "seq"]
    )
    op.create_table(
        "garden_harvests",
        sa.Column("harvest_id", sa.String(ENTRY_ID), primary_key=True),
        sa.Column("owner_kind", sa.String(16), nullable=False),
        sa.Column("owner_id", sa.String(NAME), nullable=False),
        sa.Column("indicator", sa.String(NAME), nullable=False),
        sa.Column("center_id", sa.String(NAME), nullable=False),
        sa.Column("fruit", sa.String(NAME), nullable=False),
        sa.Column("first_fruit", sa.Integer, nullable=False),
        sa.Column("through_fruit", sa.Integer, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("harvested_by", sa.String(NAME)),
        sa.Column("business_date", sa.Date, nullable=False),
        timestamp_now_column("harvested_at"),
        sa.CheckConstraint("trigger IN ('owner', 'automatic')", name="ck_garden_harvests_trigger"),
    )
    op.create_index(
        "ix_garden_harvests_plant", "garden_harvests", ["owner_kind", "owner_id", "indicator"]
    )
    op.create_index("ix_garden_harvests_period", "garden_harvests", ["center_id", "business_date"])
    op.create_table(
        "garden_members",
        sa.Column("owner_kind", sa.String(16), primary_key=True),
        sa.Column("owner_id", sa.String(NAME), primary_key=True),
        sa.Column("center_id", sa.String(NAME), nullable=False),
        sa.Column("department_id", sa.String(NAME)),
        sa.Column("team_id", sa.String(NAME)),
        sa.Column("name", sa.Text),
        sa.Column("as_of", sa.Date, nullable=False),
        timestamp_now_column("updated_at"),
        sa.CheckConstraint(OWNER_KINDS, name="ck_garden_members_owner_kind"),
    )
    op.create_index("ix_garden_members_team", "garden_members", ["team_id"])
    op.create_index("ix_garden_members_department", "garden_members", ["department_id"])
    op.create_index("ix_garden_members_center", "garden_members", ["center_id"])
    op.create_table(
        "garden_config_versions",
        row_id_column(),
        sa.Column("center_id", sa.String(NAME), nullable=False),
        sa.Column("effective_from", sa.Date, nullable=False),
        sa.Column("document", postgresql.JSONB, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        timestamp_now_column("created_at"),
    )
    op.create_index(
        "ix_garden_config_versions_lookup",
        "garden_config_versions",
        ["center_id", "effective_from", "id"],
    )
    op.create_table(
        "garden_idempotency",
        sa.Column("principal", sa.String(NAME), primary_key=True),
        sa.Column("key", sa.String(NAME), primary_key=True),
        sa.Column("route", sa.Text, nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.SmallInteger, nullable=False),
        sa.Column("response", postgresql.JSONB, nullable=False),
        timestamp_now_column("created_at"),
    )
    op.create_index("ix_garden_idempotency_age", "garden_idempotency", ["created_at"])


def downgrade() -> None:
    for table in (
        "garden_idempotency",
        "garden_config_versions",
        "garden_members",
        "garden_harvests",
        "garden_timeline",
        "garden_previews",
        "garden_plant_days",
        "garden_plants",
    ):
        op.drop_table(table)
