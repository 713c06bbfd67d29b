"""Scoring rules (domain.md §3–5, §9): indicators, five-tier health points, the
veto, health states and settlement timing.

Pure and synchronous: values in, values out; no database, broker or clock.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo


class Direction(StrEnum):
    HIGHER = "higher"
    LOWER = "lower"


class WarningMethod(StrEnum):
    BENCHMARK = "benchmark"  # 对标法
    PERCENTILE = "percentile"  # 分位法
    TREND = "trend"  # 趋势法


class HealthState(StrEnum):
    HEALTHY = "healthy"
    PESTS = "pests"
    WITHERED = "withered"
    NOT_RATED = "not_rated"


TIER_NAMES = ("pass", "center_avg", "center_benchmark", "group_avg", "group_excellence")
CORE_INDICATORS = ("call_volume", "aht", "satisfaction", "fcr", "utilization", "complaint_rate")


@dataclass(frozen=True, slots=True)
class Indicator:
    """An entry of the indicator library (服务监控指标库)."""

    code: str
    name: str
    direction: Direction
    min_sample: float = 0.0
    fruit: str = "apple"
    warning: WarningMethod = WarningMethod.BENCHMARK
    tail_pct: float = 20.0
    trend_days: int = 3
    department_id: str | None = None  # a department's own indicator (fed by metric.reported)


@dataclass(frozen=True, slots=True)
class Tiers:
    """The five monitoring tiers (监控档位) of one indicator and the points each earns.

    `center_avg` None means "computed each day as the mean of the center's rated agents".
    """

    pass_: float
    center_avg: float | None
    center_benchmark: float
    group_avg: float
    group_excellence: float
    points: tuple[float, float, float, float, float] = (2, 2, 2, 2, 2)

    def values(self, computed_center_avg: float | None) -> tuple[float | None, ...]:
        """The five tier values, with the day's computed center average filled in."""
        avg = self.center_avg if self.center_avg is not None else computed_center_avg
        return (self.pass_, avg, self.center_benchmark, self.group_avg, self.group_excellence)


def meets(value: float, tier: float | None, direction: Direction) -> bool:
    """Tell whether `value` meets `tier` (≥ when higher is better, ≤ when lower)."""
    if tier is None:
        return False
    return value >= tier if direction is Direction.HIGHER else value <= tier


def health_points(
    value: float, tiers: Tiers, direction: Direction, *, center_avg: float | None
) -> float:
    """Points for one indicator-day: the points of every tier met (0–10 by default)."""
    return sum(
        points
        for tier, points in zip(tiers.values(center_avg), tiers.points, strict=True)
        if meets(value, tier, direction)
    )


# --- indicator values -------------------------------------------------------------------------


@dataclass(slots=True)
class DayTotals:
    """What one owner (agent, team, department or center) did on one business day.

    Sums only, so units pool their members' totals by adding them.
    """

    calls: int = 0
    handle_seconds: float = 0.0
    surveys: int = 0
    satisfied: int = 0
    repeated_calls: int = 0
    logged_in_seconds: float = 0.0
    busy_seconds: float = 0.0
    justified_complaints: int = 0
    metrics: dict[str, tuple[float, int]] = field(default_factory=dict)
    """Department indicators: code -> (sum of reported values, count)."""

    def add(self, other: DayTotals) -> None:
        """Pool another owner's totals into these."""
        self.calls += other.calls
        self.handle_seconds += other.handle_seconds
        self.surveys += other.surveys
        self.satisfied += other.satisfied
        self.repeated_calls += other.repeated_calls
        self.logged_in_seconds += other.logged_in_seconds
        self.busy_seconds += other.busy_seconds
        self.justified_complaints += other.justified_complaints
        for code, (total, count) in other.metrics.items():
            mine = self.metrics.get(code, (0.0, 0))
            self.metrics[code] = (mine[0] + total, mine[1] + count)


@dataclass(frozen=True, slots=True)
class Measured:
    """An indicator's value for a day and the sample it rests on."""

    value: float | None
    sample: float

    def rated(self, indicator: Indicator) -> bool:
        return self.value is not None and self.sample >= indicator.min_sample


def measure(indicator: Indicator, totals: DayTotals) -> Measured:
    """Compute one indicator from a day's totals (domain.md §3)."""
    code = indicator.code
    calls = totals.calls
    if code == "call_volume":
        return Measured(float(calls), float(calls))
    if code == "aht":
        return Measured(totals.handle_seconds / calls if calls else None, float(calls))
    if code == "satisfaction":
        surveys = totals.surveys
        return Measured(100.0 * totals.satisfied / surveys if surveys else None, float(surveys))
    if code == "fcr":
        resolved = calls - totals.repeated_calls
        return Measured(100.0 * resolved / calls if calls else None, float(calls))
    if code == "utilization":
        minutes = totals.logged_in_seconds / 60.0
        value = 100.0 * totals.busy_seconds / totals.logged_in_seconds if minutes > 0 else None
        return Measured(value, minutes)
    if code == "complaint_rate":
        value = 1000.0 * totals.justified_complaints / calls if calls else None
        return Measured(value, float(calls))
    total, count = totals.metrics.get(code, (0.0, 0))
    return Measured(total / count if count else None, float(count))


# --- states -----------------------------------------------------------------------------------


def benchmark_state(
    value: float, pass_: float, center_avg: float | None, d: Direction
) -> HealthState:
    """对标法: withered below pass; pests between pass and the center average; else healthy."""
    if not meets(value, pass_, d):
        return HealthState.WITHERED
    if center_avg is not None and not meets(value, center_avg, d):
        return HealthState.PESTS
    return HealthState.HEALTHY


def percentile_state(
    value: float, pass_: float, peers: Sequence[float], tail_pct: float, d: Direction
) -> HealthState:
    """分位法: withered below pass; pests in the worst `tail_pct` % of the center's rated agents."""
    if not meets(value, pass_, d):
        return HealthState.WITHERED
    if not peers:
        return HealthState.HEALTHY
    worse = sum(1 for p in peers if (p < value if d is Direction.HIGHER else p > value))
    equal = sum(1 for p in peers if p == value)
    # Mid-rank percentile from the bottom: ties share a rank, so equal values
    # never all land in the tail, and a lone agent is not "the worst".
    if 100.0 * (worse + equal / 2) / len(peers) < tail_pct:
        return HealthState.PESTS
    return HealthState.HEALTHY


def trend_state(
    value: float, pass_: float, history: Sequence[float], days: int, d: Direction
) -> HealthState:
    """趋势法: withered below pass; pests after `days` consecutive rated days of worsening.

    `history` holds the previous rated days' values, oldest first; with today's
    value that makes the run whose last `days` steps must all worsen.
    """
    if not meets(value, pass_, d):
        return HealthState.WITHERED
    series = [*history[-days:], value]
    if len(series) < days + 1:
        return HealthState.HEALTHY
    steps = itertools.pairwise(series)
    worsening = all((b < a) if d is Direction.HIGHER else (b > a) for a, b in steps)
    return HealthState.PESTS if worsening else HealthState.HEALTHY


# --- one day's verdict --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Verdict:
    """An indicator's outcome for one owner and day."""

    value: float | None
    sample: float
    points: float
    state: HealthState


@dataclass(frozen=True, slots=True)
class Peers:
    """The rated values of an owner's peers that day (the center's agents, or its units)."""

    values: tuple[float, ...] = ()

    @property
    def mean(self) -> float | None:
        return sum(self.values) / len(self.values) if self.values else None


def judge(
    indicator: Indicator,
    tiers: Tiers,
    measured: Measured,
    *,
    center_avg: float | None,
    peers: Peers = Peers(),
    history: Sequence[float] = (),
    vetoed: bool = False,
) -> Verdict:
    """Points and state of one indicator-day.

    `center_avg` is the day's computed center average (the mean of the
    center's rated agents), used when the tiers do not fix one. Not rated
    below the minimum sample: no points and no state change. A veto (一票否决)
    zeroes the points; the state still follows the value.
    """
    if not measured.rated(indicator):
        return Verdict(measured.value, measured.sample, 0.0, HealthState.NOT_RATED)
    value = measured.value
    assert value is not None
    average = tiers.center_avg if tiers.center_avg is not None else center_avg
    d = indicator.direction
    points = 0.0 if vetoed else health_points(value, tiers, d, center_avg=average)
    if indicator.warning is WarningMethod.PERCENTILE:
        state = percentile_state(value, tiers.pass_, peers.values, indicator.tail_pct, d)
    elif indicator.warning is WarningMethod.TREND:
        state = trend_state(value, tiers.pass_, history, indicator.trend_days, d)
    else:
        state = benchmark_state(value, tiers.pass_, average, d)
    return Verdict(value, measured.sample, points, state)


# --- business days and settlement ---------------------------------------------------------------


def business_date(instant: datetime, zone: ZoneInfo) -> date:
    """The business day an instant falls on, in the center's time zone."""
    return instant.astimezone(zone).date()


@lru_cache(maxsize=4096)
def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Start and end instants of a business day (23 or 25 hours across DST changes)."""
    start = datetime.combine(day, time(), zone)
    return start, datetime.combine(day + timedelta(days=1), time(), zone)


def split_span(start: datetime, end: datetime, zone: ZoneInfo) -> list[tuple[date, float]]:
    """Split the span [start, end) at local midnights: (business day, seconds) pieces."""
    pieces: list[tuple[date, float]] = []
    cursor = start
    while cursor < end:
        day = business_date(cursor, zone)
        _, day_end = day_bounds(day, zone)
        piece_end = min(end, day_end)
        # Elapsed time, not wall-clock difference: a DST day lasts 23 or 25 hours.
        pieces.append((day, piece_end.timestamp() - cursor.timestamp()))
        cursor = piece_end
    return pieces


@dataclass(frozen=True, slots=True)
class SettlementPolicy:
    """When a business day becomes final (domain.md §9)."""

    fcr_window: timedelta = timedelta(hours=24)
    allowed_lateness: timedelta = timedelta(hours=2)
    grace: timedelta = timedelta(minutes=30)

    def due(
        self,
        day: date,
        zone: ZoneInfo,
        *,
        watermark: datetime | None,
        now: datetime,
        quiet: bool = True,
    ) -> bool:
        """Tell whether `day` may settle: by event time, or by the wall clock on a quiet night.

        The event-time watermark is the latest `occurred_at` seen minus the
        allowed lateness; the day settles once it passes the end of the day
        plus `fcr_window` (every repeat call that could count is in), or once
        the wall clock passes that point plus a grace, whichever comes first.
        The wall clock only decides while the stream is quiet (no events applied
        lately): a backlog being replayed settles by its own event time, not
        half-read because the wall clock says the day is long over.
        """
        _, end = day_bounds(day, zone)
        closes = end + self.fcr_window
        if watermark is not None and watermark - self.allowed_lateness >= closes:
            return True
        return quiet and now >= closes + self.grace


Partition = tuple[str, int]
"""A Kafka topic and partition."""


@dataclass(frozen=True, slots=True)
class PartitionMark:
    """How far one partition has been applied: its latest `occurred_at` and when events
    from it were last applied (the database's clock)."""

    partition: Partition
    high: datetime
    touched: datetime


def event_watermark(
    marks: Sequence[PartitionMark],
    *,
    now: datetime,
    idle_after: timedelta,
    lagging: Collection[Partition] | None,
    lead: timedelta,
) -> datetime | None:
    """The event-time watermark: the lowest high-water mark of the partitions that count,
    never more than `lead` (the clock-skew tolerance) ahead of `now`.

    A partition counts while it receives events; one idle for `idle_after` is
    drained and no longer counts, but only if Kafka says nothing is waiting on it
    (`lagging`: partitions with a backlog; None when the backlog is unknown, and
    then every partition counts). A partition with a backlog that was never
    applied at all has no mark to count: the watermark is unknown (None). When
    no partition counts, the lowest mark does: silence is never progress.
    """
    if not marks:
        return None
    if lagging is None:
        counted = list(marks)
    else:
        if set(lagging) - {m.partition for m in marks}:
            return None
        counted = [m for m in marks if now - m.touched < idle_after or m.partition in lagging]
    lowest = min(m.high for m in counted or marks)
    return min(lowest, now + lead)


# --- growth and star levels belong to the garden; scoring stops at points and states ------------


def finite_or_none(value: float | None) -> float | None:
    """Keep values JSON-friendly: NaN and infinities become None."""
    return value if value is not None and math.isfinite(value) else None


def default_library() -> dict[str, Indicator]:
    """The six core indicators with the defaults of domain.md §3 and §6."""
    core = (
        Indicator("call_volume", "话务量", Direction.HIGHER, 0, "corn"),
        Indicator("aht", "通话均长", Direction.LOWER, 5, "grape"),
        Indicator("satisfaction", "满意度", Direction.HIGHER, 3, "watermelon"),
        Indicator("fcr", "一次解决率", Direction.HIGHER, 5, "apple"),
        Indicator("utilization", "在线利用率", Direction.HIGHER, 60, "orange"),
        Indicator("complaint_rate", "投诉率", Direction.LOWER, 20, "strawberry"),
    )
    return {i.code: i for i in core}


def default_tiers() -> dict[str, Tiers]:
    """Starting tiers for a new center (operations tune them with PUT /v1/config/tiers)."""
    return {
        "call_volume": Tiers(80, None, 120, 110, 140),
        "aht": Tiers(420, None, 300, 330, 270),
        "satisfaction": Tiers(85, 90, 93, 95, 97),
        "fcr": Tiers(70, None, 85, 80, 90),
        "utilization": Tiers(50, None, 70, 65, 80),
        "complaint_rate": Tiers(2.0, None, 0.5, 1.0, 0.2),
    }


DEFAULT_VETO: tuple[str, ...] = ("satisfaction", "complaint_rate")


def veto_applies(indicator: str, justified_complaints: int, veto: Sequence[str]) -> bool:
    """一票否决: a justified complaint that day zeroes the listed indicators' points."""
    return justified_complaints > 0 and indicator in veto


def pool(members: Mapping[str, DayTotals]) -> DayTotals:
    """A unit's totals: its members' totals added up (pooled data, domain.md §4)."""
    total = DayTotals()
    for totals in members.values():
        total.add(totals)
    return total
