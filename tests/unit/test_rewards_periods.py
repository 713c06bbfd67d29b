"""Limit periods in the center's time zone, across DST and period boundaries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.rewards.domain.periods import LimitPer, limit_period

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
)


def local(
    zone: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone)


def test_just_before_and_after_local_midnight_are_different_days() -> None:
    late = local(SHANGHAI, 2025, 3, 1, 23, 59)
    early = local(SHANGHAI, 2025, 3, 2, 0, 1)
    day = limit_period("day", late, SHANGHAI)
    assert late in day and early not in day
    assert day.start == datetime(2025, 2, 28, 16, tzinfo=UTC)
    assert limit_period("day", early, "Asia/Shanghai").start == day.end


def test_iso_week_runs_monday_to_sunday_local() -> None:
    sunday_night = local(SHANGHAI, 2025, 3, 9, 23, 59)  # a Sunday
    monday_morning = local(SHANGHAI, 2025, 3, 10, 0, 1)
    week = limit_period("week", sunday_night, SHANGHAI)
    assert week.start == local(SHANGHAI, 2025, 3, 3).astimezone(UTC)
    assert monday_morning not in week
    assert monday_morning in limit_period("week", monday_morning, SHANGHAI)


def test_month_end_and_year_end() -> None:
    december = limit_period("month", local(BERLIN, 2024, 12, 31, 23, 59), BERLIN)
    assert december.start == local(BERLIN, 2024, 12, 1).astimezone(UTC)
    assert december.end == local(BERLIN, 2025, 1, 1).astimezone(UTC)
    february = limit_period("month", local(BERLIN, 2024, 2, 29, 12), BERLIN)
    assert february.end == local(BERLIN, 2024, 3, 1).astimezone(UTC)


@pytest.mark.parametrize(("day", "hours"), [(31, 23), (30, 24)])
def test_spring_forward_day_is_23_hours(day: int, hours: int) -> None:
    period = limit_period("day", local(BERLIN, 2024, 3, day, 12), BERLIN)
    assert period.start is not None and period.end is not None
    assert period.end - period.start == timedelta(hours=hours)


def test_fall_back_day_is_25_hours_and_the_repeated_hour_counts_once() -> None:
    first = datetime(2024, 10, 27, 2, 30, tzinfo=BERLIN, fold=0)
    second = datetime(2024, 10, 27, 2, 30, tzinfo=BERLIN, fold=1)
    period = limit_period("day", first, BERLIN)
    assert period.start is not None and period.end is not None
    assert period.end - period.start == timedelta(hours=25)
    assert first in period and second in period
    assert limit_period("day", second, BERLIN) == period


def test_a_local_midnight_that_does_not_exist_begins_at_the_change() -> None:
    sao_paulo = ZoneInfo("America/Sao_Paulo")  # 2018-11-04 00:00 jumped to 01:00
    period = limit_period("day", local(sao_paulo, 2018, 11, 4, 12), sao_paulo)
    assert period.start == datetime(2018, 11, 4, 3, tzinfo=UTC)
    before = limit_period("day", local(sao_paulo, 2018, 11, 3, 23, 59), sao_paulo)
    assert before.end == period.start


def test_ever_has_no_bounds_and_naive_instants_are_refused() -> None:
    ever = limit_period("ever", datetime(2025, 1, 1, tzinfo=UTC), SHANGHAI)
    assert datetime(1970, 1, 1, tzinfo=UTC) in ever
    assert datetime(1970, 1, 1) not in ever
    with pytest.raises(ValueError, match="time zone"):
        limit_period("day", datetime(2025, 1, 1), SHANGHAI)


@given(
    instants,
    st.sampled_from(["day", "week", "month"]),
    st.sampled_from([SHANGHAI, BERLIN, ZoneInfo("America/Sao_Paulo")]),
)
def test_periods_contain_their_instant_and_tile_time(
    instant: datetime, per: LimitPer, zone: ZoneInfo
) -> None:
    period = limit_period(per, instant, zone)
    assert period.start is not None and period.end is not None
    assert instant in period
    assert period.start.astimezone(zone).time().hour in (0, 1)  # 1: a midnight that never was
    following = limit_period(per, period.end, zone)
    assert following.start == period.end
    assert period.end - timedelta(microseconds=1) in period
    assert limit_period(per, period.start, zone) == period
    if per == "week":
        assert period.start.astimezone(zone).weekday() == 0
    if per == "month":
        assert period.start.astimezone(zone).day == 1
