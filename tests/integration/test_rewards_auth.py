"""Who may do what on every rewards endpoint: a token is always needed; out-of-scope
resources answer one 403 whether they exist or not."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.integration.rewards_support import (
    ADMIN,
    add_prize,
    agent,
    fund_wallet,
    leader,
    token,
    unique,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def world(rewards: httpx.AsyncClient) -> dict[str, Any]:
    """An agent with a redemption, a team wallet, a fund."""
    me, team = unique("A"), unique("T")
    await fund_wallet(rewards, f"agent:{me}", "watermelon", 50)
    await fund_wallet(rewards, f"team:{team}", "watermelon", 50)
    prize = await add_prize(rewards, owner_kinds=["agent", "team"])
    mine = await rewards.post(
        "/v1/redemptions",
        json={"prize_id": prize["id"]},
        headers={**agent(me), "Idempotency-Key": "auth-1"},
    )
    assert mine.status_code == 201
    fund = {
        "id": unique("f-"),
        "scope": f"team:{team}",
        "members": "agent",
        "start": "2026-11-01",
        "end": "2026-12-01",
        "amount_fen": 100,
    }
    assert (await rewards.post("/v1/funds", json=fund, headers=ADMIN)).status_code == 201
    return {"me": me, "team": team, "prize": prize, "redemption": mine.json(), "fund": fund}


def _same_403(*answers: httpx.Response) -> None:
    bodies = {(a.status_code, a.text) for a in answers}
    assert len(bodies) == 1 and answers[0].status_code == 403, bodies


async def test_every_endpoint_needs_a_token(rewards: httpx.AsyncClient) -> None:
    calls = [
        ("GET", "/v1/prizes"),
        ("POST", "/v1/prizes"),
        ("PATCH", "/v1/prizes/p1"),
        ("GET", "/v1/wallets/agent/A1"),
        ("POST", "/v1/wallets/agent/A1/adjustments"),
        ("POST", "/v1/redemptions"),
        ("GET", "/v1/redemptions"),
        ("GET", "/v1/redemptions/r-1"),
        *(("POST", f"/v1/redemptions/r-1/{m}") for m in ("approve", "reject", "fulfil", "cancel")),
        ("POST", "/v1/funds"),
        ("GET", "/v1/funds/f1"),
        ("POST", "/v1/funds/f1/close"),
        ("GET", "/v1/funds/f1/shares/A1"),
    ]
    for method, url in calls:
        answer = await rewards.request(method, url)
        assert answer.status_code == 401, (method, url, answer.text)
    assert (await rewards.get("/healthz")).status_code == 200
    assert (await rewards.get("/metrics")).status_code == 200


async def test_an_agent_sees_and_spends_only_their_own_wallet(
    rewards: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    me, other, team = world["me"], unique("A"), world["team"]
    await fund_wallet(rewards, f"agent:{other}", "watermelon", 5)
    assert (await rewards.get(f"/v1/wallets/agent/{me}", headers=agent(me))).status_code == 200
    _same_403(
        await rewards.get(f"/v1/wallets/agent/{other}", headers=agent(me)),
        await rewards.get(f"/v1/wallets/agent/{unique('A')}", headers=agent(me)),  # missing
        await rewards.get(f"/v1/wallets/team/{team}", headers=agent(me)),
        await rewards.get("/v1/redemptions", params={"owner": f"agent:{other}"}, headers=agent(me)),
        await rewards.post(
            "/v1/redemptions",
            json={"prize_id": world["prize"]["id"], "owner": f"agent:{other}"},
            headers={**agent(me), "Idempotency-Key": "steal"},
        ),
        await rewards.get(f"/v1/redemptions/{world['redemption']['id']}", headers=agent(other)),
        await rewards.get("/v1/redemptions/r-missing", headers=agent(other)),
        await rewards.post(
            f"/v1/redemptions/{world['redemption']['id']}/cancel", headers=agent(other)
        ),
        await rewards.post("/v1/redemptions/r-missing/cancel", headers=agent(other)),
        await rewards.get(f"/v1/funds/{world['fund']['id']}", headers=agent(me)),
        await rewards.get("/v1/funds/no-such-fund", headers=agent(me)),
        await rewards.get(f"/v1/funds/{world['fund']['id']}/shares/{other}", headers=agent(me)),
    )
    own = await rewards.get(f"/v1/funds/{world['fund']['id']}/shares/{me}", headers=agent(me))
    assert own.status_code == 200 and own.json()["share"]["amount_fen"] == 0
    listed = await rewards.get("/v1/redemptions", headers=agent(me))
    assert [r["id"] for r in listed.json()["redemptions"]] == [world["redemption"]["id"]]
    prizes = await rewards.get("/v1/prizes", headers=agent(me))
    assert world["prize"]["id"] in {p["id"] for p in prizes.json()["prizes"]}


async def test_a_leader_spends_the_team_wallet(
    rewards: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    team = world["team"]
    headers = leader(team)
    assert (await rewards.get(f"/v1/wallets/team/{team}", headers=headers)).status_code == 200
    spent = await rewards.post(
        "/v1/redemptions",
        json={"prize_id": world["prize"]["id"]},
        headers={**headers, "Idempotency-Key": "team-1"},
    )
    assert spent.status_code == 201 and spent.json()["owner"] == f"team:{team}"
    _same_403(
        await rewards.get(f"/v1/wallets/agent/{world['me']}", headers=headers),
        await rewards.get(f"/v1/wallets/team/{unique('T')}", headers=headers),
        await rewards.get("/v1/funds/no-such-fund", headers=headers),
    )
    assert (
        await rewards.get(f"/v1/funds/{world['fund']['id']}", headers=headers)
    ).status_code == 200


async def test_admin_endpoints_need_the_admin_role(
    rewards: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    rid, fund_id = world["redemption"]["id"], world["fund"]["id"]
    for headers in (agent(world["me"]), leader(world["team"]), token("manager", "m1", "D1")):
        calls = [
            rewards.post("/v1/prizes", json={"id": "x"}, headers=headers),
            rewards.patch(f"/v1/prizes/{world['prize']['id']}", json={}, headers=headers),
            rewards.post(f"/v1/wallets/agent/{world['me']}/adjustments", json={}, headers=headers),
            rewards.post(f"/v1/redemptions/{rid}/approve", headers=headers),
            rewards.post(f"/v1/redemptions/{rid}/reject", headers=headers),
            rewards.post(f"/v1/redemptions/{rid}/fulfil", headers=headers),
            rewards.post("/v1/funds", json={}, headers=headers),
            rewards.post(f"/v1/funds/{fund_id}/close", headers=headers),
        ]
        for call in calls:
            assert (await call).status_code == 403
    missing = await rewards.post("/v1/redemptions/r-missing/approve", headers=ADMIN)
    assert missing.status_code == 404
    bad = await rewards.patch(
        f"/v1/prizes/{world['prize']['id']}", json={"price": 0, "id": "other"}, headers=ADMIN
    )
    assert bad.status_code == 422
    assert {d["field"] for d in bad.json()["error"]["details"]} == {"price", "id"}
    changed = await rewards.patch(
        f"/v1/prizes/{world['prize']['id']}", json={"stock": 3}, headers=ADMIN
    )
    assert changed.status_code == 200 and changed.json()["stock"] == 3
    metrics = (await rewards.get("/metrics")).text
    assert f'rewards_prize_stock{{prize="{world["prize"]["id"]}"}} 3.0' in metrics
    assert 'rewards_redemptions_total{status="requested"}' in metrics
