"""Helpers of the alerting integration tests: a real SMS sink process, the alerting app
served over real HTTP (so the sink can post receipts to it), rules, complaints."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest
import uvicorn
from sqlalchemy import text

from services.alerting.app import create_app
from services.alerting.config import AlertingSettings
from shared.auth.tokens import mint_token
from shared.db import make_engine
from tests.events_factory import complaint
from tests.infra import ROOT

JWT_SECRET = "alerting-test-secret-of-32-bytes-or-more"
RECEIPT_TOKEN = "receipt-token-123"
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


DEPARTMENT = "网络运维部"
"""The responsible department of `surge_rules`: a manager of it sees its incidents."""


def token(role: str = "admin", sub: str = "ops-admin", unit: str | None = None) -> dict[str, str]:
    signed = mint_token(secret=JWT_SECRET, subject=sub, role=role, unit=unit)
    return {"Authorization": f"Bearer {signed}"}


async def wait_for(
    probe: Callable[[], Awaitable[T | None]], *, within: float = 20.0, every: float = 0.1
) -> T:
    """Poll `probe` until it returns something truthy; fail after `within` seconds."""
    deadline = time.monotonic() + within
    last: T | None = None
    while time.monotonic() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(every)
    raise AssertionError(f"condition not met within {within}s (last: {last!r})")


@dataclass
class Sink:
    """The local SMS sink, a real HTTP server in its own process."""

    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def messages(self) -> list[dict[str, Any]]:
        async with httpx.AsyncClient() as client:
            return list((await client.get(f"{self.url}/messages")).json()["messages"])

    async def mode(self, mode: str, hold_seconds: float = 0.0, receipt_delay: float = 0.2) -> None:
        async with httpx.AsyncClient() as client:
            response = await client.put(
                f"{self.url}/control",
                json={
                    "mode": mode,
                    "hold_seconds": hold_seconds,
                    "receipt_delay_seconds": receipt_delay,
                },
            )
            response.raise_for_status()


def start_sink() -> Sink:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tools.sms_sink", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return Sink(port, process)
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("SMS sink did not start")


@pytest.fixture(scope="module")
def sink() -> Any:
    """The local SMS sink for a test module (import the fixture to use it)."""
    running = start_sink()
    yield running
    stop(running.process)


@asynccontextmanager
async def alerting_app(
    kafka: str, database: str, sink: Sink, **env: str
) -> AsyncIterator[httpx.AsyncClient]:
    """The alerting app on the test sink, served over real HTTP, with a consumer group
    of its own."""
    group = f"alerting-{uuid.uuid4().hex[:6]}"
    async with serve_alerting(
        {**alerting_env(kafka, database, sink, free_port(), group), **env}
    ) as client:
        yield client


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def alerting_env(kafka: str, database: str, sink: Sink, port: int, group: str) -> dict[str, str]:
    """Environment of an alerting process talking to the test sink."""
    return {
        "KAFKA_BOOTSTRAP_SERVERS": kafka,
        "DATABASE_URL": database,
        "HTTP_PORT": str(port),
        "CONSUMER_GROUP": group,
        "JWT_SECRET": JWT_SECRET,
        "SMS_PROVIDER": "http",
        "SMS_HTTP_URL": f"{sink.url}/messages",
        "SMS_RECEIPT_URL": f"http://127.0.0.1:{port}/v1/sms/receipts",
        "SMS_RECEIPT_TOKEN": RECEIPT_TOKEN,
        "SMS_HTTP_TIMEOUT_SECONDS": "2",
        "SMS_BACKOFF_BASE_SECONDS": "0.2",
        "SMS_BACKOFF_MAX_SECONDS": "1",
        # with retries this quick, a slow machine could spend the default 15 attempts in an
        # outage the test is still setting up, and the SMS would be given up for good
        "SMS_MAX_ATTEMPTS": "1000",
        "SMS_LEASE_SECONDS": "3",
        "SMS_POLL_SECONDS": "0.2",
        "TICK_SECONDS": "0.5",
        "TOPIC_PARTITIONS": "3",
    }


@asynccontextmanager
async def serve_alerting(env: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    """Run the alerting app in this process on a real port; yield a client for its API."""
    settings = AlertingSettings(**{k.lower(): v for k, v in env.items()})  # type: ignore[arg-type]
    app = create_app(settings)
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=settings.http_port, log_config=None, lifespan="on"
        )
    )
    task = asyncio.create_task(server.serve())
    base = f"http://127.0.0.1:{settings.http_port}"
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        try:
            await wait_for(lambda: _ready(client), within=60)
            yield client
        finally:
            server.should_exit = True
            await asyncio.wait_for(task, 30)


async def _ready(client: httpx.AsyncClient) -> bool:
    try:
        if (await client.get("/readyz")).status_code != 200:
            return False
        return (await client.get("/v1/rules", headers=token())).status_code == 200
    except httpx.HTTPError:
        return False


def category() -> str:
    """A category of its own, so tests sharing the database do not meet."""
    return f"net{uuid.uuid4().hex[:8]}"


def person(level: int, tag: str) -> dict[str, str]:
    return {"name": f"{tag}-L{level}", "phone": f"+86139{abs(hash(tag)) % 10**4:04d}{level:04d}"}


def surge_rules(
    cat: str, *, repeat_minutes: float = 0, cooldown_minutes: float = 15
) -> dict[str, Any]:
    """One per-region rule: trigger at 5 (seed 1), L2 at 10, L3 at 15, L4 at 20 complaints."""
    return {
        "rules": [
            {
                "category": cat,
                "region": "*",
                "per_region": True,
                "department": DEPARTMENT,
                "min_count": 5,
                "surge_factor": 3,
                "baseline_seed": 1,
                "baseline_floor": 1,
                "cooldown_minutes": cooldown_minutes,
                "repeat_minutes": repeat_minutes,
                "ladder": [
                    {"level": 1, "recipients": [person(1, cat)]},
                    {"level": 2, "recipients": [person(2, cat)], "min_count": 10},
                    {"level": 3, "recipients": [person(3, cat)], "min_count": 15},
                    {
                        "level": 4,
                        "recipients": [person(4, cat), person(5, cat)],
                        "min_count": 20,
                    },
                ],
            }
        ]
    }


def complaints(cat: str, n: int, region: str = "foshan", **changes: Any) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    return [
        complaint(cat, region, occurred_at=(now - timedelta(seconds=n - i)).isoformat(), **changes)
        for i in range(n)
    ]


def env_for_process(env: dict[str, str]) -> dict[str, str]:
    return {**os.environ, **env, "LOG_LEVEL": "INFO"}


async def complaint_seen(database: str, complaint_id: str) -> bool:
    """Tell whether alerting has counted (or tombstoned) the complaint."""
    engine = make_engine(database, pool_size=1)
    try:
        async with engine.connect() as conn:
            found = await conn.scalar(
                text("SELECT count(*) FROM alert_complaints WHERE complaint_id = :i"),
                {"i": complaint_id},
            )
    finally:
        await engine.dispose()
    return bool(found)
