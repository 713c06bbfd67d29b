"""The rewards process killed (-9) while harvests stream in on cc.garden.v1, then started
again, twice: every harvest is credited exactly once (a harvest repeated under a new event
id, or the same record twice, included), each balance equals its ledger's sum, the running
balance of every entry is right and no balance is ever negative."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from random import Random
from typing import Any

import pytest

from shared import sql
from shared.contracts.garden import FruitHarvested
from shared.db import make_engine
from tests.infra import STATE
from tests.integration.alerting_support import wait_for
from tests.integration.conftest import own_database
from tests.integration.rewards_support import JWT_SECRET, harvest, produce
from tests.reliability.processes import Service

pytestmark = pytest.mark.integration
FRUITS = ("watermelon", "grape", "peach")


def _harvests(seed: int, prefix: str) -> tuple[list[FruitHarvested], dict[str, tuple[Any, ...]]]:
    """A seeded stream of harvests of agents and teams, with repeats; what each credits."""
    rng = Random(seed)
    owners = [("agent", f"{prefix}a{i}") for i in range(24)] + [
        ("team", f"{prefix}t{i}") for i in range(6)
    ]
    events: list[FruitHarvested] = []
    credits: dict[str, tuple[Any, ...]] = {}
    for n in range(2400):
        kind, owner = rng.choice(owners)
        fruit = rng.choice(FRUITS)
        hid = f"{prefix}h{n}"
        event = harvest(owner, rng.randint(1, 5), owner_kind=kind, fruit=fruit, harvest_id=hid)
        credits[hid] = (kind, owner, fruit, event.count)
        events.append(event)
        if rng.random() < 0.05:  # garden published the harvest again (a new event id)
            events.append(event.model_copy(update={"event_id": f"{event.event_id}-again"}))
        if rng.random() < 0.05:  # the same record delivered twice
            events.append(event)
    return events, credits


async def _credited(engine: Any, prefix: str) -> int:
    async with engine.connect() as conn:
        rows = await sql.mappings(
            conn,
            "SELECT count(*) AS n FROM rewards_ledger WHERE owner_id LIKE :p",
            {"p": f"{prefix}%"},
        )
    return int(rows[0]["n"])


async def test_kill_9_mid_stream_credits_every_harvest_once(
    kafka: str, database: str, reliability_seed: int
) -> None:
    prefix = f"rk{uuid.uuid4().hex[:5]}-"
    events, credits = _harvests(reliability_seed, prefix)
    rng = Random(f"{reliability_seed}:kills")
    kill_at = sorted(rng.uniform(0.15, 0.85) * len(credits) for _ in range(2))
    print(f"rewards kill -9 after {[int(k) for k in kill_at]} of {len(credits)} credits")
    async with own_database(database, "rewards_kill") as db:
        engine = make_engine(db, pool_size=2)
        rewards = Service(
            "rewards",
            "services.rewards",
            {
                "KAFKA_BOOTSTRAP_SERVERS": kafka,
                "DATABASE_URL": db,
                "CONSUMER_GROUP": f"rewards-kill-{uuid.uuid4().hex[:6]}",
                "JWT_SECRET": JWT_SECRET,
                "SEED_CATALOG": "false",
                "MAX_RECORDS": "40",
                "TOPIC_PARTITIONS": "3",
                "OUTBOX_POLL_SECONDS": "0.1",
                "LOG_LEVEL": "WARNING",
            },
            STATE / "reliability" / "logs" / prefix,
        )
        try:
            await rewards.start()
            feeding = asyncio.create_task(_feed(kafka, events))
            for threshold in kill_at:
                await wait_for(
                    lambda t=threshold: _at_least(_credited(engine, prefix), t),
                    within=120,
                    every=0.05,
                )
                rewards.kill()
                assert await _credited(engine, prefix) < len(credits), "killed too late"
                await rewards.start()
            await feeding
            await wait_for(lambda: _at_least(_credited(engine, prefix), len(credits)), within=120)
            await asyncio.sleep(1)  # anything counted twice would show by now
            await _check(engine, prefix, credits)
        finally:
            await rewards.stop()
            await engine.dispose()


async def _feed(kafka: str, events: list[FruitHarvested]) -> None:
    """Publish the stream in slices, so the consumer is mid-stream when it is killed."""
    for i in range(0, len(events), 100):
        await produce(kafka, events[i : i + 100])
        await asyncio.sleep(0.05)


async def _at_least(count: Any, floor: float) -> bool:
    return bool(await count >= floor)


async def _check(engine: Any, prefix: str, credits: dict[str, tuple[Any, ...]]) -> None:
    async with engine.connect() as conn:
        ledger = await sql.mappings(
            conn,
            "SELECT id, owner_kind, owner_id, fruit, kind, amount, balance, reference "
            "FROM rewards_ledger WHERE owner_id LIKE :p ORDER BY id",
            {"p": f"{prefix}%"},
        )
        balances = await sql.mappings(
            conn,
            "SELECT owner_kind, owner_id, fruit, balance FROM rewards_balances "
            "WHERE owner_id LIKE :p",
            {"p": f"{prefix}%"},
        )
    references = Counter(row["reference"] for row in ledger)
    twice = [ref for ref, n in references.items() if n > 1]
    assert not twice, f"credited more than once: {twice[:5]}"
    expected = {f"harvest:{hid}": credit for hid, credit in credits.items()}
    missing = sorted(set(expected) - set(references))
    assert not missing, f"{len(missing)} harvests never credited: {missing[:5]}"
    for row in ledger:
        kind, owner, fruit, count = expected[row["reference"]]
        assert (row["owner_kind"], row["owner_id"], row["fruit"], row["kind"], row["amount"]) == (
            kind,
            owner,
            fruit,
            "credit",
            count,
        ), row
    running: Counter[tuple[str, str, str]] = Counter()
    for row in ledger:
        wallet = (row["owner_kind"], row["owner_id"], row["fruit"])
        running[wallet] += row["amount"]
        assert row["balance"] == running[wallet], f"running balance wrong at {row}"
    found = {(b["owner_kind"], b["owner_id"], b["fruit"]): b["balance"] for b in balances}
    assert found == dict(running), "balances differ from their ledgers' sums"
    assert all(balance >= 0 for balance in found.values())
