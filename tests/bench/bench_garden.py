"""Garden: reads under load beside a bare Starlette + asyncpg endpoint, a month leaderboard,
and growing one settled day of a 3,000-agent center beside a bare aiokafka consumer.

    make bench      (or: .venv/bin/python -m tests.bench.bench_garden)

One center of BENCH_AGENTS (3000) agents in teams of 12-15 and a few departments. Thirty
settled days per owner (agents, teams, departments, the center) and indicator are produced
to `cc.scores.v1` and grown by a real `python -m services.garden` process (one HTTP
worker); every agent then harvests its satisfaction plant through the API, so the month
leaderboard has harvests to count. Then, in one run on the same machine:

- `GET /v1/agents/{id}/garden` (each agent with its own token, in turn: answered from the
  service's cache, which the warm-up fills; `agent_garden_uncached` is the same load on a
  second garden process of the same consumer group with `GARDEN_CACHE_SIZE=0`, measured
  last, after the settled day grew, so its joining the group cannot slow the day) and
  `GET /v1/units/team/{id}/garden` (each team's leader), beside `GET /rows/{id}` of
  `tests.bench.bare_http` (one stored row by key, the same uvicorn settings), and two upper
  bounds of the agent garden: the garden's own statement behind the bare Starlette app
  (`bare_garden`) and behind a minimal FastAPI app (`fastapi_garden`);
- `GET /v1/leaderboards?scope=center:C1&period=month:<today>` as an admin;
- one more settled day for every owner and indicator: seconds from the first record
  produced to the last plant committed, beside a bare consumer reading the same records.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from random import Random
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.garden.config import GardenSettings
from shared.auth.tokens import mint_token
from shared.contracts.topics import SCORES
from shared.db import make_engine
from shared.kafka import EventProducer, OutgoingRecord, ensure_topics
from shared.migrate import migrate
from shared.vocabulary import DEFAULT_TIMEZONE
from simulator.org import build_org
from tests.bench.common import (
    CONNECTIONS,
    RESULTS,
    SECONDS,
    bench_infrastructure,
    lua_rotation,
    print_rates,
    service,
    write_report,
    wrk_lua,
)
from tests.integration.garden_support import score

AGENTS = int(os.environ.get("BENCH_AGENTS", "3000"))
DAYS = 30
INDICATORS = ("satisfaction", "fcr", "aht", "call_volume", "utilization", "complaint_rate")
BATCH = GardenSettings.model_fields["batch_max_records"].default
SECRET = "bench-garden-secret-of-32-bytes-or-more"
GARDEN_PORT, BARE_PORT, FASTAPI_PORT, UNCACHED_PORT = 61004, 61014, 61024, 61034
CENTER = "C1"
LOAD_WITHIN = 1800.0
"""Seconds the 30-day load may take before the benchmark gives up."""

Owner = tuple[str, str, str | None, str | None]
"""owner_kind, owner_id, department_id, team_id."""


def owners_of(org: dict[str, Any]) -> list[Owner]:
    """Every owner of the center: its agents, teams, departments and the center."""
    found: list[Owner] = [("center", CENTER, None, None)]
    for department in org["centers"][0]["departments"]:
        found.append(("department", department["id"], department["id"], None))
        for team in department["teams"]:
            found.append(("team", team["id"], department["id"], team["id"]))
            found += [("agent", a["id"], department["id"], team["id"]) for a in team["agents"]]
    return found


def score_records(owners: list[Owner], days: list[date], seed: int) -> list[OutgoingRecord]:
    """Settled scores of `owners` for `days` and every indicator, owner by owner in date order
    (as scoring settles them); records built from one contract-checked template."""
    template = score("A0", days[0], 5.0, department=None, team=None, revision=1).model_dump(
        mode="json"
    )
    rng = Random(seed)
    records = []
    headers = [("event_type", b"score.settled")]
    for kind, owner_id, department, team in owners:
        for indicator in INDICATORS:
            for day in days:
                roll = rng.random()
                state = "healthy" if roll < 0.8 else "pests" if roll < 0.93 else "withered"
                if roll > 0.98:
                    state = "not_rated"
                event = {
                    **template,
                    "event_id": f"{kind}:{owner_id}:{day}:{indicator}:settled",
                    "owner_kind": kind,
                    "owner_id": owner_id,
                    "business_date": day.isoformat(),
                    "indicator": indicator,
                    "department_id": department,
                    "team_id": team,
                    "points": 0.0 if state == "not_rated" else round(rng.uniform(2, 10), 2),
                    "state": state,
                }
                records.append(
                    OutgoingRecord(SCORES.name, orjson.dumps(event), owner_id.encode(), headers)
                )
    return records


async def produce(bootstrap: str, records: list[OutgoingRecord]) -> None:
    producer = EventProducer(bootstrap, send_timeout=120)
    try:
        for start in range(0, len(records), 10_000):
            await producer.send_all(records[start : start + 10_000])
    finally:
        await producer.stop()


async def scalar(engine: AsyncEngine, statement: str, **params: Any) -> Any:
    async with engine.connect() as conn:
        return await conn.scalar(text(statement), params)


async def vacuum(database: str) -> None:
    """VACUUM (ANALYZE) the whole database: the reads are measured on tables autovacuum has
    caught up with, not while it works through the 30-day load beside them."""
    engine = make_engine(database, pool_size=1)
    try:
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM (ANALYZE)"))
    finally:
        await engine.dispose()


async def wait_until(
    check: Callable[[], Awaitable[bool]], *, within: float, every: float = 0.5, what: str
) -> float:
    """Poll `check` until it holds; return the seconds it took (RuntimeError past `within`)."""
    started = time.perf_counter()
    while not await check():
        if time.perf_counter() - started > within:
            raise RuntimeError(f"{what}: not done within {within:.0f}s")
        await asyncio.sleep(every)
    return time.perf_counter() - started


async def days_grown(engine: AsyncEngine, day: date | None = None) -> int:
    if day is None:
        return int(await scalar(engine, "SELECT count(*) FROM garden_plant_days"))
    statement = "SELECT count(*) FROM garden_plant_days WHERE business_date = :d"
    return int(await scalar(engine, statement, d=day))


async def outbox_left(engine: AsyncEngine) -> int:
    return int(await scalar(engine, "SELECT count(*) FROM outbox WHERE producer = 'garden'"))


async def harvest_all(url: str, agents: list[str], indicator: str) -> dict[str, int]:
    """Every agent harvests its `indicator` plant through the API; return answers by status."""
    counts: dict[str, int] = {}
    limit = asyncio.Semaphore(8)
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:

        async def one(agent: str) -> None:
            token = mint_token(secret=SECRET, subject=agent, role="agent")
            async with limit:
                response = await client.post(
                    f"/v1/agents/{agent}/plants/{indicator}/harvest",
                    headers={"Authorization": f"Bearer {token}", "Idempotency-Key": f"h-{agent}"},
                )
            status = str(response.status_code)
            counts[status] = counts.get(status, 0) + 1

        await asyncio.gather(*(one(a) for a in agents))
    return counts


def bearer(subject: str, role: str, unit: str | None = None) -> dict[str, str]:
    token = mint_token(secret=SECRET, subject=subject, role=role, unit=unit, ttl_seconds=4 * 3600)
    return {"Authorization": f"Bearer {token}"}


def cpu_seconds(url: str) -> float:
    """The CPU time the process behind `url` has used: `process_cpu_seconds_total` of a
    service's `/metrics`, `/cpu` of the bare apps."""
    if url.endswith((str(GARDEN_PORT), str(UNCACHED_PORT))):
        metrics = httpx.get(f"{url}/metrics", timeout=10).text
        found = re.search(r"^process_cpu_seconds_total ([\d.e+]+)$", metrics, re.MULTILINE)
        assert found is not None, "no process_cpu_seconds_total"
        return float(found.group(1))
    return float(httpx.get(f"{url}/cpu", timeout=10).json())


def load(url: str, requests: list[tuple[str, str, dict[str, str]]]) -> dict[str, float]:
    """A short warm-up, then the measured run, of `requests` in turn; with the server
    process's CPU time per answer, which a busy machine moves far less than the rates."""
    script = lua_rotation(requests)
    wrk_lua(url, script, seconds=3, connections=CONNECTIONS)
    began = cpu_seconds(url)
    result = wrk_lua(url, script, seconds=SECONDS, connections=CONNECTIONS)
    result["cpu_us_per_request"] = (cpu_seconds(url) - began) / result["requests"] * 1e6
    return result


async def scores_ends(bootstrap: str) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        parts = [
            TopicPartition(SCORES.name, p) for p in consumer.partitions_for_topic(SCORES.name) or ()
        ]
        if not parts:
            await consumer._client.force_metadata_update()
            parts = [
                TopicPartition(SCORES.name, p)
                for p in consumer.partitions_for_topic(SCORES.name) or ()
            ]
        return await consumer.end_offsets(parts)
    finally:
        await consumer.stop()


async def bare_consumer(bootstrap: str, start: dict[TopicPartition, int], total: int) -> float:
    """Read `total` records from the `start` offsets with a plain consumer that commits after
    each fetch (as the garden's consumer commits after each batch); return the seconds."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id="bench-bare-garden",
        enable_auto_commit=False,
        max_poll_records=BATCH,
    )
    await consumer.start()
    try:
        consumer.assign(list(start))
        for tp, offset in start.items():
            consumer.seek(tp, offset)
        seen = 0
        began = time.perf_counter()
        while seen < total:
            batch = await consumer.getmany(timeout_ms=1000, max_records=BATCH)
            seen += sum(len(records) for records in batch.values())
            if batch:
                await consumer.commit()
        return time.perf_counter() - began
    finally:
        await consumer.stop()


def cache_counts(url: str) -> dict[str, float]:
    """The cache's hits and misses so far, from the service's `/metrics`."""
    metrics = httpx.get(f"{url}/metrics", timeout=10).text
    counts = {}
    for name in ("hits", "misses"):
        found = re.search(rf"^garden_cache_{name}_total ([\d.e+]+)$", metrics, re.MULTILINE)
        counts[name] = float(found.group(1)) if found else 0.0
    return counts


def row(result: dict[str, float]) -> dict[str, float]:
    keep = ("requests_per_s", "p50_ms", "p99_ms", "requests", "non_2xx", "cpu_us_per_request")
    return {k: result[k] for k in keep}


NOTIFYING = ("garden_members", "garden_plants", "garden_plant_days", "garden_previews")
"""The tables whose triggers send the garden's change notifications."""


async def notifications(engine: AsyncEngine, *, enabled: bool) -> None:
    """Turn the change notifications' triggers on or off."""
    switch = "ENABLE" if enabled else "DISABLE"
    async with engine.begin() as db:
        for table in NOTIFYING:
            await db.execute(text(f"ALTER TABLE {table} {switch} TRIGGER USER"))


async def grow_one_day(
    bootstrap: str, engine: AsyncEngine, owners: list[Owner], day: date, seed: int
) -> dict[str, float]:
    """Produce one settled day of every owner and time it to the last plant committed, beside
    a bare consumer reading the same records."""
    day_records = score_records(owners, [day], seed=seed)
    start_offsets = await scores_ends(bootstrap)
    expected = len(day_records)

    async def day_grown() -> bool:
        return await days_grown(engine, day) >= expected

    started = time.perf_counter()
    await produce(bootstrap, day_records)
    await wait_until(day_grown, within=600, every=0.05, what="one day")
    day_seconds = time.perf_counter() - started
    bare_seconds = await bare_consumer(bootstrap, start_offsets, expected)
    return {
        "settled_records": expected,
        "seconds": day_seconds,
        "bare_consumer_seconds": bare_seconds,
        "ratio": bare_seconds / day_seconds,
    }


async def run() -> dict[str, Any]:
    org = build_org(AGENTS, seed=2026, centers=1)
    owners = owners_of(org)
    agents = [o[1] for o in owners if o[0] == "agent"]
    teams = [o[1] for o in owners if o[0] == "team"]
    today = datetime.now(ZoneInfo(DEFAULT_TIMEZONE)).date()
    history = [today - timedelta(days=DAYS + 1 - n) for n in range(DAYS)]  # today-31 … today-2
    new_day = today - timedelta(days=1)
    with bench_infrastructure(postgres=True) as infra:
        bootstrap, database = infra["KAFKA_BOOTSTRAP_SERVERS"], infra["DATABASE_URL"]
        await ensure_topics(bootstrap, partitions=6)
        await migrate(database)
        engine = make_engine(database, pool_size=2)
        env = {
            **infra,
            "JWT_SECRET": SECRET,
            "HTTP_WORKERS": "1",
            "AUTO_HARVEST_ENABLED": "false",
        }
        report: dict[str, Any] = {
            "agents": len(agents),
            "teams": len(teams),
            "departments": sum(1 for o in owners if o[0] == "department"),
            "indicators": len(INDICATORS),
            "days": DAYS,
            "connections": CONNECTIONS,
            "seconds_per_run": SECONDS,
        }
        try:
            with service("services.garden", GARDEN_PORT, env) as url:
                records = score_records(owners, history, seed=2026)
                total = len(records)
                started = time.perf_counter()
                await produce(bootstrap, records)
                del records
                produced = time.perf_counter() - started

                async def all_grown() -> bool:
                    return await days_grown(engine) >= total

                await wait_until(all_grown, within=LOAD_WITHIN, every=2, what="30-day load")
                grown = time.perf_counter() - started

                async def drained() -> bool:
                    return await outbox_left(engine) == 0

                await wait_until(drained, within=LOAD_WITHIN, every=2, what="garden outbox")
                report["load"] = {
                    "settled_records": total,
                    "seconds_to_produce": produced,
                    "seconds_to_grow": grown,
                    "records_per_s": total / grown,
                    "seconds_outbox_drained": time.perf_counter() - started,
                    "plants": int(await scalar(engine, "SELECT count(*) FROM garden_plants")),
                    "timeline_entries": int(
                        await scalar(engine, "SELECT count(*) FROM garden_timeline")
                    ),
                }
                print(f"load: {report['load']}")
                began = time.perf_counter()
                harvests = await harvest_all(url, agents, "satisfaction")
                report["harvest"] = {
                    "answers": harvests,
                    "seconds": time.perf_counter() - began,
                    "lots": int(await scalar(engine, "SELECT count(*) FROM garden_harvests")),
                    "fruit": int(
                        await scalar(engine, "SELECT coalesce(sum(count), 0) FROM garden_harvests")
                    ),
                }
                print(f"harvest: {report['harvest']}")
                began = time.perf_counter()
                await vacuum(database)  # what autovacuum would do next, before measuring
                report["vacuum_seconds"] = time.perf_counter() - began
                agent_reads = [
                    ("GET", f"/v1/agents/{a}/garden", bearer(a, "agent")) for a in agents
                ]
                team_reads = [
                    ("GET", f"/v1/units/team/{t}/garden", bearer(f"lead-{t}", "team_leader", t))
                    for t in teams
                ]
                board = (
                    "GET",
                    f"/v1/leaderboards?scope=center:{CENTER}&period=month:{today}",
                    bearer("ops-admin", "admin"),
                )
                report["agent_garden"] = row(load(url, agent_reads))
                report["agent_garden_cache"] = cache_counts(url)
                report["team_garden"] = row(load(url, team_reads))
                report["leaderboard"] = row(load(url, [board]))
                with service("tests.bench.bare_http", BARE_PORT, env) as bare_url:
                    bare = [("GET", f"/rows/{a}", {}) for a in agents]
                    report["bare_row"] = row(load(bare_url, bare))
                    statement = [("GET", f"/gardens/{a}", {}) for a in agents]
                    report["bare_garden"] = row(load(bare_url, statement))
                fastapi = {**env, "BARE_APP": "fastapi"}
                with service("tests.bench.bare_http", FASTAPI_PORT, fastapi) as fastapi_url:
                    report["fastapi_garden"] = row(load(fastapi_url, statement))
                print({k: report[k] for k in ("agent_garden", "team_garden", "leaderboard")})

                report["one_day"] = await grow_one_day(bootstrap, engine, owners, new_day, 2027)
                # The same growth with the change notifications' triggers off (the cache is not
                # read after it): what the notifications cost the growth path, in this run.
                await notifications(engine, enabled=False)
                report["one_day_without_notifications"] = await grow_one_day(
                    bootstrap, engine, owners, today, 2028
                )
                await notifications(engine, enabled=True)
                uncached = {**env, "GARDEN_CACHE_SIZE": "0"}  # after the day: no extra member
                with service("services.garden", UNCACHED_PORT, uncached) as uncached_url:
                    report["agent_garden_uncached"] = row(load(uncached_url, agent_reads))
        finally:
            await engine.dispose()
    agent, bare = report["agent_garden"], report["bare_row"]
    report["agent_garden"]["ratio"] = agent["requests_per_s"] / bare["requests_per_s"]
    report["team_garden"]["ratio"] = (
        report["team_garden"]["requests_per_s"] / bare["requests_per_s"]
    )
    for bound in ("agent_garden_uncached", "bare_garden", "fastapi_garden"):
        report[bound]["ratio"] = report[bound]["requests_per_s"] / bare["requests_per_s"]
    return report


def main() -> None:
    RESULTS.mkdir(exist_ok=True)
    report = asyncio.run(run())
    path = write_report("garden", report)
    print(f"\ngarden benchmark ({SECONDS}s per run, {CONNECTIONS} connections) -> {path}")
    print(
        f"  {report['agents']} agents, {report['teams']} teams, {report['departments']} "
        f"departments, {report['load']['settled_records']:,} settled records grown in "
        f"{report['load']['seconds_to_grow']:.0f}s"
    )
    runs = (
        "agent_garden",
        "agent_garden_uncached",
        "team_garden",
        "leaderboard",
        "bare_row",
        "bare_garden",
        "fastapi_garden",
    )
    print_rates(report, runs)
    print(
        "  CPU per answer (µs): "
        + ", ".join(f"{name} {report[name]['cpu_us_per_request']:,.0f}" for name in runs)
    )
    day = report["one_day"]
    print(
        f"  one settled day ({day['settled_records']:,} records): {day['seconds']:.2f}s "
        f"to the last plant; bare consumer {day['bare_consumer_seconds']:.2f}s"
    )
    quiet = report["one_day_without_notifications"]
    print(
        f"  the same without change notifications: {quiet['seconds']:.2f}s "
        f"(with / without: {day['seconds'] / quiet['seconds']:.2f})"
    )


if __name__ == "__main__":
    main()
