"""Complaint-surge detection (domain.md §8): the detection clock, surge windows,
rules, learned baselines and silences. Pure: every function takes `now`.

- `DetectionClock`: event time that keeps running on the wall clock, so a
  surge that stops arriving still cools down.
- `SurgeWindow`: per-minute complaint counts of one series (category and
  region, or the category over every region), summed over a sliding window.
- `SurgeRule`: window, trigger `count ≥ max(min_count, surge_factor × baseline)`,
  cool-down, repeat interval and its `EscalationLadder`.
- `BaselineSlot` / `learn_hour` / `window_baseline`: the typical count per
  window, learned per hour of the week from history, with a floor and a seed.
- `Silence`: a planned outage that holds SMS back.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from services.alerting.domain.ladder import EscalationLadder

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
ALL_REGIONS = "*"
"""The region of a series that counts a category over every region."""

Language = Literal["zh", "en"]
"""The language of a rule's SMS."""


# --------------------------------------------------------------------------- clock


@dataclass(frozen=True, slots=True)
class DetectionClock:
    """Event time, extrapolated by the wall clock between events.

    `now(wall)` is the latest event time seen plus the wall time that has passed
    since; an event later than that moves the clock forward. The clock never
    goes back, follows event time when upstream replays the past, and keeps
    advancing when complaints stop, so windows empty and incidents cool down
    without new events. Event time is capped at the wall clock plus a few
    minutes of skew before it is observed (`capped`), so a bad timestamp never
    moves the windows ahead of the complaints arriving now.
    """

    watermark: datetime
    observed_at: datetime

    def now(self, wall: datetime) -> datetime:
        """Return the detection time at wall-clock time `wall`."""
        return self.watermark + max(timedelta(0), wall - self.observed_at)

    def observe(self, event_time: datetime, wall: datetime) -> DetectionClock:
        """Return the clock after seeing an event that occurred at `event_time`."""
        return DetectionClock(max(self.now(wall), event_time), wall)

    @staticmethod
    def start(event_time: datetime, wall: datetime) -> DetectionClock:
        return DetectionClock(event_time, wall)


def capped(event_time: datetime, wall: datetime, lead: timedelta) -> datetime:
    """Return `event_time`, but never more than `lead` ahead of `wall`."""
    return min(event_time, wall + lead)


def minute_of(at: datetime) -> datetime:
    """Return the start of the minute bucket `at` falls in."""
    return at.replace(second=0, microsecond=0)


def hour_of(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def hour_of_week(at: datetime, zone: ZoneInfo) -> int:
    """Return 0..167: Monday 00:00-00:59 local time is 0, Sunday 23:00 is 167."""
    local = at.astimezone(zone)
    return local.weekday() * 24 + local.hour


# --------------------------------------------------------------------------- window


@dataclass(frozen=True, slots=True)
class SurgeWindow:
    """Complaints of one series per minute, and their sum over a sliding window.

    A window of W minutes at time `now` is the minute `now` falls in and the
    W − 1 minutes before it: the window slides a minute at a time, and a
    complaint leaves it W minutes (± the minute's width) after it was filed.
    Withdrawn complaints are subtracted from their filing minute.
    """

    minutes: int
    buckets: Mapping[datetime, int] = field(default_factory=dict)

    def first_minute(self, now: datetime) -> datetime:
        """Return the oldest minute bucket inside the window at `now`."""
        return minute_of(now) - (self.minutes - 1) * MINUTE

    def count(self, now: datetime) -> int:
        """Return the complaints inside the window at `now` (never negative)."""
        first, last = self.first_minute(now), minute_of(now)
        total = sum(n for minute, n in self.buckets.items() if first <= minute <= last)
        return max(0, total)

    def add(self, at: datetime, n: int = 1) -> SurgeWindow:
        """Return the window with `n` complaints (negative: withdrawn) at `at`."""
        minute = minute_of(at)
        buckets = dict(self.buckets)
        buckets[minute] = buckets.get(minute, 0) + n
        return SurgeWindow(self.minutes, buckets)


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True, slots=True)
class SurgeRule:
    """How surges of one complaint category (optionally one region) are detected
    and escalated.

    `region` is a city, or `*` for the category over every region; with
    `per_region` a `*` rule watches each region as its own series (a network
    outage is local). `baseline_seed` is the expected count per window before
    anything was learned; `baseline_floor` keeps a quiet history from making the
    trigger hair-trigger.
    """

    category: str
    department: str
    ladder: EscalationLadder
    region: str = ALL_REGIONS
    per_region: bool = False
    window_minutes: int = 30
    min_count: int = 10
    surge_factor: float = 3.0
    baseline_floor: float = 2.0
    baseline_seed: float = 4.0
    cooldown_minutes: float = 15.0
    repeat_minutes: float = 30.0
    language: Language = "zh"

    @property
    def rule_id(self) -> str:
        return f"{self.category}:{self.region}"

    def series_region(self, complaint_region: str) -> str | None:
        """Return the region of this rule's series a complaint counts in, or None."""
        if self.region == ALL_REGIONS:
            return complaint_region if self.per_region else ALL_REGIONS
        return self.region if complaint_region == self.region else None

    def threshold(self, baseline: float) -> int:
        """Return the trigger: max(min_count, ⌈surge_factor × baseline⌉)."""
        return max(self.min_count, math.ceil(self.surge_factor * baseline - 1e-9))

    def is_surge(self, count: int, baseline: float) -> bool:
        return count >= self.threshold(baseline)


def rules_for(rules: Iterable[SurgeRule], category: str) -> list[SurgeRule]:
    """Return the rules that watch complaints of `category`."""
    return [r for r in rules if r.category == category]


# --------------------------------------------------------------------------- baseline


@dataclass(frozen=True, slots=True)
class BaselineSlot:
    """What a series typically sees in one hour of the week (complaints per hour)."""

    per_hour: float
    samples: int


def window_baseline(slot: BaselineSlot | None, rule: SurgeRule) -> float:
    """Return the expected count per window: learned (scaled to the window) or the seed,
    never below the floor."""
    if slot is None or slot.samples == 0:
        expected = rule.baseline_seed
    else:
        expected = slot.per_hour * rule.window_minutes / 60
    return max(rule.baseline_floor, expected)


def learn_hour(
    slot: BaselineSlot | None, count: int, rule: SurgeRule, *, alpha: float = 0.3
) -> BaselineSlot:
    """Fold one finished hour's count into its hour-of-week slot (EWMA).

    The prior of a new slot is the seed. The count is capped at the trigger
    (scaled to an hour), so a surge nudges the baseline instead of teaching
    the detector that surges are normal.
    """
    hours_per_window = rule.window_minutes / 60
    prior = (
        slot.per_hour
        if slot is not None and slot.samples > 0
        else max(rule.baseline_floor, rule.baseline_seed) / hours_per_window
    )
    cap = rule.threshold(window_baseline(slot, rule)) / hours_per_window
    observed = min(float(count), cap)
    return BaselineSlot(
        per_hour=alpha * observed + (1 - alpha) * prior,
        samples=(slot.samples if slot else 0) + 1,
    )


# --------------------------------------------------------------------------- silences


@dataclass(frozen=True, slots=True)
class Silence:
    """A planned outage or maintenance window: incidents are recorded, no SMS sent."""

    category: str
    region: str
    starts_at: datetime
    ends_at: datetime
    id: int | None = None

    def covers(self, category: str, region: str, at: datetime) -> bool:
        """Tell whether this silence holds back SMS of a series at `at`.

        A region silence covers that region's series; a `*` silence covers every
        series of the category. A region silence does not cover the
        category-wide series (other regions count in it).
        """
        return (
            self.category == category
            and (self.region == ALL_REGIONS or self.region == region)
            and self.starts_at <= at < self.ends_at
        )


def silenced(silences: Iterable[Silence], category: str, region: str, at: datetime) -> bool:
    return any(s.covers(category, region, at) for s in silences)
