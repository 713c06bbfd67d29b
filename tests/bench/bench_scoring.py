"""Scoring throughput: a province-scale day already on the raw topics, consumed and
scored into PostgreSQL through settlement, beside a bare aiokafka consumer
reading the same topics in the same run.

    make bench      (or: .venv/bin/python -m tests.bench.bench_scoring)

BENCH_AGENTS (3000) sets the size of the center; BENCH_SCORING_INSTANCES (2)
how many scoring processes share the consumer group (2: one per core).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from datetime import date, timedelta
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy import text

from services.scoring.config import ScoringSettings
from shared.consumer import partition_fetch_bytes
from shared.contracts.topics import RAW_TOPICS, TOPIC_FOR_EVENT_TYPE
from shared.db import make_engine
from shared.kafka import EventProducer, OutgoingRecord, ensure_topics
from shared.migrate import migrate
from simulator.generator import Simulation
from simulator.org import build_org
from simulator.sinks import partition_key
from tests.bench.common import RESULTS, bench_infrastructure, peak_rss_mib, write_report
from tests.infra import ROOT
from tests.integration.scoring_support import load_org

AGENTS = int(os.environ.get("BENCH_AGENTS", "3000"))
INSTANCES = int(os.environ.get("BENCH_SCORING_INSTANCES", "2"))
BATCH = ScoringSettings.model_fields["batch_max_records"].default
DAY = date(2026, 3, 2)


async def produce_day(bootstrap: str, org: dict[str, Any]) -> dict[str, int]:
    """Put one simulated day on the raw topics; return the count per event type."""
    producer = EventProducer(bootstrap, send_timeout=120)
    counts: dict[str, int] = {}
    chunk: list[OutgoingRecord] = []
    for event in Simulation(org, seed=2026, start=DAY).events():
        counts[event["type"]] = counts.get(event["type"], 0) + 1
        chunk.append(
            OutgoingRecord(
                TOPIC_FOR_EVENT_TYPE[event["type"]].name,
                orjson.dumps(event),
                partition_key(event).encode(),
                [("event_type", event["type"].encode())],
            )
        )
        if len(chunk) == 5000:
            await producer.send_all(chunk)
            chunk = []
    if chunk:
        await producer.send_all(chunk)
    await producer.stop()
    return counts


async def bare_consumer(bootstrap: str, total: int) -> float:
    """Read every raw record once with a plain consumer group; return records/s."""
    consumer = AIOKafkaConsumer(
        *(t.name for t in RAW_TOPICS),
        bootstrap_servers=bootstrap,
        group_id="bench-bare",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_poll_records=BATCH,  # fetched like the scoring consumer fetches
        max_partition_fetch_bytes=partition_fetch_bytes(BATCH),
    )
    await consumer.start()
    seen = 0
    started = time.perf_counter()
    while seen < total:
        batch = await consumer.getmany(timeout_ms=1000, max_records=BATCH)
        for records in batch.values():
            seen += len(records)
        if batch:
            await consumer.commit()
    elapsed = time.perf_counter() - started
    await consumer.stop()
    return seen / elapsed


async def committed_all(bootstrap: str, group: str, ends: dict[TopicPartition, int]) -> bool:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return all(
        committed.get(tp) is not None and committed[tp].offset >= end for tp, end in ends.items()
    )


async def raw_ends(bootstrap: str) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        metadata = await consumer._client.fetch_all_metadata()
        partitions = [
            TopicPartition(t.name, p)
            for t in RAW_TOPICS
            for p in metadata.partitions_for_topic(t.name) or ()
        ]
        return await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()


async def run() -> dict[str, Any]:
    with bench_infrastructure(postgres=True) as env:
        bootstrap, database = env["KAFKA_BOOTSTRAP_SERVERS"], env["DATABASE_URL"]
        await ensure_topics(bootstrap, partitions=6)
        await migrate(database)
        org = build_org(AGENTS, seed=2026)
        engine = make_engine(database, pool_size=2)
        await load_org(engine, org, since=DAY - timedelta(days=30))
        started = time.perf_counter()
        counts = await produce_day(bootstrap, org)
        total = sum(counts.values())
        print(f"produced {total:,} events in {time.perf_counter() - started:.0f}s: {counts}")
        ends = await raw_ends(bootstrap)
        bare = await bare_consumer(bootstrap, total)
        print(f"bare consumer: {bare:,.0f} events/s")
        log = open(RESULTS / "scoring.log", "w")  # noqa: SIM115, ASYNC230 (a bench, not a service)
        processes = [
            subprocess.Popen(  # noqa: ASYNC220
                [sys.executable, "-m", "services.scoring"],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={
                    **os.environ,
                    **env,
                    "HTTP_PORT": str(28002 + 10 * n),
                    "CONSUMER_GROUP": "bench-scoring",
                    "QUIET_SECONDS": "3",
                    "SETTLE_CHECK_SECONDS": "1",
                    "PREVIEW_SECONDS": "5",
                    "JWT_SECRET": "bench-scoring-secret-of-32-bytes-or-more",
                    "LOG_LEVEL": "WARNING",
                },
            )
            for n in range(INSTANCES)
        ]
        try:
            started = time.perf_counter()
            while not await committed_all(bootstrap, "bench-scoring", ends):
                assert all(p.poll() is None for p in processes), "scoring died; see the log"
                await asyncio.sleep(0.5)
            consumed = time.perf_counter() - started
            while True:
                async with engine.connect() as conn:
                    settled = await conn.scalar(text("SELECT count(*) FROM scoring_settled_days"))
                    active = await conn.scalar(
                        text("SELECT count(DISTINCT (business_date)) FROM scoring_agent_days")
                    )
                centers = len(org["centers"])
                if settled and settled >= active * centers - centers:
                    break
                assert all(p.poll() is None for p in processes), "scoring died; see the log"
                await asyncio.sleep(0.5)
            through_settlement = time.perf_counter() - started
            memory = max(peak_rss_mib(p.pid) for p in processes)
        finally:
            for p in processes:
                p.terminate()
                p.wait(60)
            log.close()
        await engine.dispose()
    return {
        "agents": AGENTS,
        "scoring_instances": INSTANCES,
        "events": total,
        "by_type": counts,
        "scoring_events_per_s": total / through_settlement,
        "scoring_consume_events_per_s": total / consumed,
        "seconds_to_consume": consumed,
        "seconds_through_settlement": through_settlement,
        "bare_consumer_events_per_s": bare,
        "ratio": (total / through_settlement) / bare,
        "scoring_peak_rss_mib": memory,
    }


def main() -> None:
    RESULTS.mkdir(exist_ok=True)
    report = asyncio.run(run())
    path = write_report("scoring", report)
    print(f"\nscoring benchmark -> {path}")
    print(f"  {report['events']:,} events ({report['agents']} agents, one day)")
    print(
        f"  scoring, through settlement: {report['scoring_events_per_s']:,.0f} events/s "
        f"({report['seconds_through_settlement']:.0f}s; consumed in "
        f"{report['seconds_to_consume']:.0f}s), peak RSS {report['scoring_peak_rss_mib']:.0f} MiB"
    )
    print(f"  bare aiokafka consumer: {report['bare_consumer_events_per_s']:,.0f} events/s")
    print(f"  ratio: {report['ratio']:.2f}")


if __name__ == "__main__":
    main()
