"""Star level (星级): 1–5 stars from an owner's average daily points over the last 30 days.

The average daily points: for each rated day in the window (a day on which at
least one of the owner's indicators was rated), the mean of that day's rated
indicators' points; then the mean over those days. The window is the 30
business days before `today` (today itself is still open and grows nothing).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Final

from services.garden.domain.config import GardenConfig
from services.garden.domain.plant import SettledDay, distinct_days

STAR_WINDOW_DAYS: Final = 30
LOWEST_STARS: Final = 1
"""The level of an owner with no rated day in the window, or below the first threshold."""


def star_window(today: date) -> tuple[date, date]:
    """Return the [start, end) dates whose points count for the stars shown on `today`."""
    return today - timedelta(days=STAR_WINDOW_DAYS), today


def average_daily_points(
    days_by_indicator: Mapping[str, Iterable[SettledDay]], *, today: date
) -> float | None:
    """Return the owner's average daily points in the window (None without a rated day)."""
    start, end = star_window(today)
    by_day: dict[date, list[float]] = {}
    for days in days_by_indicator.values():
        for day in distinct_days(days):
            if day.rated and start <= day.business_date < end:
                by_day.setdefault(day.business_date, []).append(day.points)
    if not by_day:
        return None
    means = [sum(points) / len(points) for _, points in sorted(by_day.items())]
    return sum(means) / len(means)


def star_level(average: float | None, config: GardenConfig) -> int:
    """Return the stars an average earns: one more for each threshold it meets."""
    if average is None:
        return LOWEST_STARS
    return LOWEST_STARS + sum(average >= threshold for threshold in config.star_thresholds)


def stars(
    days_by_indicator: Mapping[str, Iterable[SettledDay]], *, today: date, config: GardenConfig
) -> int:
    """Return the owner's star level shown on `today`."""
    return star_level(average_daily_points(days_by_indicator, today=today), config)
