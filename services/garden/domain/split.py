"""The A/B/C split (domain.md §5, §10) of a unit's members for each indicator.

A: healthy, B: pests, C: withered, by the state of the member's plant. Members
whose plant has no rated day yet, or who have no plant for the indicator, are
listed apart (`unrated`). Every member appears exactly once per indicator,
ordered by name, then by id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from services.garden.domain.config import PlantState

_WORST_FIRST: Final[dict[PlantState, int]] = {"withered": 0, "pests": 1, "healthy": 2}


@dataclass(frozen=True, slots=True)
class MemberPlant:
    """A member's plant for one indicator: its state, None before its first rated day."""

    member_id: str
    indicator: str
    state: PlantState | None


@dataclass(frozen=True, slots=True)
class Split:
    """One indicator's members by class (member ids)."""

    indicator: str
    a: tuple[str, ...]
    b: tuple[str, ...]
    c: tuple[str, ...]
    unrated: tuple[str, ...]


def abc_split(
    members: Mapping[str, str], plants: Iterable[MemberPlant], indicators: Iterable[str]
) -> tuple[Split, ...]:
    """Return the split of `members` (id → name) for each indicator, sorted by indicator.

    Plants of non-members are ignored; if a member has two records for an
    indicator, the worse state counts.
    """
    states: dict[tuple[str, str], PlantState | None] = {}
    for plant in plants:
        if plant.member_id not in members:
            continue
        key = (plant.member_id, plant.indicator)
        held = states.get(key)
        if plant.state is not None and (
            held is None or _WORST_FIRST[plant.state] < _WORST_FIRST[held]
        ):
            states[key] = plant.state
        else:
            states.setdefault(key, held)
    order = sorted(members, key=lambda member: (members[member], member))
    splits = []
    for indicator in sorted(set(indicators)):
        classes: dict[PlantState | None, list[str]] = {
            "healthy": [],
            "pests": [],
            "withered": [],
            None: [],
        }
        for member in order:
            classes[states.get((member, indicator))].append(member)
        splits.append(
            Split(
                indicator,
                tuple(classes["healthy"]),
                tuple(classes["pests"]),
                tuple(classes["withered"]),
                tuple(classes[None]),
            )
        )
    return tuple(splits)
