"""Scoring: the organisation (units, memberships over time), settled days, and the
versioned indicator library and tiers.

Revision ID: 0002_scoring_config
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from shared.tables import row_id_column, timestamp_now_column

revision: str = "0002_scoring_config"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("scoring",)
depends_on: str | Sequence[str] | None = None

ID = 64


def _id(name: str, references: str | None = None, *, primary_key: bool = False) -> sa.Column[Any]:
    foreign = (sa.ForeignKey(references),) if references else ()
    return sa.Column(name, sa.String(ID), *foreign, primary_key=primary_key, nullable=False)


def _unit_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.text("true")),
        timestamp_now_column("updated_at"),
    ]


def _version_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("effective_from", sa.Date, nullable=False),
        sa.Column("document", postgresql.JSONB, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        timestamp_now_column("created_at"),
    ]


def upgrade() -> None:
    op.create_table(
        "scoring_centers",
        _id("id", primary_key=True),
        sa.Column("timezone", sa.Text, nullable=False, server_default="Asia/Shanghai"),
        *_unit_columns(),
    )
    op.create_table(
        "scoring_departments",
        _id("id", primary_key=True),
        _id("center_id", "scoring_centers.id"),
        *_unit_columns(),
    )
    op.create_index("ix_scoring_departments_center", "scoring_departments", ["center_id"])
    op.create_table(
        "scoring_teams",
        _id("id", primary_key=True),
        _id("department_id", "scoring_departments.id"),
        *_unit_columns(),
    )
    op.create_index("ix_scoring_teams_department", "scoring_teams", ["department_id"])
    op.create_table("scoring_agents", _id("id", primary_key=True), *_unit_columns())
    op.create_table(
        "scoring_memberships",
        row_id_column(),
        _id("agent_id", "scoring_agents.id"),
        _id("team_id", "scoring_teams.id"),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_to", sa.Date, nullable=True),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to > valid_from", name="ck_scoring_memberships_range"
        ),
    )
    op.create_index(
        "ux_scoring_memberships_open",
        "scoring_memberships",
        ["agent_id"],
        unique=True,
        postgresql_where=sa.text("valid_to IS NULL"),
    )
    op.create_index(
        "ix_scoring_memberships_agent_from", "scoring_memberships", ["agent_id", "valid_from"]
    )
    op.create_index("ix_scoring_memberships_team", "scoring_memberships", ["team_id"])
    op.create_table(
        "scoring_settled_days",
        sa.Column("center_id", sa.Text, primary_key=True),
        sa.Column("business_date", sa.Date, primary_key=True),
        timestamp_now_column("settled_at"),
    )
    op.create_table(
        "scoring_library_versions",
        row_id_column(),
        _id("center_id", "scoring_centers.id"),
        *_version_columns(),
    )
    op.create_index(
        "ix_scoring_library_versions_lookup",
        "scoring_library_versions",
        ["center_id", "effective_from", "id"],
    )
    op.create_table(
        "scoring_tier_versions",
        row_id_column(),
        _id("center_id", "scoring_centers.id"),
        sa.Column(
            "department_id", sa.String(ID), sa.ForeignKey("scoring_departments.id"), nullable=True
        ),
        sa.Column("owner_kind", sa.Text, nullable=False),
        *_version_columns(),
        sa.CheckConstraint(
            "owner_kind IN ('agent', 'team', 'department', 'center')",
            name="ck_scoring_tier_versions_owner_kind",
        ),
    )
    op.create_index(
        "ix_scoring_tier_versions_lookup",
        "scoring_tier_versions",
        ["center_id", "effective_from", "id"],
    )


def downgrade() -> None:
    op.drop_table("scoring_tier_versions")
    op.drop_table("scoring_library_versions")
    op.drop_table("scoring_settled_days")
    op.drop_table("scoring_memberships")
    op.drop_table("scoring_agents")
    op.drop_table("scoring_teams")
    op.drop_table("scoring_departments")
    op.drop_table("scoring_centers")
