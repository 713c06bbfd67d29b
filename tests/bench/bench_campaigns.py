"""Campaigns: what recording them costs the garden's consumer, and starting one.

    .venv/bin/python -m tests.bench.bench_campaigns      (also in make bench)

Two centers of the same shape, BENCH_AGENTS (3000) agents each in teams of 12, with
five settled days of six indicators grown; center K1 then gets one campaign per team
(on `aht`, starting the next day), K2 none. One more settled day of every owner and
indicator of each center is applied through the consumer's handler in batches of
BATCH_MAX_RECORDS, in one transaction each, on a database of its own: the seconds per
day with and without campaigns, for the first day of the period (each campaign's start
is checked once more) and the day after, and the time to start one campaign (a team's
12 members classified, the days of its period recorded).
"""

from __future__ import annotations

import asyncio
import os
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from services.garden.campaigning import CampaignPlan, start_campaign
from services.garden.config import GardenSettings
from services.garden.domain.campaigns import Goal
from services.garden.handlers import ScoreHandler
from services.garden.metrics import GardenMetrics
from services.garden.repo.campaigns import unit_place
from shared.consumer import Delivery
from shared.contracts.scores import ScoreRecorded
from shared.db import make_engine, make_session_factory, unit_of_work
from shared.metrics import new_registry
from shared.migrate import migrate
from tests.bench.common import bench_infrastructure, write_report
from tests.integration.garden_support import score

AGENTS = int(os.environ.get("BENCH_AGENTS", "3000"))
TEAM = 12
INDICATORS = ("satisfaction", "fcr", "aht", "call_volume", "utilization", "complaint_rate")
STATES = ("healthy", "pests", "withered", "healthy", "not_rated")
BATCH = GardenSettings.model_fields["batch_max_records"].default
DAY0 = date(2026, 3, 2)
CENTERS = ("K1", "K2")
"""K1 has a campaign per team, K2 none."""


def center_day(center: str, day: date, offset: int) -> list[ScoreRecorded]:
    """Every owner's settled score of one day for every indicator."""
    events: list[ScoreRecorded] = []
    teams = AGENTS // TEAM
    for t in range(teams):
        dept, team = f"{center}-D{t % 10}", f"{center}-D{t % 10}-T{t}"
        for i in range(TEAM):
            agent = f"{center}-A{t * TEAM + i}"
            for n, indicator in enumerate(INDICATORS):
                state = STATES[(t + i + n + offset) % len(STATES)]
                points = 0.0 if state == "not_rated" else 6.0
                events.append(
                    score(
                        agent,
                        day,
                        points,
                        state,
                        indicator=indicator,
                        center=center,
                        department=dept,
                        team=team,
                        value=300.0 + i + offset,
                    )
                )
        for indicator in INDICATORS:
            events.append(
                score(
                    team,
                    day,
                    6.0,
                    "healthy",
                    indicator=indicator,
                    kind="team",
                    center=center,
                    department=dept,
                    team=team,
                    value=310.0 - offset,
                )
            )
    return events


async def side_by_side(
    handler: ScoreHandler, sessions: Any, days: dict[str, list[ScoreRecorded]]
) -> dict[str, float]:
    """Apply each center's day in consumer-sized batches, one batch of each center in turn
    (so both meet the same machine), one transaction each; return the seconds per center."""
    spent = dict.fromkeys(days, 0.0)
    for i in range(0, max(len(e) for e in days.values()), BATCH):
        for center, events in days.items():
            batch = [Delivery(None, None, e) for e in events[i : i + BATCH]]  # type: ignore[arg-type]
            started = time.perf_counter()
            async with unit_of_work(sessions) as session:
                await handler.apply(session, batch)
            spent[center] += time.perf_counter() - started
    return spent


async def run(database: str) -> dict[str, Any]:
    await migrate(database)
    engine = make_engine(database, pool_size=2)
    sessions = make_session_factory(engine)
    handler = ScoreHandler(metrics=GardenMetrics.create(new_registry()))
    try:
        for offset in range(5):
            day = DAY0 + timedelta(days=offset)
            await side_by_side(handler, sessions, {c: center_day(c, day, offset) for c in CENTERS})
        start = DAY0 + timedelta(days=5)
        goal = Goal(300.0, 0.5, "lower")
        starts: list[float] = []
        for t in range(AGENTS // TEAM):
            plan = CampaignPlan(f"team {t}", "aht", start, start + timedelta(days=29), goal)
            began = time.perf_counter()
            async with unit_of_work(sessions) as session:
                unit = await unit_place(session, "team", f"K1-D{t % 10}-T{t}")
                assert unit is not None
                await start_campaign(
                    session, plan, unit, created_by="bench", occurred_at=datetime.now(UTC)
                )
            starts.append(time.perf_counter() - began)
        first = await side_by_side(handler, sessions, {c: center_day(c, start, 5) for c in CENTERS})
        later = start + timedelta(days=1)
        second = await side_by_side(
            handler, sessions, {c: center_day(c, later, 6) for c in CENTERS}
        )
        records = len(center_day("K1", start, 5))
    finally:
        await engine.dispose()
    starts.sort()
    return {
        "agents": AGENTS,
        "campaigns": len(starts),
        "records_per_day": records,
        "first_day_with_campaigns_s": round(first["K1"], 3),
        "first_day_without_campaigns_s": round(first["K2"], 3),
        "first_day_ratio": round(first["K1"] / first["K2"], 3),
        "second_day_with_campaigns_s": round(second["K1"], 3),
        "second_day_without_campaigns_s": round(second["K2"], 3),
        "second_day_ratio": round(second["K1"] / second["K2"], 3),
        "start_campaign_p50_ms": round(starts[len(starts) // 2] * 1000, 1),
        "start_campaign_p99_ms": round(starts[int(len(starts) * 0.99)] * 1000, 1),
    }


def main() -> None:
    with bench_infrastructure(postgres=True) as env:
        report = asyncio.run(run(env["DATABASE_URL"]))
    path = write_report("campaigns", report)
    for key, value in report.items():
        print(f"  {key:28}{value}")
    print(f"  report: {path}")


if __name__ == "__main__":
    main()
