"""The detection side's tables: clocks, complaints, minute buckets, series and baselines.

Used by the complaint consumer and the ticker. Nothing here commits.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from services.alerting.domain.surge import BaselineSlot, DetectionClock
from shared.sql import Executor, execute, insert_rows, lock

SeriesKey = tuple[str, str]  # (category, region or "*")
STREAM = "*"
"""Key of the complaint stream's detection clock in `alert_clocks` (one clock for all)."""

_OF_SERIES = "category = :c AND (:r = '*' OR region = :r)"
"""A series' buckets: its category in its region, or in every region for `*`."""


async def lock_series(db: Executor, keys: Iterable[SeriesKey]) -> None:
    """Serialise work on these series across consumers, the ticker and the API."""
    await lock(db, *(f"alerting:series:{category}:{region}" for category, region in keys))


# ----------------------------------------------------------------------- clocks


async def advance_clocks(
    db: Executor, latest: dict[str, datetime], wall: datetime, *, lead: timedelta | None = None
) -> dict[str, DetectionClock]:
    """Move each category's clock to at least its latest event time; return the clocks.

    With `lead`, a clock never ends up further than that ahead of `wall` (a clock a
    bad timestamp pushed ahead earlier comes back within it).
    """
    if not latest:
        return {}
    advanced = (
        "GREATEST(alert_clocks.watermark + GREATEST(interval '0', "
        "EXCLUDED.observed_at - alert_clocks.observed_at), EXCLUDED.watermark)"
    )
    if lead is not None:
        advanced = f"LEAST({advanced}, EXCLUDED.observed_at + CAST(:lead AS interval))"
    rows = await insert_rows(
        db,
        "alert_clocks",
        {"category": "text", "watermark": "timestamptz", "observed_at": "timestamptz"},
        [(category, at, wall) for category, at in latest.items()],
        on_conflict=f"(category) DO UPDATE SET watermark = {advanced}, "
        "observed_at = GREATEST(alert_clocks.observed_at, EXCLUDED.observed_at)",
        returning="category, watermark, observed_at",
        params={"lead": lead} if lead is not None else None,
    )
    return {r.category: DetectionClock(r.watermark, r.observed_at) for r in rows}


async def load_clocks(db: Executor) -> dict[str, DetectionClock]:
    """Return every detection clock by its key."""
    rows = await execute(db, "SELECT category, watermark, observed_at FROM alert_clocks")
    return {r.category: DetectionClock(r.watermark, r.observed_at) for r in rows}


# ----------------------------------------------------------------------- complaints


async def register_filings(
    db: Executor, filings: Sequence[tuple[str, str, str, datetime]]
) -> set[str]:
    """Record complaints (id, category, region, minute); return the ids counted now.

    A complaint already seen, or withdrawn before its filing arrived, is not counted.
    """
    if not filings:
        return set()
    rows = await insert_rows(
        db,
        "alert_complaints",
        {"complaint_id": "text", "category": "text", "region": "text", "minute": "timestamptz"},
        filings,
        on_conflict="(complaint_id) DO NOTHING",
        returning="complaint_id",
    )
    return {r[0] for r in rows}


async def register_withdrawals(
    db: Executor, complaint_ids: Sequence[str]
) -> list[tuple[str, str, datetime]]:
    """Mark complaints withdrawn; return (category, region, minute) of those that counted.

    A withdrawal that arrives before its filing leaves a tombstone, so the filing
    is never counted.
    """
    if not complaint_ids:
        return []
    ids = list(dict.fromkeys(complaint_ids))
    rows = (
        await execute(
            db,
            "UPDATE alert_complaints SET withdrawn = true "
            "WHERE complaint_id = ANY(:ids) AND NOT withdrawn "
            "RETURNING complaint_id, category, region, minute",
            {"ids": ids},
        )
    ).all()
    # a tombstone has no category; its minute is when it was written, so it is purged too
    await execute(
        db,
        "INSERT INTO alert_complaints (complaint_id, withdrawn, minute) "
        "SELECT k, true, date_trunc('minute', now()) FROM unnest(CAST(:ids AS text[])) k "
        "ON CONFLICT DO NOTHING",
        {"ids": ids},
    )
    return [(r.category, r.region, r.minute) for r in rows if r.category is not None]


async def add_to_buckets(
    db: Executor,
    filed: Counter[tuple[str, str, datetime]],
    withdrawn: Counter[tuple[str, str, datetime]],
) -> None:
    """Add filed and withdrawn complaints to their minute buckets (one statement)."""
    keys = sorted(set(filed) | set(withdrawn))
    if not keys:
        return
    await insert_rows(
        db,
        "alert_complaint_buckets",
        {
            "category": "text",
            "region": "text",
            "minute": "timestamptz",
            "filed": "int",
            "withdrawn": "int",
        },
        [(*key, filed.get(key, 0), withdrawn.get(key, 0)) for key in keys],
        on_conflict="(category, region, minute) DO UPDATE SET "
        "filed = alert_complaint_buckets.filed + EXCLUDED.filed, "
        "withdrawn = alert_complaint_buckets.withdrawn + EXCLUDED.withdrawn",
    )


async def _net_complaints(
    db: Executor, bucket: str, span: str, category: str, region: str, a: datetime, b: datetime
) -> dict[datetime, int]:
    """Return a series' net complaints (filed − withdrawn) per `bucket` within `span`."""
    rows = await execute(
        db,
        f"SELECT {bucket} AS at, sum(filed - withdrawn) AS n FROM alert_complaint_buckets "
        f"WHERE {_OF_SERIES} AND {span} GROUP BY 1",
        {"c": category, "r": region, "a": a, "b": b},
    )
    return {r.at: int(r.n) for r in rows}


async def window_buckets(
    db: Executor, category: str, region: str, first: datetime, last: datetime
) -> dict[datetime, int]:
    """Return net complaints per minute of a series between two minutes (inclusive)."""
    return await _net_complaints(
        db, "minute", "minute BETWEEN :a AND :b", category, region, first, last
    )


async def hourly_counts(
    db: Executor, category: str, region: str, start: datetime, end: datetime
) -> dict[datetime, int]:
    """Return net complaints per hour of a series in [start, end)."""
    return await _net_complaints(
        db,
        "date_trunc('hour', minute, 'UTC')",
        "minute >= :a AND minute < :b",
        category,
        region,
        start,
        end,
    )


async def purge_history(db: Executor, before: datetime) -> None:
    """Forget minute buckets, complaint ids and tombstones older than the retention.

    Tombstones written without a minute (before tombstones had one) get the
    current minute first, so they go one retention from now.
    """
    await execute(
        db,
        "UPDATE alert_complaints SET minute = date_trunc('minute', now()) WHERE minute IS NULL",
    )
    for table in ("alert_complaint_buckets", "alert_complaints"):
        await execute(db, f"DELETE FROM {table} WHERE minute < :t", {"t": before})


# ----------------------------------------------------------------------- baselines


async def ensure_series(db: Executor, series: dict[SeriesKey, datetime]) -> None:
    """Start watching series (their baseline learns from the given hour on)."""
    if not series:
        return
    await insert_rows(
        db,
        "alert_series",
        {"category": "text", "region": "text", "learned_through": "timestamptz"},
        [(*key, series[key]) for key in sorted(series)],
        on_conflict="DO NOTHING",
    )


async def all_series(db: Executor) -> list[tuple[str, str, datetime]]:
    """Return (category, region, learned through) of every series watched."""
    rows = await execute(
        db, "SELECT category, region, learned_through FROM alert_series ORDER BY 1, 2"
    )
    return [(r.category, r.region, r.learned_through) for r in rows]


async def baseline_slot(
    db: Executor, category: str, region: str, hour_of_week: int
) -> BaselineSlot | None:
    """Return a series' baseline for one hour of the week (None before any)."""
    row = (
        await execute(
            db,
            "SELECT per_hour, samples FROM alert_baselines "
            "WHERE category = :c AND region = :r AND hour_of_week = :h",
            {"c": category, "r": region, "h": hour_of_week},
        )
    ).first()
    return BaselineSlot(row.per_hour, row.samples) if row else None


async def baseline_slots(db: Executor, category: str, region: str) -> dict[int, BaselineSlot]:
    """Return a series' baselines by hour of the week."""
    rows = await execute(
        db,
        "SELECT hour_of_week, per_hour, samples FROM alert_baselines "
        "WHERE category = :c AND region = :r",
        {"c": category, "r": region},
    )
    return {r.hour_of_week: BaselineSlot(r.per_hour, r.samples) for r in rows}


async def save_baselines(
    db: Executor,
    category: str,
    region: str,
    slots: dict[int, BaselineSlot],
    learned_through: datetime,
) -> None:
    """Store a series' changed baselines and the hour it has learned up to."""
    if slots:
        await insert_rows(
            db,
            "alert_baselines",
            {
                "category": "text",
                "region": "text",
                "hour_of_week": "smallint",
                "per_hour": "float8",
                "samples": "int",
            },
            [
                (category, region, hour, slot.per_hour, slot.samples)
                for hour, slot in sorted(slots.items())
            ],
            on_conflict="(category, region, hour_of_week) "
            "DO UPDATE SET per_hour = EXCLUDED.per_hour, samples = EXCLUDED.samples",
        )
    await execute(
        db,
        "UPDATE alert_series SET learned_through = :t WHERE category = :c AND region = :r",
        {"c": category, "r": region, "t": learned_through},
    )
