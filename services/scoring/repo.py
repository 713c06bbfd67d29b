"""Scoring queries and bulk writes (never commits; the caller's transaction decides)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from services.scoring.domain import DayTotals, PartitionMark
from services.scoring.tally import AgentDayKey, CallRef, ComplaintView, Cursor, DayDelta
from shared import sql

# Columns and their PostgreSQL types, in the order of the rows written.
_CALLS = {
    "call_key": "text",
    "caller_id": "text",
    "answered_at": "timestamptz",
    "agent_id": "text",
    "business_date": "date",
    "repeated": "boolean",
}
_CALL_COLUMNS = ", ".join(_CALLS)
_COMPLAINTS = {
    "complaint_id": "text",
    "agent_id": "text",
    "business_date": "date",
    "justified": "boolean",
    "withdrawn": "boolean",
    "counted": "boolean",
    "last_update_at": "timestamptz",
    "justified_at": "timestamptz",
}
_AGENT_DAYS = {
    "agent_id": "text",
    "business_date": "date",
    "calls": "int",
    "handle_seconds": "float8",
    "repeated_calls": "int",
    **{f"score_{n}": "int" for n in range(1, 6)},
    "logged_in_seconds": "float8",
    "busy_seconds": "float8",
    "justified_complaints": "int",
    "late_events": "int",
}
_RESULTS = {
    "owner_kind": "text",
    "owner_id": "text",
    "business_date": "date",
    "indicator": "text",
    "center_id": "text",
    "value": "float8",
    "sample": "float8",
    "points": "float8",
    "state": "text",
    "revision": "bigint",
}


async def lock_callers(session: AsyncSession, callers: Collection[str]) -> None:
    """Serialise FCR work per caller across instances (sorted: no deadlocks)."""
    await sql.lock(session, *callers)


async def known_calls(
    session: AsyncSession, callers: Collection[str], since: datetime, until: datetime
) -> list[CallRef]:
    """Calls of these callers answered in [since, until]."""
    if not callers:
        return []
    rows = await sql.execute(
        session,
        f"SELECT {_CALL_COLUMNS} FROM scoring_fcr_calls WHERE caller_id = ANY(CAST(:c AS text[])) "
        "AND answered_at BETWEEN :since AND :until",
        {"c": list(callers), "since": since, "until": until},
    )
    return [CallRef(*row) for row in rows]


async def insert_calls(session: AsyncSession, calls: Sequence[CallRef]) -> set[str]:
    """Keep calls for FCR; return the keys that were new (a resent call counts once)."""
    if not calls:
        return set()
    rows = await sql.insert_rows(
        session,
        "scoring_fcr_calls",
        _CALLS,
        calls,  # a CallRef is a row of these columns
        on_conflict="DO NOTHING",
        returning="call_key",
    )
    return {row[0] for row in rows}


async def mark_repeated(session: AsyncSession, keys: Collection[str]) -> list[CallRef]:
    """Mark known calls as repeated; return those that were not yet."""
    if not keys:
        return []
    rows = await sql.execute(
        session,
        "UPDATE scoring_fcr_calls SET repeated = true "
        f"WHERE call_key = ANY(CAST(:k AS text[])) AND NOT repeated RETURNING {_CALL_COLUMNS}",
        {"k": list(keys)},
    )
    return [CallRef(*row) for row in rows]


async def cursors_for_update(session: AsyncSession, agents: Collection[str]) -> dict[str, Cursor]:
    """The agents' current states, locked for this transaction."""
    if not agents:
        return {}
    rows = await sql.execute(
        session,
        "SELECT agent_id, state, since, entered_at_since FROM scoring_agent_cursors "
        "WHERE agent_id = ANY(CAST(:a AS text[])) ORDER BY agent_id FOR UPDATE",
        {"a": list(agents)},
    )
    return {agent: Cursor(state, since, tuple(entered)) for agent, state, since, entered in rows}


async def save_cursors(session: AsyncSession, cursors: Mapping[str, Cursor]) -> None:
    if not cursors:
        return
    columns = {"a": "text", "s": "text", "t": "timestamptz", "e": "text"}
    rows = ((a, c.state, c.since, " ".join(c.entered)) for a, c in sorted(cursors.items()))
    await sql.execute(
        session,
        "INSERT INTO scoring_agent_cursors (agent_id, state, since, entered_at_since) "
        f"SELECT a, s, t, string_to_array(e, ' ') FROM {sql.unnest(columns)} AS u(a, s, t, e) "
        "ON CONFLICT (agent_id) DO UPDATE SET state = EXCLUDED.state, "
        "since = EXCLUDED.since, entered_at_since = EXCLUDED.entered_at_since",
        sql.arrays(list(columns), rows),
    )


async def complaints_for_update(
    session: AsyncSession, ids: Collection[str]
) -> dict[str, ComplaintView]:
    if not ids:
        return {}
    rows = await sql.execute(
        session,
        "SELECT complaint_id, agent_id, business_date, justified, withdrawn, last_update_at, "
        "justified_at FROM scoring_complaints WHERE complaint_id = ANY(CAST(:i AS text[])) "
        "ORDER BY complaint_id FOR UPDATE",
        {"i": list(ids)},
    )
    return {row[0]: ComplaintView(*row) for row in rows}


async def save_complaints(session: AsyncSession, views: Iterable[ComplaintView]) -> None:
    views = sorted(views, key=lambda v: v.complaint_id)
    if not views:
        return
    update = ", ".join(f"{c} = EXCLUDED.{c}" for c in list(_COMPLAINTS)[1:])
    await sql.insert_rows(
        session,
        "scoring_complaints",
        _COMPLAINTS,
        (
            (
                v.complaint_id,
                v.agent_id,
                v.business_date,
                v.justified,
                v.withdrawn,
                v.counted,
                v.last_update_at,
                v.justified_at,
            )
            for v in views
        ),
        on_conflict=f"(complaint_id) DO UPDATE SET {update}",
    )


async def add_to_days(
    session: AsyncSession, deltas: Mapping[AgentDayKey, DayDelta], late: Mapping[AgentDayKey, int]
) -> None:
    """Add deltas to the agent-day totals (one statement for the whole batch)."""
    keys = sorted(deltas.keys() | late.keys())  # one lock order for every instance
    if not keys:
        return
    empty = DayDelta()
    rows = []
    for key in keys:
        d = deltas.get(key, empty)
        rows.append(
            (
                *key,
                d.calls,
                d.handle_seconds,
                d.repeated_calls,
                *d.scores,
                d.logged_in_seconds,
                d.busy_seconds,
                d.justified_complaints,
                late.get(key, 0),
            )
        )
    additive = list(_AGENT_DAYS)[2:]
    await sql.insert_rows(
        session,
        "scoring_agent_days",
        _AGENT_DAYS,
        rows,
        on_conflict="(agent_id, business_date) DO UPDATE SET "
        + ", ".join(f"{c} = scoring_agent_days.{c} + EXCLUDED.{c}" for c in additive),
    )


async def add_metrics(
    session: AsyncSession, metrics: Mapping[tuple[str, date, str], list[float]]
) -> None:
    if not metrics:
        return
    await sql.insert_rows(
        session,
        "scoring_agent_metrics",
        {
            "agent_id": "text",
            "business_date": "date",
            "indicator": "text",
            "total": "float8",
            "count": "int",
        },
        ((*key, metrics[key][0], int(metrics[key][1])) for key in sorted(metrics)),
        on_conflict="(agent_id, business_date, indicator) DO UPDATE SET "
        "total = scoring_agent_metrics.total + EXCLUDED.total, "
        "count = scoring_agent_metrics.count + EXCLUDED.count",
    )


async def mark_dirty(session: AsyncSession, days: Collection[date]) -> None:
    if days:
        await sql.insert_rows(
            session,
            "scoring_dirty_days",
            {"business_date": "date"},
            ((day,) for day in sorted(days)),
            on_conflict="DO NOTHING",
        )


async def advance_watermarks(
    session: AsyncSession, latest: Mapping[tuple[str, int], datetime], *, lead: timedelta
) -> None:
    """Raise each partition's event-time high-water mark, never past the database's clock
    plus `lead` (a bad timestamp must not carry a partition days ahead for good)."""
    if not latest:
        return
    columns = {"t": "text", "p": "int", "m": "timestamptz"}
    await sql.execute(
        session,
        "INSERT INTO scoring_watermarks (topic, partition, max_occurred_at, touched_at) "
        "SELECT t, p, LEAST(m, now() + CAST(:lead AS interval)), now() "
        f"FROM {sql.unnest(columns)} AS u(t, p, m) "
        "ON CONFLICT (topic, partition) DO UPDATE SET touched_at = now(), max_occurred_at = "
        "GREATEST(scoring_watermarks.max_occurred_at, EXCLUDED.max_occurred_at)",
        {**sql.arrays(list(columns), ((*key, at) for key, at in latest.items())), "lead": lead},
    )


async def partition_marks(session: AsyncSession) -> tuple[list[PartitionMark], datetime]:
    """Every partition's high-water mark, and the database's clock they are measured on."""
    now = await sql.scalar(session, "SELECT now()")
    rows = await sql.execute(
        session, "SELECT topic, partition, max_occurred_at, touched_at FROM scoring_watermarks"
    )
    return [PartitionMark((t, p), high, touched) for t, p, high, touched in rows], now


async def day_totals(session: AsyncSession, day: date) -> dict[str, tuple[DayTotals, list[int]]]:
    """Every agent's totals for `day`, with the survey score histogram."""
    rows = await sql.execute(
        session,
        "SELECT agent_id, calls, handle_seconds, repeated_calls, score_1, score_2, score_3, "
        "score_4, score_5, logged_in_seconds, busy_seconds, justified_complaints "
        "FROM scoring_agent_days WHERE business_date = :d",
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
    metrics = await sql.execute(
        session,
        "SELECT agent_id, indicator, total, count FROM scoring_agent_metrics "
        "WHERE business_date = :d",
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
    rows = await sql.execute(
        session,
        "SELECT m.agent_id, c.id, c.timezone "
        + _PLACE
        + "WHERE m.agent_id = ANY(CAST(:a AS text[])) AND m.valid_to IS NULL",
        {"a": list(agents)},
    )
    return {agent: (center, ZoneInfo(zone)) for agent, center, zone in rows}


async def settled_days(session: AsyncSession, days: Collection[date]) -> set[tuple[str, date]]:
    """Which (center, day) of these days are settled."""
    rows = await sql.execute(
        session,
        "SELECT center_id, business_date FROM scoring_settled_days "
        "WHERE business_date = ANY(CAST(:d AS date[]))",
        {"d": sorted(days)},
    )
    return {(center, day) for center, day in rows}


async def unsettled_days(session: AsyncSession, center_id: str) -> list[date]:
    """Days with activity that this center has not settled yet, oldest first."""
    rows = await sql.execute(
        session,
        "SELECT DISTINCT business_date FROM scoring_agent_days a WHERE NOT EXISTS ("
        "SELECT 1 FROM scoring_settled_days s WHERE s.center_id = :c "
        "AND s.business_date = a.business_date) ORDER BY business_date",
        {"c": center_id},
    )
    return [row[0] for row in rows]


async def take_dirty_days(session: AsyncSession) -> list[date]:
    """Claim the days whose aggregates changed since their last preview."""
    rows = await sql.execute(session, "DELETE FROM scoring_dirty_days RETURNING business_date")
    return sorted(row[0] for row in rows)


def _day_lock(day: date) -> str:
    return f"scoring:day:{day.isoformat()}"


async def share_days(session: AsyncSession, days: Collection[date]) -> None:
    """Keep these days from settling until this transaction ends (an applier adding to
    them, a preview scoring them); shared, so appliers and previews never wait for each
    other, only for a settlement of the day in progress (`hold_day`)."""
    if days:
        await sql.execute(
            session,
            "SELECT pg_advisory_xact_lock_shared(hashtext(n)) "
            "FROM unnest(CAST(:names AS text[])) n ORDER BY n",
            {"names": sorted({_day_lock(day) for day in days})},
        )


async def hold_day(session: AsyncSession, day: date) -> None:
    """Wait until no transaction shares the day (`share_days`), and keep new ones out until
    this one ends: what the settlement reads is then everything committed to the day, and
    whatever comes after sees the day settled."""
    await sql.lock(session, _day_lock(day))


async def settle_day(session: AsyncSession, center_id: str, day: date) -> bool:
    """Record the day as settled; False if it already was (another instance won)."""
    inserted = await sql.scalar(
        session,
        "INSERT INTO scoring_settled_days (center_id, business_date) VALUES (:c, :d) "
        "ON CONFLICT DO NOTHING RETURNING 1",
        {"c": center_id, "d": day},
    )
    return inserted is not None


async def trend_history(
    session: AsyncSession, day: date, indicators: Collection[str], depth: int
) -> dict[tuple[str, str, str], list[float]]:
    """Owners' last `depth` rated settled values before `day`, oldest first."""
    if not indicators or depth <= 0:
        return {}
    rows = await sql.execute(
        session,
        "SELECT owner_kind, owner_id, indicator, value FROM ("
        "SELECT owner_kind, owner_id, indicator, value, business_date, row_number() OVER ("
        "PARTITION BY owner_kind, owner_id, indicator ORDER BY business_date DESC) AS rn "
        "FROM scoring_results WHERE settled AND state <> 'not_rated' "
        "AND business_date < :d AND indicator = ANY(CAST(:i AS text[]))) recent "
        "WHERE rn <= :n ORDER BY business_date",
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
    rows = await sql.execute(
        session,
        "SELECT owner_kind, owner_id, indicator, value, points, state, settled, revision "
        "FROM scoring_results WHERE business_date = :d AND center_id = :c",
        {"d": day, "c": center_id},
    )
    return {(r[0], r[1], r[2]): tuple(r[3:]) for r in rows}


async def save_results(
    session: AsyncSession, rows: Sequence[tuple[Any, ...]], *, settled: bool
) -> None:
    """Upsert result rows (kind, owner, day, indicator, center, value, sample, points, state, revision); settled rows are final."""
    if not rows:
        return
    await sql.execute(
        session,
        f"INSERT INTO scoring_results ({', '.join(_RESULTS)}, settled) "
        f"SELECT *, :settled FROM {sql.unnest(_RESULTS)} "
        "ON CONFLICT (owner_kind, owner_id, business_date, indicator) "
        "DO UPDATE SET value = EXCLUDED.value, sample = EXCLUDED.sample, "
        "points = EXCLUDED.points, state = EXCLUDED.state, revision = EXCLUDED.revision, "
        "settled = EXCLUDED.settled, computed_at = now() WHERE NOT scoring_results.settled",
        {**sql.arrays(list(_RESULTS), rows), "settled": settled},
    )


# --- history past the replay horizon -------------------------------------------------------------


async def lowest_mark(session: AsyncSession) -> datetime | None:
    """The event time of the partition read least far (None before any event)."""
    found: datetime | None = await sql.scalar(
        session, "SELECT min(max_occurred_at) FROM scoring_watermarks"
    )
    return found


# What each history table is pruned by: the latest instant a row can still be needed at.
PRUNED_BY = {
    "scoring_fcr_calls": "answered_at",
    "scoring_complaints": (
        "GREATEST(last_update_at, justified_at, CAST(business_date AS timestamptz))"
    ),
}


async def prune_history(session: AsyncSession, table: str, before: datetime, limit: int) -> int:
    """Forget up to `limit` rows of a history table (`PRUNED_BY`) whose latest instant is
    before `before`; return how many went."""
    result = await sql.execute(
        session,
        f"DELETE FROM {table} WHERE ctid IN (SELECT ctid FROM {table} "
        f"WHERE {PRUNED_BY[table]} < :t LIMIT :n)",
        {"t": before, "n": limit},
    )
    return int(result.rowcount)
