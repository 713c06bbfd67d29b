"""`garden-sim`: make an org, generate a day of upstream events, or send them.

    garden-sim org --agents 3000 --seed 7 --out org.json
    garden-sim generate --agents 3000 --days 1 --start-date 2025-03-03 --seed 7 \\
        [--surge network:guangzhou:10:00:60:20] --out day.ndjson
    garden-sim send --to http --url http://127.0.0.1:8001 --api-key KEY \\
        --agents 300 --seed 7 [--rate 2000] [--realtime --speed 60] [--batch-size 500]
    garden-sim send --to kafka --bootstrap 127.0.0.1:9092 --agents 3000 --seed 7

`generate` and `send` build the same org as `org` for the same `--agents`,
`--centers` and `--seed`, or take one with `--org FILE`. A summary (events per
type, elapsed time, events/s) goes to standard error at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson

from simulator.generator import Simulation, Surge
from simulator.org import DEFAULT_TIMEZONE, Org, build_org
from simulator.sinks import FileSink, HttpSink, KafkaSink, Pacer, Sink, SinkError, pump


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "org":
        org = build_org(args.agents, seed=args.seed, centers=args.centers, timezone=args.timezone)
        _write_json(args.out, org)
        print(_org_summary(org), file=sys.stderr)
        return 0
    if args.command == "send" and args.speed != 1.0 and not args.realtime:
        parser.error("--speed only applies with --realtime")
    simulation = _simulation(args)
    sink = _sink(args)
    pacer = _pacer(args, simulation)
    started = time.perf_counter()
    try:
        asyncio.run(_send(simulation, sink, pacer))
    except SinkError as exc:
        print(f"garden-sim: {exc}", file=sys.stderr)
        _summary(sink.delivered, time.perf_counter() - started, "failed")
        return 1
    except KeyboardInterrupt:
        _summary(sink.delivered, time.perf_counter() - started, "interrupted")
        return 130
    _summary(sink.delivered, time.perf_counter() - started, "done")
    return 0


async def _send(simulation: Simulation, sink: Sink, pacer: Pacer | None) -> None:
    async with sink:
        await pump(simulation.timed_events(), sink, pacer)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="garden-sim", description=__doc__.split("\n", 1)[0])
    commands = parser.add_subparsers(dest="command", required=True)

    org = commands.add_parser("org", help="write a generated org tree as JSON")
    _org_options(org)
    org.add_argument("--timezone", default=DEFAULT_TIMEZONE, help="every center's time zone")
    org.add_argument("--out", default="-", help="file to write (default: standard output)")

    generate = commands.add_parser("generate", help="write a simulated day's events as NDJSON")
    _simulation_options(generate)
    generate.add_argument("--out", default="-", help="NDJSON file (default: standard output)")

    send = commands.add_parser("send", help="send simulated events to ingest, Kafka or a file")
    _simulation_options(send)
    send.add_argument("--to", choices=("http", "kafka", "file"), required=True)
    send.add_argument("--url", default="http://127.0.0.1:8001", help="ingest service base URL")
    send.add_argument(
        "--api-key",
        default=os.environ.get("GARDEN_SIM_API_KEY"),
        help="upstream API key for ingest (default: $GARDEN_SIM_API_KEY)",
    )
    send.add_argument(
        "--bootstrap",
        default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
        help="Kafka bootstrap servers (default: $KAFKA_BOOTSTRAP_SERVERS or 127.0.0.1:9092)",
    )
    send.add_argument("--out", default="-", help="NDJSON file for --to file")
    send.add_argument(
        "--batch-size",
        type=_count,
        default=500,
        help="events per POST; 1 posts single objects (default: 500)",
    )
    send.add_argument("--concurrency", type=_count, default=4, help="POSTs in flight (default: 4)")
    send.add_argument("--rate", type=_amount, help="events per second (default: no limit)")
    send.add_argument(
        "--realtime",
        action="store_true",
        help="send each event when its occurred_at comes round: the recent past is replayed at "
        "--speed, then the run follows the wall clock (nothing is sent before it occurred)",
    )
    send.add_argument(
        "--speed",
        type=_amount,
        default=1.0,
        help="real-time replay speed of the recent past, e.g. 60",
    )
    return parser


def _org_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--agents", type=_count, default=3000, help="agents in the org (default: 3000)"
    )
    parser.add_argument("--centers", type=_count, help="centers (default: 1 per 2,000)")
    parser.add_argument(
        "--seed", type=int, default=1, help="same seed, same org and events (default: 1)"
    )


def _simulation_options(parser: argparse.ArgumentParser) -> None:
    _org_options(parser)
    parser.add_argument("--org", type=Path, help="org tree JSON to use instead of generating one")
    parser.add_argument("--days", type=_count, default=1, help="business days (default: 1)")
    parser.add_argument(
        "--start-date",
        type=date.fromisoformat,
        default=datetime.now(ZoneInfo(DEFAULT_TIMEZONE)).date(),
        help="first business day, YYYY-MM-DD (default: today in Asia/Shanghai)",
    )
    parser.add_argument(
        "--surge",
        type=_surge,
        action="append",
        default=[],
        metavar="CATEGORY:REGION:HH:MM:MINUTES:FACTOR[@YYYY-MM-DD]",
        help="complaint burst, e.g. network:guangzhou:10:00:60:20 (default day: the last one)",
    )


def _surge(text: str) -> Surge:
    try:
        return Surge.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _count(text: str) -> int:
    """A positive whole number."""
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text}")
    return value


def _amount(text: str) -> float:
    """A positive number."""
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text}")
    return value


def _simulation(args: argparse.Namespace) -> Simulation:
    org: Org = (
        orjson.loads(args.org.read_bytes())
        if args.org
        else build_org(args.agents, seed=args.seed, centers=args.centers)
    )
    return Simulation(org, seed=args.seed, start=args.start_date, days=args.days, surges=args.surge)


def _sink(args: argparse.Namespace) -> Sink:
    if args.command == "generate" or args.to == "file":
        return FileSink(args.out)
    if args.to == "kafka":
        return KafkaSink(args.bootstrap)
    if not args.api_key:
        raise SystemExit("garden-sim: --api-key (or $GARDEN_SIM_API_KEY) is needed for --to http")
    return HttpSink(
        args.url, args.api_key, batch_size=args.batch_size, concurrency=args.concurrency
    )


def _pacer(args: argparse.Namespace, simulation: Simulation) -> Pacer | None:
    if args.command == "generate" or not (args.rate or args.realtime):
        return None
    origin = (
        Pacer.live_origin(simulation.span(), time.time(), args.speed) if args.realtime else None
    )
    return Pacer(rate=args.rate, origin=origin, speed=args.speed)


def _write_json(out: str, document: Org) -> None:
    data = orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
    if out == "-":
        sys.stdout.buffer.write(data)
    else:
        Path(out).write_bytes(data)


def _org_summary(org: Org) -> str:
    centers = org["centers"]
    departments = [d for c in centers for d in c["departments"]]
    teams = [t for d in departments for t in d["teams"]]
    agents = sum(len(t["agents"]) for t in teams)
    return (
        f"org: {len(centers)} centers, {len(departments)} departments, "
        f"{len(teams)} teams, {agents} agents"
    )


def _summary(delivered: Counter[str], elapsed: float, outcome: str) -> None:
    total = sum(delivered.values())
    for event_type, count in sorted(delivered.items()):
        print(f"{event_type:<20}{count:>12,}", file=sys.stderr)
    rate = total / elapsed if elapsed > 0 else 0.0
    print(f"{outcome}: {total:,} events in {elapsed:.1f} s ({rate:,.0f} events/s)", file=sys.stderr)
