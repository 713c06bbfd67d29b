"""Improvement campaigns (专项提升, domain.md §10): classes, their moves, the result, the goal.

A member's class follows their plant for the campaign's indicator: A healthy,
B pests, C withered, `unrated` before the plant's first rated day. A plant keeps
its state through a `not_rated` day, and a class likewise. Everything here is a
function of the *set* of settled days given (one copy per date), so the order in
which days arrive, or a day arriving twice, never changes a campaign.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final, Literal

import orjson

ClassName = Literal["A", "B", "C", "unrated"]
CLASSES: Final[tuple[ClassName, ...]] = ("A", "B", "C", "unrated")
_CLASS_OF_STATE: Final[dict[str, ClassName]] = {"healthy": "A", "pests": "B", "withered": "C"}
RANK: Final[dict[ClassName, int]] = {"A": 3, "B": 2, "C": 1, "unrated": 0}
"""A > B > C; a member with no rated day ranks below C (see `outcome`)."""
Better = Literal["higher", "lower"]
LOWER_IS_BETTER: Final = frozenset({"aht", "complaint_rate"})
"""Core indicators whose lower values are better (domain.md §3); the others: higher."""
MAX_DAYS: Final = 92
"""The longest period of a campaign (a quarter): long enough for the seed's month-long
campaigns, short enough that one campaign's record stays a few thousand rows."""
MAX_PAST_DAYS: Final = 31
"""How far before today a campaign may start: a month of settled days can be caught up."""
MAX_AHEAD_DAYS: Final = 92
"""How far after today a campaign may start."""


def class_of(state: str | None) -> ClassName:
    """Return the class of a plant state (None or `not_rated`: unrated)."""
    return _CLASS_OF_STATE.get(state or "", "unrated")


def default_better(indicator: str) -> Better:
    """Return which way an indicator improves when the goal does not say."""
    return "lower" if indicator in LOWER_IS_BETTER else "higher"


@dataclass(frozen=True, slots=True)
class Day:
    """A settled day of a plant: its state and the indicator's value."""

    business_date: date
    state: str
    """healthy, pests, withered or not_rated."""
    value: float | None

    @property
    def rated(self) -> bool:
        return self.state != "not_rated"


@dataclass(frozen=True, slots=True)
class Standing:
    """A member's class and value at a moment (the class from their latest rated day)."""

    klass: ClassName
    value: float | None
    as_of: date | None
    """The day the class comes from (None when unrated)."""


def standing_before(days: Iterable[Day], day: date) -> Standing:
    """Return the class and value a plant had on the latest rated day before `day`."""
    rated = [d for d in days if d.rated and d.business_date < day]
    if not rated:
        return Standing("unrated", None, None)
    latest = max(rated, key=lambda d: d.business_date)
    return Standing(class_of(latest.state), latest.value, latest.business_date)


def value_before(days: Iterable[Day], day: date) -> float | None:
    """Return the value of the latest day before `day` that has one (a unit's value)."""
    known = [d for d in days if d.value is not None and d.business_date < day]
    return max(known, key=lambda d: d.business_date).value if known else None


def counts(classes: Iterable[ClassName]) -> dict[str, int]:
    """Return how many of `classes` are A, B, C and unrated."""
    found: dict[str, int] = dict.fromkeys(CLASSES, 0)
    for klass in classes:
        found[klass] += 1
    return found


@dataclass(frozen=True, slots=True)
class Move:
    """A member's class changed on a day."""

    agent_id: str
    business_date: date
    before: ClassName
    after: ClassName


@dataclass(frozen=True, slots=True)
class MemberOnDay:
    """A member on a recorded day: their class after it, and the day's value (None when they
    had no settled day then)."""

    klass: ClassName
    value: float | None
    recorded: bool


@dataclass(frozen=True, slots=True)
class CampaignDay:
    """One recorded day of a campaign."""

    business_date: date
    members: dict[str, MemberOnDay]
    unit_value: float | None
    moves: tuple[Move, ...]

    @property
    def classes(self) -> dict[str, int]:
        return counts(m.klass for m in self.members.values())

    def member_documents(self) -> dict[str, Any]:
        """Return every member's class, value and whether they had a settled day then."""
        return {
            agent: {"class": m.klass, "value": m.value, "recorded": m.recorded}
            for agent, m in sorted(self.members.items())
        }

    def move_documents(self) -> list[Any]:
        """Return the day's moves as plain JSON values."""
        return [{"agent_id": m.agent_id, "from": m.before, "to": m.after} for m in self.moves]

    def document(self) -> dict[str, Any]:
        """Return what is stored and published of the day (plain JSON values)."""
        return {
            "date": self.business_date.isoformat(),
            "classes": self.classes,
            "unit_value": self.unit_value,
            "members": self.member_documents(),
            "moves": self.move_documents(),
        }

    @property
    def digest(self) -> str:
        """Return a hash of the day's content: equal content, equal digest."""
        body = orjson.dumps(self.document(), option=orjson.OPT_SORT_KEYS)
        return hashlib.sha256(body).hexdigest()


def _one_per_date(days: Iterable[Day]) -> dict[date, Day]:
    # The stores keep one copy per date; a repeated date keeps the greater copy, so even a
    # caller passing duplicates gets one answer whatever the order.
    chosen: dict[date, Day] = {}
    for d in days:
        held = chosen.get(d.business_date)
        if held is None or _key(d) > _key(held):
            chosen[d.business_date] = d
    return chosen


def _key(d: Day) -> tuple[str, float]:
    return (d.state, d.value if d.value is not None else -math.inf)


def record_days(
    start: Mapping[str, ClassName],
    member_days: Mapping[str, Iterable[Day]],
    unit_days: Iterable[Day],
    *,
    starts_on: date,
    ends_on: date,
) -> list[CampaignDay]:
    """Return the campaign's recorded days, in date order: every date of the period on which
    a member or the unit has a settled day. On each, every member's class (carried from the
    day before when they have no rated day then) and value, the unit's value and the moves."""
    inside = {
        agent: _one_per_date(d for d in days if starts_on <= d.business_date <= ends_on)
        for agent, days in member_days.items()
        if agent in start
    }
    unit = _one_per_date(d for d in unit_days if starts_on <= d.business_date <= ends_on)
    dates = sorted(set(unit).union(*(set(d) for d in inside.values())))
    current: dict[str, ClassName] = dict(start)
    recorded: list[CampaignDay] = []
    for day in dates:
        members: dict[str, MemberOnDay] = {}
        moves: list[Move] = []
        for agent in sorted(start):
            own = inside.get(agent, {}).get(day)
            klass = current[agent]
            if own is not None and own.rated:
                klass = class_of(own.state)
            if klass != current[agent]:
                moves.append(Move(agent, day, current[agent], klass))
                current[agent] = klass
            members[agent] = MemberOnDay(
                klass, own.value if own is not None else None, own is not None
            )
        unit_day = unit.get(day)
        recorded.append(
            CampaignDay(day, members, unit_day.value if unit_day else None, tuple(moves))
        )
    return recorded


def is_over(ends_on: date, unit_dates: Iterable[date], latest_seen: date | None) -> bool:
    """Whether the last day of the period is settled: the unit's own day `ends_on` is, or a
    member or the unit has a settled day after it (scoring settles a center's days in order)."""
    return ends_on in set(unit_dates) or (latest_seen is not None and latest_seen > ends_on)


@dataclass(frozen=True, slots=True)
class Goal:
    """What the campaign aims for: the unit's value, the share of members in A, or both."""

    unit_value: float | None
    healthy_share: float | None
    better: Better

    def met_by(self, unit_value: float | None, healthy_share: float | None) -> bool:
        """Whether every goal given is met (a goal with no value to judge is not met)."""
        checks: list[bool] = []
        if self.unit_value is not None:
            if unit_value is None:
                checks.append(False)
            elif self.better == "higher":
                checks.append(unit_value >= self.unit_value)
            else:
                checks.append(unit_value <= self.unit_value)
        if self.healthy_share is not None:
            checks.append(healthy_share is not None and healthy_share >= self.healthy_share)
        return bool(checks) and all(checks)


def outcome(start: ClassName, end: ClassName) -> Literal["improved", "stayed", "fell"]:
    """Compare a member's class at the end with the start (A > B > C > unrated)."""
    if RANK[end] > RANK[start]:
        return "improved"
    if RANK[end] < RANK[start]:
        return "fell"
    return "stayed"


@dataclass(frozen=True, slots=True)
class Result:
    """How a campaign ended."""

    classes: dict[str, dict[str, Any]]
    """Per start class: improved, stayed, fell, members, and `ended` (end classes)."""
    unit_value_before: float | None
    unit_value_after: float | None
    healthy_share: float | None
    goal_met: bool

    def document(self) -> dict[str, Any]:
        return {
            "classes": self.classes,
            "unit_value_before": self.unit_value_before,
            "unit_value_after": self.unit_value_after,
            "healthy_share": self.healthy_share,
            "goal_met": self.goal_met,
        }

    @property
    def digest(self) -> str:
        body = orjson.dumps(self.document(), option=orjson.OPT_SORT_KEYS)
        return hashlib.sha256(body).hexdigest()


def final_classes(
    start: Mapping[str, ClassName], days: Sequence[CampaignDay]
) -> dict[str, ClassName]:
    """Return every member's class at the end of the recorded days (the start when none)."""
    if not days:
        return dict(start)
    last = max(days, key=lambda d: d.business_date)
    return {agent: last.members[agent].klass for agent in start}


def campaign_result(
    start: Mapping[str, ClassName],
    days: Sequence[CampaignDay],
    *,
    unit_value_before: float | None,
    goal: Goal,
) -> Result:
    """Return the result: per start class how many improved, stayed and fell; the unit's value
    before (the start's) and after (the latest recorded unit value); whether the goal was met."""
    end = final_classes(start, days)
    rows: dict[str, dict[str, Any]] = {}
    for klass in CLASSES:
        agents = [a for a, c in start.items() if c == klass]
        tally = {"improved": 0, "stayed": 0, "fell": 0}
        for agent in agents:
            tally[outcome(klass, end[agent])] += 1
        rows[klass] = {**tally, "members": len(agents), "ended": counts(end[a] for a in agents)}
    valued = [d for d in days if d.unit_value is not None]
    after = max(valued, key=lambda d: d.business_date).unit_value if valued else None
    share = sum(c == "A" for c in end.values()) / len(end) if end else None
    return Result(rows, unit_value_before, after, share, goal.met_by(after, share))
