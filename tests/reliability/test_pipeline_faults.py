"""The whole pipeline under faults gives the business content of a fault-free run.

A seeded center (simulator/: `build_org`, `Simulation` with a complaint surge) is
posted to ingest over HTTP and flows through scoring, alerting, garden and rewards,
every service a real process on the suite's own Kafka broker and PostgreSQL server
(restarting them leaves the session's alone). The same seed runs twice, one after the
other, each on fresh topics and a fresh database:

1. the reference: no faults;
2. under faults (`faults.schedule`): `kill -9` of scoring, alerting, garden and
   rewards at random points, a broker restart, a PostgreSQL restart, a second
   scoring and garden instance joining and leaving their groups (rebalances), the
   SMS gateway answering 503 from the surge on for a while.

The reference is a run of the same processes rather than an independent computation:
the unit and integration tests already check scoring, growth and crediting against
their pure rules, so what this suite adds is that faults change none of it; one path
through the same code, run twice, isolates exactly that. After both settle, the
settled scores, plants, plant days, timelines, harvested fruit, wallets, credited
sums and SMS must be equal (what timing may change by design, and what is compared
instead, is in `snapshot`), and each run must keep its own invariants (each fruit
harvested once, each lot credited once with its count, balances equal to ledger
sums and never negative, every SMS sent and stored by the gateway exactly once).

The seed and the schedule are printed; `RELIABILITY_SEED=<seed> make test` (or
`--reliability-seed`) replays them. `RELIABILITY_SOAK=1` (`make soak`) runs a longer
scenario with more agents, days and fault rounds.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.infra import STATE, NativeKafka, NativePostgres
from tests.reliability.faults import describe, schedule
from tests.reliability.pipeline import Scenario
from tests.reliability.processes import own_kafka, own_postgres
from tests.reliability.runs import Run
from tests.reliability.snapshot import differences

SOAK = os.environ.get("RELIABILITY_SOAK") == "1"
pytestmark = [pytest.mark.integration, pytest.mark.timeout(3600 if SOAK else 900)]


@pytest.fixture(scope="module")
def own_infra() -> Iterator[tuple[NativeKafka, NativePostgres]]:
    """The suite's own broker and database server, stopped afterwards."""
    kafka, pg = own_kafka(), own_postgres()
    pg.reset()
    pg.start()
    kafka.reset()
    kafka.start()
    try:
        yield kafka, pg
    finally:
        kafka.stop()
        pg.stop()


async def test_faults_change_no_business_content(
    own_infra: tuple[NativeKafka, NativePostgres], reliability_seed: int
) -> None:
    kafka, pg = own_infra
    scenario = (
        Scenario(reliability_seed, agents=40, days=5, feed_seconds=90)
        if SOAK
        else Scenario(reliability_seed)
    )
    faults = schedule(
        reliability_seed,
        feed_seconds=scenario.feed_seconds,
        surge_at=scenario.surge_share(scenario.events()) * scenario.feed_seconds,
        rounds=3 if SOAK else 1,
    )
    print(describe(reliability_seed, faults))
    logs = STATE / "reliability" / "logs" / str(reliability_seed)
    reference = await Run("reference", scenario, kafka, pg, logs).execute(None)
    sizes = ", ".join(f"{name} {len(rows)}" for name, rows in reference.content.items())
    print(f"reference run: {reference.seconds:.0f} s; rows compared: {sizes}")
    faulted = await Run("faults", scenario, kafka, pg, logs).execute(faults)
    print(f"run under faults: {faulted.seconds:.0f} s")
    replay = f"(seed {reliability_seed}; logs in {logs})"
    assert not reference.problems, f"the reference run breaks its invariants {replay}:\n" + (
        "\n".join(reference.problems)
    )
    content = reference.content
    assert content["scores"] and content["harvested_fruit"] and content["wallets"], (
        f"the reference run settled no scores, harvested nothing or credited nothing {replay}"
    )
    assert {row[3] for row in content["sms"]} == {1, 2, 3, 4}, (
        f"the surge did not escalate to level 4 in the reference run {replay}"
    )
    assert not faulted.problems, f"the run under faults breaks its invariants {replay}:\n" + (
        "\n".join(faulted.problems)
    )
    found = differences(reference.content, faulted.content)
    assert not found, f"the run under faults differs from the reference {replay}:\n{found}"
