"""Improvement campaigns, pure rules: classes, the start snapshot, moves, the end, the result
and the goal; the result does not depend on the order days arrive in."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.garden.domain.campaigns import (
    Day,
    Goal,
    campaign_result,
    class_of,
    counts,
    default_better,
    is_over,
    outcome,
    record_days,
    standing_before,
    value_before,
)

S = date(2026, 5, 4)
E = S + timedelta(days=4)


def day(offset: int, state: str, value: float | None = None) -> Day:
    return Day(S + timedelta(days=offset), state, value)


def test_classes_follow_the_plant_state() -> None:
    assert [class_of(s) for s in ("healthy", "pests", "withered", "not_rated", None)] == [
        "A",
        "B",
        "C",
        "unrated",
        "unrated",
    ]
    assert counts(["A", "C", "A", "unrated"]) == {"A": 2, "B": 0, "C": 1, "unrated": 1}
    assert default_better("aht") == "lower" and default_better("satisfaction") == "higher"


def test_the_start_is_the_latest_rated_day_before_it() -> None:
    days = [day(-3, "withered", 1.0), day(-2, "pests", 2.0), day(-1, "not_rated", 3.0)]
    standing = standing_before([*days, day(0, "healthy", 9.0)], S)
    assert (standing.klass, standing.value, standing.as_of) == ("B", 2.0, S - timedelta(days=2))
    assert standing_before([day(-1, "not_rated")], S).klass == "unrated"
    assert standing_before([], S).as_of is None
    # the unit's value before: the latest day with a value, rated or not
    assert value_before(days, S) == 3.0
    assert value_before([day(-1, "healthy", None)], S) is None


def test_days_carry_classes_and_record_moves() -> None:
    start = {"a": "A", "b": "C", "c": "unrated"}
    recorded = record_days(
        start,  # type: ignore[arg-type]
        {
            "a": [day(0, "pests", 5.0), day(2, "not_rated", 7.0), day(3, "healthy", 8.0)],
            "b": [day(1, "pests", 4.0), day(9, "healthy")],  # day 9 lies after the end
            "c": [day(2, "withered", 1.0)],
            "stranger": [day(1, "healthy")],  # not a member
        },
        [day(1, "healthy", 50.0), day(-1, "healthy", 70.0)],
        starts_on=S,
        ends_on=E,
    )
    assert [d.business_date for d in recorded] == [S + timedelta(days=i) for i in range(4)]
    assert [d.classes for d in recorded] == [
        {"A": 0, "B": 1, "C": 1, "unrated": 1},
        {"A": 0, "B": 2, "C": 0, "unrated": 1},
        {"A": 0, "B": 2, "C": 1, "unrated": 0},
        {"A": 1, "B": 1, "C": 1, "unrated": 0},
    ]
    assert [d.unit_value for d in recorded] == [None, 50.0, None, None]
    moves = [(m.agent_id, m.business_date, m.before, m.after) for d in recorded for m in d.moves]
    assert moves == [
        ("a", S, "A", "B"),
        ("b", S + timedelta(days=1), "C", "B"),
        ("c", S + timedelta(days=2), "unrated", "C"),
        ("a", S + timedelta(days=3), "B", "A"),
    ]
    on_2 = recorded[2].members["a"]
    assert (on_2.klass, on_2.value, on_2.recorded) == ("B", 7.0, True)  # not rated: class kept
    assert recorded[1].members["a"].recorded is False


def test_the_end_needs_the_last_day_settled() -> None:
    assert not is_over(E, [S, E - timedelta(days=1)], E)  # members' last day, not the unit's
    assert is_over(E, [S, E], E)
    assert is_over(E, [], E + timedelta(days=1))  # a later day settled: the period is
    assert not is_over(E, [], None)


def test_outcomes_rank_a_over_b_over_c_over_unrated() -> None:
    assert outcome("C", "B") == outcome("B", "A") == outcome("unrated", "C") == "improved"
    assert outcome("A", "B") == outcome("B", "C") == "fell"
    assert outcome("B", "B") == outcome("unrated", "unrated") == "stayed"


def test_the_result_per_start_class_and_the_goal() -> None:
    start = {"a": "A", "b": "B", "c": "C", "d": "C", "e": "unrated"}
    recorded = record_days(
        start,  # type: ignore[arg-type]
        {
            "a": [day(1, "pests")],
            "b": [day(1, "healthy")],
            "c": [day(2, "pests")],
            "e": [day(3, "healthy")],
        },
        [day(3, "healthy", 290.0), day(4, "healthy", None)],
        starts_on=S,
        ends_on=E,
    )
    goal = Goal(300.0, 0.4, "lower")
    result = campaign_result(start, recorded, unit_value_before=330.0, goal=goal)  # type: ignore[arg-type]
    tally = {k: (v["improved"], v["stayed"], v["fell"]) for k, v in result.classes.items()}
    assert tally == {"A": (0, 0, 1), "B": (1, 0, 0), "C": (1, 1, 0), "unrated": (1, 0, 0)}
    assert result.classes["C"]["ended"] == {"A": 0, "B": 1, "C": 1, "unrated": 0}
    assert result.classes["C"]["members"] == 2
    # after: the latest recorded day with a unit value (the last day had none)
    assert (result.unit_value_before, result.unit_value_after) == (330.0, 290.0)
    assert result.healthy_share == 0.4 and result.goal_met
    assert not Goal(280.0, None, "lower").met_by(290.0, 1.0)
    assert Goal(280.0, None, "higher").met_by(290.0, 0.0)
    assert not Goal(None, 0.5, "higher").met_by(None, 0.4)
    assert not Goal(300.0, None, "higher").met_by(None, 1.0)  # nothing to judge: not met
    assert not Goal(None, None, "higher").met_by(1.0, 1.0)


def test_a_campaign_without_members_or_days() -> None:
    result = campaign_result({}, [], unit_value_before=None, goal=Goal(None, 0.5, "higher"))
    assert result.healthy_share is None and not result.goal_met
    assert all(row["members"] == 0 for row in result.classes.values())


STATES = st.sampled_from(["healthy", "pests", "withered", "not_rated"])
VALUES = st.one_of(st.none(), st.floats(min_value=0, max_value=500, allow_nan=False))
MEMBER_DAYS = st.lists(
    st.tuples(st.integers(min_value=-2, max_value=6), STATES, VALUES), max_size=10
)


@settings(max_examples=200, deadline=None)
@given(
    start=st.dictionaries(
        st.sampled_from(["m1", "m2", "m3", "m4"]),
        st.sampled_from(["A", "B", "C", "unrated"]),
        min_size=1,
    ),
    members=st.dictionaries(st.sampled_from(["m1", "m2", "m3", "m4"]), MEMBER_DAYS),
    unit=MEMBER_DAYS,
    seed=st.randoms(use_true_random=False),
)
def test_the_result_does_not_depend_on_day_order(
    start: dict[str, str], members: dict[str, list], unit: list, seed: object
) -> None:
    def of(rows: list) -> list[Day]:
        # one copy per date, as the store keeps them (the first of a date here)
        seen: dict[int, Day] = {}
        for offset, state, value in rows:
            seen.setdefault(offset, day(offset, state, value))
        return list(seen.values())

    member_days = {m: of(rows) for m, rows in members.items()}
    unit_days = of(unit)
    goal = Goal(250.0, 0.5, "higher")

    def outcome_of(md: dict[str, list[Day]], ud: list[Day]) -> tuple[object, ...]:
        recorded = record_days(start, md, ud, starts_on=S, ends_on=E)  # type: ignore[arg-type]
        result = campaign_result(start, recorded, unit_value_before=1.0, goal=goal)  # type: ignore[arg-type]
        return tuple(d.digest for d in recorded), result.digest

    shuffled_members = {}
    for m, days in member_days.items():
        copy = list(days) * 2  # every day twice: a replay changes nothing either
        seed.shuffle(copy)  # type: ignore[attr-defined]
        shuffled_members[m] = copy
    shuffled_unit = list(unit_days)
    seed.shuffle(shuffled_unit)  # type: ignore[attr-defined]
    assert outcome_of(member_days, unit_days) == outcome_of(shuffled_members, shuffled_unit)
