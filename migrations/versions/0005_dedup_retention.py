"""Index processed-event keys by age, for pruning past the topics' retention.

Revision ID: 0005_dedup_retention
Revises: 0001
Create Date: 2026-11-21
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005_dedup_retention"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("plumbing",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_processed_events_age", "processed_events", ["processed_at"])


def downgrade() -> None:
    op.drop_index("ix_processed_events_age", table_name="processed_events")
