"""Garden: what the change notifications (migration `0011_garden_changes`) cost the growth
path's writes.

    flock … .venv/bin/python -m tests.bench.bench_garden_notify

One settled day of BENCH_AGENTS (3000) agents and six indicators, written the way the
consumer writes it (`save_days`, `save_plants`, `save_members`, in transactions of 5,000
records): each round a new day, alternately with the notification triggers enabled and
disabled (`ALTER TABLE … DISABLE TRIGGER USER`), on the same database in the same run, so
the machine's noise falls on both alike, while a connection LISTENs on the channel and
counts what it hears (as a garden process's listener does). Reports the median seconds
of a day's writes each way and their difference.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from datetime import date, timedelta
from typing import Any

import asyncpg
from sqlalchemy import text

from services.garden.domain.plant import Plant, SettledDay
from services.garden.garden_listener import CHANNEL, driver_dsn
from services.garden.repo.plants import save_days, save_members, save_plants
from shared.db import make_engine, make_session_factory, unit_of_work
from shared.migrate import migrate
from tests.bench.common import RESULTS, bench_infrastructure, write_report

AGENTS = int(os.environ.get("BENCH_AGENTS", "3000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "6"))
INDICATORS = ("satisfaction", "fcr", "aht", "call_volume", "utilization", "complaint_rate")
BATCH = 5000
TABLES = ("garden_members", "garden_plants", "garden_plant_days", "garden_previews")
FIRST = date(2026, 1, 1)


def day_rows(day: date) -> list[tuple[Plant, SettledDay, tuple[Any, ...], tuple[Any, ...]]]:
    rows = []
    for n in range(AGENTS):
        agent, team = f"A{n:05d}", f"T{n // 14:04d}"
        member = ("agent", agent, "C1", "D1", team, None, day)
        for indicator in INDICATORS:
            plant = Plant("agent", agent, indicator)
            settled = SettledDay(day, 5.0, "healthy", "apple", 2, 90.0)
            grown = (
                "agent",
                agent,
                indicator,
                "C1",
                "D1",
                team,
                "apple",
                2,
                33.0,
                "healthy",
                1,
                0,
                0,
                day,
            )
            rows.append((plant, settled, grown, member))
    return rows


async def write_day(sessions: Any, day: date) -> float:
    rows = day_rows(day)
    began = time.perf_counter()
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        async with unit_of_work(sessions) as session:
            await save_days(session, [(p, d) for p, d, _, _ in batch])
            await save_plants(session, [g for _, _, g, _ in batch])
            await save_members(session, [m for _, _, _, m in batch])
    return time.perf_counter() - began


async def triggers(engine: Any, enabled: bool) -> None:
    verb = "ENABLE" if enabled else "DISABLE"
    async with engine.begin() as conn:
        for table in TABLES:
            await conn.execute(text(f"ALTER TABLE {table} {verb} TRIGGER USER"))


async def run() -> dict[str, Any]:
    with bench_infrastructure(postgres=True) as infra:
        database = infra["DATABASE_URL"]
        await migrate(database)
        engine = make_engine(database, pool_size=2)
        sessions = make_session_factory(engine)
        listener = await asyncpg.connect(driver_dsn(database))
        heard = [0]
        await listener.add_listener(CHANNEL, lambda *_: heard.__setitem__(0, heard[0] + 1))
        try:
            await write_day(sessions, FIRST - timedelta(days=1))  # the plants exist: upserts
            seconds: dict[str, list[float]] = {"with": [], "without": []}
            for n in range(2 * ROUNDS):
                way = "with" if n % 2 == 0 else "without"
                await triggers(engine, way == "with")
                seconds[way].append(await write_day(sessions, FIRST + timedelta(days=n)))
            await triggers(engine, True)
        finally:
            await listener.close()
            await engine.dispose()
    with_, without = (statistics.median(seconds[w]) for w in ("with", "without"))
    return {
        "agents": AGENTS,
        "records_per_day": AGENTS * len(INDICATORS),
        "rounds": ROUNDS,
        "seconds_with_notifications": seconds["with"],
        "seconds_without_notifications": seconds["without"],
        "median_with": with_,
        "median_without": without,
        "notification_seconds_per_day": with_ - without,
        "notifications_heard": heard[0],
    }


def main() -> None:
    RESULTS.mkdir(exist_ok=True)
    report = asyncio.run(run())
    path = write_report("garden_notify", report)
    print(f"\ngarden change notifications -> {path}")
    print(
        f"  one day's writes ({report['records_per_day']:,} records): "
        f"{report['median_with']:.3f}s with the notifications, "
        f"{report['median_without']:.3f}s without (medians of {ROUNDS})"
    )


if __name__ == "__main__":
    main()
