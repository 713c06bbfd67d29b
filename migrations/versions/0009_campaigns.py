"""Garden: improvement campaigns (their members' starting classes, recorded days and
countermeasures) and the value of each settled plant day.

Revision ID: 0009_campaigns
Revises: 0007_garden
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from shared.tables import TIMESTAMP, row_id_column, timestamp_now_column

revision: str = "0009_campaigns"
down_revision: str | None = "0007_garden"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = 128
CAMPAIGN_ID = 64
CLASSES = "IN ('A', 'B', 'C', 'unrated')"


def _campaign_id(primary_key: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("campaign_id", sa.String(CAMPAIGN_ID), primary_key=primary_key, nullable=False)


def upgrade() -> None:
    op.add_column("garden_plant_days", sa.Column("value", sa.Float, nullable=True))
    op.create_table(
        "garden_campaigns",
        _campaign_id(),
        sa.Column("seq", sa.BigInteger, sa.Identity(always=True), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("indicator", sa.String(NAME), nullable=False),
        sa.Column("unit_kind", sa.String(16), nullable=False),
        sa.Column("unit_id", sa.String(NAME), nullable=False),
        sa.Column("center_id", sa.String(NAME), nullable=False),
        sa.Column("department_id", sa.String(NAME)),
        sa.Column("team_id", sa.String(NAME)),
        sa.Column("starts_on", sa.Date, nullable=False),
        sa.Column("ends_on", sa.Date, nullable=False),
        sa.Column("goal", postgresql.JSONB, nullable=False),
        sa.Column("start", postgresql.JSONB, nullable=False),
        sa.Column("created_by", sa.String(NAME), nullable=False),
        timestamp_now_column("created_at"),
        sa.Column("last_recorded", sa.Date),
        sa.Column("ended_at", TIMESTAMP),
        sa.Column("result", postgresql.JSONB),
        sa.Column("result_digest", sa.String(64)),
        sa.CheckConstraint(
            "unit_kind IN ('team', 'department', 'center')", name="ck_garden_campaigns_unit_kind"
        ),
        sa.CheckConstraint("ends_on >= starts_on", name="ck_garden_campaigns_period"),
    )
    op.create_index("ix_garden_campaigns_seq", "garden_campaigns", ["seq"], unique=True)
    op.create_index(
        "ix_garden_campaigns_unit", "garden_campaigns", ["unit_kind", "unit_id", "indicator"]
    )
    op.create_index("ix_garden_campaigns_center", "garden_campaigns", ["center_id", "seq"])
    op.create_index("ix_garden_campaigns_department", "garden_campaigns", ["department_id"])
    op.create_index("ix_garden_campaigns_team", "garden_campaigns", ["team_id"])
    op.create_table(
        "garden_campaign_members",
        _campaign_id(),
        sa.Column("agent_id", sa.String(NAME), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("start_class", sa.String(16), nullable=False),
        sa.Column("start_value", sa.Float),
        sa.Column("start_date", sa.Date),
        sa.CheckConstraint(f"start_class {CLASSES}", name="ck_garden_campaign_members_class"),
    )
    op.create_index("ix_garden_campaign_members_agent", "garden_campaign_members", ["agent_id"])
    op.create_table(
        "garden_campaign_days",
        _campaign_id(),
        sa.Column("business_date", sa.Date, primary_key=True),
        sa.Column("classes", postgresql.JSONB, nullable=False),
        sa.Column("unit_value", sa.Float),
        sa.Column("members", postgresql.JSONB, nullable=False),
        sa.Column("moves", postgresql.JSONB, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        timestamp_now_column("recorded_at"),
    )
    op.create_table(
        "garden_campaign_countermeasures",
        row_id_column(),
        _campaign_id(primary_key=False),
        sa.Column("what", sa.Text, nullable=False),
        sa.Column("who", sa.Text, nullable=False),
        sa.Column("check_on", sa.Date, nullable=False),
        sa.Column("done", sa.Boolean, nullable=False),
        sa.Column("done_at", TIMESTAMP),
        sa.Column("done_by", sa.String(NAME)),
        sa.Column("created_by", sa.String(NAME), nullable=False),
        timestamp_now_column("created_at"),
    )
    op.create_index(
        "ix_garden_campaign_countermeasures_campaign",
        "garden_campaign_countermeasures",
        ["campaign_id", "id"],
    )


def downgrade() -> None:
    for table in (
        "garden_campaign_countermeasures",
        "garden_campaign_days",
        "garden_campaign_members",
        "garden_campaigns",
    ):
        op.drop_table(table)
    op.drop_column("garden_plant_days", "value")
