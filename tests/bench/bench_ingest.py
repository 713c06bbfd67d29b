"""Ingest throughput: single-event POSTs and batches of 500, each beside a bare
aiokafka producer sending the same events in the same run.

    make bench            (or: .venv/bin/python -m tests.bench.bench_ingest)

The bare producer is the ceiling: the same events, the same idempotent
`acks=all` producer settings, no HTTP and no validation. The ratio says what
HTTP + validation + per-request confirmation cost.
"""

from __future__ import annotations

import asyncio
import os
import time

import orjson
from aiokafka import AIOKafkaProducer

from shared.contracts.topics import CALLS
from shared.kafka import ensure_topics, producer_options
from tests.bench.common import RESULTS, bench_infrastructure, percentile, service, write_report, wrk
from tests.events_factory import call

SECONDS = int(os.environ.get("BENCH_SECONDS", "15"))
SINGLE_CONNECTIONS = 32
BATCH = 500
BATCH_CONNECTIONS = 4
API_KEY = "bench-key-0001"


async def bare_producer(bootstrap: str, *, batch: int, concurrency: int) -> dict[str, float]:
    """Send `batch`-sized groups with `concurrency` in flight; time each group's acknowledgement."""
    producer = AIOKafkaProducer(**producer_options(bootstrap))
    await producer.start()
    event = call(agent="A1024")
    value = orjson.dumps(event)
    latencies: list[float] = []
    sent = 0
    deadline = time.perf_counter() + SECONDS

    async def worker() -> None:
        nonlocal sent
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            futures = [
                await producer.send(
                    CALLS.name, value, key=b"A1024", headers=[("event_type", b"call.completed")]
                )
                for _ in range(batch)
            ]
            await asyncio.gather(*futures)
            latencies.append(time.perf_counter() - started)
            sent += batch

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - began
    await producer.stop()
    return {
        "events_per_s": sent / elapsed,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
    }


def main() -> None:
    RESULTS.mkdir(exist_ok=True)
    with bench_infrastructure() as env:
        asyncio.run(ensure_topics(env["KAFKA_BOOTSTRAP_SERVERS"], partitions=6))
        env = {
            **env,
            "INGEST_API_KEYS": f"{API_KEY}:*",
            "VALIDATOR_ENABLED": "false",
            # the benchmark's events are dated in early 2026
            "MAX_EVENT_AGE_HOURS": str(24 * 3650),
            "DEDUP_RETENTION_DAYS": "3651",
        }
        with service("services.ingest", 28001, env) as url:
            headers = {"X-API-Key": API_KEY, "Content-Type": "application/json"}
            single_event = orjson.dumps(call(agent="A1024"))
            batch_body = orjson.dumps([call(agent=f"A{i % 300}") for i in range(BATCH)])
            # warm up both paths
            wrk(
                f"{url}/v1/events/call.completed",
                body=single_event,
                headers=headers,
                seconds=3,
                connections=SINGLE_CONNECTIONS,
            )
            http_single = wrk(
                f"{url}/v1/events/call.completed",
                body=single_event,
                headers=headers,
                seconds=SECONDS,
                connections=SINGLE_CONNECTIONS,
            )
            http_batch = wrk(
                f"{url}/v1/events/call.completed",
                body=batch_body,
                headers=headers,
                seconds=SECONDS,
                connections=BATCH_CONNECTIONS,
            )
        bootstrap = env["KAFKA_BOOTSTRAP_SERVERS"]
        bare_single = asyncio.run(bare_producer(bootstrap, batch=1, concurrency=SINGLE_CONNECTIONS))
        bare_batch = asyncio.run(
            bare_producer(bootstrap, batch=BATCH, concurrency=BATCH_CONNECTIONS)
        )
    single_rate = http_single["requests_per_s"]
    batch_rate = http_batch["requests_per_s"] * BATCH
    report = {
        "seconds_per_run": SECONDS,
        "single": {
            "ingest_requests_per_s": single_rate,
            "ingest_p50_ms": http_single["p50_ms"],
            "ingest_p99_ms": http_single["p99_ms"],
            "non_2xx": http_single["non_2xx"],
            "bare_events_per_s": bare_single["events_per_s"],
            "bare_p50_ms": bare_single["p50_ms"],
            "bare_p99_ms": bare_single["p99_ms"],
            "ratio": single_rate / bare_single["events_per_s"],
        },
        "batch_500": {
            "ingest_events_per_s": batch_rate,
            "ingest_p50_ms": http_batch["p50_ms"],
            "ingest_p99_ms": http_batch["p99_ms"],
            "non_2xx": http_batch["non_2xx"],
            "bare_events_per_s": bare_batch["events_per_s"],
            "bare_p50_ms": bare_batch["p50_ms"],
            "bare_p99_ms": bare_batch["p99_ms"],
            "ratio": batch_rate / bare_batch["events_per_s"],
        },
    }
    path = write_report("ingest", report)
    print(f"\ningest benchmark ({SECONDS}s per run) -> {path}")
    print(f"{'':24}{'ingest':>14}{'bare producer':>16}{'ratio':>8}")
    for name, row, unit in (
        ("single POST", report["single"], "req/s"),
        ("batch of 500", report["batch_500"], "events/s"),
    ):
        rate = row.get("ingest_requests_per_s", row.get("ingest_events_per_s"))
        print(
            f"{name + ' ' + unit:24}{rate:>14,.0f}{row['bare_events_per_s']:>16,.0f}"
            f"{row['ratio']:>8.2f}"
        )
        print(
            f"{'  p50 / p99 ms':24}{row['ingest_p50_ms']:>7.1f} /{row['ingest_p99_ms']:>5.1f}"
            f"{row['bare_p50_ms']:>9.1f} /{row['bare_p99_ms']:>5.1f}"
        )


if __name__ == "__main__":
    main()
