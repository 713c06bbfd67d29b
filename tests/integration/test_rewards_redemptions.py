"""Redemptions on the real database under concurrency: no oversold stock, no double spend,
one redemption per Idempotency-Key, refunds on reject and cancel, the lifecycle's rules."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.rewards.repo import requests
from shared import sql
from shared.db import make_engine
from tests.integration.rewards_support import (
    ADMIN,
    add_prize,
    agent,
    balances,
    fund_wallet,
    ledger_rows,
    unique,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def engine(database: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database, pool_size=2)
    yield engine
    await engine.dispose()


async def redeem(
    client: httpx.AsyncClient, owner_id: str, prize_id: str, key: str, **body: object
) -> httpx.Response:
    return await client.post(
        "/v1/redemptions",
        json={"prize_id": prize_id, **body},
        headers={**agent(owner_id), "Idempotency-Key": key},
    )


async def stock_of(client: httpx.AsyncClient, prize_id: str) -> int | None:
    prizes = (await client.get("/v1/prizes", headers=ADMIN)).json()["prizes"]
    [prize] = [p for p in prizes if p["id"] == prize_id]
    return prize["stock"]  # type: ignore[no-any-return]


async def test_200_concurrent_requests_against_50_in_stock_and_short_wallets(
    rewards: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    prize = await add_prize(rewards, stock=50, price=10)
    agents = [unique("A") for _ in range(40)]
    for a in agents:
        await fund_wallet(rewards, f"agent:{a}", "watermelon", 25)  # enough for 2 each
    asks = [(a, f"k{n}") for a in agents for n in range(5)]
    answers = await asyncio.gather(*(redeem(rewards, a, prize["id"], key) for a, key in asks))

    codes = Counter(
        r.status_code if r.status_code == 201 else r.json()["error"]["code"] for r in answers
    )
    assert codes[201] == 50, codes
    assert set(codes) <= {201, "out_of_stock", "insufficient_fruit"}, codes
    assert await stock_of(rewards, prize["id"]) == 0
    granted = Counter(a for (a, _), r in zip(asks, answers, strict=True) if r.status_code == 201)
    assert max(granted.values()) <= 2
    spent = 0
    for a in agents:
        rows = await ledger_rows(engine, "agent", a)
        balance = (await balances(rewards, "agent", a))["watermelon"]
        assert sum(r["amount"] for r in rows) == balance >= 0
        assert all(r["balance"] >= 0 for r in rows)
        assert balance == 25 - 10 * granted[a]
        spent += sum(-r["amount"] for r in rows if r["kind"] == "debit")
    assert spent == 50 * 10
    async with engine.connect() as conn:
        held = await sql.scalar(
            conn,
            "SELECT count(*) FROM rewards_redemptions WHERE prize_id = :p",
            {"p": prize["id"]},
        )
    assert held == 50


async def test_one_key_sent_concurrently_makes_one_redemption(
    rewards: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    prize = await add_prize(rewards, stock=5, price=10)
    owner = unique("A")
    await fund_wallet(rewards, f"agent:{owner}", "watermelon", 100)
    answers = await asyncio.gather(
        *(redeem(rewards, owner, prize["id"], "once") for _ in range(20))
    )
    assert sorted(r.status_code for r in answers) == [200] * 19 + [201]
    assert len({r.json()["id"] for r in answers}) == 1
    assert await balances(rewards, "agent", owner) == {"watermelon": 90}
    assert await stock_of(rewards, prize["id"]) == 4
    debits = [r for r in await ledger_rows(engine, "agent", owner) if r["kind"] == "debit"]
    assert len(debits) == 1

    other = await add_prize(rewards, price=10)
    reused = await redeem(rewards, owner, other["id"], "once")
    assert reused.status_code == 409 and reused.json()["error"]["code"] == "reference_reused"
    missing = await rewards.post(
        "/v1/redemptions", json={"prize_id": prize["id"]}, headers=agent(owner)
    )
    assert missing.status_code == 422
    assert missing.json()["error"]["code"] == "idempotency_key_required"


@pytest.mark.parametrize(
    ("change", "status", "price", "stock"),
    [({"price": 30}, 201, 30, 4), ({"stock": 0}, "out_of_stock", 0, 0)],
)
async def test_a_prize_changed_between_the_read_and_the_write_is_decided_again(
    rewards: httpx.AsyncClient,
    engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
    change: dict[str, int],
    status: int | str,
    price: int,
    stock: int,
) -> None:
    """A request reads its prize without locking the row; an admin's change committed before
    the request's write makes the write write nothing, and the request is read again with
    the row locked and decided on the prize as it now stands."""
    prize = await add_prize(rewards, stock=5, price=10)
    owner = unique("A")
    await fund_wallet(rewards, f"agent:{owner}", "watermelon", 100)
    read_request = requests.read_request
    reads: list[bool] = []

    async def read_then_change(*args: object, lock_prize: bool = False) -> requests.RequestRead:
        read = await read_request(*args, lock_prize=lock_prize)  # type: ignore[arg-type]
        if not reads:  # the admin's change commits after the first read, before the write
            changed = await rewards.patch(f"/v1/prizes/{prize['id']}", json=change, headers=ADMIN)
            assert changed.status_code == 200, changed.text
        reads.append(lock_prize)
        return read

    monkeypatch.setattr(requests, "read_request", read_then_change)
    answer = await redeem(rewards, owner, prize["id"], "changed")

    assert reads == [False, True]
    code = answer.status_code if answer.status_code == 201 else answer.json()["error"]["code"]
    assert code == status, answer.text
    assert await balances(rewards, "agent", owner) == {"watermelon": 100 - price}
    debits = [r for r in await ledger_rows(engine, "agent", owner) if r["kind"] == "debit"]
    assert [r["amount"] for r in debits] == ([-price] if price else [])
    assert await stock_of(rewards, prize["id"]) == stock


async def test_reject_and_cancel_refund_and_return_stock(
    rewards: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    prize = await add_prize(rewards, stock=2, price=10, material=False)  # needs approval
    owner = unique("A")
    await fund_wallet(rewards, f"agent:{owner}", "watermelon", 20)
    first = (await redeem(rewards, owner, prize["id"], "a")).json()
    second = (await redeem(rewards, owner, prize["id"], "b")).json()
    assert await stock_of(rewards, prize["id"]) == 0
    assert await balances(rewards, "agent", owner) == {"watermelon": 0}

    early = await rewards.post(f"/v1/redemptions/{first['id']}/fulfil", headers=ADMIN)
    assert early.status_code == 409 and early.json()["error"]["code"] == "invalid_transition"
    approved = await rewards.post(f"/v1/redemptions/{first['id']}/approve", headers=ADMIN)
    assert approved.json()["status"] == "approved"
    rejected = await rewards.post(
        f"/v1/redemptions/{first['id']}/reject", json={"reason": "no stock"}, headers=ADMIN
    )
    assert rejected.json()["status"] == "rejected" and rejected.json()["reason"] == "no stock"
    cancelled = await rewards.post(f"/v1/redemptions/{second['id']}/cancel", headers=agent(owner))
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = await rewards.post(f"/v1/redemptions/{second['id']}/cancel", headers=agent(owner))
    assert again.status_code == 200 and again.json()["status"] == "cancelled"  # a retry
    late = await rewards.post(f"/v1/redemptions/{second['id']}/approve", headers=ADMIN)
    assert late.status_code == 409 and late.json()["error"]["code"] == "invalid_transition"

    assert await stock_of(rewards, prize["id"]) == 2
    assert await balances(rewards, "agent", owner) == {"watermelon": 20}
    rows = await ledger_rows(engine, "agent", owner)
    assert [r["kind"] for r in rows] == ["adjustment", "debit", "debit", "refund", "refund"]
    assert sum(r["amount"] for r in rows) == 20

    listed = (
        await rewards.get("/v1/redemptions", params={"limit": 1}, headers=agent(owner))
    ).json()
    assert len(listed["redemptions"]) == 1 and listed["next"]
    rest = (
        await rewards.get(
            "/v1/redemptions", params={"limit": 5, "cursor": listed["next"]}, headers=agent(owner)
        )
    ).json()
    ids = {listed["redemptions"][0]["id"], *(r["id"] for r in rest["redemptions"])}
    assert ids == {first["id"], second["id"]} and rest["next"] is None


async def test_the_rules_answer_409_with_their_reason_code(rewards: httpx.AsyncClient) -> None:
    owner = unique("A")
    await fund_wallet(rewards, f"agent:{owner}", "watermelon", 100)
    await fund_wallet(rewards, f"agent:{owner}", "peach", 30)
    limited = await add_prize(rewards, limit={"count": 1, "per": "day"})
    assert (await redeem(rewards, owner, limited["id"], "1")).status_code == 201
    cases = [
        (limited["id"], {}, "limit_reached"),
        ((await add_prize(rewards, stock=0))["id"], {}, "out_of_stock"),
        ((await add_prize(rewards, active=False))["id"], {}, "inactive_prize"),
        (
            (await add_prize(rewards, available_from="2099-01-01T00:00:00+08:00"))["id"],
            {},
            "not_active",
        ),
        ((await add_prize(rewards, owner_kinds=["team"]))["id"], {}, "not_for_owner_kind"),
        ((await add_prize(rewards))["id"], {"fruit": "peach"}, "fruit_not_accepted"),
        ((await add_prize(rewards, price=1000))["id"], {}, "insufficient_fruit"),
    ]
    for prize_id, body, code in cases:
        answer = await redeem(rewards, owner, prize_id, unique("k"), **body)
        assert answer.status_code == 409 and answer.json()["error"]["code"] == code, answer.text
    anything = await add_prize(rewards, fruit="any", price=30)
    paid = await redeem(rewards, owner, anything["id"], "any-1", fruit="peach")
    assert paid.status_code == 201 and paid.json()["fruit"] == "peach"
    unknown = await redeem(rewards, owner, "no-such-prize", "x")
    assert unknown.status_code == 404
    unstorable = await redeem(rewards, owner, "nul\u0000prize", "y")
    assert unstorable.status_code == 422, unstorable.text
    assert await balances(rewards, "agent", owner) == {"peach": 0, "watermelon": 90}


async def test_a_plain_request_and_one_through_the_framework_answer_alike(
    rewards: httpx.AsyncClient,
) -> None:
    """`api/quick.py` answers plain requests itself; a request with an `Origin` goes through
    the framework's CORS, routing and dependencies: both answer every case the same."""
    owner = unique("A")
    await fund_wallet(rewards, f"agent:{owner}", "watermelon", 100)
    prize = await add_prize(rewards, stock=5, price=10)
    gone = await add_prize(rewards, stock=0)
    browser = {"Origin": "http://elsewhere.example"}

    async def both(prize_id: str, key: str | None, **body: object) -> list[tuple[int, object]]:
        answers = []
        for extra in ({}, browser):
            headers = {**agent(owner), **extra}
            if key is not None:
                headers["Idempotency-Key"] = key
            answer = await rewards.post(
                "/v1/redemptions", json={"prize_id": prize_id, **body}, headers=headers
            )
            answers.append((answer.status_code, answer.json()))
        return answers

    first = await redeem(rewards, owner, prize["id"], "same")
    assert first.status_code == 201
    cases = [
        ((prize["id"], "same"), {}, 200),  # a retry: the first redemption
        ((gone["id"], "k-gone"), {}, 409),
        ((prize["id"], "same"), {"fruit": "peach"}, 409),  # the key reused for another ask
        (("no-such-prize", "k-unknown"), {}, 404),
        ((prize["id"], "has space"), {}, 422),
        ((prize["id"], None), {}, 422),
        ((prize["id"], "k-team"), {"owner": "team:T1"}, 403),
        ((prize["id"], "k-extra"), {"surprise": 1}, 422),
        (("", "k-empty"), {}, 422),
    ]
    for (prize_id, key), body, status in cases:
        plain, framework = await both(prize_id, key, **body)
        assert plain == framework, (prize_id, key, body)
        assert plain[0] == status, plain
    assert plain[0] == 422
    unauthenticated = [
        await rewards.post(
            "/v1/redemptions",
            json={"prize_id": prize["id"]},
            headers={"Authorization": "Bearer nonsense", "Idempotency-Key": "k", **extra},
        )
        for extra in ({}, browser)
    ]
    assert [a.status_code for a in unauthenticated] == [401, 401]
    assert unauthenticated[0].json() == unauthenticated[1].json()
    assert await balances(rewards, "agent", owner) == {"watermelon": 90}
