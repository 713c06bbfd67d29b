"""Rewards SQL by caller: wallets (ledger, balances), prizes, redemptions, funds."""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

R = TypeVar("R", bound="DataclassInstance")


def from_row(cls: type[R], row: Any, **given: Any) -> R:
    """Build the dataclass `cls` from the columns of `row` (a mapping, or a driver record)
    named as its fields; `given`: the fields built otherwise, such as one of several columns."""
    return cls(**{f.name: row[f.name] for f in fields(cls) if f.name not in given}, **given)
