"""Scoring one center's day: agents on their own totals, units on pooled totals."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import pytest

from services.scoring.domain import (
    DEFAULT_VETO,
    DayTotals,
    Direction,
    HealthState,
    Indicator,
    Tiers,
    WarningMethod,
    default_library,
    default_tiers,
)
from services.scoring.scorecard import ScoreRow, score_center_day

DAY = date(2026, 3, 2)
HEALTHY, PESTS, WITHERED, NOT_RATED = (
    HealthState.HEALTHY,
    HealthState.PESTS,
    HealthState.WITHERED,
    HealthState.NOT_RATED,
)


@dataclass(frozen=True)
class Member:
    agent_id: str
    team_id: str
    department_id: str
    center_id: str = "C1"


@dataclass(frozen=True)
class Config:
    library: Mapping[str, Indicator] = field(default_factory=default_library)
    tiers: Mapping[str, Tiers] = field(default_factory=default_tiers)
    veto: tuple[str, ...] = DEFAULT_VETO
    satisfied_min_score: int = 4


MEMBERS = [
    Member("A1", "T1", "D1"),
    Member("A2", "T1", "D1"),
    Member("A3", "T1", "D1"),
    Member("A4", "T2", "D2"),
    Member("A5", "T2", "D2"),  # off today: no totals
    Member("B1", "T9", "D9", center_id="C2"),  # another center
]


def day_totals() -> dict[str, tuple[DayTotals, list[int]]]:
    return {
        "A1": (
            DayTotals(
                calls=10,
                handle_seconds=3000,
                surveys=10,
                repeated_calls=1,
                logged_in_seconds=14400,
                busy_seconds=10800,
                metrics={"qa_score": (180.0, 2)},
            ),
            [0, 0, 0, 0, 10],
        ),
        "A2": (
            DayTotals(
                calls=20,
                handle_seconds=8000,
                surveys=4,
                repeated_calls=4,
                logged_in_seconds=7200,
                busy_seconds=3600,
                justified_complaints=1,
                metrics={"qa_score": (80.0, 1)},
            ),
            [0, 0, 0, 2, 2],
        ),
        "A3": (
            DayTotals(calls=4, handle_seconds=1000, surveys=3, logged_in_seconds=1800),
            [2, 0, 0, 0, 1],
        ),
        "A4": (
            DayTotals(
                calls=30,
                handle_seconds=9000,
                surveys=3,
                repeated_calls=3,
                logged_in_seconds=28800,
                busy_seconds=21600,
            ),
            [0, 0, 1, 1, 1],
        ),
        "B1": (DayTotals(calls=99), [0, 0, 0, 0, 0]),
    }


def score(
    totals: Mapping[str, tuple[DayTotals, list[int]]] | None = None,
    config: Config | None = None,
    history: Mapping[tuple[str, str, str], list[float]] | None = None,
    configs: Mapping[str, Config] | None = None,
) -> dict[tuple[str, str, str], ScoreRow]:
    base = config or Config()

    def config_for(center_id: str, department_id: str | None, kind: str) -> Config:
        assert center_id == "C1"
        assert (department_id is None) == (kind == "center")
        return (configs or {}).get(kind, base)

    rows = score_center_day(DAY, "C1", MEMBERS, totals or day_totals(), config_for, history or {})
    keyed = {(r.owner_kind, r.owner_id, r.indicator): r for r in rows}
    assert len(keyed) == len(rows)  # one row per owner and indicator
    return keyed


def test_every_active_owner_gets_one_row_per_indicator() -> None:
    rows = score()
    owners = {(kind, owner) for kind, owner, _ in rows}
    assert owners == {
        ("agent", "A1"),
        ("agent", "A2"),
        ("agent", "A3"),
        ("agent", "A4"),
        ("team", "T1"),
        ("team", "T2"),
        ("department", "D1"),
        ("department", "D2"),
        ("center", "C1"),
    }
    assert len(rows) == 9 * 6
    assert all(r.business_date == DAY and r.center_id == "C1" for r in rows.values())


def test_agents_without_totals_get_no_rows_and_no_units_of_their_own() -> None:
    totals = day_totals()
    del totals["A4"]
    rows = score(totals)
    assert not any(owner in ("A4", "A5", "T2", "D2", "B1") for _, owner, _ in rows)
    # the center is still the pool of everyone active
    assert rows[("center", "C1", "call_volume")].verdict.value == 34


def test_rows_carry_their_place_in_the_org_and_fruit() -> None:
    rows = score()
    a1 = rows[("agent", "A1", "satisfaction")]
    assert (a1.department_id, a1.team_id, a1.fruit) == ("D1", "T1", "watermelon")
    team = rows[("team", "T2", "aht")]
    assert (team.department_id, team.team_id, team.fruit) == ("D2", "T2", "grape")
    dept = rows[("department", "D1", "fcr")]
    assert (dept.department_id, dept.team_id) == ("D1", None)
    center = rows[("center", "C1", "utilization")]
    assert (center.department_id, center.team_id, center.fruit) == (None, None, "orange")
    payload = a1.payload()
    assert payload["business_date"] == "2026-03-02"
    assert payload["state"] == "healthy"
    assert payload["value"] == 100.0 and payload["owner_kind"] == "agent"


def test_units_pool_their_members_totals() -> None:
    rows = score()

    def value(kind: str, owner: str, code: str) -> float | None:
        return rows[(kind, owner, code)].verdict.value

    assert value("team", "T1", "call_volume") == 34
    assert value("team", "T2", "call_volume") == 30
    assert value("department", "D1", "call_volume") == 34
    assert value("center", "C1", "call_volume") == 64  # B1 of C2 is not in
    assert value("team", "T1", "aht") == pytest.approx(12000 / 34)
    assert value("team", "T1", "fcr") == pytest.approx(100 * 29 / 34)
    assert value("team", "T1", "utilization") == pytest.approx(100 * 14400 / 23400)
    assert rows[("team", "T1", "utilization")].verdict.sample == pytest.approx(390)
    assert value("team", "T1", "complaint_rate") == pytest.approx(1000 / 34)
    assert value("center", "C1", "fcr") == pytest.approx(100 * 56 / 64)


def test_satisfaction_is_pooled_not_a_mean_of_means() -> None:
    rows = score()
    agents = [rows[("agent", a, "satisfaction")].verdict.value for a in ("A1", "A2", "A3")]
    assert agents == pytest.approx([100.0, 100.0, 100 / 3])
    team = rows[("team", "T1", "satisfaction")].verdict
    assert team.value == pytest.approx(100 * 15 / 17)  # not 77.8, the mean of the three
    assert team.sample == 17
    center = rows[("center", "C1", "satisfaction")].verdict
    assert center.value == pytest.approx(100 * 17 / 20)


def test_satisfied_min_score_is_respected() -> None:
    rows = score(config=Config(satisfied_min_score=5))
    values = {a: rows[("agent", a, "satisfaction")].verdict.value for a in ("A1", "A2", "A3", "A4")}
    assert values == pytest.approx({"A1": 100.0, "A2": 50.0, "A3": 100 / 3, "A4": 100 / 3})
    assert rows[("team", "T1", "satisfaction")].verdict.value == pytest.approx(100 * 13 / 17)
    lenient = score(config=Config(satisfied_min_score=3))
    assert lenient[("agent", "A4", "satisfaction")].verdict.value == pytest.approx(100.0)


def test_minimum_samples_leave_small_days_unrated() -> None:
    rows = score()
    for code in ("aht", "fcr", "complaint_rate", "utilization"):
        v = rows[("agent", "A3", code)].verdict
        assert (v.state, v.points) == (NOT_RATED, 0), code
    assert rows[("agent", "A3", "satisfaction")].verdict.state is WITHERED  # 3 surveys: rated
    assert rows[("agent", "A1", "complaint_rate")].verdict.state is NOT_RATED  # 10 calls < 20
    assert rows[("agent", "A2", "complaint_rate")].verdict.value == pytest.approx(50.0)


def test_computed_center_average_is_the_mean_of_rated_agents() -> None:
    rows = score()
    # aht rated agents: A1 300, A2 400, A4 300 (A3 has 4 calls) -> center average 333.3
    # tiers 420 / avg / 300 / 330 / 270 (lower is better)
    a1 = rows[("agent", "A1", "aht")].verdict
    a2 = rows[("agent", "A2", "aht")].verdict
    assert (a1.points, a1.state) == (8, HEALTHY)
    assert (a2.points, a2.state) == (2, PESTS)
    team = rows[("team", "T1", "aht")].verdict  # 352.9 s: above the agents' average
    assert (team.points, team.state) == (2, PESTS)
    # call volume average = mean(10, 20, 4, 30) = 16; pass is 80
    assert rows[("agent", "A2", "call_volume")].verdict.points == 2
    assert rows[("agent", "A1", "call_volume")].verdict.points == 0
    # units are held to the agents' average too (not the mean of the units: 32 for teams)
    assert rows[("team", "T2", "call_volume")].verdict.points == 2
    assert rows[("department", "D2", "call_volume")].verdict.points == 2
    assert rows[("center", "C1", "call_volume")].verdict.points == 2


def test_computed_center_average_moves_with_the_other_agents() -> None:
    totals = day_totals()
    busy, hist = totals["A4"]
    totals["A4"] = (dataclasses.replace(busy, calls=100), hist)  # average now 33.5
    rows = score(totals)
    assert rows[("agent", "A2", "call_volume")].verdict.points == 0
    assert rows[("agent", "A4", "call_volume")].verdict.points == 2 + 2  # pass 80 and average
    # a configured center average replaces the computed one
    tiers = {**default_tiers(), "call_volume": Tiers(80, 15, 120, 110, 140)}
    fixed = score(config=Config(tiers=tiers))
    assert fixed[("agent", "A1", "call_volume")].verdict.points == 0
    assert fixed[("agent", "A2", "call_volume")].verdict.points == 2


def test_veto_on_the_agent_with_a_justified_complaint() -> None:
    rows = score()
    a2 = rows[("agent", "A2", "satisfaction")].verdict
    assert (a2.value, a2.points, a2.state) == (100.0, 0, HEALTHY)
    a1 = rows[("agent", "A1", "satisfaction")].verdict
    assert (a1.points, a1.state) == (10, HEALTHY)
    # the veto list is configuration
    no_veto = score(config=Config(veto=()))
    assert no_veto[("agent", "A2", "satisfaction")].verdict.points == 10
    aht_veto = score(config=Config(veto=("aht",)))
    assert aht_veto[("agent", "A2", "satisfaction")].verdict.points == 10
    assert aht_veto[("agent", "A2", "aht")].verdict.points == 0
    assert aht_veto[("agent", "A1", "aht")].verdict.points == 8


def test_department_indicator_only_for_its_department() -> None:
    lib = {
        **default_library(),
        "qa_score": Indicator(
            "qa_score", "质检分", Direction.HIGHER, 1, "peach", department_id="D1"
        ),
    }
    tiers = {**default_tiers(), "qa_score": Tiers(80, None, 95, 90, 98)}
    rows = score(config=Config(library=lib, tiers=tiers))
    qa = {(k, o): r.verdict for (k, o, code), r in rows.items() if code == "qa_score"}
    assert set(qa) == {
        ("agent", "A1"),
        ("agent", "A2"),
        ("agent", "A3"),
        ("team", "T1"),
        ("department", "D1"),
    }
    assert qa[("agent", "A1")].value == 90.0
    assert qa[("agent", "A2")].value == 80.0
    assert qa[("agent", "A3")].state is NOT_RATED  # nothing reported
    assert qa[("team", "T1")].value == pytest.approx(260 / 3)
    assert qa[("department", "D1")].sample == 3
    # center average of rated agents: (90 + 80) / 2 = 85
    assert (qa[("agent", "A1")].points, qa[("agent", "A2")].points) == (6, 2)  # A1 meets group 90
    assert qa[("team", "T1")].points == 4


def test_each_kind_uses_its_own_tiers() -> None:
    lenient = {**default_tiers(), "call_volume": Tiers(30, None, 33, 200, 300)}
    rows = score(configs={"team": Config(tiers=lenient)})
    # T1 has 34 calls: pass 30, computed average 16 and benchmark 33 met under the team tiers
    team = rows[("team", "T1", "call_volume")].verdict
    assert (team.points, team.state) == (6, HEALTHY)
    # the same 34 calls under the default tiers (pass 80): only the average
    dept = rows[("department", "D1", "call_volume")].verdict
    assert (dept.value, dept.points, dept.state) == (34, 2, WITHERED)
    assert rows[("agent", "A4", "call_volume")].verdict.points == 2  # agents keep the defaults


def test_history_drives_the_trend_method() -> None:
    lib = {
        **default_library(),
        "fcr": dataclasses.replace(default_library()["fcr"], warning=WarningMethod.TREND),
    }
    history = {
        ("agent", "A4", "fcr"): [99.0, 95.0, 92.0],
        ("team", "T2", "fcr"): [91.0, 90.0, 95.0],
    }
    rows = score(config=Config(library=lib), history=history)
    assert rows[("agent", "A4", "fcr")].verdict.value == pytest.approx(90.0)
    assert rows[("agent", "A4", "fcr")].verdict.state is PESTS
    assert rows[("team", "T2", "fcr")].verdict.state is HEALTHY
    assert rows[("agent", "A1", "fcr")].verdict.state is HEALTHY  # no history


def test_percentile_peers_are_owners_of_the_same_kind() -> None:
    lib = {
        **default_library(),
        "call_volume": dataclasses.replace(
            default_library()["call_volume"], warning=WarningMethod.PERCENTILE, tail_pct=30
        ),
    }
    tiers = {**default_tiers(), "call_volume": Tiers(0, None, 120, 110, 140)}
    rows = score(config=Config(library=lib, tiers=tiers))
    # agents 10, 20, 4, 30 (mid-rank percentiles 37.5, 62.5, 12.5, 87.5): the lowest is in
    # the bottom 30 %
    states = {a: rows[("agent", a, "call_volume")].verdict.state for a in ("A1", "A2", "A3", "A4")}
    assert states == {"A1": HEALTHY, "A2": HEALTHY, "A3": PESTS, "A4": HEALTHY}
    # teams 34 and 30 are compared with each other (T2 at 25 %), not with the agents
    # (among all six values 30 would sit at 66 %)
    assert rows[("team", "T2", "call_volume")].verdict.state is PESTS
    assert rows[("team", "T1", "call_volume")].verdict.state is HEALTHY


def test_inputs_are_not_mutated() -> None:
    totals = day_totals()
    before = {k: (dataclasses.asdict(t), list(h)) for k, (t, h) in totals.items()}
    score(totals)
    score(totals)
    assert {k: (dataclasses.asdict(t), list(h)) for k, (t, h) in totals.items()} == before
