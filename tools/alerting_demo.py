"""A network outage in one city for the local demo, posted through ingest.

    python -m tools.alerting_demo --url http://127.0.0.1:8001 --api-key demo-all-key \\
        [--category network] [--region foshan] [--after 20] [--speed 60]

Runs on the same clock as the simulator's real-time mode (started now,
`--speed` times faster than the wall clock), so both streams agree on event
time. `--after` simulated minutes from now, complaints of the category in the
city ramp up — 1 a minute for 10 minutes, 3 a minute for 20, 5 a minute for 30 —
and then stop (a trickle of ordinary complaints elsewhere follows): with the default rules the incident opens at L1 (12 in 30 min),
reaches L2 (30), L3 (60) and L4 (100) by volume, is re-notified while nobody
acknowledges it, cools down and resolves, every step visible in the SMS sink,
`GET /v1/incidents` and `/metrics`. At 60× the whole story takes about three
minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx

# (simulated minutes, complaints per simulated minute)
RAMP = ((10, 1), (20, 3), (30, 5))
# Afterwards, a trickle of ordinary complaints elsewhere keeps event time flowing at the
# demo's speed (at night the simulated center files few), so the cool-down shows.
TAIL_MINUTES, TAIL_EVERY_MINUTES, TAIL_CATEGORY, TAIL_REGION = 75, 5, "service", "guangzhou"


def timeline(start: datetime) -> list[datetime]:
    """When the outage's complaints occur, from `start` (one every 1/rate minutes)."""
    times: list[datetime] = []
    at = start
    for minutes, rate in RAMP:
        for minute in range(minutes):
            for i in range(rate):
                times.append(at + timedelta(minutes=minute, seconds=60 * i / rate))
        at += timedelta(minutes=minutes)
    return times


def complaint(category: str, region: str, at: datetime) -> dict[str, object]:
    return {
        "type": "complaint.filed",
        "event_id": f"demo-{uuid.uuid4().hex}",
        "source": "crm-demo",
        "occurred_at": at.isoformat(),
        "complaint_id": f"demo-{uuid.uuid4().hex[:16]}",
        "category": category,
        "region": region,
        "channel": "phone",
        "customer_id": f"u-{uuid.uuid4().hex[:10]}",
    }


async def run(args: argparse.Namespace) -> None:
    origin, started = datetime.now(UTC), time.monotonic()
    outage = timeline(origin + timedelta(minutes=args.after))
    tail = [
        outage[-1] + timedelta(minutes=m)
        for m in range(TAIL_EVERY_MINUTES, TAIL_MINUTES + 1, TAIL_EVERY_MINUTES)
    ]
    pending = [(at, args.category, args.region) for at in outage] + [
        (at, TAIL_CATEGORY, TAIL_REGION) for at in tail
    ]
    print(
        f"outage: {len(outage)} {args.category} complaints in {args.region}, from "
        f"{args.after} simulated minutes from now ({args.after * 60 / args.speed:.0f} s)",
        flush=True,
    )
    async with httpx.AsyncClient(base_url=args.url, timeout=10) as client:
        while pending:
            now = origin + timedelta(seconds=(time.monotonic() - started) * args.speed)
            due = [p for p in pending if p[0] <= now]
            pending = pending[len(due) :]
            if due:
                response = await client.post(
                    "/v1/events/complaint.filed",
                    json=[complaint(category, region, at) for at, category, region in due],
                    headers={"X-API-Key": args.api_key},
                )
                response.raise_for_status()
            await asyncio.sleep(0.5)
    print("outage over: the surge has cooled down", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="alerting-demo", description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8001", help="ingest")
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--category", default="network")
    parser.add_argument("--region", default="foshan")
    parser.add_argument("--after", type=float, default=20.0, help="simulated minutes from now")
    parser.add_argument("--speed", type=float, default=60.0)
    asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
