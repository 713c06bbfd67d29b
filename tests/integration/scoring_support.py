"""Support for scoring tests: load an org, isolate a consumer group, and an
independent computation of the expected indicators from the raw events."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.contracts.topics import RAW_TOPICS, Topic

ZONE = ZoneInfo("Asia/Shanghai")
SCORING_TABLES = (
    "scoring_results",
    "scoring_dirty_days",
    "scoring_watermarks",
    "scoring_complaints",
    "scoring_agent_cursors",
    "scoring_fcr_calls",
    "scoring_agent_metrics",
    "scoring_agent_days",
    "scoring_settled_days",
    "scoring_memberships",
    "scoring_agents",
    "scoring_teams",
    "scoring_departments",
    "scoring_centers",
)


async def reset_scoring(engine: AsyncEngine) -> None:
    """Empty every scoring table (tests share one database)."""
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {', '.join(SCORING_TABLES)} CASCADE"))
        await conn.execute(text("DELETE FROM outbox WHERE producer = 'scoring'"))


async def load_org(engine: AsyncEngine, org: dict[str, Any], since: date) -> None:
    """Write the org tree straight into the scoring tables."""
    async with engine.begin() as conn:
        for center in org["centers"]:
            await conn.execute(
                text("INSERT INTO scoring_centers (id, name, timezone) VALUES (:i, :n, :z)"),
                {"i": center["id"], "n": center["name"], "z": center["timezone"]},
            )
            for dept in center["departments"]:
                await conn.execute(
                    text(
                        "INSERT INTO scoring_departments (id, center_id, name) VALUES (:i, :c, :n)"
                    ),
                    {"i": dept["id"], "c": center["id"], "n": dept["name"]},
                )
                for team in dept["teams"]:
                    await conn.execute(
                        text(
                            "INSERT INTO scoring_teams (id, department_id, name) "
                            "VALUES (:i, :d, :n)"
                        ),
                        {"i": team["id"], "d": dept["id"], "n": team["name"]},
                    )
                    for agent in team["agents"]:
                        await conn.execute(
                            text("INSERT INTO scoring_agents (id, name) VALUES (:i, :n)"),
                            {"i": agent["id"], "n": agent["name"]},
                        )
                        await conn.execute(
                            text(
                                "INSERT INTO scoring_memberships (agent_id, team_id, "
                                "valid_from) VALUES (:a, :t, :f)"
                            ),
                            {"a": agent["id"], "t": team["id"], "f": since},
                        )


async def start_group_at_end(
    bootstrap: str, group: str, *, topics: Sequence[Topic] = RAW_TOPICS
) -> None:
    """Commit the end offsets of `topics` (the raw ones by default) for `group`, so it reads
    only what comes next."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        partitions = await _partitions(consumer, topics)
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        await consumer.commit({tp: offset for tp, offset in ends.items()})
    finally:
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topics: Sequence[Topic]) -> list[TopicPartition]:
    metadata = await consumer._client.fetch_all_metadata()
    return [
        TopicPartition(t.name, p)
        for t in topics
        for p in metadata.partitions_for_topic(t.name) or ()
    ]


async def group_caught_up(
    bootstrap: str, group: str, *, topics: Sequence[Topic] = RAW_TOPICS
) -> bool:
    """Whether `group` has committed the end offset of every partition of `topics`."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        ends = await consumer.end_offsets(await _partitions(consumer, topics))
        for tp, end in ends.items():
            if end and (await consumer.committed(tp) or 0) < end:
                return False
        return True
    finally:
        await consumer.stop()


async def everything_settled(engine: AsyncEngine, bootstrap: str, group: str) -> bool:
    """Whether scoring has read every raw record posted so far and settled every day they
    touched: nothing more will settle until new records come (a wait on a day count alone
    can see a snapshot taken between two days' settlements)."""
    if not await group_caught_up(bootstrap, group):
        return False
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT (SELECT count(*) FROM scoring_settled_days) AS settled, "
                    "(SELECT count(DISTINCT business_date) FROM scoring_agent_days) AS active, "
                    "(SELECT count(*) FROM scoring_results WHERE NOT settled) AS open, "
                    "(SELECT count(*) FROM scoring_dirty_days) AS dirty"
                )
            )
        ).one()
    return bool(row.active) and row.settled >= row.active and not row.open and not row.dirty


def _ts(text_: str) -> datetime:
    return datetime.fromisoformat(text_)


def expected_agent_days(
    events: Iterable[dict[str, Any]],
    *,
    window: timedelta = timedelta(hours=24),
    max_span: timedelta = timedelta(hours=12),
) -> dict[tuple[str, date], dict[str, float | None]]:
    """Compute each agent-day's indicators from the raw events, independently of the service."""
    events = list(events)
    calls = [e for e in events if e["type"] == "call.completed"]
    by_caller: defaultdict[str, list[datetime]] = defaultdict(list)
    for c in calls:
        by_caller[c["caller_id"]].append(_ts(c["answered_at"]))
    day_calls: defaultdict[tuple[str, date], list[tuple[float, bool]]] = defaultdict(list)
    for c in calls:
        t = _ts(c["answered_at"])
        repeated = any(t < other <= t + window for other in by_caller[c["caller_id"]])
        handle = c["talk_seconds"] + c["hold_seconds"] + c["wrap_seconds"]
        day_calls[(c["agent_id"], t.astimezone(ZONE).date())].append((handle, repeated))
    surveys: defaultdict[tuple[str, date], list[int]] = defaultdict(list)
    for s in (e for e in events if e["type"] == "survey.answered"):
        surveys[(s["agent_id"], _ts(s["occurred_at"]).astimezone(ZONE).date())].append(s["score"])
    logged: defaultdict[tuple[str, date], float] = defaultdict(float)
    busy: defaultdict[tuple[str, date], float] = defaultdict(float)
    states: defaultdict[str, list[tuple[datetime, str]]] = defaultdict(list)
    for s in (e for e in events if e["type"] == "agent.state"):
        states[s["agent_id"]].append((_ts(s["occurred_at"]), s["state"]))
    for agent, changes in states.items():
        changes.sort(key=lambda x: x[0])
        for (start, state), (end, _) in itertools.pairwise(changes):
            if state == "logged_out":
                continue
            end = min(end, start + max_span)
            cursor = start
            while cursor < end:
                local = cursor.astimezone(ZONE)
                midnight = datetime.combine(
                    local.date() + timedelta(days=1), datetime.min.time(), ZONE
                )
                piece = min(end, midnight)
                seconds = (piece - cursor).total_seconds()
                logged[(agent, local.date())] += seconds
                if state in ("on_call", "wrap_up"):
                    busy[(agent, local.date())] += seconds
                cursor = piece
    complaints: dict[str, dict[str, Any]] = {}
    for e in sorted(
        (e for e in events if e["type"].startswith("complaint.")),
        key=lambda e: _ts(e["occurred_at"]),
    ):
        entry = complaints.setdefault(
            e["complaint_id"], {"agent": None, "day": None, "justified": None, "withdrawn": False}
        )
        if e["type"] == "complaint.filed":
            entry["agent"] = e.get("agent_id")
            entry["day"] = _ts(e["occurred_at"]).astimezone(ZONE).date()
            if entry.get("updated") is None:
                entry["justified"] = e.get("justified")
        else:
            entry["updated"] = True
            if e.get("justified") is not None:
                entry["justified"] = e["justified"]
            entry["withdrawn"] = e["status"] == "withdrawn"
    justified: defaultdict[tuple[str, date], int] = defaultdict(int)
    for c in complaints.values():
        if c["agent"] and c["justified"] is True and not c["withdrawn"]:
            justified[(c["agent"], c["day"])] += 1
    keys = set(day_calls) | set(surveys) | set(logged)
    result = {}
    for key in keys:
        handles = day_calls.get(key, [])
        n = len(handles)
        votes = surveys.get(key, [])
        result[key] = {
            "call_volume": float(n),
            "aht": sum(h for h, _ in handles) / n if n else None,
            "fcr": 100.0 * sum(1 for _, r in handles if not r) / n if n else None,
            "satisfaction": 100.0 * sum(1 for v in votes if v >= 4) / len(votes) if votes else None,
            "utilization": 100.0 * busy[key] / logged[key] if logged.get(key) else None,
            "complaint_rate": 1000.0 * justified.get(key, 0) / n if n else None,
            "justified": float(justified.get(key, 0)),
        }
    return result
