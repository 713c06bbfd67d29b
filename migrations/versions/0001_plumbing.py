"""Plumbing tables: processed events (dedup) and the transactional outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from shared.tables import row_id_column, timestamp_now_column

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "processed_events",
        sa.Column("consumer", sa.String(64), primary_key=True),
        sa.Column("event_id", sa.String(160), primary_key=True),
        timestamp_now_column("processed_at"),
    )
    op.create_table(
        "outbox",
        row_id_column(),
        sa.Column("producer", sa.String(64), nullable=False),
        sa.Column("topic", sa.String(249), nullable=False),
        sa.Column("key", sa.LargeBinary, nullable=True),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("headers", postgresql.JSONB, nullable=False),
        timestamp_now_column("created_at"),
    )
    op.create_index("ix_outbox_producer_id", "outbox", ["producer", "id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_producer_id", table_name="outbox")
    op.drop_table("outbox")
    op.drop_table("processed_events")
