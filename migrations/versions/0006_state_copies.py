"""Agent cursors remember every state entered at their instant, so copies of state
changes are recognised without a processed-event key.

Revision ID: 0006_state_copies
Revises: 0004_scoring_days
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006_state_copies"
down_revision: str | None = "0004_scoring_days"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "scoring_agent_cursors",
        sa.Column(
            "entered_at_since",
            postgresql.ARRAY(sa.String(16)),
            nullable=False,
            server_default=sa.text("'{}'"),
        ),
    )


def downgrade() -> None:
    op.drop_column("scoring_agent_cursors", "entered_at_since")
