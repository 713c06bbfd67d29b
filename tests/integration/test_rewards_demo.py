"""The demo's sample redemption (`tools/rewards_demo.py`) on the real rewards app: it waits for
fruit, redeems its prize once, moves it requested → approved → fulfilled, and run again (a
restarted stack) finds the same redemption and changes nothing."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.integration.rewards_support import (
    ADMIN,
    JWT_SECRET,
    balances,
    harvest,
    produce,
    unique,
)
from tools import rewards_demo

pytestmark = pytest.mark.integration


async def short_of_fruit(client: httpx.AsyncClient) -> float:
    """The redemptions refused for want of fruit so far (`rewards_refusals_total`)."""
    text = (await client.get("/metrics")).text
    line = 'rewards_refusals_total{code="insufficient_fruit"} '
    return sum(float(x.removeprefix(line)) for x in text.splitlines() if x.startswith(line))


async def test_the_sample_redemption_waits_for_fruit_and_is_fulfilled_once(
    rewards: httpx.AsyncClient, kafka: str
) -> None:
    agent = unique("A")
    refused_before = await short_of_fruit(rewards)
    demo = asyncio.create_task(
        rewards_demo.run(
            rewards, secret=JWT_SECRET, agent_id=agent, team_id="T1", within=60, every=0.2
        )
    )
    await asyncio.sleep(1)
    assert not demo.done()  # an empty wallet: it waits
    prizes = (await rewards.get("/v1/prizes", headers=ADMIN)).json()["prizes"]
    assert rewards_demo.PRIZE["id"] in {p["id"] for p in prizes}

    await produce(kafka, [harvest(agent, 3, fruit="apple")])  # the harvest reaches the wallet
    done = await asyncio.wait_for(demo, 60)
    assert await short_of_fruit(rewards) == refused_before + 1  # asked once, then watched
    assert done["status"] == "fulfilled" and done["owner"] == f"agent:{agent}"
    assert done["prize_id"] == rewards_demo.PRIZE["id"]
    assert await balances(rewards, "agent", agent) == {"apple": 2}

    again = await rewards_demo.run(rewards, secret=JWT_SECRET, agent_id=agent, team_id="T1")
    assert again["id"] == done["id"] and again["status"] == "fulfilled"
    assert await balances(rewards, "agent", agent) == {"apple": 2}
    listed = await rewards.get(f"/v1/redemptions?owner=agent:{agent}", headers=ADMIN)
    assert [r["id"] for r in listed.json()["redemptions"]] == [done["id"]]


async def test_a_redemption_left_half_way_is_moved_on_from_where_it_is(
    rewards: httpx.AsyncClient, kafka: str
) -> None:
    agent = unique("A")
    await produce(kafka, [harvest(agent, 1, fruit="pear")])
    admin = rewards_demo.headers(JWT_SECRET, "demo-admin", "admin")
    await rewards_demo.ensure_prize(rewards, admin)
    key = f"{rewards_demo.KEY_PREFIX}-{agent}"
    holder = rewards_demo.headers(JWT_SECRET, agent, "agent")
    first = await rewards_demo.redeem(rewards, holder, agent, key, within=60, every=0.2)
    approved = await rewards.post(f"/v1/redemptions/{first['id']}/approve", headers=ADMIN)
    assert approved.json()["status"] == "approved"  # the stack stopped here

    done = await rewards_demo.run(rewards, secret=JWT_SECRET, agent_id=agent, team_id=None)
    assert done["id"] == first["id"] and done["status"] == "fulfilled"
    assert await balances(rewards, "agent", agent) == {"pear": 0}


async def test_a_wallet_still_empty_is_credited_the_price_once_and_said_so(
    rewards: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    agent = unique("A")
    done = await rewards_demo.run(
        rewards, secret=JWT_SECRET, agent_id=agent, team_id=None, every=0.2, grant_after=0.5
    )
    assert done["status"] == "fulfilled"
    assert "an admin adjustment of 1 apple pays for the card" in capsys.readouterr().out
    wallet = (await rewards.get(f"/v1/wallets/agent/{agent}", headers=ADMIN)).json()
    assert [(e["kind"], e["amount"]) for e in reversed(wallet["ledger"])] == [
        ("adjustment", 1),
        ("debit", -1),
    ]
    again = await rewards_demo.run(
        rewards, secret=JWT_SECRET, agent_id=agent, team_id=None, every=0.2, grant_after=0.5
    )
    assert again["id"] == done["id"]
    assert await balances(rewards, "agent", agent) == {"apple": 0}
