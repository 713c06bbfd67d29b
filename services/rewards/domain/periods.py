"""Limit periods: the local day, ISO week (Monday–Sunday) or month containing an instant.

Periods follow the center's time zone: a redemption at 23:59 local and one at
00:01 local fall in different days, and a day that a DST change makes 23 or 25
hours long is still one day. Bounds are kept in UTC so comparing instants never
depends on a zone's fold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

LimitPer = Literal["day", "week", "month", "ever"]


@dataclass(frozen=True, slots=True)
class LimitPeriod:
    """The instants [start, end) a per-owner limit counts; `ever` has no bounds."""

    per: LimitPer
    start: datetime | None
    end: datetime | None

    def __contains__(self, instant: object) -> bool:
        if not isinstance(instant, datetime) or instant.tzinfo is None:
            return False
        moment = instant.astimezone(UTC)
        after_start = self.start is None or self.start <= moment
        return after_start and (self.end is None or moment < self.end)


def first_day(per: LimitPer, day: date) -> date:
    """Return the first local date of the day, ISO week or month containing `day`."""
    if per == "week":
        return day - timedelta(days=day.weekday())
    if per == "month":
        return day.replace(day=1)
    return day


def following_first_day(per: LimitPer, day: date) -> date:
    """Return the first local date after the period that begins on `day`."""
    if per == "week":
        return day + timedelta(days=7)
    if per == "month":
        return (day + timedelta(days=31)).replace(day=1)
    return day + timedelta(days=1)


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """Return the instant (in UTC) at which `day` begins in `zone`."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def limit_period(per: LimitPer, instant: datetime, zone: ZoneInfo | str) -> LimitPeriod:
    """Return the limit period of kind `per` that contains `instant` in `zone`."""
    if instant.tzinfo is None:
        raise ValueError("an instant needs a time zone")
    if per == "ever":
        return LimitPeriod(per, None, None)
    tz = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
    start = first_day(per, instant.astimezone(tz).date())
    return LimitPeriod(
        per, local_midnight(start, tz), local_midnight(following_first_day(per, start), tz)
    )
