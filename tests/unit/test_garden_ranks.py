"""Stars, leaderboards and the A/B/C split (domain.md §5, §7, §10)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import get_args

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.garden.domain.config import DEFAULT_CONFIG, GardenConfig, PlantState
from services.garden.domain.leaderboard import (
    Collected,
    Role,
    Standing,
    period_of,
    rank_owners,
    rank_totals,
    visible_entries,
)
from services.garden.domain.plant import SettledDay
from services.garden.domain.split import MemberPlant, abc_split
from services.garden.domain.stars import average_daily_points, star_level, star_window, stars

TODAY = date(2025, 3, 31)


def days_back(*points: float, state: str = "healthy") -> list[SettledDay]:
    return [
        SettledDay(TODAY - timedelta(days=n), p, state)  # type: ignore[arg-type]
        for n, p in enumerate(points, start=1)
    ]


# --- stars ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("average", "level"),
    [
        (None, 1),
        (0, 1),
        (1.999, 1),
        (2, 2),
        (3.99, 2),
        (4, 3),
        (6, 4),
        (7.99, 4),
        (8, 5),
        (10, 5),
    ],
)
def test_star_level_at_the_boundaries(average: float | None, level: int) -> None:
    assert star_level(average, DEFAULT_CONFIG) == level


def test_average_is_per_rated_day_then_over_days() -> None:
    sat = days_back(10, 10)  # yesterday 10, the day before 10
    aht = [SettledDay(TODAY - timedelta(days=1), 2, "pests")]  # yesterday: mean(10, 2) = 6
    fcr = [SettledDay(TODAY - timedelta(days=2), 0, "not_rated")]  # not rated: ignored
    assert average_daily_points({"satisfaction": sat, "aht": aht, "fcr": fcr}, today=TODAY) == 8
    assert stars({"satisfaction": sat, "aht": aht}, today=TODAY, config=DEFAULT_CONFIG) == 5


def test_window_is_the_thirty_days_before_today() -> None:
    start, end = star_window(TODAY)
    assert (start, end) == (TODAY - timedelta(days=30), TODAY)
    inside = SettledDay(start, 4, "healthy")
    outside = [
        SettledDay(start - timedelta(days=1), 10, "healthy"),
        SettledDay(TODAY, 10, "healthy"),
    ]
    assert average_daily_points({"x": [inside, *outside]}, today=TODAY) == 4


def test_no_rated_day_is_one_star() -> None:
    assert stars({}, today=TODAY, config=DEFAULT_CONFIG) == 1
    assert stars({"x": days_back(9, state="not_rated")}, today=TODAY, config=DEFAULT_CONFIG) == 1


@given(st.lists(st.sampled_from([0, 2, 4, 6, 8, 10]), min_size=1, max_size=30))
def test_constant_days_give_the_level_of_their_points(points: list[int]) -> None:
    level = star_level(points[0], DEFAULT_CONFIG)
    same = days_back(*[points[0]] * len(points))
    assert stars({"satisfaction": same}, today=TODAY, config=DEFAULT_CONFIG) == level
    assert 1 <= stars({"s": days_back(*points)}, today=TODAY, config=DEFAULT_CONFIG) <= 5


# --- periods and leaderboards ----------------------------------------------------------------


def test_periods() -> None:
    wed = date(2025, 1, 1)  # ISO week 2025-W01 runs Mon 2024-12-30 … Sun 2025-01-05
    assert (period_of("day", wed).start, period_of("day", wed).end) == (wed, date(2025, 1, 2))
    week = period_of("week", wed)
    assert (week.start, week.end) == (date(2024, 12, 30), date(2025, 1, 6))
    feb = period_of("month", date(2024, 2, 29))
    assert (feb.start, feb.end) == (date(2024, 2, 1), date(2024, 3, 1))
    dec = period_of("month", date(2025, 12, 31))
    assert (dec.start, dec.end) == (date(2025, 12, 1), date(2026, 1, 1))
    assert date(2025, 1, 5) in week and date(2025, 1, 6) not in week


@given(st.dates(date(2000, 1, 1), date(2100, 12, 31)), st.sampled_from(["day", "week", "month"]))
def test_a_period_contains_its_day(day: date, kind: str) -> None:
    period = period_of(kind, day)  # type: ignore[arg-type]
    assert day in period
    assert period_of(kind, period.start) == period  # type: ignore[arg-type]
    assert period_of(kind, period.end - timedelta(days=1)) == period  # type: ignore[arg-type]
    if kind == "week":
        assert period.start.isocalendar()[1:] == (day.isocalendar()[1], 1)


MEMBERS = {"A1": "Zhang Wei", "A2": "Li Na", "A3": "Wang Fang", "A4": "Chen Jie", "A5": "Liu Yang"}
WEEK = period_of("week", date(2025, 3, 12))


def harvest(
    n: int, owner: str, count: int, day: date = date(2025, 3, 12), fruit: str = "apple"
) -> Collected:
    return Collected(f"h{n}", owner, day, fruit, count)


def test_ties_share_a_rank_and_sort_by_name_then_id() -> None:
    board = rank_owners(
        [harvest(1, "A1", 5), harvest(2, "A2", 3), harvest(3, "A3", 3), harvest(4, "A4", 1)],
        period=WEEK,
        members=MEMBERS,
    )
    assert [(r.rank, r.owner_id) for r in board] == [(1, "A1"), (2, "A2"), (2, "A3"), (4, "A4")]


def test_what_counts_on_a_board() -> None:
    board = rank_owners(
        [
            harvest(1, "A1", 2),
            harvest(1, "A1", 2),  # the same harvest again
            harvest(2, "A1", 1, fruit="grape"),
            harvest(3, "A2", 4, day=date(2025, 3, 17)),  # the next week
            harvest(4, "B9", 9),  # not a member of the scope
        ],
        period=WEEK,
        members=MEMBERS,
    )
    assert [(r.owner_id, r.fruit) for r in board] == [("A1", 3)]
    apples = rank_owners(
        [harvest(1, "A1", 2), harvest(2, "A1", 1, fruit="grape")],
        period=WEEK,
        members=MEMBERS,
        fruit="grape",
    )
    assert [(r.owner_id, r.fruit) for r in apples] == [("A1", 1)]


def test_agents_see_the_top_and_their_neighbourhood() -> None:
    ranked = tuple(Standing(i, f"A{i}", f"n{i:02}", 100 - i) for i in range(1, 31))
    config = GardenConfig(leaderboard_top=3, leaderboard_neighbours=2)
    board = visible_entries(ranked, "A15", "agent", config)
    assert [r.rank for r in board.entries] == [1, 2, 3, 13, 14, 15, 16, 17]
    assert board.me == ranked[14]
    near_top = visible_entries(ranked, "A4", "agent", config)
    assert [r.rank for r in near_top.entries] == [1, 2, 3, 4, 5, 6]
    outsider = visible_entries(ranked, "Z1", "agent", config)
    assert ([r.rank for r in outsider.entries], outsider.me) == ([1, 2, 3], None)
    for role in ("team_leader", "manager", "admin"):
        everyone = visible_entries(ranked, "Z1", role, config)
        assert everyone.entries == ranked


fruit_counts = st.dictionaries(st.sampled_from(sorted(MEMBERS)), st.integers(0, 6))


@given(fruit_counts)
def test_competition_ranks(counts: dict[str, int]) -> None:
    items = [harvest(i, owner, c) for i, (owner, c) in enumerate(sorted(counts.items()))]
    board = rank_owners(items, period=WEEK, members=MEMBERS)
    assert {r.owner_id for r in board} == {o for o, c in counts.items() if c > 0}
    for row in board:
        assert row.rank == 1 + sum(c > row.fruit for c in counts.values())
    keys = [(-r.fruit, r.name, r.owner_id) for r in board]
    assert keys == sorted(keys)
    assert rank_owners(list(reversed(items)), period=WEEK, members=MEMBERS) == board


@given(fruit_counts)
def test_totals_rank_as_their_harvests(counts: dict[str, int]) -> None:
    """A board ranked from per-owner totals (summed in SQL) is the board of the harvests."""
    items = [harvest(i, owner, c) for i, (owner, c) in enumerate(sorted(counts.items()))]
    names = {owner: MEMBERS[owner] for owner in counts}
    assert rank_totals(counts, names) == rank_owners(items, period=WEEK, members=MEMBERS)


@given(
    st.integers(0, 40),
    st.integers(0, 12),
    st.integers(0, 5),
    st.integers(0, 45),
    st.sampled_from(get_args(Role)),
)
def test_visibility_bounds(size: int, top: int, reach: int, me: int, role: Role) -> None:
    ranked = tuple(Standing(i // 3 + 1, f"A{i}", f"n{i:03}", 100 - i // 3) for i in range(size))
    config = GardenConfig(leaderboard_top=top, leaderboard_neighbours=reach)
    board = visible_entries(ranked, f"A{me}", role, config)
    ids = [r.owner_id for r in board.entries]
    assert len(ids) == len(set(ids))
    assert list(board.entries) == [r for r in ranked if r in board.entries]  # rank order
    assert board.me == (ranked[me] if me < size else None)
    if role != "agent":
        assert board.entries == ranked
        return
    assert len(ids) <= top + 2 * reach + 1
    if board.me is not None:
        assert board.me in board.entries
    for position, row in enumerate(ranked):
        near = me < size and abs(position - me) <= reach
        assert (row in board.entries) == (position < top or near)


# --- A/B/C split ---------------------------------------------------------------------------


def test_split_by_state() -> None:
    plants = [
        MemberPlant("A1", "aht", "healthy"),
        MemberPlant("A2", "aht", "pests"),
        MemberPlant("A3", "aht", "withered"),
        MemberPlant("A4", "aht", None),
        MemberPlant("A5", "aht", "healthy"),
        MemberPlant("A5", "aht", "pests"),  # two records: the worse counts
        MemberPlant("B9", "aht", "healthy"),  # not a member
    ]
    (aht, fcr) = abc_split(MEMBERS, plants, ["fcr", "aht"])
    assert (aht.a, aht.b, aht.c, aht.unrated) == (("A1",), ("A2", "A5"), ("A3",), ("A4",))
    assert fcr.unrated == ("A4", "A2", "A5", "A3", "A1")  # by name
    assert (fcr.a, fcr.b, fcr.c) == ((), (), ())


member_states = st.lists(
    st.tuples(
        st.sampled_from(["A1", "A2", "A3", "A4", "A5", "B1"]),
        st.sampled_from(["aht", "fcr", "sat"]),
        st.sampled_from([*get_args(PlantState), None]),
    ),
    max_size=40,
)


@given(member_states, st.randoms(use_true_random=False))
def test_split_covers_every_member_once(
    rows: list[tuple[str, str, PlantState | None]], rnd: object
) -> None:
    plants = [MemberPlant(*row) for row in rows]
    splits = abc_split(MEMBERS, plants, ["aht", "fcr", "sat", "qa"])
    assert [s.indicator for s in splits] == ["aht", "fcr", "qa", "sat"]
    for s in splits:
        listed = [*s.a, *s.b, *s.c, *s.unrated]
        assert sorted(listed) == sorted(MEMBERS)
        for group in (s.a, s.b, s.c, s.unrated):
            assert list(group) == sorted(group, key=lambda m: (MEMBERS[m], m))
    shuffled = list(plants)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert abc_split(MEMBERS, shuffled, ["sat", "qa", "fcr", "aht"]) == splits


def test_conflicting_copies_of_a_harvest_count_the_same_on_every_run() -> None:
    a, b = harvest(1, "A1", 2), harvest(1, "A1", 5)
    assert rank_owners([a, b], period=WEEK, members=MEMBERS) == rank_owners(
        [b, a], period=WEEK, members=MEMBERS
    )
