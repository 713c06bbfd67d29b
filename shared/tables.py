"""Column shapes the services' tables share, beside the plumbing tables of `shared.models`:
for the models, and for the migrations that create the same columns.

Each helper returns a fresh `Field` or `Column` for one table: a SQLAlchemy `Column` belongs
to one table, so a shape shared by many tables is a function each table calls, not an object.
A migration's columns must not change once it has run somewhere, so a helper here is changed
only in ways that build the same columns as before.
"""

from __future__ import annotations

from typing import Any, Final

import sqlalchemy as sa
from sqlmodel import Field

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


# --- migrations -----------------------------------------------------------------------------


def row_id_column(name: str = "id") -> sa.Column[Any]:
    """The `bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY` column of a table."""
    return sa.Column(name, sa.BigInteger, sa.Identity(always=True), primary_key=True)


def timestamp_now_column(name: str) -> sa.Column[Any]:
    """A `timestamptz NOT NULL DEFAULT now()` column: when the database wrote the row."""
    return sa.Column(name, TIMESTAMP, nullable=False, server_default=sa.func.now())
