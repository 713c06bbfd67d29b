"""The scores API's days: business days of the owner's center, not of the server."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from services.scoring.api import requested_days
from services.scoring.domain import business_date
from shared.errors import ApiError

EVENING_IN_UTC = datetime(2026, 3, 10, 20, 0, tzinfo=UTC)  # 04:00 next day in Shanghai


def test_today_is_the_date_in_the_centers_zone() -> None:
    assert business_date(EVENING_IN_UTC, ZoneInfo("Asia/Shanghai")) == date(2026, 3, 11)
    assert business_date(EVENING_IN_UTC, ZoneInfo("America/New_York")) == date(2026, 3, 10)


def test_requested_days_end_today_by_default_and_span_thirty_days() -> None:
    today = business_date(EVENING_IN_UTC, ZoneInfo("Asia/Shanghai"))
    assert requested_days(None, None, today=today) == (date(2026, 2, 10), date(2026, 3, 11))
    assert requested_days(None, date(2026, 3, 1), today=today) == (
        date(2026, 1, 31),
        date(2026, 3, 1),
    )
    with pytest.raises(ApiError):
        requested_days(date(2026, 3, 2), date(2026, 3, 1), today=today)
    with pytest.raises(ApiError):
        requested_days(date(2025, 1, 1), date(2026, 3, 1), today=today)
