"""A sample redemption for the local demo, through the rewards API.

    python -m tools.rewards_demo --url http://127.0.0.1:8005 --agent A0001 --team C1-D1-T01

Tokens are minted with `JWT_SECRET` (the secret the services verify with). The demo's
prize (a thank-you card for 1 fruit of any kind, approved by an admin before it is handed
over) is added as an admin unless the catalog holds it. Once the replayed days' harvests
have put fruit in the agent's wallet, the agent redeems it under a fixed
`Idempotency-Key`, and an admin approves and fulfils it, so the redemption goes
requested → approved → fulfilled. A wallet still empty after `--grant-after` seconds
(600) is credited the price by an admin adjustment, told in the log: between midnight
and 02:00 in the center's zone only the oldest replayed day settles at once, too little
growth for fruit. Run again (a restarted stack), it finds the same
redemption and moves it on from wherever it is: nothing is redeemed twice.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from typing import Any

import httpx

from shared.auth.tokens import mint_token

PRIZE: dict[str, Any] = {
    "id": "demo-thank-you-card",
    "name": "感谢卡 thank-you card",
    "description": "A card from the center's manager; the demo's sample redemption.",
    "fruit": "any",
    "price": 1,
    "stock": 1000,
    "material": True,
    "needs_approval": True,
}
KEY_PREFIX = "demo-sample-redemption"
GRANT_FRUIT = "apple"


def remaining_moves(status: str, *, needs_approval: bool) -> tuple[str, ...]:
    """The admin moves that take a redemption from `status` to fulfilled."""
    if status == "requested":
        return ("approve", "fulfil") if needs_approval else ("fulfil",)
    if status == "approved":
        return ("fulfil",)
    return ()  # fulfilled, or rejected / cancelled by someone: final


def headers(secret: str, subject: str, role: str, unit: str | None = None) -> dict[str, str]:
    token = mint_token(secret=secret, subject=subject, role=role, unit=unit, ttl_seconds=3600)
    return {"Authorization": f"Bearer {token}"}


async def ensure_prize(client: httpx.AsyncClient, admin: dict[str, str]) -> dict[str, Any]:
    """The demo prize, added when the catalog does not hold it."""
    catalog = (await client.get("/v1/prizes", headers=admin)).raise_for_status().json()
    for prize in catalog["prizes"]:
        if prize["id"] == PRIZE["id"]:
            return dict(prize)
    created = await client.post("/v1/prizes", json=PRIZE, headers=admin)
    if created.status_code == 409:  # added meanwhile
        return await ensure_prize(client, admin)
    created.raise_for_status()
    print(f"added the prize {PRIZE['id']} ({PRIZE['price']} fruit of any kind)", flush=True)
    return dict(created.json())


async def grant(
    client: httpx.AsyncClient, admin: dict[str, str], agent_id: str, *, waited: float
) -> None:
    """Credit the price as an admin adjustment (once: its reference is fixed)."""
    response = await client.post(
        f"/v1/wallets/agent/{agent_id}/adjustments",
        json={
            "fruit": GRANT_FRUIT,
            "amount": PRIZE["price"],
            "reason": f"demo: no harvest reached the wallet in {waited:.0f} s",
            "reference": f"{KEY_PREFIX}-{agent_id}",
        },
        headers=admin,
    )
    response.raise_for_status()
    print(
        f"no harvest reached the wallet in {waited:.0f} s (before 02:00 in the center's zone "
        f"only the oldest replayed day settles at once): an admin adjustment of "
        f"{PRIZE['price']} {GRANT_FRUIT} pays for the card",
        flush=True,
    )


async def redeem(
    client: httpx.AsyncClient,
    agent: dict[str, str],
    agent_id: str,
    key: str,
    *,
    within: float,
    every: float,
    admin: dict[str, str] | None = None,
    grant_after: float | None = None,
) -> dict[str, Any]:
    """Redeem the demo prize as the agent. Refused for want of fruit, watch the wallet (up to
    `within` s) until it holds the price and ask again; a retry finds the first redemption.
    With `admin` and `grant_after`, a wallet still empty after `grant_after` s is credited
    the price by an adjustment."""
    started = time.monotonic()
    while True:
        response = await client.post(
            "/v1/redemptions",
            json={"prize_id": PRIZE["id"]},
            headers={**agent, "Idempotency-Key": key},
        )
        if response.status_code in (200, 201):
            redemption = dict(response.json())
            verb = "redeemed" if response.status_code == 201 else "found the redemption"
            print(f"{verb} {redemption['id']}: {redemption['status']}", flush=True)
            return redemption
        code = response.json().get("error", {}).get("code")
        if response.status_code != 409 or code != "insufficient_fruit":
            raise RuntimeError(
                f"the redemption was refused: {response.status_code} {response.text}"
            )
        print("waiting for the settled days' harvests to reach the wallet ...", flush=True)
        while True:  # the wallet, not the redemption, is asked again: no refusal per try
            waited = time.monotonic() - started
            if waited > within:
                raise TimeoutError(f"no fruit in the wallet after {within:.0f} s")
            if admin is not None and grant_after is not None and waited > grant_after:
                await grant(client, admin, agent_id, waited=waited)
                admin = None
            await asyncio.sleep(every)
            wallet = await client.get(f"/v1/wallets/agent/{agent_id}?limit=1", headers=agent)
            balances = wallet.raise_for_status().json()["balances"]
            if max(balances.values(), default=0) >= PRIZE["price"]:
                print(f"the wallet holds {balances}", flush=True)
                break


async def advance(
    client: httpx.AsyncClient, admin: dict[str, str], redemption: dict[str, Any]
) -> dict[str, Any]:
    """Approve and fulfil the redemption as an admin, from the status it has."""
    for move in remaining_moves(redemption["status"], needs_approval=redemption["needs_approval"]):
        response = await client.post(f"/v1/redemptions/{redemption['id']}/{move}", headers=admin)
        redemption = dict(response.raise_for_status().json())
        print(f"{move}: {redemption['id']} is {redemption['status']}", flush=True)
    return redemption


async def run(
    client: httpx.AsyncClient,
    *,
    secret: str,
    agent_id: str,
    team_id: str | None,
    within: float = 3600.0,
    every: float = 10.0,
    grant_after: float | None = None,
) -> dict[str, Any]:
    """The whole demo on the rewards API `client`; the redemption as it ends."""
    admin = headers(secret, "demo-admin", "admin")
    agent = headers(secret, agent_id, "agent", team_id)
    await ensure_prize(client, admin)
    key = f"{KEY_PREFIX}-{agent_id}"
    redemption = await redeem(
        client,
        agent,
        agent_id,
        key,
        within=within,
        every=every,
        admin=admin,
        grant_after=grant_after,
    )
    redemption = await advance(client, admin, redemption)
    print(
        f"redemption {redemption['id']} of {agent_id}: {redemption['status']}\n"
        f'  curl -H "Authorization: Bearer $AGENT_TOKEN" {client.base_url}/v1/redemptions/'
        f"{redemption['id']}",
        flush=True,
    )
    return redemption


async def _main(args: argparse.Namespace) -> int:
    secret = os.environ.get("JWT_SECRET", "")
    if not secret:
        print("rewards-demo: set JWT_SECRET", file=sys.stderr)
        return 2
    async with httpx.AsyncClient(base_url=args.url, timeout=30) as client:
        deadline = time.monotonic() + 120
        while True:  # the rewards service may still be starting
            try:
                if (await client.get("/readyz")).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                print(f"rewards-demo: {args.url} is not ready", file=sys.stderr)
                return 1
            await asyncio.sleep(1)
        await run(
            client,
            secret=secret,
            agent_id=args.agent,
            team_id=args.team,
            within=args.within,
            every=args.every,
            grant_after=args.grant_after,
        )
    return 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="rewards-demo", description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8005", help="rewards")
    parser.add_argument("--agent", required=True, help="the agent who redeems")
    parser.add_argument("--team", help="the agent's team (their token's unit)")
    parser.add_argument("--within", type=float, default=3600.0, help="seconds to wait for fruit")
    parser.add_argument(
        "--grant-after",
        type=float,
        default=600.0,
        help="seconds after which an empty wallet is credited the price (an admin adjustment)",
    )
    parser.add_argument("--every", type=float, default=10.0, help="seconds between tries")
    raise SystemExit(asyncio.run(_main(parser.parse_args(argv))))


if __name__ == "__main__":
    main()
