"""Column shapes the services' tables share, beside the plumbing tables of `shared.models`:
for the models, and for the migrations that create the same columns.

Each helper returns a fresh `Field` or `Column` for one table: a SQLAlchemy `Column` belongs
to one table, so a shape shared by many tables is a function each table calls, not an object.
A migration's columns must not change once it has run somewhere, so a helper here is changed
only in ways that build the same columns as before.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

TIMESTAMP: Final = sa.DateTime(timezone=True)
"""`timestamptz`: every moment the services store."""

# --- models ---------------------------------------------------------------------------------


def row_id() -> Any:
    """A `bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY` column: the row's number."""
    return Field(default=None, sa_column=row_id_column())


def required(type_: Any, **column: Any) -> Any:
    """A `NOT NULL` column of `type_` (`column`: further `Column` options)."""
    return Field(sa_column=sa.Column(type_, nullable=False, **column))


def optional(type_: Any) -> Any:
    """A nullable column of `type_`, None until set."""
    return Field(default=None, sa_column=sa.Column(type_, nullable=True))


class DocumentVersion(SQLModel):
    """The columns of a versioned document (a center's configuration, library or tiers): the
    day it takes effect, the document, who stored it and when. A change is a new row; the
    table adds its `id` (`row_id()`) and the scope the document is for."""

    effective_from: date = Field(sa_type=sa.Date, nullable=False)
    document: dict[str, Any] = Field(sa_type=JSONB, nullable=False)
    created_by: str = Field(sa_type=sa.Text, nullable=False)
    created_at: datetime | None = Field(
        default=None,
        sa_type=TIMESTAMP,
        nullable=False,
        sa_column_kwargs={"server_default": sa.func.now()},
    )


# --- migrations -----------------------------------------------------------------------------


def row_id_column(name: str = "id") -> sa.Column[Any]:
    """The `bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY` column of a table."""
    return sa.Column(name, sa.BigInteger, sa.Identity(always=True), primary_key=True)


def timestamp_now_column(name: str) -> sa.Column[Any]:
    """A `timestamptz NOT NULL DEFAULT now()` column: when the database wrote the row."""
    return sa.Column(name, TIMESTAMP, nullable=False, server_default=sa.func.now())
