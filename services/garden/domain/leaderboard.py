"""Leaderboards (成果排行榜): owners ranked by fruit harvested in a day, ISO week or month.

Competition ranking: owners with equal fruit share a rank and the next rank
skips (1, 2, 2, 4). Inside a tie, rows are ordered by name, then by owner id,
so a board is the same wherever and whenever it is computed. Owners without a
harvest in the period are left off. Periods are business days of the center.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final, Literal

from services.garden.domain.config import GardenConfig

PeriodKind = Literal["day", "week", "month"]
Role = Literal["agent", "team_leader", "manager", "admin"]
SEES_ALL: Final[frozenset[Role]] = frozenset({"team_leader", "manager", "admin"})
"""Leaders and admins see every row of a board of their scope."""


@dataclass(frozen=True, slots=True)
class Period:
    """The business days [start, end) a board counts."""

    kind: PeriodKind
    start: date
    end: date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day < self.end


def period_of(kind: PeriodKind, day: date) -> Period:
    """Return the day, ISO week (Monday to Sunday) or month that contains `day`."""
    if kind == "day":
        return Period(kind, day, day + timedelta(days=1))
    if kind == "week":
        monday = day - timedelta(days=day.weekday())
        return Period(kind, monday, monday + timedelta(days=7))
    first = day.replace(day=1)
    following = (first + timedelta(days=31)).replace(day=1)
    return Period(kind, first, following)


@dataclass(frozen=True, slots=True)
class Collected:
    """A harvest as a board counts it."""

    harvest_id: str
    owner_id: str
    business_date: date
    fruit: str
    count: int


@dataclass(frozen=True, slots=True)
class Standing:
    """One row of a board."""

    rank: int
    owner_id: str
    name: str
    fruit: int


@dataclass(frozen=True, slots=True)
class Board:
    """What a viewer sees of a board: rows in rank order and their own row."""

    entries: tuple[Standing, ...]
    me: Standing | None


def _order(item: Collected) -> tuple[int, date, str, str]:
    return (item.count, item.business_date, item.owner_id, item.fruit)


def rank_owners(
    collected: Iterable[Collected],
    *,
    period: Period,
    members: Mapping[str, str],
    fruit: str | None = None,
) -> tuple[Standing, ...]:
    """Rank the scope's `members` (owner id → name) by fruit harvested in `period`.

    A harvest counts once per `harvest_id`; `fruit` limits the board to one kind.
    """
    seen: dict[str, Collected] = {}
    for item in collected:  # copies of one id agree; if not, the same one wins on every run
        held = seen.get(item.harvest_id)
        if held is None or _order(item) > _order(held):
            seen[item.harvest_id] = item
    totals: dict[str, int] = {}
    for item in seen.values():
        of_kind = fruit is None or item.fruit == fruit
        if of_kind and item.owner_id in members and item.business_date in period:
            totals[item.owner_id] = totals.get(item.owner_id, 0) + item.count
    return rank_totals(totals, members)


def rank_totals(totals: Mapping[str, int], members: Mapping[str, str]) -> tuple[Standing, ...]:
    """Rank owners by their fruit `totals` of a period (owner id → fruit; `members` names
    each of them); owners with no fruit are left off."""
    order = sorted(
        (owner for owner, total in totals.items() if total > 0),
        key=lambda owner: (-totals[owner], members[owner], owner),
    )
    rows: list[Standing] = []
    for position, owner in enumerate(order, start=1):
        tied = rows and rows[-1].fruit == totals[owner]
        rank = rows[-1].rank if tied else position
        rows.append(Standing(rank, owner, members[owner], totals[owner]))
    return tuple(rows)


def visible_entries(
    ranked: Sequence[Standing], viewer: str, role: Role, config: GardenConfig
) -> Board:
    """Return what `viewer` may see of a board.

    Leaders and admins see every row. An agent sees the top `leaderboard_top`
    rows, the `leaderboard_neighbours` rows just above and below their own, and
    their own row; each row once, in rank order.
    """
    mine = next((i for i, row in enumerate(ranked) if row.owner_id == viewer), None)
    me = ranked[mine] if mine is not None else None
    if role in SEES_ALL:
        return Board(tuple(ranked), me)
    shown = set(range(min(config.leaderboard_top, len(ranked))))
    if mine is not None:
        reach = config.leaderboard_neighbours
        shown |= set(range(max(0, mine - reach), min(len(ranked), mine + reach + 1)))
    return Board(tuple(ranked[i] for i in sorted(shown)), me)
