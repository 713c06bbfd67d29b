"""Wallets on the real broker and database: harvests on cc.garden.v1 credit once (also on
replay, also when two events name one harvest), adjustments apply once, the ledger reads
in pages and as CSV, and every entry leaves on cc.rewards.v1."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.rewards.domain.ledger import LedgerEntry, ledger_faults
from shared.contracts.topics import REWARDS
from shared.db import make_engine
from tests.integration.rewards_support import (
    ADMIN,
    agent,
    balances,
    harvest,
    ledger_rows,
    produce,
    rewards_app,
    rewards_settings,
    unique,
    wait_for,
)
from tests.kafka_tools import read_topic

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def engine(database: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database, pool_size=2)
    yield engine
    await engine.dispose()


def _faults(rows: list[dict[str, object]]) -> list[str]:
    entries = [
        LedgerEntry(r["kind"], r["fruit"], r["amount"], r["balance"], "", "", r["reference"])  # type: ignore[arg-type]
        for r in rows
    ]
    return ledger_faults(entries)


async def test_harvests_credit_once_even_on_replay(
    rewards: httpx.AsyncClient, kafka: str, database: str, engine: AsyncEngine
) -> None:
    a1, a2, team, dept = unique("A"), unique("A"), unique("T"), unique("D")
    first = harvest(a1, 3)
    events = [
        first,
        harvest(a1, 2, fruit="peach"),
        harvest(a2, 5),
        harvest(team, 4, owner_kind="team"),
        harvest(dept, 9, owner_kind="department"),  # no wallet: credits nothing
        first,  # the same event twice
        harvest(a1, 3, harvest_id=first.harvest_id),  # another event naming the same harvest
    ]
    await produce(kafka, events)
    await wait_for(lambda: _has(rewards, "agent", a1, {"watermelon": 3, "peach": 2}))
    await wait_for(lambda: _has(rewards, "agent", a2, {"watermelon": 5}))
    await wait_for(lambda: _has(rewards, "team", team, {"watermelon": 4}))
    assert await balances(rewards, "team", dept) == {}

    # a second instance with a new consumer group replays the whole topic
    async with rewards_app(rewards_settings(kafka, database)) as replay:
        await produce(kafka, [harvest(a2, 1)])  # a marker behind everything else
        await wait_for(lambda: _has(replay, "agent", a2, {"watermelon": 6}))
        assert await balances(replay, "agent", a1) == {"watermelon": 3, "peach": 2}
    rows = await ledger_rows(engine, "agent", a1)
    assert [(r["kind"], r["fruit"], r["amount"]) for r in rows] == [
        ("credit", "watermelon", 3),
        ("credit", "peach", 2),
    ]
    assert not _faults(rows)

    published = await read_topic(
        kafka,
        REWARDS.name,
        keep=lambda s: s.key == a1.encode(),
        until=lambda seen: len(seen) >= 2,
    )
    ids = [orjson.loads(s.value)["entry_id"] for s in published]
    assert sorted(ids) == [r["id"] for r in rows]


async def _has(
    client: httpx.AsyncClient, kind: str, owner_id: str, expected: dict[str, int]
) -> bool:
    return await balances(client, kind, owner_id) == expected


async def test_an_adjustment_applies_once_per_reference(
    rewards: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    owner = unique("A")
    url = f"/v1/wallets/agent/{owner}/adjustments"
    body = {"fruit": "watermelon", "amount": 12, "reason": "prize day", "reference": "t-1"}
    first = await rewards.post(url, json=body, headers=ADMIN)
    again = await rewards.post(url, json=body, headers=ADMIN)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    other = await rewards.post(url, json={**body, "amount": 13}, headers=ADMIN)
    assert other.status_code == 409 and other.json()["error"]["code"] == "reference_reused"
    too_much = {**body, "amount": -13, "reference": "t-2"}
    short = await rewards.post(url, json=too_much, headers=ADMIN)
    assert short.status_code == 409 and short.json()["error"]["code"] == "insufficient_fruit"
    bad = await rewards.post(url, json={"fruit": "Melon", "amount": 0}, headers=ADMIN)
    assert bad.status_code == 422
    assert {d["field"] for d in bad.json()["error"]["details"]} == {
        "fruit",
        "amount",
        "reason",
        "reference",
    }
    taken = await rewards.post(url, json={**too_much, "amount": -5}, headers=ADMIN)
    assert taken.status_code == 201 and taken.json()["balance"] == 7
    assert await balances(rewards, "agent", owner) == {"watermelon": 7}
    assert not _faults(await ledger_rows(engine, "agent", owner))


async def test_the_ledger_reads_in_pages_and_as_csv(rewards: httpx.AsyncClient) -> None:
    owner = unique("A")
    for n in range(5):
        body = {"fruit": "apple", "amount": n + 1, "reason": "=1+1", "reference": f"r{n}"}
        response = await rewards.post(
            f"/v1/wallets/agent/{owner}/adjustments", json=body, headers=ADMIN
        )
        assert response.status_code == 201
    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (
            await rewards.get(f"/v1/wallets/agent/{owner}", params=params, headers=agent(owner))
        ).json()
        assert page["balances"] == {"apple": 15} and page["owner"] == f"agent:{owner}"
        seen += [e["amount"] for e in page["ledger"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == [5, 4, 3, 2, 1]
    bad = await rewards.get(
        f"/v1/wallets/agent/{owner}", params={"cursor": "nope"}, headers=agent(owner)
    )
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_cursor"
    csv = await rewards.get(
        f"/v1/wallets/agent/{owner}", params={"format": "csv"}, headers=agent(owner)
    )
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.split("\r\n")
    assert lines[0].startswith("entry_id,recorded_at,owner,kind,fruit,amount,balance")
    assert len([line for line in lines if line]) == 6
    assert "'=1+1" in lines[1]  # formula-safe
