"""Scoring pipeline: agent-day aggregates, FCR calls, state cursors, complaints, results.

Revision ID: 0004_scoring_days
Revises: 0002_scoring_config
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.tables import timestamp_now_column

revision: str = "0004_scoring_days"
down_revision: str | None = "0002_scoring_config"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _count(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer, nullable=False, server_default="0")


def _seconds(name: str) -> sa.Column:
    return sa.Column(name, sa.Float, nullable=False, server_default="0")


def upgrade() -> None:
    op.create_table(
        "scoring_agent_days",
        sa.Column("agent_id", sa.String(128), primary_key=True),
        sa.Column("business_date", sa.Date, primary_key=True),
        _count("calls"),
        _seconds("handle_seconds"),
        _count("repeated_calls"),
        *(_count(f"score_{n}") for n in range(1, 6)),
        _seconds("logged_in_seconds"),
        _seconds("busy_seconds"),
        _count("justified_complaints"),
        _count("late_events"),
    )
    op.create_index("ix_scoring_agent_days_date", "scoring_agent_days", ["business_date"])
    op.create_table(
        "scoring_agent_metrics",
        sa.Column("agent_id", sa.String(128), primary_key=True),
        sa.Column("business_date", sa.Date, primary_key=True),
        sa.Column("indicator", sa.String(48), primary_key=True),
        sa.Column("total", sa.Float, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
    )
    op.create_table(
        "scoring_fcr_calls",
        sa.Column("call_key", sa.String(200), primary_key=True),
        sa.Column("caller_id", sa.String(128), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("agent_id", sa.String(128), nullable=False),
        sa.Column("business_date", sa.Date, nullable=False),
        sa.Column("repeated", sa.Boolean, nullable=False),
    )
    op.create_index(
        "ix_scoring_fcr_calls_caller", "scoring_fcr_calls", ["caller_id", "answered_at"]
    )
    op.create_table(
        "scoring_agent_cursors",
        sa.Column("agent_id", sa.String(128), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "scoring_complaints",
        sa.Column("complaint_id", sa.String(128), primary_key=True),
        sa.Column("agent_id", sa.String(128), nullable=True),
        sa.Column("business_date", sa.Date, nullable=True),
        sa.Column("justified", sa.Boolean, nullable=True),
        sa.Column("withdrawn", sa.Boolean, nullable=False),
        sa.Column("counted", sa.Boolean, nullable=False),
        sa.Column("last_update_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("justified_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "scoring_watermarks",
        sa.Column("topic", sa.String(249), primary_key=True),
        sa.Column("partition", sa.Integer, primary_key=True),
        sa.Column("max_occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("touched_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table("scoring_dirty_days", sa.Column("business_date", sa.Date, primary_key=True))
    op.create_table(
        "scoring_results",
        sa.Column("owner_kind", sa.String(16), primary_key=True),
        sa.Column("owner_id", sa.String(128), primary_key=True),
        sa.Column("business_date", sa.Date, primary_key=True),
        sa.Column("indicator", sa.String(48), primary_key=True),
        sa.Column("center_id", sa.String(128), nullable=False),
        sa.Column("value", sa.Float, nullable=True),
        sa.Column("sample", sa.Float, nullable=False),
        sa.Column("points", sa.Float, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("settled", sa.Boolean, nullable=False),
        sa.Column("revision", sa.BigInteger, nullable=False),
        timestamp_now_column("computed_at"),
    )
    op.create_index("ix_scoring_results_day", "scoring_results", ["business_date", "owner_kind"])


def downgrade() -> None:
    for table in (
        "scoring_results",
        "scoring_dirty_days",
        "scoring_watermarks",
        "scoring_complaints",
        "scoring_agent_cursors",
        "scoring_fcr_calls",
        "scoring_agent_metrics",
        "scoring_agent_days",
    ):
        op.drop_table(table)
