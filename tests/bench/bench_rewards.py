"""Redemptions: many owners across many prizes, and one hot prize, through a real
`python -m services.rewards` process, beside a bare asyncpg client running the same
statements in the same run; then stock and balances are checked to the unit.

    make bench      (or: .venv/bin/python -m tests.bench.bench_rewards)

BENCH_OWNERS (2000) agents are credited through the real consumer (`fruit.harvested` on
cc.garden.v1). wrk sends `POST /v1/redemptions`, each with the owner's own token and a new
`Idempotency-Key`, to BENCH_PRIZES (50) stocked prizes at random, then to one hot prize
(every request takes the same prize row's lock). The bare client runs, per redemption,
the service's own statements in one transaction (the wallet lock with the read of the
redemption, the prize and the balances in one call; the conditional stock write, the
redemption, debit and balance writes and two outbox rows in one statement) on a pool of the
service's size with as many requests in flight as wrk's connections. A last check sells
out a small stock with more concurrent requests than units.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import re
import time
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import orjson

from services.rewards.config import RewardsSettings
from services.rewards.domain.ledger import Owner
from services.rewards.domain.redemptions import redemption_id
from services.rewards.repo.requests import GRANT, REQUEST_READ
from shared.auth.tokens import mint_token
from shared.kafka import ensure_topics
from shared.migrate import migrate
from tests.bench.bare_http import plain_dsn
from tests.bench.common import (
    CONNECTIONS,
    RESULTS,
    SECONDS,
    bench_infrastructure,
    lua_string,
    percentile,
    print_rates,
    service,
    write_report,
    wrk_lua,
)
from tests.integration.rewards_support import harvest, produce

OWNERS = int(os.environ.get("BENCH_OWNERS", "2000"))
PRIZES = int(os.environ.get("BENCH_PRIZES", "50"))
CREDIT = 100_000
STOCK = 1_000_000
HOT_STOCK = 100_000
SELLOUT_STOCK, SELLOUT_ASKS = 200, 1000
POOL = RewardsSettings.model_fields["db_pool_size"].default
SECRET = "bench-rewards-secret-of-32-bytes-or-more"
PORT = 61005
FRUIT = "watermelon"


def bearer(subject: str, role: str = "agent") -> str:
    return "Bearer " + mint_token(secret=SECRET, subject=subject, role=role, ttl_seconds=4 * 3600)


def redemption_script(owners: list[str], prizes: list[str], run: str) -> str:
    """A wrk script: each request a random owner (its own token), a random prize among
    `prizes`, a fresh Idempotency-Key."""
    tokens = ", ".join(lua_string(bearer(o)) for o in owners)
    bodies = ", ".join(lua_string(orjson.dumps({"prize_id": p}).decode()) for p in prizes)
    return (
        f"local tokens = {{{tokens}}}\nlocal bodies = {{{bodies}}}\nlocal n = 0\n"
        "math.randomseed(7)\n"
        "request = function()\n  n = n + 1\n"
        "  local headers = {['Authorization'] = tokens[math.random(#tokens)],\n"
        "    ['Content-Type'] = 'application/json',\n"
        f"    ['Idempotency-Key'] = {lua_string(run)} .. '-' .. n}}\n"
        "  return wrk.format('POST', '/v1/redemptions', headers, bodies[math.random(#bodies)])\n"
        "end\n"
    )


def cpu_seconds(url: str) -> float:
    """The CPU time the service has used (`process_cpu_seconds_total` of its `/metrics`)."""
    metrics = httpx.get(f"{url}/metrics", timeout=10).text
    found = re.search(r"^process_cpu_seconds_total ([\d.e+]+)$", metrics, re.MULTILINE)
    assert found is not None, "no process_cpu_seconds_total"
    return float(found.group(1))


def load(url: str, owners: list[str], prizes: list[str], run: str) -> dict[str, float]:
    script = redemption_script(owners, prizes, run)
    began = cpu_seconds(url)
    result = wrk_lua(url, script, seconds=SECONDS, connections=CONNECTIONS)
    result["cpu_us_per_request"] = (cpu_seconds(url) - began) / result["requests"] * 1e6
    keep = ("requests_per_s", "requests", "p50_ms", "p99_ms", "non_2xx", "cpu_us_per_request")
    return {k: result[k] for k in keep}


# What `services.rewards.redeeming.request` runs for a granted redemption of a stocked prize
# without a limit, in its order: its own statement texts.


async def bare_redeem(
    connection: asyncpg.Connection, owner: str, prize_id: str, key: str, now: datetime
) -> None:
    rid = redemption_id(Owner("agent", owner), key)
    async with connection.transaction():
        read = await connection.fetchrow(
            REQUEST_READ, f"rewards.wallet:agent:{owner}", rid, prize_id, "agent", owner, False
        )
        price = orjson.loads(read["document"])["price"]
        balance = orjson.loads(read["balances"])[FRUIT] - price
        reason = f"redemption of {prize_id}"
        event = orjson.dumps({"event_id": f"ledger:{rid}", "owner": owner, "amount": -price})
        headers = orjson.dumps({"event_type": "ledger.entry_recorded"}).decode()
        granted = await connection.fetchrow(
            GRANT,
            rid, "agent", owner, prize_id, FRUIT, price, False, True, "requested", key, None,
            now, owner, read["entry_id"], FRUIT, "debit", -price, balance, reason, owner,
            f"redemption:{rid}", read["recorded_at"], -1, read["document"],
            ["rewards"] * 2, ["cc.rewards.v1"] * 2, [owner.encode()] * 2, [event, event],
            [headers, headers],
        )  # fmt: skip
        assert granted["granted"] and granted["balance"] == balance
        assert granted["stock_left"] is not None


async def bare_client(dsn: str, owners: list[str], prizes: list[str], run: str) -> dict[str, float]:
    """The same transactions with `CONNECTIONS` in flight on a pool of the service's size for
    `SECONDS`; redemptions/s and latency percentiles."""
    pool = await asyncpg.create_pool(dsn, min_size=POOL, max_size=POOL)
    rng = random.Random(7)
    latencies: list[float] = []
    deadline = time.perf_counter() + SECONDS
    counter = 0

    async def worker() -> None:
        nonlocal counter
        while time.perf_counter() < deadline:
            counter += 1
            key = f"{run}-{counter}"
            owner, prize = rng.choice(owners), rng.choice(prizes)
            started = time.perf_counter()
            async with pool.acquire() as connection:
                await bare_redeem(connection, owner, prize, key, datetime.now(UTC))
            latencies.append(time.perf_counter() - started)

    began, cpu_began = time.perf_counter(), time.process_time()
    try:
        await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
    finally:
        await pool.close()
    return {
        "requests_per_s": len(latencies) / (time.perf_counter() - began),
        "requests": float(len(latencies)),
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "cpu_us_per_request": (time.process_time() - cpu_began) / len(latencies) * 1e6,
    }


async def sell_out(url: str, owners: list[str]) -> dict[str, Any]:
    """`SELLOUT_ASKS` concurrent requests for `SELLOUT_STOCK` units: answers by status."""
    limit = asyncio.Semaphore(CONNECTIONS)
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:

        async def ask(n: int) -> str:
            owner = owners[n % len(owners)]
            async with limit:
                response = await client.post(
                    "/v1/redemptions",
                    json={"prize_id": "sellout"},
                    headers={"Authorization": bearer(owner), "Idempotency-Key": f"sellout-{n}"},
                )
            if response.status_code == 201:
                return "201"
            return str(response.json()["error"]["code"])

        answers = await asyncio.gather(*(ask(n) for n in range(SELLOUT_ASKS)))
    return {code: answers.count(code) for code in sorted(set(answers))}


async def exactness(dsn: str, initial: dict[str, int]) -> dict[str, Any]:
    """Stock left against units requested, balances against credits and debits, per prize and
    per wallet; the ledger's sum against each balance."""
    connection = await asyncpg.connect(dsn)
    try:
        stock_faults = await connection.fetch(
            "SELECT p.prize_id, p.stock, count(r.redemption_id) AS taken "
            "FROM rewards_prizes p LEFT JOIN rewards_redemptions r ON r.prize_id = p.prize_id "
            "GROUP BY p.prize_id, p.stock"
        )
        wrong_stock = [
            r["prize_id"] for r in stock_faults if r["stock"] != initial[r["prize_id"]] - r["taken"]
        ]
        wrong_balances = await connection.fetchval(
            "SELECT count(*) FROM rewards_balances b LEFT JOIN (SELECT owner_id, sum(price) AS "
            "spent FROM rewards_redemptions GROUP BY owner_id) r ON r.owner_id = b.owner_id "
            "LEFT JOIN (SELECT owner_id, sum(amount) AS total FROM rewards_ledger "
            "GROUP BY owner_id) l ON l.owner_id = b.owner_id "
            "WHERE b.balance <> $1 - coalesce(r.spent, 0) OR b.balance <> l.total",
            CREDIT,
        )
        redemptions = await connection.fetchval("SELECT count(*) FROM rewards_redemptions")
        debits = await connection.fetchval(
            "SELECT count(*) FROM rewards_ledger WHERE kind = 'debit'"
        )
        wallets = await connection.fetchval("SELECT count(*) FROM rewards_balances")
        left = {
            r["prize_id"]: r["stock"] for r in stock_faults if r["prize_id"] in ("hot", "sellout")
        }
    finally:
        await connection.close()
    return {
        "prizes_with_wrong_stock": wrong_stock,
        "wallets_with_wrong_balance": int(wrong_balances),
        "wallets": int(wallets),
        "redemptions": int(redemptions),
        "debits": int(debits),
        "stock_left": left,
        "exact": not wrong_stock and wrong_balances == 0 and redemptions == debits,
    }


async def counted(dsn: str, statement: str) -> int:
    connection = await asyncpg.connect(dsn)
    try:
        return int(await connection.fetchval(statement))
    finally:
        await connection.close()


async def run() -> dict[str, Any]:
    owners = [f"A{1024 + n}" for n in range(OWNERS)]
    prizes = [f"p{n:03d}" for n in range(PRIZES)]
    initial = {p: STOCK for p in prizes} | {"hot": HOT_STOCK, "sellout": SELLOUT_STOCK}
    with bench_infrastructure(postgres=True) as infra:
        bootstrap, database = infra["KAFKA_BOOTSTRAP_SERVERS"], infra["DATABASE_URL"]
        dsn = plain_dsn(database)
        await ensure_topics(bootstrap, partitions=6)
        await migrate(database)
        env = {**infra, "JWT_SECRET": SECRET, "HTTP_WORKERS": "1", "SEED_CATALOG": "false"}
        report: dict[str, Any] = {
            "owners": OWNERS,
            "prizes": PRIZES,
            "connections": CONNECTIONS,
            "seconds_per_run": SECONDS,
        }
        with service("services.rewards", PORT, env) as url:
            admin = {"Authorization": bearer("ops-admin", "admin")}
            async with httpx.AsyncClient(base_url=url, timeout=60) as client:
                for prize_id, stock in initial.items():
                    document = {"id": prize_id, "name": prize_id, "fruit": FRUIT, "price": 1}
                    response = await client.post(
                        "/v1/prizes", json={**document, "stock": stock}, headers=admin
                    )
                    assert response.status_code == 201, response.text
            started = time.perf_counter()
            await produce(bootstrap, [harvest(o, CREDIT, fruit=FRUIT) for o in owners])
            while await counted(dsn, "SELECT count(*) FROM rewards_balances") < OWNERS:
                assert time.perf_counter() - started < 300, "wallets were not credited"
                await asyncio.sleep(0.5)
            report["seconds_to_credit"] = time.perf_counter() - started
            run_id = hashlib.sha256(str(time.time()).encode()).hexdigest()[:8]
            load(url, owners, prizes, f"warm-{run_id}")  # warm-up, counted in the checks
            report["across_prizes"] = load(url, owners, prizes, f"many-{run_id}")
            report["bare_across_prizes"] = await bare_client(
                dsn, owners, prizes, f"bare-many-{run_id}"
            )
            report["hot_prize"] = load(url, owners, ["hot"], f"hot-{run_id}")
            report["bare_hot_prize"] = await bare_client(dsn, owners, ["hot"], f"bare-hot-{run_id}")
            report["sellout"] = await sell_out(url, owners)
            report["checks"] = await exactness(dsn, initial)
    for name in ("across_prizes", "hot_prize"):
        report[name]["ratio"] = (
            report[name]["requests_per_s"] / report[f"bare_{name}"]["requests_per_s"]
        )
    return report


def main() -> None:
    RESULTS.mkdir(exist_ok=True)
    report = asyncio.run(run())
    path = write_report("rewards", report)
    print(f"\nrewards benchmark ({SECONDS}s per run, {CONNECTIONS} connections) -> {path}")
    print_rates(
        report,
        ("across_prizes", "bare_across_prizes", "hot_prize", "bare_hot_prize"),
        "redemptions/s",
    )
    print(
        "  CPU per redemption (µs): "
        + ", ".join(
            f"{name} {report[name]['cpu_us_per_request']:,.0f}"
            for name in ("across_prizes", "bare_across_prizes", "hot_prize", "bare_hot_prize")
        )
    )
    checks = report["checks"]
    print(
        f"  sell-out of {SELLOUT_STOCK} with {SELLOUT_ASKS} requests: {report['sellout']}; "
        f"stock left {checks['stock_left']}"
    )
    print(
        f"  exact: {checks['exact']} ({checks['redemptions']:,} redemptions, {checks['debits']:,} "
        f"debits, {checks['wallets']} wallets, wrong balances {checks['wallets_with_wrong_balance']},"
        f" wrong stock {checks['prizes_with_wrong_stock']})"
    )


if __name__ == "__main__":
    main()
