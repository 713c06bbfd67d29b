"""Reward funds through the real pipeline: harvests on cc.garden.v1 → credits with their
team and business date → shares that add up exactly; a closed fund never changes."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from tests.integration.rewards_support import (
    ADMIN,
    agent,
    balances,
    harvest,
    leader,
    produce,
    unique,
    wait_for,
)

pytestmark = pytest.mark.integration


async def test_a_fund_splits_exactly_and_is_final_once_closed(
    rewards: httpx.AsyncClient, kafka: str
) -> None:
    team, other_team = unique("T"), unique("T")
    a, b, c, d, outsider = (unique("A") for _ in range(5))
    in_team = {"team_id": team, "department_id": "D1"}
    await produce(
        kafka,
        [
            harvest(a, 3, day=date(2026, 11, 2), **in_team),
            harvest(b, 2, day=date(2026, 11, 30), **in_team),
            harvest(b, 2, fruit="peach", day=date(2026, 11, 3), **in_team),
            harvest(c, 1, day=date(2026, 11, 4), **in_team),  # below the minimum of 2
            harvest(d, 9, day=date(2026, 12, 1), **in_team),  # after the period
            harvest(outsider, 5, day=date(2026, 11, 5), team_id=other_team),
        ],
    )
    await wait_for(lambda: _credited(rewards, [a, b, c, d, outsider]))

    fund_id = unique("f-")
    document = {
        "id": fund_id,
        "scope": f"team:{team}",
        "members": "agent",
        "start": "2026-11-01",
        "end": "2026-12-01",
        "amount_fen": 100,
        "minimum": 2,
    }
    created = await rewards.post("/v1/funds", json=document, headers=ADMIN)
    assert created.status_code == 201, created.text
    assert (await rewards.post("/v1/funds", json=document, headers=ADMIN)).status_code == 200
    clash = await rewards.post("/v1/funds", json={**document, "amount_fen": 5}, headers=ADMIN)
    assert clash.status_code == 409 and clash.json()["error"]["code"] == "fund_exists"
    invalid = await rewards.post("/v1/funds", json={**document, "scope": "x"}, headers=ADMIN)
    assert invalid.status_code == 422

    estimate = created.json()
    assert estimate["final"] is False and estimate["status"] == "open"
    shares = {s["member_id"]: s["amount_fen"] for s in estimate["shares"]}
    assert shares == {b: 57, a: 43}  # 100 × 4/7 = 57.14, 100 × 3/7 = 42.86 (+1)
    assert sum(shares.values()) == 100 and estimate["unallocated_fen"] == 0

    mine = (await rewards.get(f"/v1/funds/{fund_id}/shares/{a}", headers=agent(a))).json()
    assert mine["share"]["amount_fen"] == 43 and "largest remainder" in mine["share"]["rule"]
    low = (await rewards.get(f"/v1/funds/{fund_id}/shares/{c}", headers=agent(c))).json()
    assert low["share"]["amount_fen"] == 0 and "minimum" in low["share"]["rule"]
    seen_by_leader = await rewards.get(f"/v1/funds/{fund_id}", headers=leader(team))
    assert seen_by_leader.status_code == 200

    closed = await rewards.post(f"/v1/funds/{fund_id}/close", headers=ADMIN)
    assert closed.status_code == 200 and closed.json()["final"] is True
    await produce(kafka, [harvest(c, 7, day=date(2026, 11, 6), **in_team)])  # too late
    await wait_for(lambda: _has(rewards, c, 8))
    after = (await rewards.get(f"/v1/funds/{fund_id}", headers=ADMIN)).json()
    assert after["shares"] == closed.json()["shares"] and after["status"] == "closed"
    still = (await rewards.get(f"/v1/funds/{fund_id}/shares/{c}", headers=agent(c))).json()
    assert still["share"]["amount_fen"] == 0 and still["final"] is True
    closed_again = await rewards.post(f"/v1/funds/{fund_id}/close", headers=ADMIN)
    assert closed_again.json()["shares"] == closed.json()["shares"]

    csv = await rewards.get(f"/v1/funds/{fund_id}", params={"format": "csv"}, headers=ADMIN)
    rows = [line for line in csv.text.split("\r\n") if line]
    assert rows[0].startswith("member_id,fruit,qualifying_fruit") and len(rows) == 3
    assert rows[1].startswith(f"{b},4,7,100,57,0,57,0.57")


async def _credited(client: httpx.AsyncClient, owners: list[str]) -> bool:
    return all([await balances(client, "agent", o) for o in owners])


async def _has(client: httpx.AsyncClient, owner: str, count: int) -> bool:
    return (await balances(client, "agent", owner)).get("watermelon") == count
