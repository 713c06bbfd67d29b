"""A whole run: fresh topics and database, the five services, the feed, the faults of
the schedule applied while it flows, a supervisor that restarts a service that exits on
its own (as any deployment would, and said in the log), then waiting for the pipeline to
settle and taking its snapshot."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from shared.contracts.topics import ALL_TOPICS, COMPLAINTS, GARDEN, RAW_TOPICS, SCORES, Topic
from shared.db import make_engine
from shared.kafka import ensure_topics
from shared.migrate import migrate
from tests.infra import NativeKafka, NativePostgres
from tests.integration.alerting_support import Sink, start_sink, stop
from tests.kafka_tools import end_offsets
from tests.reliability.faults import Fault
from tests.reliability.pipeline import Pipeline, Scenario
from tests.reliability.processes import Service
from tests.reliability.snapshot import Rows, invariants, snapshot

READS: dict[str, tuple[Topic, ...]] = {
    "scoring": RAW_TOPICS,
    "alerting": (COMPLAINTS,),
    "garden": (SCORES,),
    "rewards": (GARDEN,),
}
"""What each consumer group reads: settled means none of it is left unread."""


@dataclass
class Outcome:
    content: dict[str, Rows]
    problems: list[str]
    log: list[str] = field(default_factory=list)
    seconds: float = 0.0


async def fresh_database(server: str, name: str) -> str:
    """(Re)create database `name` on `server`'s PostgreSQL, migrated; return its URL."""
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await admin.dispose()
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    await migrate(url)
    return url


async def fresh_topics(bootstrap: str, within: float = 60) -> None:
    """Delete the platform's topics (a run before left its records there) and create them
    again, empty."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        names = {t.name for t in ALL_TOPICS}
        if existing := names & set(await admin.list_topics()):
            await admin.delete_topics(sorted(existing))
        deadline = time.monotonic() + within
        while names & set(await admin.list_topics()):
            assert time.monotonic() < deadline, "the topics were not deleted"
            await asyncio.sleep(0.2)
    finally:
        await admin.close()
    deadline = time.monotonic() + within
    while True:  # a deleted topic's name may be refused for a moment
        try:
            await ensure_topics(bootstrap, partitions=3)
            return
        except KafkaError:
            assert time.monotonic() < deadline, "the topics could not be created again"
            await asyncio.sleep(0.5)


async def lag(bootstrap: str, groups: dict[str, tuple[Topic, ...]]) -> dict[str, int]:
    """Records each group has not committed yet, over the topics it reads."""
    ends: dict[TopicPartition, int] = {}
    for topic in {t for topics in groups.values() for t in topics}:
        known = await end_offsets(bootstrap, topic.name)
        assert known, f"no partitions known for {topic.name}"
        ends |= {TopicPartition(topic.name, p): end for p, end in known.items()}
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        behind: dict[str, int] = {}
        for group, topics in groups.items():
            committed = await admin.list_consumer_group_offsets(group)
            names = {t.name for t in topics}
            behind[group] = sum(
                end - (committed[tp].offset if tp in committed else 0)
                for tp, end in ends.items()
                if tp.topic in names
            )
        return behind
    finally:
        await admin.close()


class Run:
    """One run of `scenario` on fresh topics and a fresh database."""

    def __init__(
        self, name: str, scenario: Scenario, kafka: NativeKafka, pg: NativePostgres, logs: Path
    ) -> None:
        self.name, self.scenario, self.kafka, self.pg = name, scenario, kafka, pg
        self.logs = logs / name
        self.log: list[str] = []
        self.joined: Counter[str] = Counter()
        self.held: set[str] = set()
        """Services a fault has in hand (the supervisor leaves them alone)."""
        self._t0 = time.monotonic()

    def note(self, what: str) -> None:
        self.log.append(f"t+{time.monotonic() - self._t0:5.1f}s {what}")

    async def execute(self, faults: list[Fault] | None) -> Outcome:
        began = time.monotonic()
        bootstrap = f"127.0.0.1:{self.kafka.port}"
        await fresh_topics(bootstrap)
        database = await fresh_database(self.pg.url, f"reliability_{self.name}")
        sink = start_sink()
        pipeline = Pipeline(self.name, bootstrap, database, sink, self.logs)
        engine: AsyncEngine | None = None
        background: list[asyncio.Task[None]] = []
        try:
            self.note("infrastructure ready")
            await pipeline.start()
            self.note("services up")
            await pipeline.configure(self.scenario)
            events = self.scenario.events()
            self._t0 = time.monotonic()
            self.note(f"feed of {len(events)} events starts")
            watch = asyncio.create_task(self._supervise(pipeline))
            chaos = asyncio.create_task(self._apply(faults or [], pipeline, sink))
            background += [watch, chaos]
            # the reference takes the stream as fast as it comes: pacing must not matter
            feeding = asyncio.create_task(
                pipeline.feed(events, self.scenario.feed_seconds if faults else 0.0)
            )
            feeding.add_done_callback(lambda _: self.note("feed done"))
            background.append(feeding)
            done, _ = await asyncio.wait({feeding, chaos}, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                task.result()  # a fault that could not be applied ends the run at once
            await feeding
            await chaos
            engine = make_engine(database, pool_size=2)  # connections opened after the faults
            await self._settle(
                pipeline, bootstrap, engine, within=240 + 2 * self.scenario.feed_seconds
            )
            self.note("settled")
            stored = Counter({m["id"]: m["deliveries"] for m in await sink.messages()})
            return Outcome(
                await snapshot(engine),
                await invariants(engine, stored),
                self.log,
                time.monotonic() - self._t0,
            )
        finally:
            for task in background:  # no restart behind the stop
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            self.note("stopping")
            await pipeline.stop()
            self.note(f"stopped ({time.monotonic() - began:.0f} s in all)")
            print(f"{self.name} run, what happened:")  # shown with a failure, too
            print("\n".join(f"  {line}" for line in self.log))
            stop(sink.process)
            if engine is not None:
                await engine.dispose()

    async def _apply(self, faults: list[Fault], pipeline: Pipeline, sink: Sink) -> None:
        """Each fault at its time, concurrently; the faults of one target in order."""
        locks: dict[str, asyncio.Lock] = {}
        tasks = [
            asyncio.create_task(
                self._one(fault, pipeline, sink, locks.setdefault(fault.target, asyncio.Lock()))
            )
            for fault in faults
        ]
        await asyncio.gather(*tasks)

    async def _one(self, fault: Fault, pipeline: Pipeline, sink: Sink, lock: asyncio.Lock) -> None:
        await asyncio.sleep(max(0.0, self._t0 + fault.at - time.monotonic()))
        async with lock:
            verb, what = fault.action.split(" ")
            self.note(f"{fault.action} (planned t+{fault.at:.1f}s)")
            if verb == "kill":
                self.held.add(what)
                pipeline.services[what].kill()
                await asyncio.sleep(fault.pause)
                await self._bring_up(pipeline.services[what])
                self.held.discard(what)
            elif verb == "join":
                self.joined[what] += 1
                label = f"{what}-second-{self.joined[what]}"
                second = pipeline.extra[what] = pipeline.instance(what, label)
                await self._bring_up(second)
            elif verb == "leave":
                await pipeline.extra.pop(what).stop()
            elif fault.action == "restart kafka":
                await self._restart(self.kafka, what)
            elif fault.action == "restart postgres":
                await self._restart(self.pg, what)
            elif verb == "sms":
                await sink.mode(what)
            if verb in ("kill", "join", "restart"):
                self.note(f"{fault.action}: back")

    async def _restart(
        self, server: NativeKafka | NativePostgres, what: str, attempts: int = 5
    ) -> None:
        """Stop and start the broker or the database server. A start is tried again when
        it fails: a client reconnecting while the server is down may take its port for a
        moment (the test ports may lie in the ephemeral range, where a connection to a
        closed local port can connect to itself)."""
        await asyncio.to_thread(server.stop)
        for attempt in range(1, attempts + 1):
            try:
                await asyncio.to_thread(server.start)
                return
            except subprocess.CalledProcessError:
                if attempt == attempts:
                    raise
                self.note(f"{what} did not start: stopped and started again")
                await asyncio.to_thread(server.stop)
                await asyncio.sleep(2)

    async def _bring_up(self, service: Service, attempts: int = 5) -> None:
        """Start `service`; one that exits while starting (its database or broker is
        restarting, say) is started again, as a supervisor would."""
        for attempt in range(1, attempts + 1):
            try:
                # slow while the broker restarts, on two cores shared with everything else
                await service.start(within=180)
                return
            except AssertionError:
                if attempt == attempts or service.running:
                    raise
                self.note(f"{service.name} exited while starting: started again")
                await asyncio.sleep(1)

    async def _supervise(self, pipeline: Pipeline) -> None:
        while True:
            await asyncio.sleep(0.5)
            for name, service in pipeline.services.items():
                if name not in self.held and not service.running:
                    code = service.process.returncode if service.process else None
                    self.note(f"{name} exited on its own (code {code}): restarted")
                    self.held.add(name)
                    try:
                        await self._bring_up(service)
                    finally:
                        self.held.discard(name)

    async def _settle(
        self, pipeline: Pipeline, bootstrap: str, engine: AsyncEngine, within: float
    ) -> None:
        """Wait until nothing is left to do and the content stays the same."""
        deadline = time.monotonic() + within
        last: Any = None
        reason = ""
        while time.monotonic() < deadline:
            reason = await self._busy(pipeline, bootstrap, engine)
            if not reason:
                now = await snapshot(engine)
                if now == last:
                    return
                last, reason = now, "content still changing"
            await asyncio.sleep(2)
        raise AssertionError(f"run {self.name} did not settle within {within:.0f} s: {reason}")

    async def _busy(self, pipeline: Pipeline, bootstrap: str, engine: AsyncEngine) -> str:
        behind = await lag(bootstrap, {pipeline.group(n): t for n, t in READS.items()})
        if any(behind.values()):
            return f"lag {behind}"
        checks = {
            "outbox rows unpublished": "SELECT count(*) FROM outbox",
            "days not settled": f"SELECT {self.scenario.days} - count(*) FROM scoring_settled_days",
            "plants with ripe fruit not harvested": "SELECT count(*) FROM garden_plants "
            "WHERE fruit_harvested < fruit_ripened",
            "SMS not sent": "SELECT count(*) FROM alert_sms WHERE status IN ('queued', 'sending')",
        }
        async with engine.connect() as conn:
            for what, sql in checks.items():
                if n := await conn.scalar(text(sql)):
                    return f"{n} {what}"
        return ""
