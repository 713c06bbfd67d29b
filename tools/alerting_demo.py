"""A network outage in one city for the local demo, posted through ingest.

    python -m tools.alerting_demo --url http://127.0.0.1:8001 --api-key demo-all-key \\
        [--category network] [--region foshan] [--after 20]

Every complaint is dated when it is sent, on the wall clock like the simulator's
live traffic: ingest refuses events from the future, and detection follows
event time. `--after` seconds from now, complaints of the category in the city
ramp up within four minutes — 12 in the first minute, then 20, 30 and 40 — and
then stop (a trickle of ordinary complaints elsewhere follows): with the default
rules the incident opens at L1 (12 in 30 min) and reaches L2 (30), L3 (60) and
L4 (100) by volume, every step visible in the SMS sink, `GET /v1/incidents` and
`/metrics`; it is re-notified while nobody acknowledges it and resolves once
the window has emptied and the cool-down passed (about 45 minutes later).
"""

from __future__ import annotations

import argparse
import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import httpx

# (minutes, complaints per minute) of the surge
RAMP = ((1, 12), (1, 20), (1, 30), (1, 40))
# Afterwards, a trickle of ordinary complaints elsewhere keeps event time flowing (at night
# the simulated center files few), so the cool-down and the resolution show.
TAIL_MINUTES, TAIL_EVERY_MINUTES, TAIL_CATEGORY, TAIL_REGION = 60, 2, "service", "guangzhou"


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
    outage = timeline(datetime.now(UTC) + timedelta(seconds=args.after))
    tail = [
        outage[-1] + timedelta(minutes=m)
        for m in range(TAIL_EVERY_MINUTES, TAIL_MINUTES + 1, TAIL_EVERY_MINUTES)
    ]
    pending = [(at, args.category, args.region) for at in outage] + [
        (at, TAIL_CATEGORY, TAIL_REGION) for at in tail
    ]
    print(
        f"outage: {len(outage)} {args.category} complaints in {args.region}, from "
        f"{args.after:.0f} s from now",
        flush=True,
    )
    async with httpx.AsyncClient(base_url=args.url, timeout=10) as client:
        while pending:
            now = datetime.now(UTC)
            due = [p for p in pending if p[0] <= now]
            pending = pending[len(due) :]
            if due:
                response = await client.post(  # dated now: sent when they occur
                    "/v1/events/complaint.filed",
                    json=[complaint(category, region, now) for _, category, region in due],
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
    parser.add_argument("--after", type=float, default=20.0, help="seconds from now")
    asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
