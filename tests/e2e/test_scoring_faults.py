"""Scoring under faults, as real processes on the real broker and database:
`kill -9` in the middle of the stream, a consumer-group reset to the beginning,
and a second instance joining mid-stream all give the scores of a clean run."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy import text

from shared.contracts.topics import RAW_TOPICS, TOPIC_FOR_EVENT_TYPE
from shared.db import make_engine
from shared.kafka import EventProducer, OutgoingRecord
from simulator.generator import Simulation
from simulator.org import build_org
from simulator.sinks import partition_key
from tests.infra import ROOT
from tests.integration.scoring_support import load_org, reset_scoring

pytestmark = pytest.mark.e2e
DAY = date(2026, 2, 9)
SEED = 991
PIPELINE_TABLES = (
    "scoring_results",
    "scoring_dirty_days",
    "scoring_watermarks",
    "scoring_complaints",
    "scoring_agent_cursors",
    "scoring_fcr_calls",
    "scoring_agent_metrics",
    "scoring_agent_days",
    "scoring_settled_days",
)


async def _raw_ends(bootstrap: str) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
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


async def _commit(bootstrap: str, group: str, offsets: dict[TopicPartition, int]) -> None:
    """Set `group`'s committed offsets (a new group, or a reset of a stopped one)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign(list(offsets))
        await consumer.commit(offsets)
    finally:
        await consumer.stop()


@pytest.fixture(scope="module")
async def dataset(database: str, kafka: str) -> AsyncIterator[dict[str, Any]]:
    """A center's day produced straight onto the raw topics; where it starts."""
    engine = make_engine(database, pool_size=2)
    org = build_org(24, seed=SEED)
    start = await _raw_ends(kafka)
    producer = EventProducer(kafka)
    events = list(Simulation(org, seed=SEED, start=DAY).events())
    for i in range(0, len(events), 2000):
        await producer.send_all(
            [
                OutgoingRecord(
                    topic=TOPIC_FOR_EVENT_TYPE[e["type"]].name,
                    value=orjson.dumps(e),
                    key=partition_key(e).encode(),
                    headers=[("event_type", e["type"].encode())],
                )
                for e in events[i : i + 2000]
            ]
        )
    await producer.stop()
    ends = await _raw_ends(kafka)
    yield {"engine": engine, "org": org, "start": start, "ends": ends}
    await engine.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _scoring(group: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "CONSUMER_GROUP": group,
        "HTTP_PORT": str(_free_port()),
        "PREVIEW_SECONDS": "1",
        "SETTLE_CHECK_SECONDS": "0.5",
        "QUIET_SECONDS": "4",
        "BATCH_MAX_RECORDS": "300",
        "JWT_SECRET": "e2e-scoring-secret-of-32-bytes-or-more",
        "LOG_LEVEL": "WARNING",
        "TOPIC_PARTITIONS": "3",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "services.scoring"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def _fresh(engine: Any, org: dict[str, Any]) -> None:
    await reset_scoring(engine)
    await load_org(engine, org, since=DAY - timedelta(days=30))


async def _count(engine: Any, sql: str) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(text(sql)) or 0)


async def _caught_up(
    bootstrap: str, group: str, ends: dict[TopicPartition, int], within: float = 120
) -> None:
    """Wait until `group` has committed every raw partition up to `ends`."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            committed = await admin.list_consumer_group_offsets(group)
            if all(
                committed.get(tp) is not None and committed[tp].offset >= end
                for tp, end in ends.items()
            ):
                return
            await asyncio.sleep(0.5)
        pytest.fail(f"{group} did not catch up")
    finally:
        await admin.close()


async def _wait_settled(engine: Any, within: float = 120) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        active = await _count(
            engine, "SELECT count(DISTINCT business_date) FROM scoring_agent_days"
        )
        settled = await _count(engine, "SELECT count(*) FROM scoring_settled_days")
        if active and settled >= active:
            return
        await asyncio.sleep(0.5)
    pytest.fail("the days did not settle")


async def _snapshot(engine: Any) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    async with engine.connect() as conn:
        days = (
            await conn.execute(
                text(
                    "SELECT agent_id, business_date, calls, handle_seconds, repeated_calls, score_1, "
                    "score_2, score_3, score_4, score_5, logged_in_seconds, busy_seconds, "
                    "justified_complaints FROM scoring_agent_days ORDER BY 1, 2"
                )
            )
        ).all()
        results = (
            await conn.execute(
                text(
                    "SELECT owner_kind, owner_id, business_date, indicator, value, sample, points, "
                    "state FROM scoring_results WHERE settled ORDER BY 1, 2, 3, 4"
                )
            )
        ).all()
    return [tuple(r) for r in days], [tuple(r) for r in results]


def _close(a: list[tuple[Any, ...]], b: list[tuple[Any, ...]]) -> None:
    """Equal, allowing float sums to differ in the last bits (addition order)."""
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert (
            x == pytest.approx(y, rel=1e-9)
            if all(isinstance(v, float | int) for v in x if v is not None)
            else x == y
        )


async def _run(
    engine: Any,
    kafka: str,
    start: dict[TopicPartition, int],
    ends: dict[TopicPartition, int],
    *,
    fault: str,
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    group = f"scoring-e2e-{uuid.uuid4().hex[:8]}"
    await _commit(kafka, group, start)
    first = _scoring(group)
    processes = [first]
    try:
        if fault in ("kill", "second"):
            while await _count(engine, "SELECT count(*) FROM scoring_fcr_calls") < 450:
                assert first.poll() is None
                await asyncio.sleep(0.05)
            if fault == "kill":
                first.send_signal(signal.SIGKILL)
                first.wait()
                processes.append(_scoring(group))
            else:
                processes.append(_scoring(group))  # joins the group mid-stream
        await _wait_settled(engine)
        if fault == "reset":
            for process in processes:
                process.terminate()
                process.wait(30)
            await _commit(kafka, group, start)  # back to the beginning
            processes.append(_scoring(group))
            await _caught_up(kafka, group, ends)  # the whole replay went through
            await asyncio.sleep(2)  # and a preview round ran on top of it
        return await _snapshot(engine)
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
                process.wait(30)


async def test_faults_give_the_scores_of_a_clean_run(dataset: dict[str, Any], kafka: str) -> None:
    engine, start, ends = dataset["engine"], dataset["start"], dataset["ends"]
    await _fresh(engine, dataset["org"])
    clean_days, clean_results = await _run(engine, kafka, start, ends, fault="none")
    assert clean_results, "a clean run settled nothing"
    for fault in ("kill", "second", "reset"):
        await _fresh(engine, dataset["org"])
        days, results = await _run(engine, kafka, start, ends, fault=fault)
        _close(days, clean_days)
        _close(results, clean_results)
