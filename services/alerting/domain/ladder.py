"""The escalation ladder (domain.md §8): who is told at which level, and when a
level is reached (by volume, or by time while nobody acknowledges)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class Recipient:
    """Someone who receives surge SMS; `user` is their token subject, if they use the API
    (a manager on a rule's ladder may read and handle the rule's incidents)."""

    name: str
    phone: str
    title: str = ""
    user: str | None = None


@dataclass(frozen=True, slots=True)
class EscalationLevel:
    """One rung of a ladder: who is told, and when the incident reaches it.

    Reached when the window count is at least `min_count`, or when the
    incident has been open at least `after_minutes` (time-based; stops once
    acknowledged). A level with neither is reached on opening (L1).
    """

    level: int
    title: str
    recipients: tuple[Recipient, ...]
    min_count: int | None = None
    after_minutes: float | None = None

    def reached_by_volume(self, count: int) -> bool:
        return self.min_count is not None and count >= self.min_count

    def reached_by_time(self, minutes_open: float) -> bool:
        return self.after_minutes is not None and minutes_open >= self.after_minutes


Reason = Literal["opened", "volume", "duration"]


@dataclass(frozen=True, slots=True)
class EscalationLadder:
    """Ordered levels, L1 (department head) up to L4 (general manager)."""

    levels: tuple[EscalationLevel, ...]

    def __post_init__(self) -> None:
        if not self.levels:
            raise ValueError("a ladder needs at least one level")
        if [lv.level for lv in self.levels] != list(range(1, len(self.levels) + 1)):
            raise ValueError("ladder levels must be numbered 1, 2, 3, … in order")

    @property
    def top(self) -> int:
        return len(self.levels)

    def level(self, number: int) -> EscalationLevel:
        return self.levels[number - 1]

    def highest_met(self, count: int, minutes_open: float, *, by_time: bool) -> tuple[int, Reason]:
        """Return the highest level whose trigger is met (at least 1) and why."""
        best: tuple[int, Reason] = (1, "opened")
        for lv in self.levels[1:]:
            if lv.reached_by_volume(count):
                best = (lv.level, "volume")
            elif by_time and lv.reached_by_time(minutes_open):
                best = (lv.level, "duration")
        return best
