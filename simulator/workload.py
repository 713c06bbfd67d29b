"""How much work a center sees, and when: the daily call curve, shifts and volumes.

A 10086-style hotline is open around the clock: a handful of calls at night, a
morning peak around 10:00, a lunch dip, an afternoon peak around 15:00 and a
long evening tail (all in the center's local time). Agents work fixed shifts
with two short breaks and a meal break; how busy an agent is between calls
(occupancy) follows the ratio of offered calls to agents on the floor, so the
center's call curve follows demand while each agent's day stays plausible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

HOURLY_DEMAND: tuple[float, ...] = (
    0.8, 0.5, 0.35, 0.3, 0.3, 0.4, 0.9, 2.2, 4.5, 6.8, 7.6, 6.6,
    4.8, 5.4, 6.9, 7.3, 6.6, 5.4, 4.3, 4.2, 4.0, 3.2, 2.2, 1.4,
)  # fmt: skip
"""Relative offered calls per local hour (00:00 … 23:00)."""


@dataclass(frozen=True, slots=True)
class Shift:
    """A roster pattern: local start/end hour and the breaks taken during it."""

    name: str
    start_hour: float
    end_hour: float
    share: float
    """Fraction of the center's agents rostered on this shift."""
    breaks: tuple[tuple[float, int], ...]
    """(hours after the shift starts, minutes of not_ready) per break."""


SHIFTS: tuple[Shift, ...] = (
    Shift("night", 0.0, 8.0, 0.04, ((1.5, 15), (3.5, 30), (5.5, 15))),
    Shift("early", 7.0, 15.5, 0.19, ((2.0, 15), (4.5, 45), (6.75, 15))),
    Shift("day", 8.5, 17.5, 0.30, ((1.75, 15), (3.5, 60), (6.5, 15))),
    Shift("middle", 10.0, 19.0, 0.17, ((1.5, 15), (3.0, 60), (6.0, 15))),
    Shift("late", 13.0, 21.5, 0.05, ((2.5, 15), (4.5, 45), (7.0, 15))),
    Shift("evening", 15.0, 23.0, 0.125, ((1.5, 15), (3.0, 45), (6.0, 15))),
    Shift("twilight", 18.0, 24.0, 0.125, ((1.0, 15), (3.5, 15))),
)
"""The roster; the shares add up to 1."""

MAX_OCCUPANCY = 0.92
"""Busiest an agent gets: share of available time spent on calls and wrap-up."""
MIN_OCCUPANCY = 0.03


@dataclass(frozen=True, slots=True)
class HandleTime:
    """Lognormal talk/hold/wrap seconds of an average agent (medians and spreads)."""

    talk_median: float = 82.0
    talk_sigma: float = 0.5
    hold_share: float = 0.15
    """Share of calls with the caller put on hold."""
    hold_median: float = 30.0
    hold_sigma: float = 0.6
    wrap_median: float = 12.0
    wrap_sigma: float = 0.5

    @property
    def mean_seconds(self) -> float:
        """Mean handle time (talk + hold + wrap) of an average agent."""

        def mean(median: float, sigma: float) -> float:
            return median * math.exp(sigma * sigma / 2)

        return (
            mean(self.talk_median, self.talk_sigma)
            + self.hold_share * mean(self.hold_median, self.hold_sigma)
            + mean(self.wrap_median, self.wrap_sigma)
        )


@dataclass(frozen=True, slots=True)
class VolumeProfile:
    """Daily volumes per rostered agent; the defaults give a province-scale day.

    3,000 agents ≈ 450,000 calls, 150,000 surveys and 5,000 complaints a day.
    """

    calls_per_agent: float = 150.0
    survey_share: float = 1 / 3
    """Share of calls whose caller answers the satisfaction survey."""
    complaints_per_agent: float = 5 / 3
    agent_complaint_share: float = 0.1
    """Share of complaints that are about an agent's service."""
    absence_rate: float = 0.04
    """Chance that an agent is off (sick, leave) on a given day."""
    transfer_rate: float = 0.05
    handle_time: HandleTime = field(default_factory=HandleTime)


def _staffing() -> list[float]:
    """Agents available for calls per local hour, as a fraction of the roster."""
    staff = [0.0] * 24
    for shift in SHIFTS:
        start = round(shift.start_hour * 60)
        paused = {
            start + round(after * 60) + m for after, minutes in shift.breaks for m in range(minutes)
        }
        for minute in range(start, round(shift.end_hour * 60)):
            if minute not in paused:
                staff[(minute // 60) % 24] += shift.share / 60
    return staff


def idle_ratios(profile: VolumeProfile) -> tuple[float, ...]:
    """Per local hour, an agent's mean idle gap between calls in units of their handle time.

    Occupancy in hour h is `k × demand[h] / staff[h]` (clamped); `k` is found by
    bisection so a working agent's expected calls meet `profile.calls_per_agent`
    (scaled up for the absent). The gap that gives occupancy `o` is `H (1-o) / o`.
    """
    staff = _staffing()
    handle = profile.handle_time.mean_seconds
    target = profile.calls_per_agent / (1 - profile.absence_rate)

    def occupancy(k: float) -> list[float]:
        return [
            min(MAX_OCCUPANCY, max(MIN_OCCUPANCY, k * d / s))
            for d, s in zip(HOURLY_DEMAND, staff, strict=True)
        ]

    def calls(k: float) -> float:
        return sum(s * 3600 * o / handle for s, o in zip(staff, occupancy(k), strict=True))

    low, high = 0.0, 1.0
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (middle, high) if calls(middle) < target else (low, middle)
    return tuple((1 - o) / o for o in occupancy(high))
