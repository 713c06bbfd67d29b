"""Scoring queries and bulk writes (never commits; the caller's transaction decides)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from services.scoring.domain import DayTotals
from services.scoring.tally import AgentDayKey, CallRef, ComplaintView, Cursor, DayDelta


async def lock_callers(session: AsyncSession, callers: Collection[str]) -> None:
    """Serialise FCR work per caller across instances (sorted: no deadlocks)."""
    if callers:
        await session.execute(
            text(
                "SELECT pg_advisory_xact_lock(hashtext(c)) FROM unnest(CAST(:c AS text[])) c ORDER BY c"
            ),
            {"c": sorted(callers)},
        )


async def known_calls(
    session: AsyncSession, callers: Collection[str], since: datetime, until: datetime
) -> list[CallRef]:
    """Calls of these callers answered in [since, until]."""
    if not callers:
        return []
    rows = await session.execute(
        text(
            "SELECT call_key, caller_id, answered_at, agent_id, business_date, repeated "
            "FROM scoring_fcr_calls WHERE caller_id = ANY(CAST(:c AS text[])) "
            "AND answered_at BETWEEN :since AND :until"
        ),
        {"c": list(callers), "since": since, "until": until},
    )
    return [CallRef(*row) for row in rows]


async def insert_calls(session: AsyncSession, calls: Sequence[CallRef]) -> set[str]:
    """Keep calls for FCR; return the keys that were new (a resent call counts once)."""
    if not calls:
        return set()
    rows = await session.execute(
        text(
            "INSERT INTO scoring_fcr_calls "
            "(call_key, caller_id, answered_at, agent_id, business_date, repeated) "
            "SELECT * FROM unnest(CAST(:k AS text[]), CAST(:c AS text[]), "
            "CAST(:t AS timestamptz[]), CAST(:a AS text[]), CAST(:d AS date[]), "
            "CAST(:r AS boolean[])) ON CONFLICT DO NOTHING RETURNING call_key"
        ),
        {
            "k": [c.call_key for c in calls],
            "c": [c.caller_id for c in calls],
            "t": [c.answered_at for c in calls],
            "a": [c.agent_id for c in calls],
            "d": [c.business_date for c in calls],
            "r": [c.repeated for c in calls],
        },
    )
    return {row[0] for row in rows}


async def mark_repeated(session: AsyncSession, keys: Collection[str]) -> list[CallRef]:
    """Mark known calls as repeated; return those that were not yet."""
    if not keys:
        return []
    rows = await session.execute(
        text(
            "UPDATE scoring_fcr_calls SET repeated = true "
            "WHERE call_key = ANY(CAST(:k AS text[])) AND NOT repeated "
            "RETURNING call_key, caller_id, answered_at, agent_id, business_date, repeated"
        ),
        {"k": list(keys)},
    )
    return [CallRef(*row) for row in rows]


async def cursors_for_update(session: AsyncSession, agents: Collection[str]) -> dict[str, Cursor]:
    """The agents' current states, locked for this transaction."""
    if not agents:
        return {}
    rows = await session.execute(
        text(
            "SELECT agent_id, state, since, entered_at_since FROM scoring_agent_cursors "
            "WHERE agent_id = ANY(CAST(:a AS text[])) ORDER BY agent_id FOR UPDATE"
        ),
        {"a": list(agents)},
    )
    return {
        agent: Cursor(state, since, tuple(entered))
        for agent, state, since, entered in rows.tuples()
    }


async def save_cursors(session: AsyncSession, cursors: Mapping[str, Cursor]) -> None:
    if not cursors:
        return
    cursors = dict(sorted(cursors.items()))
    await session.execute(
        text(
            "INSERT INTO scoring_agent_cursors (agent_id, state, since, entered_at_since) "
            "SELECT a, s, t, string_to_array(e, ' ') FROM unnest(CAST(:a AS text[]), "
            "CAST(:s AS text[]), CAST(:t AS timestamptz[]), CAST(:e AS text[])) AS u(a, s, t, e) "
            "ON CONFLICT (agent_id) DO UPDATE SET state = EXCLUDED.state, "
            "since = EXCLUDED.since, entered_at_since = EXCLUDED.entered_at_since"
        ),
        {
            "a": list(cursors),
            "s": [c.state for c in cursors.values()],
            "t": [c.since for c in cursors.values()],
            "e": [" ".join(c.entered) for c in cursors.values()],
        },
    )


async def complaints_for_update(
    session: AsyncSession, ids: Collection[str]
) -> dict[str, ComplaintView]:
    if not ids:
        return {}
    rows = await session.execute(
        text(
            "SELECT complaint_id, agent_id, business_date, justified, withdrawn, last_update_at, "
            "justified_at FROM scoring_complaints WHERE complaint_id = ANY(CAST(:i AS text[])) "
            "ORDER BY complaint_id FOR UPDATE"
        ),
        {"i": list(ids)},
    )
    return {row[0]: ComplaintView(*row) for row in rows}


async def save_complaints(session: AsyncSession, views: Iterable[ComplaintView]) -> None:
    views = sorted(views, key=lambda v: v.complaint_id)
    if not views:
        return
    await session.execute(
        text(
            "INSERT INTO scoring_complaints (complaint_id, agent_id, business_date, justified, "
            "withdrawn, counted, last_update_at, justified_at) SELECT * FROM unnest("
            "CAST(:i AS text[]), CAST(:a AS text[]), CAST(:d AS date[]), CAST(:j AS boolean[]), "
            "CAST(:w AS boolean[]), CAST(:c AS boolean[]), CAST(:u AS timestamptz[]), "
            "CAST(:ja AS timestamptz[])) "
            "ON CONFLICT (complaint_id) DO UPDATE SET agent_id = EXCLUDED.agent_id, "
            "business_date = EXCLUDED.business_date, justified = EXCLUDED.justified, "
            "withdrawn = EXCLUDED.withdrawn, counted = EXCLUDED.counted, "
            "last_update_at = EXCLUDED.last_update_at, justified_at = EXCLUDED.justified_at"
        ),
        {
            "i": [v.complaint_id for v in views],
            "a": [v.agent_id for v in views],
            "d": [v.business_date for v in views],
            "j": [v.justified for v in views],
            "w": [v.withdrawn for v in views],
            "c": [v.counted for v in views],
            "u": [v.last_update_at for v in views],
            "ja": [v.justified_at for v in views],
        },
    )


async def add_to_days(
    session: AsyncSession, deltas: Mapping[AgentDayKey, DayDelta], late: Mapping[AgentDayKey, int]
) -> None:
    """Add deltas to the agent-day totals (one statement for the whole batch)."""
    keys = sorted(deltas.keys() | late.keys())  # one lock order for every instance
    if not keys:
        return
    empty = DayDelta()
    rows = [deltas.get(k, empty) for k in keys]
    params: dict[str, Any] = {
        "a": [k[0] for k in keys],
        "d": [k[1] for k in keys],
        "calls": [r.calls for r in rows],
        "handle": [r.handle_seconds for r in rows],
        "rep": [r.repeated_calls for r in rows],
        "logged": [r.logged_in_seconds for r in rows],
        "busy": [r.busy_seconds for r in rows],
        "just": [r.justified_complaints for r in rows],
        "late": [late.get(k, 0) for k in keys],
    }
    for n in range(5):
        params[f"s{n + 1}"] = [r.scores[n] for r in rows]
    additive = (
        "calls",
        "handle_seconds",
        "repeated_calls",
        "score_1",
        "score_2",
        "score_3",
        "score_4",
        "score_5",
        "logged_in_seconds",
        "busy_seconds",
        "justified_complaints",
        "late_events",
    )
    await session.execute(
        text(
            "INSERT INTO scoring_agent_days (agent_id, business_date, " + ", ".join(additive) + ") "
            "SELECT * FROM unnest(CAST(:a AS text[]), CAST(:d AS date[]), CAST(:calls AS int[]), "
            "CAST(:handle AS float8[]), CAST(:rep AS int[]), CAST(:s1 AS int[]), "
            "CAST(:s2 AS int[]), CAST(:s3 AS int[]), CAST(:s4 AS int[]), CAST(:s5 AS int[]), "
            "CAST(:logged AS float8[]), CAST(:busy AS float8[]), CAST(:just AS int[]), "
            "CAST(:late AS int[])) "
            "ON CONFLICT (agent_id, business_date) DO UPDATE SET "
            + ", ".join(f"{c} = scoring_agent_days.{c} + EXCLUDED.{c}" for c in additive)
        ),
        params,
    )


async def add_metrics(
    session: AsyncSession, metrics: Mapping[tuple[str, date, str], list[float]]
) -> None:
    if not metrics:
        return
    keys = sorted(metrics)
    await session.execute(
        text(
            "INSERT INTO scoring_agent_metrics (agent_id, business_date, indicator, total, count) "
            "SELECT * FROM unnest(CAST(:a AS text[]), CAST(:d AS date[]), CAST(:i AS text[]), "
            "CAST(:t AS float8[]), CAST(:n AS int[])) ON CONFLICT (agent_id, business_date, "
            "indicator) DO UPDATE SET total = scoring_agent_metrics.total + EXCLUDED.total, "
            "count = scoring_agent_metrics.count + EXCLUDED.count"
        ),
        {
            "a": [k[0] for k in keys],
            "d": [k[1] for k in keys],
            "i": [k[2] for k in keys],
            "t": [metrics[k][0] for k in keys],
            "n": [int(metrics[k][1]) for k in keys],
        },
    )


async def mark_dirty(session: AsyncSession, days: Collection[date]) -> None:
    if days:
        await session.execute(
            text(
                "INSERT INTO scoring_dirty_days (business_date) "
                "SELECT unnest(CAST(:d AS date[])) ON CONFLICT DO NOTHING"
            ),
            {"d": sorted(days)},
        )


async def advance_watermarks(
    session: AsyncSession, latest: Mapping[tuple[str, int], datetime]
) -> None:
    """Raise each partition's event-time high-water mark."""
    if not latest:
        return
    keys = list(latest)
    await session.execute(
        text(
            "INSERT INTO scoring_watermarks (topic, partition, max_occurred_at, touched_at) "
            "SELECT t, p, m, now() FROM unnest(CAST(:t AS text[]), CAST(:p AS int[]), "
            "CAST(:m AS timestamptz[])) AS u(t, p, m) ON CONFLICT (topic, partition) DO UPDATE "
            "SET touched_at = now(), max_occurred_at = "
            "GREATEST(scoring_watermarks.max_occurred_at, EXCLUDED.max_occurred_at)"
        ),
        {"t": [k[0] for k in keys], "p": [k[1] for k in keys], "m": [latest[k] for k in keys]},
    )


async def watermark(
    session: AsyncSession, idle_after_seconds: float
) -> tuple[datetime | None, float | None]:
    """The event-time watermark and how many seconds ago events were last applied.

    The watermark is the lowest high-water mark of the partitions still
    receiving events, so a partition read behind the others (a replayed
    backlog) holds settlement back; partitions idle for `idle_after_seconds`
    are drained and no longer count. When every partition is idle (drained, or
    the consumers are down) the lowest mark counts: silence is never taken as
    progress, and a quiet night settles by the wall clock instead.
    """
    row = (
        await session.execute(
            text(
                "SELECT COALESCE(min(max_occurred_at) FILTER (WHERE touched_at > "
                "now() - make_interval(secs => :idle)), min(max_occurred_at)), "
                "EXTRACT(EPOCH FROM now() - max(touched_at)) FROM scoring_watermarks"
            ),
            {"idle": idle_after_seconds},
        )
    ).first()
    if row is None or row[1] is None:
        return None, None
    return row[0], float(row[1])


async def day_totals(session: AsyncSession, day: date) -> dict[str, tuple[DayTotals, list[int]]]:
    """Every agent's totals for `day`, with the survey score histogram."""
    rows = await session.execute(
        text(
            "SELECT agent_id, calls, handle_seconds, repeated_calls, score_1, score_2, score_3, "
            "score_4, score_5, logged_in_seconds, busy_seconds, justified_complaints "
            "FROM scoring_agent_days WHERE business_date = :d"
        ),
        {"d": day},
    )
    totals: dict[str, tuple[DayTotals, list[int]]] = {}
    for r in rows:
        histogram = [r.score_1, r.score_2, r.score_3, r.score_4, r.score_5]
        totals[r.agent_id] = (
            DayTotals(
                calls=r.calls,
                handle_seconds=r.handle_seconds,
                surveys=sum(histogram),
                repeated_calls=r.repeated_calls,
                logged_in_seconds=r.logged_in_seconds,
                busy_seconds=r.busy_seconds,
                justified_complaints=r.justified_complaints,
            ),
            histogram,
        )
    metrics = await session.execute(
        text(
            "SELECT agent_id, indicator, total, count FROM scoring_agent_metrics "
            "WHERE business_date = :d"
        ),
        {"d": day},
    )
    for agent, indicator, total, count in metrics:
        entry = totals.setdefault(agent, (DayTotals(), [0, 0, 0, 0, 0]))
        entry[0].metrics[indicator] = (total, count)
    return totals


# --- org lookups the pipeline needs in bulk ------------------------------------------------------


_PLACE = (
    "FROM scoring_memberships m JOIN scoring_teams t ON t.id = m.team_id "
    "JOIN scoring_departments d ON d.id = t.department_id "
    "JOIN scoring_centers c ON c.id = d.center_id "
)


async def placements(
    session: AsyncSession, agents: Collection[str]
) -> dict[str, tuple[str | None, ZoneInfo]]:
    """Each known agent's current center and its time zone."""
    if not agents:
        return {}
    rows = await session.execute(
        text(
            "SELECT m.agent_id, c.id, c.timezone "
            + _PLACE
            + "WHERE m.agent_id = ANY(CAST(:a AS text[])) AND m.valid_to IS NULL"
        ),
        {"a": list(agents)},
    )
    return {agent: (center, ZoneInfo(zone)) for agent, center, zone in rows}


async def settled_days(session: AsyncSession, days: Collection[date]) -> set[tuple[str, date]]:
    """Which (center, day) of these days are settled."""
    rows = await session.execute(
        text(
            "SELECT center_id, business_date FROM scoring_settled_days "
            "WHERE business_date = ANY(CAST(:d AS date[]))"
        ),
        {"d": sorted(days)},
    )
    return {(center, day) for center, day in rows}


async def unsettled_days(session: AsyncSession, center_id: str) -> list[date]:
    """Days with activity that this center has not settled yet, oldest first."""
    rows = await session.execute(
        text(
            "SELECT DISTINCT business_date FROM scoring_agent_days a WHERE NOT EXISTS ("
            "SELECT 1 FROM scoring_settled_days s WHERE s.center_id = :c "
            "AND s.business_date = a.business_date) ORDER BY business_date"
        ),
        {"c": center_id},
    )
    return [row[0] for row in rows]


async def take_dirty_days(session: AsyncSession) -> list[date]:
    """Claim the days whose aggregates changed since their last preview."""
    rows = await session.execute(text("DELETE FROM scoring_dirty_days RETURNING business_date"))
    return sorted(row[0] for row in rows)


async def settle_day(session: AsyncSession, center_id: str, day: date) -> bool:
    """Record the day as settled; False if it already was (another instance won)."""
    inserted = await session.scalar(
        text(
            "INSERT INTO scoring_settled_days (center_id, business_date) VALUES (:c, :d) "
            "ON CONFLICT DO NOTHING RETURNING 1"
        ),
        {"c": center_id, "d": day},
    )
    return inserted is not None


async def trend_history(
    session: AsyncSession, day: date, indicators: Collection[str], depth: int
) -> dict[tuple[str, str, str], list[float]]:
    """Owners' last `depth` rated settled values before `day`, oldest first."""
    if not indicators or depth <= 0:
        return {}
    rows = await session.execute(
        text(
            "SELECT owner_kind, owner_id, indicator, value FROM ("
            "SELECT owner_kind, owner_id, indicator, value, business_date, row_number() OVER ("
            "PARTITION BY owner_kind, owner_id, indicator ORDER BY business_date DESC) AS rn "
            "FROM scoring_results WHERE settled AND state <> 'not_rated' "
            "AND business_date < :d AND indicator = ANY(CAST(:i AS text[]))) recent "
            "WHERE rn <= :n ORDER BY business_date"
        ),
        {"d": day, "i": list(indicators), "n": depth},
    )
    history: dict[tuple[str, str, str], list[float]] = {}
    for kind, owner, indicator, value in rows:
        history.setdefault((kind, owner, indicator), []).append(value)
    return history


async def stored_results(
    session: AsyncSession, center_id: str, day: date
) -> dict[tuple[str, str, str], tuple[Any, ...]]:
    """The center's stored rows for `day`: (kind, owner, indicator) -> (value, points, state, settled, revision)."""
    rows = await session.execute(
        text(
            "SELECT owner_kind, owner_id, indicator, value, points, state, settled, revision "
            "FROM scoring_results WHERE business_date = :d AND center_id = :c"
        ),
        {"d": day, "c": center_id},
    )
    return {(r[0], r[1], r[2]): tuple(r[3:]) for r in rows}


async def save_results(
    session: AsyncSession, rows: Sequence[tuple[Any, ...]], *, settled: bool
) -> None:
    """Upsert result rows (kind, owner, day, indicator, center, value, sample, points, state, revision); settled rows are final."""
    if not rows:
        return
    columns = list(zip(*rows, strict=True))
    await session.execute(
        text(
            "INSERT INTO scoring_results (owner_kind, owner_id, business_date, indicator, "
            "center_id, value, sample, points, state, revision, settled) "
            "SELECT *, :settled FROM unnest(CAST(:k AS text[]), CAST(:o AS text[]), "
            "CAST(:d AS date[]), CAST(:i AS text[]), CAST(:c AS text[]), CAST(:v AS float8[]), "
            "CAST(:s AS float8[]), CAST(:p AS float8[]), CAST(:st AS text[]), "
            "CAST(:r AS bigint[])) ON CONFLICT (owner_kind, owner_id, business_date, indicator) "
            "DO UPDATE SET value = EXCLUDED.value, sample = EXCLUDED.sample, "
            "points = EXCLUDED.points, state = EXCLUDED.state, revision = EXCLUDED.revision, "
            "settled = EXCLUDED.settled, computed_at = now() WHERE NOT scoring_results.settled"
        ),
        {
            "k": list(columns[0]),
            "o": list(columns[1]),
            "d": list(columns[2]),
            "i": list(columns[3]),
            "c": list(columns[4]),
            "v": list(columns[5]),
            "s": list(columns[6]),
            "p": list(columns[7]),
            "st": list(columns[8]),
            "r": list(columns[9]),
            "settled": settled,
        },
    )
