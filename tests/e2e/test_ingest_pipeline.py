"""End to end: the simulator posts a center's day over HTTP to a real ingest
process, which is killed (-9) mid-load and restarted; every event reaches its
raw topic, and nothing the simulator did not send appears."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from datetime import date

import httpx
import orjson
import pytest

from shared.contracts.topics import RAW_TOPICS, TOPIC_FOR_EVENT_TYPE
from simulator.generator import Simulation
from simulator.org import build_org
from tests.infra import ROOT
from tests.kafka_tools import read_topic

pytestmark = pytest.mark.e2e
API_KEY = "e2e-upstream-key"
AGENTS, SEED, DAY = 6, 4242, date(2026, 3, 2)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_ingest(port: int, kafka: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka,
        "HTTP_PORT": str(port),
        "INGEST_API_KEYS": f"{API_KEY}:*",
        "VALIDATOR_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
        # the simulated day is in early 2026: accept it (keys kept longer still)
        "MAX_EVENT_AGE_HOURS": str(24 * 3650),
        "DEDUP_RETENTION_DAYS": "3651",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "services.ingest"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("ingest did not become ready")


async def test_a_day_through_http_survives_kill_9_of_ingest(kafka: str) -> None:
    port = _free_port()
    ingest = await asyncio.to_thread(_start_ingest, port, kafka)
    expected = [e for e in Simulation(build_org(AGENTS, seed=SEED), seed=SEED, start=DAY).events()]
    sender = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "simulator",
        "send",
        "--to",
        "http",
        "--url",
        f"http://127.0.0.1:{port}",
        "--api-key",
        API_KEY,
        "--agents",
        str(AGENTS),
        "--seed",
        str(SEED),
        "--days",
        "1",
        "--start-date",
        DAY.isoformat(),
        "--rate",
        str(len(expected) // 4),
        "--batch-size",
        "100",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await asyncio.sleep(1.5)
        ingest.send_signal(signal.SIGKILL)  # mid-load, no graceful anything
        ingest.wait()
        ingest = await asyncio.to_thread(_start_ingest, port, kafka)
        _, stderr = await asyncio.wait_for(sender.communicate(), 120)
        assert sender.returncode == 0, stderr.decode()[-2000:]
    finally:
        ingest.terminate()
        ingest.wait(30)

    wanted_by_topic: dict[str, set[str]] = {}
    for event in expected:
        wanted_by_topic.setdefault(TOPIC_FOR_EVENT_TYPE[event["type"]].name, set()).add(
            event["event_id"]
        )
    copies: Counter[str] = Counter()
    for topic in RAW_TOPICS:
        wanted = wanted_by_topic.get(topic.name, set())
        seen = await read_topic(
            kafka,
            topic.name,
            keep=lambda s, w=wanted: s.headers.get("event_id", b"").decode() in w,
            until=lambda s, w=wanted: {x.headers["event_id"].decode() for x in s} >= w,
            within=60,
        )
        for record in seen:
            body = orjson.loads(record.value)
            copies[body["event_id"]] += 1
            assert TOPIC_FOR_EVENT_TYPE[body["type"]].name == topic.name
    assert set(copies) == {e["event_id"] for e in expected}, "events were lost"
    # a batch in flight when ingest died may be resent: at least once, never lost
    assert sum(copies.values()) >= len(expected)
