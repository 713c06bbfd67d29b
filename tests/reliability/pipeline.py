"""One run of the whole pipeline as real processes: the simulator posts a seeded center's
days to ingest over HTTP; ingest, scoring, alerting, garden and rewards each run as
`python -m services.X`; a local SMS sink stands in for the gateway."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from shared.auth.tokens import mint_token
from simulator.generator import Simulation, Surge
from simulator.org import Org, build_org
from simulator.sinks import HttpSink
from tests.integration.alerting_support import Sink, alerting_env, surge_rules
from tests.reliability.processes import Service, run_module

JWT_SECRET = "reliability-secret-of-32-bytes-or-more"
API_KEY = "reliability-key"
START = date(2026, 3, 2)
SURGE = ("network", "foshan")
GARDEN_CONFIG = {
    # small fruit cycle and next-day automatic harvest: fruit ripens and reaches wallets
    "fruit_at": 3,
    "stage_thresholds": [0, 0.5, 1, 1.5, 2],
    "auto_harvest_days": 1,
}


@dataclass(frozen=True)
class Scenario:
    """A seeded center: `days` business days from START, a complaint surge on the last
    day, and the stream cut a few minutes after the surge (so every surge complaint is in
    the detection window when the last ones arrive, however the stream is batched)."""

    seed: int
    agents: int = 12
    days: int = 3
    feed_seconds: float = 25.0

    @property
    def org(self) -> Org:
        return build_org(self.agents, seed=self.seed)

    @property
    def surge(self) -> Surge:
        # about 35 surge complaints in 20 minutes, whatever the center's size
        factor = 18_000 / self.agents
        return Surge(*SURGE, clock(10, 0), 20, factor, START + timedelta(days=self.days - 1))

    def events(self) -> list[dict[str, Any]]:
        zone = ZoneInfo(self.org["centers"][0]["timezone"])
        surge = self.surge
        assert surge.day is not None
        cutoff = datetime.combine(surge.day, surge.start, zone) + timedelta(minutes=25)
        simulation = Simulation(
            self.org, seed=self.seed, start=START, days=self.days, surges=[surge]
        )
        return [event for stamp, event in simulation.timed_events() if stamp <= cutoff.timestamp()]

    def surge_share(self, events: list[dict[str, Any]]) -> float:
        """Where in the stream (0–1) the surge's complaints start."""
        day = str(self.surge.day)
        for i, event in enumerate(events):
            if (
                event["type"] == "complaint.filed"
                and (event["category"], event["region"]) == SURGE
                and event["occurred_at"].startswith(day)
                and event["occurred_at"][11:13] == "10"
            ):
                return i / len(events)
        raise AssertionError("the scenario has no surge")


def bearer(role: str = "admin", sub: str = "reliability-admin") -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(secret=JWT_SECRET, subject=sub, role=role)}"}


@dataclass
class Pipeline:
    """The five services of one run on one broker and one database."""

    run: str
    kafka: str
    database: str
    sink: Sink
    logs: Path
    services: dict[str, Service] = field(default_factory=dict)
    extra: dict[str, Service] = field(default_factory=dict)
    """Second instances (joined to scale out), by service name."""

    def __post_init__(self) -> None:
        for name in ("ingest", "scoring", "alerting", "garden", "rewards"):
            self.services[name] = self.instance(name, name)

    def group(self, name: str) -> str:
        return f"{self.run}-{name}"

    def instance(self, name: str, label: str) -> Service:
        """A process of service `name` (`label` names its log)."""
        service = Service(label, f"services.{name}", {}, self.logs)
        common = {
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka,
            "DATABASE_URL": self.database,
            "JWT_SECRET": JWT_SECRET,
            "CONSUMER_GROUP": self.group(name),
            "TOPIC_PARTITIONS": "3",
            "OUTBOX_POLL_SECONDS": "0.1",
            "DB_POOL_SIZE": "4",
            "LOG_LEVEL": "WARNING",
        }
        special = {
            "ingest": {
                "INGEST_API_KEYS": f"{API_KEY}:*",
                "VALIDATOR_ENABLED": "false",
                # the scenario's days lie in the past: accept them (keys kept longer still)
                "MAX_EVENT_AGE_HOURS": str(24 * 3650),
                "DEDUP_RETENTION_DAYS": "3651",
                "RETRY_AFTER_SECONDS": "1",
                "PRODUCE_TIMEOUT_SECONDS": "3",
            },
            "scoring": {
                "PREVIEW_SECONDS": "1",
                "SETTLE_CHECK_SECONDS": "0.5",
                "QUIET_SECONDS": "3",
                "BATCH_MAX_RECORDS": "2000",
            },
            "alerting": alerting_env(
                self.kafka, self.database, self.sink, service.port, self.group(name)
            ),
            "garden": {"AUTO_HARVEST_SECONDS": "1", "BATCH_MAX_RECORDS": "1000"},
            "rewards": {"SEED_CATALOG": "false", "MAX_RECORDS": "500"},
        }[name]
        service.env = {**common, **special, "JWT_SECRET": JWT_SECRET}
        return service

    async def start(self) -> None:
        for service in self.services.values():
            service.spawn()
        for service in self.services.values():
            await service.healthy()

    async def configure(self, scenario: Scenario) -> None:
        """The org to scoring (members long before the days), the fruit cycle to the
        garden, the surge rules (`surge_rules`: L1 at 5 … L4 at 20 complaints) to alerting."""
        org_file = self.logs / "org.json"
        org_file.write_text(json.dumps(scenario.org))
        await run_module(
            "services.scoring.org_load",
            str(org_file),
            "--effective-from",
            str(START - timedelta(days=30)),
            env={"DATABASE_URL": self.database},
        )
        async with httpx.AsyncClient(timeout=30) as client:
            for center in scenario.org["centers"]:
                answer = await client.put(
                    f"{self.services['garden'].url}/v1/config/garden",
                    params={"center_id": center["id"]},
                    json=GARDEN_CONFIG,
                    headers=bearer(),
                )
                assert answer.status_code == 200, answer.text
            answer = await client.put(
                f"{self.services['alerting'].url}/v1/rules",
                json=surge_rules(SURGE[0]),
                headers=bearer(),
            )
            assert answer.status_code == 200, answer.text

    async def feed(self, events: list[dict[str, Any]], seconds: float) -> None:
        """Post the events to ingest spread over about `seconds` (retrying through outages)."""
        chunk = 400
        pause = seconds / max(1, len(events) // chunk)
        started = time.monotonic()
        async with HttpSink(
            self.services["ingest"].url,
            API_KEY,
            batch_size=chunk,
            concurrency=2,
            max_attempts=200,
            timeout=10,
        ) as sink:
            for i, event in enumerate(events, 1):
                await sink.put(event)
                if i % chunk == 0:
                    due = started + pause * (i // chunk)
                    await sink.idle(max(0.0, due - time.monotonic()))
                    await asyncio.sleep(max(0.0, due - time.monotonic()))

    async def stop(self) -> None:
        for service in [*self.extra.values(), *self.services.values()]:
            await service.stop()
