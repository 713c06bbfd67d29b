"""An event model's type: the constant of its `type` field, by which events are told apart."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


def event_type(model: type[BaseModel]) -> str:
    """The `type` every event of `model` carries."""
    return str(model.model_fields["type"].default)


def by_type(models: Iterable[type[M]]) -> dict[str, type[M]]:
    """`models` by their event type."""
    return {event_type(model): model for model in models}
