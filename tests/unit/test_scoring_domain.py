"""Scoring rules (domain.md §3–5, §9): tiers, points, veto, states, business days, settlement."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.scoring.domain import (
    CORE_INDICATORS,
    DEFAULT_VETO,
    DayTotals,
    Direction,
    HealthState,
    Indicator,
    Measured,
    Peers,
    SettlementPolicy,
    Tiers,
    WarningMethod,
    benchmark_state,
    business_date,
    day_bounds,
    default_library,
    default_tiers,
    health_points,
    judge,
    measure,
    meets,
    percentile_state,
    pool,
    split_span,
    trend_state,
    veto_applies,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
HIGHER, LOWER = Direction.HIGHER, Direction.LOWER
HEALTHY, PESTS, WITHERED, NOT_RATED = (
    HealthState.HEALTHY,
    HealthState.PESTS,
    HealthState.WITHERED,
    HealthState.NOT_RATED,
)
SATISFACTION_TIERS = Tiers(85, 90, 93, 95, 97)
AHT_TIERS = Tiers(420, 360, 300, 330, 270)

LIB = default_library()
TIERS = default_tiers()


def hours(start: datetime, end: datetime) -> float:
    """Elapsed real time (not the wall-clock difference of same-zone datetimes)."""
    return (end.timestamp() - start.timestamp()) / 3600


# --- defaults -------------------------------------------------------------------------------


def test_default_library_matches_the_indicator_table() -> None:
    assert tuple(LIB) == CORE_INDICATORS
    expected = {
        "call_volume": (HIGHER, 0, "corn"),
        "aht": (LOWER, 5, "grape"),
        "satisfaction": (HIGHER, 3, "watermelon"),
        "fcr": (HIGHER, 5, "apple"),
        "utilization": (HIGHER, 60, "orange"),
        "complaint_rate": (LOWER, 20, "strawberry"),
    }
    for code, (direction, min_sample, fruit) in expected.items():
        ind = LIB[code]
        assert (ind.direction, ind.min_sample, ind.fruit) == (direction, min_sample, fruit)
        assert ind.warning is WarningMethod.BENCHMARK
        assert ind.department_id is None
    assert set(TIERS) == set(CORE_INDICATORS)
    assert TIERS["satisfaction"] == SATISFACTION_TIERS
    assert DEFAULT_VETO == ("satisfaction", "complaint_rate")


# --- tiers and points -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "points"),
    [(96, 8), (98, 10), (97, 10), (96.99, 8), (95, 8), (93, 6), (90, 4), (89.99, 2), (85, 2)],
)
def test_worked_example_satisfaction_tiers(value: float, points: float) -> None:
    # domain.md §4: tiers 85/90/93/95/97 %, 96 % meets four -> 8 points; 98 % -> 10
    assert health_points(value, SATISFACTION_TIERS, HIGHER, center_avg=None) == points


def test_below_pass_earns_nothing() -> None:
    assert health_points(84.99, SATISFACTION_TIERS, HIGHER, center_avg=None) == 0
    assert health_points(0, SATISFACTION_TIERS, HIGHER, center_avg=None) == 0


@pytest.mark.parametrize(
    ("value", "points"),
    [(421, 0), (420, 2), (361, 2), (360, 4), (331, 4), (330, 6), (300, 8), (271, 8), (270, 10)],
)
def test_lower_is_better_tiers(value: float, points: float) -> None:
    # aht: pass 420, center 360, benchmark 300, group avg 330, excellence 270 (seconds)
    assert health_points(value, AHT_TIERS, LOWER, center_avg=None) == points


def test_each_tier_earns_its_own_points() -> None:
    tiers = dataclasses.replace(SATISFACTION_TIERS, points=(1, 2, 3, 4, 5))
    assert health_points(91, tiers, HIGHER, center_avg=None) == 3  # pass + center_avg
    assert health_points(96, tiers, HIGHER, center_avg=None) == 10  # all but excellence
    assert health_points(99, tiers, HIGHER, center_avg=None) == 15


def test_meets_edges_and_missing_tier() -> None:
    assert meets(90, 90, HIGHER) and meets(90, 90, LOWER)
    assert meets(91, 90, HIGHER) and not meets(91, 90, LOWER)
    assert meets(89, 90, LOWER) and not meets(89, 90, HIGHER)
    assert not meets(90, None, HIGHER) and not meets(90, None, LOWER)


def test_computed_center_average_used_only_when_tiers_leave_it_open() -> None:
    open_avg = Tiers(85, None, 93, 95, 97)
    assert health_points(88, open_avg, HIGHER, center_avg=87) == 4
    assert health_points(88, open_avg, HIGHER, center_avg=89) == 2
    assert health_points(88, open_avg, HIGHER, center_avg=None) == 2  # no average: not met
    # a configured center average wins over the computed one
    assert health_points(89, SATISFACTION_TIERS, HIGHER, center_avg=80) == 2
    assert health_points(91, SATISFACTION_TIERS, HIGHER, center_avg=95) == 4
    # lower is better: at or under the computed average meets it
    aht_open = dataclasses.replace(AHT_TIERS, center_avg=None)
    assert health_points(350, aht_open, LOWER, center_avg=350) == 4
    assert health_points(351, aht_open, LOWER, center_avg=350) == 2


values = st.floats(min_value=-1000, max_value=1000, allow_nan=False)
tier_points = st.tuples(*[st.floats(min_value=0, max_value=20, allow_nan=False)] * 5)
tiers_strategy = st.builds(
    Tiers,
    values,
    st.one_of(st.none(), values),
    values,
    values,
    values,
    tier_points,
)


@settings(max_examples=80, deadline=None)
@given(tiers_strategy, values, values, st.one_of(st.none(), values), st.sampled_from(Direction))
def test_points_monotone_and_bounded(
    tiers: Tiers, a: float, b: float, avg: float | None, d: Direction
) -> None:
    worse, better = (min(a, b), max(a, b)) if d is HIGHER else (max(a, b), min(a, b))
    p_worse = health_points(worse, tiers, d, center_avg=avg)
    p_better = health_points(better, tiers, d, center_avg=avg)
    assert 0 <= p_worse <= p_better <= sum(tiers.points) + 1e-9


@settings(max_examples=80, deadline=None)
@given(tiers_strategy, values, values, st.sampled_from(Direction))
def test_computed_average_acts_as_a_configured_one(
    tiers: Tiers, value: float, avg: float, d: Direction
) -> None:
    open_tiers = dataclasses.replace(tiers, center_avg=None)
    fixed = dataclasses.replace(tiers, center_avg=avg)
    assert health_points(value, open_tiers, d, center_avg=avg) == health_points(
        value, fixed, d, center_avg=None
    )
    # and a configured average ignores whatever was computed
    assert health_points(value, fixed, d, center_avg=avg + 500) == health_points(
        value, fixed, d, center_avg=None
    )


# --- measuring ------------------------------------------------------------------------------


def full_day() -> DayTotals:
    return DayTotals(
        calls=10,
        handle_seconds=3000,
        surveys=4,
        satisfied=3,
        repeated_calls=2,
        logged_in_seconds=7200,
        busy_seconds=5400,
        justified_complaints=1,
        metrics={"qa_score": (270.0, 3)},
    )


@pytest.mark.parametrize(
    ("code", "value", "sample"),
    [
        ("call_volume", 10, 10),
        ("aht", 300, 10),
        ("satisfaction", 75, 4),
        ("fcr", 80, 10),
        ("utilization", 75, 120),
        ("complaint_rate", 100, 10),
    ],
)
def test_measure_core_indicators(code: str, value: float, sample: float) -> None:
    m = measure(LIB[code], full_day())
    assert m.value == pytest.approx(value)
    assert m.sample == pytest.approx(sample)


def qa(department: str | None = "D1") -> Indicator:
    return Indicator("qa_score", "质检分", HIGHER, 2, "peach", department_id=department)


def test_measure_department_indicator_is_the_mean_of_reported_values() -> None:
    assert measure(qa(), full_day()) == Measured(90.0, 3.0)
    assert measure(qa(), DayTotals()) == Measured(None, 0.0)
    other = Indicator("other_score", "其他", HIGHER)
    assert measure(other, full_day()) == Measured(None, 0.0)


def test_pooled_department_indicator_averages_every_reported_value() -> None:
    a = DayTotals(metrics={"qa_score": (80.0, 1)})
    b = DayTotals(metrics={"qa_score": (190.0, 2), "x": (1.0, 1)})
    pooled = pool({"A1": a, "A2": b})
    assert pooled.metrics == {"qa_score": (270.0, 3), "x": (1.0, 1)}
    assert measure(qa(), pooled).value == pytest.approx(90.0)  # not (80 + 95) / 2
    assert a.metrics == {"qa_score": (80.0, 1)}  # members are not touched


def test_measure_without_a_sample_has_no_value() -> None:
    empty = DayTotals()
    assert measure(LIB["call_volume"], empty) == Measured(0.0, 0.0)
    for code in ("aht", "satisfaction", "fcr", "utilization", "complaint_rate"):
        assert measure(LIB[code], empty).value is None, code


totals_strategy = st.builds(
    DayTotals,
    calls=st.integers(0, 500),
    handle_seconds=st.integers(0, 100_000).map(float),
    surveys=st.integers(0, 50),
    satisfied=st.integers(0, 50),
    repeated_calls=st.integers(0, 50),
    logged_in_seconds=st.integers(0, 50_000).map(float),
    busy_seconds=st.integers(0, 50_000).map(float),
    justified_complaints=st.integers(0, 5),
    metrics=st.dictionaries(
        st.sampled_from(["qa_score", "x"]),
        st.tuples(st.integers(0, 1000).map(float), st.integers(1, 5)),
        max_size=2,
    ),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(totals_strategy, max_size=5))
def test_pool_adds_every_field(members: list[DayTotals]) -> None:
    total = pool({f"A{i}": t for i, t in enumerate(members)})
    for name in (
        "calls",
        "handle_seconds",
        "surveys",
        "satisfied",
        "repeated_calls",
        "logged_in_seconds",
        "busy_seconds",
        "justified_complaints",
    ):
        assert getattr(total, name) == sum(getattr(t, name) for t in members), name
    for code in ("qa_score", "x"):
        parts = [t.metrics[code] for t in members if code in t.metrics]
        if parts:
            assert total.metrics[code] == (sum(p[0] for p in parts), sum(p[1] for p in parts))
        else:
            assert code not in total.metrics


# --- judging: minimum sample and veto -------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "below", "at_minimum"),
    [
        (
            "aht",
            DayTotals(calls=4, handle_seconds=4 * 250),
            DayTotals(calls=5, handle_seconds=5 * 250),
        ),
        ("satisfaction", DayTotals(surveys=2, satisfied=2), DayTotals(surveys=3, satisfied=3)),
        ("fcr", DayTotals(calls=4), DayTotals(calls=5)),
        (
            "utilization",
            DayTotals(logged_in_seconds=3599, busy_seconds=3000),
            DayTotals(logged_in_seconds=3600, busy_seconds=3000),
        ),
        ("complaint_rate", DayTotals(calls=19), DayTotals(calls=20)),
    ],
)
def test_not_rated_below_minimum_sample(code: str, below: DayTotals, at_minimum: DayTotals) -> None:
    ind, tiers = LIB[code], TIERS[code]
    low = judge(ind, tiers, measure(ind, below), center_avg=None)
    assert low.state is NOT_RATED
    assert low.points == 0
    assert low.value is not None  # the value is still reported, just not rated
    ok = judge(ind, tiers, measure(ind, at_minimum), center_avg=None)
    assert ok.state is HEALTHY
    assert ok.points >= 6, ok
    # a veto changes nothing for an unrated day
    assert judge(ind, tiers, measure(ind, below), center_avg=None, vetoed=True) == low


def test_call_volume_is_always_rated() -> None:
    ind = LIB["call_volume"]
    v = judge(ind, TIERS["call_volume"], measure(ind, DayTotals()), center_avg=None)
    assert (v.value, v.points, v.state) == (0.0, 0, WITHERED)


@pytest.mark.parametrize("value", [98.0, 91.0, 80.0])
def test_veto_zeroes_points_but_keeps_the_state(value: float) -> None:
    ind = LIB["satisfaction"]
    m = Measured(value, 10)
    plain = judge(ind, SATISFACTION_TIERS, m, center_avg=None)
    vetoed = judge(ind, SATISFACTION_TIERS, m, center_avg=None, vetoed=True)
    assert vetoed.points == 0
    assert vetoed.state is plain.state
    assert vetoed.value == plain.value == value
    assert plain.points == {98.0: 10, 91.0: 4, 80.0: 0}[value]
    assert plain.state is {98.0: HEALTHY, 91.0: HEALTHY, 80.0: WITHERED}[value]


def test_veto_applies_to_listed_indicators_on_a_complaint_day() -> None:
    assert veto_applies("satisfaction", 1, DEFAULT_VETO)
    assert veto_applies("complaint_rate", 3, DEFAULT_VETO)
    assert not veto_applies("satisfaction", 0, DEFAULT_VETO)
    assert not veto_applies("aht", 1, DEFAULT_VETO)
    assert veto_applies("aht", 1, ("aht",))
    assert not veto_applies("satisfaction", 1, ())


def test_judge_uses_computed_center_average_for_points_and_state() -> None:
    ind = LIB["fcr"]  # tiers 70 / computed / 85 / 80 / 90
    m = Measured(75.0, 10)
    above = judge(ind, TIERS["fcr"], m, center_avg=74)
    below = judge(ind, TIERS["fcr"], m, center_avg=76)
    assert (above.points, above.state) == (4, HEALTHY)
    assert (below.points, below.state) == (2, PESTS)
    alone = judge(ind, TIERS["fcr"], m, center_avg=None)
    assert (alone.points, alone.state) == (2, HEALTHY)


# --- warning methods ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "state"),
    [(80, WITHERED), (84.99, WITHERED), (85, PESTS), (89.9, PESTS), (90, HEALTHY)],
)
def test_benchmark_higher(value: float, state: HealthState) -> None:
    assert benchmark_state(value, 85, 90, HIGHER) is state


@pytest.mark.parametrize(
    ("value", "state"),
    [(430, WITHERED), (420, PESTS), (361, PESTS), (360, HEALTHY), (200, HEALTHY)],
)
def test_benchmark_lower(value: float, state: HealthState) -> None:
    assert benchmark_state(value, 420, 360, LOWER) is state


def test_benchmark_without_center_average() -> None:
    assert benchmark_state(86, 85, None, HIGHER) is HEALTHY
    assert benchmark_state(84, 85, None, HIGHER) is WITHERED


PEERS = [float(v) for v in range(1, 11)]


@pytest.mark.parametrize(
    ("value", "d", "state"),
    [
        (1, HIGHER, PESTS),
        (2, HIGHER, PESTS),
        (3, HIGHER, HEALTHY),
        (10, HIGHER, HEALTHY),
        (10, LOWER, PESTS),
        (9, LOWER, PESTS),
        (8, LOWER, HEALTHY),
        (1, LOWER, HEALTHY),
    ],
)
def test_percentile_bottom_tail_gets_pests(value: float, d: Direction, state: HealthState) -> None:
    pass_ = 0 if d is HIGHER else 100
    assert percentile_state(value, pass_, PEERS, 20, d) is state


def test_percentile_below_pass_is_withered_even_at_the_top() -> None:
    assert percentile_state(10, 50, PEERS, 20, HIGHER) is WITHERED
    assert percentile_state(1, 0.5, PEERS, 20, LOWER) is WITHERED
    assert percentile_state(60, 50, [], 20, HIGHER) is HEALTHY


def test_percentile_tail_size_follows_tail_pct() -> None:
    pests = [v for v in PEERS if percentile_state(v, 0, PEERS, 50, HIGHER) is PESTS]
    assert pests == [1, 2, 3, 4, 5]


def test_percentile_ties_do_not_put_everyone_in_the_tail() -> None:
    peers = [95.0] * 10
    states = [percentile_state(v, 85, peers, 20, HIGHER) for v in peers]
    assert states.count(PESTS) <= 2  # at most the bottom 20 % of ten agents


@pytest.mark.parametrize(
    ("history", "value", "d", "state"),
    [
        ([90, 89, 88], 87, HIGHER, PESTS),
        ([80, 90, 89, 88], 87, HIGHER, PESTS),  # only the last three steps matter
        ([90, 89, 88], 88, HIGHER, HEALTHY),  # flat is not worsening
        ([90, 91, 88], 87, HIGHER, HEALTHY),  # the run was broken
        ([89, 88], 87, HIGHER, HEALTHY),  # not enough rated days yet
        ([], 87, HIGHER, HEALTHY),
        ([90, 89, 88], 84, HIGHER, WITHERED),  # below pass wins
        ([300, 310, 320], 330, LOWER, PESTS),
        ([300, 310, 320], 320, LOWER, HEALTHY),
        ([330, 320, 310], 300, LOWER, HEALTHY),  # improving
        ([300, 310, 320], 430, LOWER, WITHERED),
    ],
)
def test_trend(history: list[float], value: float, d: Direction, state: HealthState) -> None:
    pass_ = 85 if d is HIGHER else 420
    assert trend_state(value, pass_, history, 3, d) is state


def test_trend_days_configurable() -> None:
    assert trend_state(87, 85, [89, 88], 2, HIGHER) is PESTS
    assert trend_state(87, 85, [88], 2, HIGHER) is HEALTHY
    assert trend_state(87, 85, [88], 1, HIGHER) is PESTS


def test_judge_dispatches_on_the_warning_method() -> None:
    base = LIB["satisfaction"]
    m = Measured(91.0, 10)
    # benchmark with configured center 90: healthy
    assert judge(base, SATISFACTION_TIERS, m, center_avg=None).state is HEALTHY
    pct = dataclasses.replace(base, warning=WarningMethod.PERCENTILE)
    peers = Peers((91.0, 95.0, 96.0, 97.0, 99.0))
    assert judge(pct, SATISFACTION_TIERS, m, center_avg=None, peers=peers).state is PESTS
    assert judge(
        pct, SATISFACTION_TIERS, Measured(95.0, 10), center_avg=None, peers=peers
    ).state is (HEALTHY)
    trend = dataclasses.replace(base, warning=WarningMethod.TREND)
    v = judge(trend, SATISFACTION_TIERS, m, center_avg=None, history=(99.0, 95.0, 93.0))
    assert (v.state, v.points) == (PESTS, 4)
    assert judge(trend, SATISFACTION_TIERS, m, center_avg=None, history=(93.0,)).state is HEALTHY


def test_peers_mean() -> None:
    assert Peers().mean is None
    assert Peers((1.0, 2.0, 6.0)).mean == 3.0


# --- business days --------------------------------------------------------------------------


def test_business_date_follows_the_center_zone() -> None:
    before = datetime(2026, 3, 1, 15, 59, 59, tzinfo=UTC)  # 23:59:59 in Shanghai
    after = datetime(2026, 3, 1, 16, 0, tzinfo=UTC)  # midnight in Shanghai
    assert business_date(before, SHANGHAI) == date(2026, 3, 1)
    assert business_date(after, SHANGHAI) == date(2026, 3, 2)
    assert business_date(after, ZoneInfo("UTC")) == date(2026, 3, 1)
    local = datetime.fromisoformat("2026-03-02T00:30:00+08:00")
    assert business_date(local, SHANGHAI) == date(2026, 3, 2)
    assert business_date(local, ZoneInfo("UTC")) == date(2026, 3, 1)
    assert business_date(after, NEW_YORK) == date(2026, 3, 1)  # 11:00 EST


def test_day_bounds_in_shanghai() -> None:
    start, end = day_bounds(date(2026, 3, 2), SHANGHAI)
    assert start == datetime(2026, 3, 1, 16, 0, tzinfo=UTC)
    assert end == datetime(2026, 3, 2, 16, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("day", "length"),
    [
        (date(2026, 3, 8), 23),
        (date(2026, 11, 1), 25),
        (date(2026, 3, 9), 24),
        (date(2026, 7, 1), 24),
    ],
)
def test_day_bounds_across_dst(day: date, length: float) -> None:
    start, end = day_bounds(day, NEW_YORK)
    assert hours(start, end) == length
    assert business_date(start, NEW_YORK) == day
    assert business_date(end - timedelta(microseconds=1), NEW_YORK) == day
    assert business_date(end, NEW_YORK) == day + timedelta(days=1)


def test_split_span_at_local_midnight() -> None:
    start = datetime.fromisoformat("2026-03-02T23:00:00+08:00")
    end = datetime.fromisoformat("2026-03-03T01:30:00+08:00")
    assert split_span(start, end, SHANGHAI) == [
        (date(2026, 3, 2), 3600.0),
        (date(2026, 3, 3), 5400.0),
    ]
    assert split_span(start, start, SHANGHAI) == []
    inside = datetime.fromisoformat("2026-03-02T23:30:00+08:00")
    assert split_span(start, inside, SHANGHAI) == [(date(2026, 3, 2), 1800.0)]
    # the same span is one UTC day
    assert split_span(start, end, ZoneInfo("UTC")) == [(date(2026, 3, 2), 9000.0)]


def test_split_span_over_the_dst_night() -> None:
    start = datetime.fromisoformat("2026-03-07T22:00:00-05:00")
    end = datetime.fromisoformat("2026-03-08T04:00:00-04:00")  # clocks skip 02:00-03:00
    assert split_span(start, end, NEW_YORK) == [
        (date(2026, 3, 7), 7200.0),
        (date(2026, 3, 8), 10800.0),
    ]


span_starts = st.datetimes(
    min_value=datetime(2025, 12, 1), max_value=datetime(2027, 2, 1), timezones=st.just(UTC)
)


def check_split(start: datetime, seconds: int, zone: ZoneInfo) -> None:
    end = start + timedelta(seconds=seconds)
    pieces = split_span(start, end, zone)
    assert sum(s for _, s in pieces) == pytest.approx(seconds, abs=1e-6)
    assert all(s > 0 for _, s in pieces)
    days = [d for d, _ in pieces]
    assert days == sorted(set(days))
    assert all((b - a).days == 1 for a, b in itertools.pairwise(days))
    if pieces:
        assert days[0] == business_date(start, zone)
        assert days[-1] == business_date(end - timedelta(microseconds=1), zone)
    for day, s in pieces:
        lo, hi = day_bounds(day, zone)
        assert s <= hours(lo, hi) * 3600 + 1e-6


@settings(max_examples=80, deadline=None)
@given(span_starts, st.integers(0, 4 * 86_400))
def test_split_span_sums_to_the_span_shanghai(start: datetime, seconds: int) -> None:
    check_split(start, seconds, SHANGHAI)


@settings(max_examples=80, deadline=None)
@given(span_starts, st.integers(0, 22 * 3600))
def test_split_span_sums_to_the_span_new_york(start: datetime, seconds: int) -> None:
    # spans under 23 h never hold a whole (possibly 23 h) day; longer ones: see the xfail below
    check_split(start, seconds, NEW_YORK)


def test_split_span_over_a_whole_dst_day() -> None:
    start = datetime(2026, 3, 7, 17, 0, tzinfo=UTC)  # 12:00 EST
    end = datetime(2026, 3, 9, 16, 0, tzinfo=UTC)  # 12:00 EDT
    assert split_span(start, end, NEW_YORK) == [
        (date(2026, 3, 7), 12 * 3600.0),
        (date(2026, 3, 8), 23 * 3600.0),
        (date(2026, 3, 9), 12 * 3600.0),
    ]


# --- settlement -----------------------------------------------------------------------------

DAY = date(2026, 3, 2)
CLOSES = datetime(2026, 3, 3, 16, 0, tzinfo=UTC)  # end of Mar 2 in Shanghai + 24 h
LONG_AGO = datetime(2026, 3, 1, tzinfo=UTC)


def test_settles_when_the_watermark_minus_lateness_passes_day_end_plus_fcr_window() -> None:
    policy = SettlementPolicy()
    assert policy.due(
        DAY, SHANGHAI, watermark=CLOSES + timedelta(hours=2), now=LONG_AGO, quiet=False
    )
    assert policy.due(
        DAY, SHANGHAI, watermark=CLOSES + timedelta(hours=5), now=LONG_AGO, quiet=False
    )
    assert not policy.due(
        DAY, SHANGHAI, watermark=CLOSES + timedelta(hours=2, seconds=-1), now=LONG_AGO, quiet=False
    )
    assert not policy.due(DAY, SHANGHAI, watermark=CLOSES, now=LONG_AGO, quiet=True)


def test_settles_by_wall_clock_plus_grace_only_when_quiet() -> None:
    policy = SettlementPolicy()
    grace = CLOSES + timedelta(minutes=30)
    assert policy.due(DAY, SHANGHAI, watermark=None, now=grace, quiet=True)
    assert policy.due(DAY, SHANGHAI, watermark=CLOSES - timedelta(days=1), now=grace, quiet=True)
    assert not policy.due(
        DAY, SHANGHAI, watermark=None, now=grace - timedelta(seconds=1), quiet=True
    )
    # a backlog being replayed (not quiet) waits for its own event time
    assert not policy.due(
        DAY, SHANGHAI, watermark=None, now=grace + timedelta(days=10), quiet=False
    )
    assert not policy.due(
        DAY, SHANGHAI, watermark=CLOSES, now=grace + timedelta(days=10), quiet=False
    )


def test_not_due_before_the_day_is_closed() -> None:
    policy = SettlementPolicy()
    end_of_day = datetime(2026, 3, 2, 16, 0, tzinfo=UTC)
    assert not policy.due(DAY, SHANGHAI, watermark=end_of_day, now=end_of_day, quiet=True)
    assert not policy.due(DAY, SHANGHAI, watermark=None, now=CLOSES, quiet=True)


def test_settlement_knobs() -> None:
    policy = SettlementPolicy(
        fcr_window=timedelta(hours=1),
        allowed_lateness=timedelta(0),
        grace=timedelta(0),
    )
    end_of_day = datetime(2026, 3, 2, 16, 0, tzinfo=UTC)
    assert policy.due(
        DAY, SHANGHAI, watermark=end_of_day + timedelta(hours=1), now=LONG_AGO, quiet=False
    )
    assert not policy.due(DAY, SHANGHAI, watermark=end_of_day, now=LONG_AGO, quiet=False)
    assert policy.due(
        DAY, SHANGHAI, watermark=None, now=end_of_day + timedelta(hours=1), quiet=True
    )


def test_settlement_uses_the_center_zone() -> None:
    policy = SettlementPolicy()
    # Mar 8 2026 in New York ends at 04:00 UTC on Mar 9 (EDT)
    closes = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)
    day = date(2026, 3, 8)
    assert policy.due(
        day, NEW_YORK, watermark=closes + timedelta(hours=2), now=LONG_AGO, quiet=False
    )
    assert not policy.due(
        day, NEW_YORK, watermark=closes + timedelta(hours=2, seconds=-1), now=LONG_AGO, quiet=False
    )
    # in Shanghai the same day closed 12 hours earlier
    assert policy.due(
        day, SHANGHAI, watermark=closes - timedelta(hours=10), now=LONG_AGO, quiet=False
    )
