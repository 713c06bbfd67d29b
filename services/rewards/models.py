"""Rewards tables: the ledger and balances of wallets, prizes, redemptions and reward funds.

The ledger is the truth of a wallet; `rewards_balances` is its running sum,
updated in the same transaction as each entry (and never below 0, by a CHECK).
A credit also keeps what the harvest said about its owner (center, team,
department, business date): reward funds are split by those credits.
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
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from shared.models import timestamp_now
from shared.tables import optional, required, row_id


def _text(length: int, *, nullable: bool = False, **kw: Any) -> Any:
    return Field(default=None, sa_column=Column(String(length), nullable=nullable, **kw))


def _ts(*, nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=nullable))


class _WalletColumns(SQLModel):
    """The wallet a row is of: its owner and fruit (a wallet's balance is `BalanceRow`)."""

    owner_kind: str = Field(default=None, sa_type=String(16), nullable=False)
    owner_id: str = Field(default=None, sa_type=String(128), nullable=False)
    fruit: str = Field(default=None, sa_type=String(32), nullable=False)


class LedgerEntryRow(_WalletColumns, table=True):
    """One append-only change of one wallet (owner and fruit), with the balance after it."""

    __tablename__ = "rewards_ledger"
    __table_args__ = (
        UniqueConstraint("owner_kind", "owner_id", "reference", name="uq_rewards_ledger_reference"),
        Index("ix_rewards_ledger_owner", "owner_kind", "owner_id", "id"),
        Index("ix_rewards_ledger_credits", "kind", "business_date"),
    )

    id: int | None = row_id()
    kind: str = _text(16)
    amount: int = required(Integer)
    balance: int = required(Integer)
    reason: str = _text(500)
    actor: str = _text(128)
    reference: str = _text(256)
    recorded_at: datetime | None = timestamp_now()
    business_date: date | None = optional(Date)
    """A credit's harvest day (in its center's zone); None for other kinds."""
    center_id: str | None = _text(128, nullable=True)
    team_id: str | None = _text(128, nullable=True)
    department_id: str | None = _text(128, nullable=True)


class BalanceRow(SQLModel, table=True):
    """A wallet's balance: the sum of its ledger."""

    __tablename__ = "rewards_balances"
    __table_args__ = (CheckConstraint("balance >= 0", name="ck_rewards_balances_not_negative"),)

    owner_kind: str = Field(sa_column=Column(String(16), primary_key=True))
    owner_id: str = Field(sa_column=Column(String(128), primary_key=True))
    fruit: str = Field(sa_column=Column(String(32), primary_key=True))
    balance: int = required(Integer)
    updated_at: datetime | None = timestamp_now()


class PrizeRow(SQLModel, table=True):
    """A prize of the catalog: its admin document and its stock counter (NULL: unlimited)."""

    __tablename__ = "rewards_prizes"
    __table_args__ = (CheckConstraint("stock >= 0", name="ck_rewards_prizes_stock"),)

    prize_id: str = Field(sa_column=Column(String(64), primary_key=True))
    document: dict[str, Any] = required(JSONB)
    """Every key of the prize document except `stock`, which is the counter below."""
    stock: int | None = optional(Integer)
    created_at: datetime | None = timestamp_now()
    updated_at: datetime | None = timestamp_now()
    updated_by: str = _text(128)


class RedemptionRow(_WalletColumns, table=True):
    """One owner's redemption of one prize, paid from one wallet; its id is derived from the
    owner and the key."""

    __tablename__ = "rewards_redemptions"
    __table_args__ = (
        Index("ix_rewards_redemptions_owner", "owner_kind", "owner_id", "requested_at"),
        Index("ix_rewards_redemptions_limit", "owner_kind", "owner_id", "prize_id", "requested_at"),
        Index("ix_rewards_redemptions_requested", "requested_at"),
    )

    redemption_id: str = Field(sa_column=Column(String(64), primary_key=True))
    prize_id: str = _text(64)
    price: int = required(Integer)
    needs_approval: bool = required(Boolean)
    stock_reserved: bool = required(Boolean)
    status: str = _text(16)
    idempotency_key: str = _text(200)
    requested_fruit: str | None = _text(32, nullable=True)
    """The fruit the request named (None: the prize's own, or the largest balance)."""
    requested_at: datetime = _ts(nullable=False)
    requested_by: str = _text(128)
    approved_at: datetime | None = _ts()
    approved_by: str | None = _text(128, nullable=True)
    fulfilled_at: datetime | None = _ts()
    fulfilled_by: str | None = _text(128, nullable=True)
    rejected_at: datetime | None = _ts()
    rejected_by: str | None = _text(128, nullable=True)
    cancelled_at: datetime | None = _ts()
    cancelled_by: str | None = _text(128, nullable=True)
    reason: str | None = _text(500, nullable=True)
    changed_at: datetime = _ts(nullable=False)
    changed_by: str = _text(128)


class FundRow(SQLModel, table=True):
    """A reward fund: money for a unit's members and a period; final shares once closed."""

    __tablename__ = "rewards_funds"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'closed')", name="ck_rewards_funds_status"),
    )

    fund_id: str = Field(sa_column=Column(String(64), primary_key=True))
    scope_kind: str = _text(16)
    scope_id: str = _text(128)
    member_kind: str = _text(16)
    start_date: date = required(Date)
    end_date: date = required(Date)
    amount_fen: int = required(BigInteger)
    minimum: int = required(Integer)
    status: str = _text(16)
    created_at: datetime | None = timestamp_now()
    created_by: str = _text(128)
    closed_at: datetime | None = _ts()
    closed_by: str | None = _text(128, nullable=True)
    final_shares: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSONB, nullable=True)
    )
    """At the close: the fruit per member the split used and the shares (None while open)."""
