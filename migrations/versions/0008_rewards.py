"""Rewards: wallet ledger and balances, prizes, redemptions, reward funds.

Revision ID: 0008_rewards
Revises: 0001
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from shared.tables import TIMESTAMP, row_id_column, timestamp_now_column

revision: str = "0008_rewards"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("rewards",)
depends_on: str | Sequence[str] | None = None


def _text(name: str, length: int, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.String(length), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "rewards_ledger",
        row_id_column(),
        _text("owner_kind", 16),
        _text("owner_id", 128),
        _text("fruit", 32),
        _text("kind", 16),
        sa.Column("amount", sa.Integer, nullable=False),
        sa.Column("balance", sa.Integer, nullable=False),
        _text("reason", 500),
        _text("actor", 128),
        _text("reference", 256),
        timestamp_now_column("recorded_at"),
        sa.Column("business_date", sa.Date, nullable=True),
        _text("center_id", 128, nullable=True),
        _text("team_id", 128, nullable=True),
        _text("department_id", 128, nullable=True),
        sa.UniqueConstraint(
            "owner_kind", "owner_id", "reference", name="uq_rewards_ledger_reference"
        ),
    )
    op.create_index("ix_rewards_ledger_owner", "rewards_ledger", ["owner_kind", "owner_id", "id"])
    op.create_index("ix_rewards_ledger_credits", "rewards_ledger", ["kind", "business_date"])
    op.create_table(
        "rewards_balances",
        sa.Column("owner_kind", sa.String(16), primary_key=True),
        sa.Column("owner_id", sa.String(128), primary_key=True),
        sa.Column("fruit", sa.String(32), primary_key=True),
        sa.Column("balance", sa.Integer, nullable=False),
        timestamp_now_column("updated_at"),
        sa.CheckConstraint("balance >= 0", name="ck_rewards_balances_not_negative"),
    )
    op.create_table(
        "rewards_prizes",
        sa.Column("prize_id", sa.String(64), primary_key=True),
        sa.Column("document", postgresql.JSONB, nullable=False),
        sa.Column("stock", sa.Integer, nullable=True),
        timestamp_now_column("created_at"),
        timestamp_now_column("updated_at"),
        _text("updated_by", 128),
        sa.CheckConstraint("stock >= 0", name="ck_rewards_prizes_stock"),
    )
    op.create_table(
        "rewards_redemptions",
        sa.Column("redemption_id", sa.String(64), primary_key=True),
        _text("owner_kind", 16),
        _text("owner_id", 128),
        _text("prize_id", 64),
        _text("fruit", 32),
        sa.Column("price", sa.Integer, nullable=False),
        sa.Column("needs_approval", sa.Boolean, nullable=False),
        sa.Column("stock_reserved", sa.Boolean, nullable=False),
        _text("status", 16),
        _text("idempotency_key", 200),
        _text("requested_fruit", 32, nullable=True),
        sa.Column("requested_at", TIMESTAMP, nullable=False),
        _text("requested_by", 128),
        *(
            column
            for step in ("approved", "fulfilled", "rejected", "cancelled")
            for column in (
                sa.Column(f"{step}_at", TIMESTAMP, nullable=True),
                _text(f"{step}_by", 128, nullable=True),
            )
        ),
        _text("reason", 500, nullable=True),
        sa.Column("changed_at", TIMESTAMP, nullable=False),
        _text("changed_by", 128),
    )
    op.create_index(
        "ix_rewards_redemptions_owner",
        "rewards_redemptions",
        ["owner_kind", "owner_id", "requested_at"],
    )
    op.create_index(
        "ix_rewards_redemptions_limit",
        "rewards_redemptions",
        ["owner_kind", "owner_id", "prize_id", "requested_at"],
    )
    op.create_index("ix_rewards_redemptions_requested", "rewards_redemptions", ["requested_at"])
    op.create_table(
        "rewards_funds",
        sa.Column("fund_id", sa.String(64), primary_key=True),
        _text("scope_kind", 16),
        _text("scope_id", 128),
        _text("member_kind", 16),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("end_date", sa.Date, nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("minimum", sa.Integer, nullable=False),
        _text("status", 16),
        timestamp_now_column("created_at"),
        _text("created_by", 128),
        sa.Column("closed_at", TIMESTAMP, nullable=True),
        _text("closed_by", 128, nullable=True),
        sa.Column("final_shares", postgresql.JSONB, nullable=True),
        sa.CheckConstraint("status IN ('open', 'closed')", name="ck_rewards_funds_status"),
    )


def downgrade() -> None:
    for table in (
        "rewards_funds",
        "rewards_redemptions",
        "rewards_prizes",
        "rewards_balances",
        "rewards_ledger",
    ):
        op.drop_table(table)
