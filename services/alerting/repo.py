"""Queries of the alerting tables. Nothing here commits: callers own the transaction."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from services.alerting.domain.incidents import Incident, Status
from services.alerting.domain.surge import ALL_REGIONS, BaselineSlot, DetectionClock, Silence

SeriesKey = tuple[str, str]  # (category, region or "*")
STREAM = "*"
"""Key of the complaint stream's detection clock in `alert_clocks` (one clock for all)."""


async def _exec(session: AsyncSession, statement: Any, params: Any = None) -> Any:
    """Run a statement on the session's connection (its transaction)."""
    connection = await session.connection()
    return await connection.execute(statement, params or {})


def _json(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()


async def lock_series(session: AsyncSession, keys: Iterable[SeriesKey]) -> None:
    """Serialise work on these series across consumers, the ticker and the API."""
    for category, region in sorted(set(keys)):
        await _exec(
            session,
            text("SELECT pg_advisory_xact_lock(hashtext(:k))"),
            {"k": f"alerting:series:{category}:{region}"},
        )


async def try_lock(session: AsyncSession, name: str) -> bool:
    """Take a transaction-scoped lock named `name` if nobody holds it."""
    return bool(
        await session.scalar(text("SELECT pg_try_advisory_xact_lock(hashtext(:k))"), {"k": name})
    )


# ----------------------------------------------------------------------- clocks


async def advance_clocks(
    session: AsyncSession, latest: dict[str, datetime], wall: datetime
) -> dict[str, DetectionClock]:
    """Move each category's clock to at least its latest event time; return the clocks."""
    if not latest:
        return {}
    rows = await _exec(
        session,
        text(
            "INSERT INTO alert_clocks (category, watermark, observed_at) "
            "SELECT unnest(CAST(:cats AS text[])), unnest(CAST(:times AS timestamptz[])), :wall "
            "ON CONFLICT (category) DO UPDATE SET "
            "watermark = GREATEST(alert_clocks.watermark + GREATEST(interval '0', "
            "EXCLUDED.observed_at - alert_clocks.observed_at), EXCLUDED.watermark), "
            "observed_at = GREATEST(alert_clocks.observed_at, EXCLUDED.observed_at) "
            "RETURNING category, watermark, observed_at"
        ),
        {"cats": list(latest), "times": list(latest.values()), "wall": wall},
    )
    return {r.category: DetectionClock(r.watermark, r.observed_at) for r in rows}


async def load_clocks(session: AsyncSession) -> dict[str, DetectionClock]:
    rows = await _exec(session, text("SELECT category, watermark, observed_at FROM alert_clocks"))
    return {r.category: DetectionClock(r.watermark, r.observed_at) for r in rows}


# ----------------------------------------------------------------------- complaints


async def register_filings(
    session: AsyncSession, filings: Sequence[tuple[str, str, str, datetime]]
) -> set[str]:
    """Record complaints (id, category, region, minute); return the ids counted now.

    A complaint already seen, or withdrawn before its filing arrived, is not counted.
    """
    if not filings:
        return set()
    rows = await _exec(
        session,
        text(
            "INSERT INTO alert_complaints (complaint_id, category, region, minute) "
            "SELECT unnest(CAST(:ids AS text[])), unnest(CAST(:cats AS text[])), "
            "unnest(CAST(:regions AS text[])), unnest(CAST(:minutes AS timestamptz[])) "
            "ON CONFLICT (complaint_id) DO NOTHING RETURNING complaint_id"
        ),
        {
            "ids": [f[0] for f in filings],
            "cats": [f[1] for f in filings],
            "regions": [f[2] for f in filings],
            "minutes": [f[3] for f in filings],
        },
    )
    return {r[0] for r in rows}


async def register_withdrawals(
    session: AsyncSession, complaint_ids: Sequence[str]
) -> list[tuple[str, str, datetime]]:
    """Mark complaints withdrawn; return (category, region, minute) of those that counted.

    A withdrawal that arrives before its filing leaves a tombstone, so the filing
    is never counted.
    """
    if not complaint_ids:
        return []
    ids = list(dict.fromkeys(complaint_ids))
    rows = (
        await _exec(
            session,
            text(
                "UPDATE alert_complaints SET withdrawn = true "
                "WHERE complaint_id = ANY(:ids) AND NOT withdrawn "
                "RETURNING complaint_id, category, region, minute"
            ),
            {"ids": ids},
        )
    ).all()
    await _exec(
        session,
        text(
            "INSERT INTO alert_complaints (complaint_id, withdrawn) "
            "SELECT unnest(CAST(:ids AS text[])), true ON CONFLICT DO NOTHING"
        ),
        {"ids": ids},
    )
    return [(r.category, r.region, r.minute) for r in rows if r.category is not None]


async def add_to_buckets(
    session: AsyncSession,
    filed: Counter[tuple[str, str, datetime]],
    withdrawn: Counter[tuple[str, str, datetime]],
) -> None:
    """Add filed and withdrawn complaints to their minute buckets (one statement)."""
    keys = sorted(set(filed) | set(withdrawn))
    if not keys:
        return
    await _exec(
        session,
        text(
            "INSERT INTO alert_complaint_buckets (category, region, minute, filed, withdrawn) "
            "SELECT unnest(CAST(:cats AS text[])), unnest(CAST(:regions AS text[])), "
            "unnest(CAST(:minutes AS timestamptz[])), unnest(CAST(:filed AS int[])), "
            "unnest(CAST(:withdrawn AS int[])) "
            "ON CONFLICT (category, region, minute) DO UPDATE SET "
            "filed = alert_complaint_buckets.filed + EXCLUDED.filed, "
            "withdrawn = alert_complaint_buckets.withdrawn + EXCLUDED.withdrawn"
        ),
        {
            "cats": [k[0] for k in keys],
            "regions": [k[1] for k in keys],
            "minutes": [k[2] for k in keys],
            "filed": [filed.get(k, 0) for k in keys],
            "withdrawn": [withdrawn.get(k, 0) for k in keys],
        },
    )


async def window_buckets(
    session: AsyncSession, category: str, region: str, first: datetime, last: datetime
) -> dict[datetime, int]:
    """Return net complaints per minute of a series between two minutes (inclusive)."""
    rows = await _exec(
        session,
        text(
            "SELECT minute, sum(filed - withdrawn) AS n FROM alert_complaint_buckets "
            "WHERE category = :c AND (:r = '*' OR region = :r) AND minute BETWEEN :a AND :b "
            "GROUP BY minute"
        ),
        {"c": category, "r": region, "a": first, "b": last},
    )
    return {r.minute: int(r.n) for r in rows}


# ----------------------------------------------------------------------- baselines


async def ensure_series(session: AsyncSession, series: dict[SeriesKey, datetime]) -> None:
    """Start watching series (their baseline learns from the given hour on)."""
    if not series:
        return
    keys = sorted(series)
    await _exec(
        session,
        text(
            "INSERT INTO alert_series (category, region, learned_through) "
            "SELECT unnest(CAST(:cats AS text[])), unnest(CAST(:regions AS text[])), "
            "unnest(CAST(:hours AS timestamptz[])) ON CONFLICT DO NOTHING"
        ),
        {
            "cats": [k[0] for k in keys],
            "regions": [k[1] for k in keys],
            "hours": [series[k] for k in keys],
        },
    )


async def baseline_slot(
    session: AsyncSession, category: str, region: str, hour_of_week: int
) -> BaselineSlot | None:
    row = (
        await _exec(
            session,
            text(
                "SELECT per_hour, samples FROM alert_baselines "
                "WHERE category = :c AND region = :r AND hour_of_week = :h"
            ),
            {"c": category, "r": region, "h": hour_of_week},
        )
    ).first()
    return BaselineSlot(row.per_hour, row.samples) if row else None


async def all_series(session: AsyncSession) -> list[tuple[str, str, datetime]]:
    rows = await _exec(
        session, text("SELECT category, region, learned_through FROM alert_series ORDER BY 1, 2")
    )
    return [(r.category, r.region, r.learned_through) for r in rows]


async def hourly_counts(
    session: AsyncSession, category: str, region: str, start: datetime, end: datetime
) -> dict[datetime, int]:
    """Net complaints per hour of a series in [start, end)."""
    rows = await _exec(
        session,
        text(
            "SELECT date_trunc('hour', minute, 'UTC') AS hour, sum(filed - withdrawn) AS n "
            "FROM alert_complaint_buckets WHERE category = :c AND (:r = '*' OR region = :r) "
            "AND minute >= :a AND minute < :b GROUP BY 1"
        ),
        {"c": category, "r": region, "a": start, "b": end},
    )
    return {r.hour: int(r.n) for r in rows}


async def baseline_slots(
    session: AsyncSession, category: str, region: str
) -> dict[int, BaselineSlot]:
    rows = await _exec(
        session,
        text(
            "SELECT hour_of_week, per_hour, samples FROM alert_baselines "
            "WHERE category = :c AND region = :r"
        ),
        {"c": category, "r": region},
    )
    return {r.hour_of_week: BaselineSlot(r.per_hour, r.samples) for r in rows}


async def save_baselines(
    session: AsyncSession,
    category: str,
    region: str,
    slots: dict[int, BaselineSlot],
    learned_through: datetime,
) -> None:
    if slots:
        hours = sorted(slots)
        await _exec(
            session,
            text(
                "INSERT INTO alert_baselines (category, region, hour_of_week, per_hour, samples) "
                "SELECT :c, :r, unnest(CAST(:h AS smallint[])), unnest(CAST(:p AS float8[])), "
                "unnest(CAST(:s AS int[])) ON CONFLICT (category, region, hour_of_week) "
                "DO UPDATE SET per_hour = EXCLUDED.per_hour, samples = EXCLUDED.samples"
            ),
            {
                "c": category,
                "r": region,
                "h": hours,
                "p": [slots[h].per_hour for h in hours],
                "s": [slots[h].samples for h in hours],
            },
        )
    await _exec(
        session,
        text("UPDATE alert_series SET learned_through = :t WHERE category = :c AND region = :r"),
        {"c": category, "r": region, "t": learned_through},
    )


async def purge_history(session: AsyncSession, before: datetime) -> None:
    """Forget minute buckets and complaint ids older than the retention."""
    await _exec(
        session, text("DELETE FROM alert_complaint_buckets WHERE minute < :t"), {"t": before}
    )
    await _exec(session, text("DELETE FROM alert_complaints WHERE minute < :t"), {"t": before})


# ----------------------------------------------------------------------- rules and silences


async def latest_rule_set_id(session: AsyncSession) -> int | None:
    latest = await session.scalar(text("SELECT max(id) FROM alert_rule_sets"))
    return int(latest) if latest is not None else None


async def rule_set(session: AsyncSession, rule_set_id: int) -> dict[str, Any]:
    row = (
        await _exec(
            session,
            text("SELECT document, updated_by, created_at FROM alert_rule_sets WHERE id = :i"),
            {"i": rule_set_id},
        )
    ).one()
    return {
        "version": rule_set_id,
        "updated_by": row.updated_by,
        "updated_at": row.created_at,
        **row.document,
    }


async def save_rule_set(session: AsyncSession, document: dict[str, Any], by: str) -> int:
    return int(
        await session.scalar(
            text(
                "INSERT INTO alert_rule_sets (document, updated_by) "
                "VALUES (CAST(:d AS jsonb), :b) RETURNING id"
            ),
            {"d": _json(document), "b": by},
        )
        or 0
    )


async def add_silence(
    session: AsyncSession, silence: Silence, *, reason: str, by: str
) -> dict[str, Any]:
    row = (
        await _exec(
            session,
            text(
                "INSERT INTO alert_silences (category, region, starts_at, ends_at, reason, "
                "created_by) VALUES (:c, :r, :s, :e, :why, :by) RETURNING *"
            ),
            {
                "c": silence.category,
                "r": silence.region,
                "s": silence.starts_at,
                "e": silence.ends_at,
                "why": reason,
                "by": by,
            },
        )
    ).one()
    return dict(row._mapping)


async def silences(
    session: AsyncSession, *, category: str | None = None, active_at: datetime | None = None
) -> list[dict[str, Any]]:
    rows = await _exec(
        session,
        text(
            "SELECT * FROM alert_silences WHERE (CAST(:c AS text) IS NULL OR category = :c) "
            "AND (CAST(:t AS timestamptz) IS NULL OR ends_at > :t) ORDER BY id"
        ),
        {"c": category, "t": active_at},
    )
    return [dict(r._mapping) for r in rows]


async def delete_silence(session: AsyncSession, silence_id: int) -> bool:
    result = await _exec(
        session, text("DELETE FROM alert_silences WHERE id = :i RETURNING id"), {"i": silence_id}
    )
    return result.first() is not None


def silence_of(row: dict[str, Any]) -> Silence:
    return Silence(row["category"], row["region"], row["starts_at"], row["ends_at"], row["id"])


# ----------------------------------------------------------------------- incidents


@dataclass(frozen=True, slots=True)
class IncidentRecord:
    """An incident as stored, with what the domain model does not carry."""

    incident: Incident
    department: str
    window_minutes: int


_INCIDENT_FIELDS = (
    "status, level, notified_level, last_notified_at, repeats, acknowledged_at, "
    "acknowledged_by, below_since, resolved_at, resolved_by, resolution, last_count, "
    "peak_count, baseline, threshold, silenced"
)


def _incident(row: Any) -> IncidentRecord:
    m = row._mapping
    return IncidentRecord(
        Incident(
            id=m["id"],
            rule_id=m["rule_id"],
            category=m["category"],
            region=m["region"],
            opened_at=m["opened_at"],
            status=Status(m["status"]),
            level=m["level"],
            notified_level=m["notified_level"],
            last_notified_at=m["last_notified_at"],
            repeats=m["repeats"],
            acknowledged_at=m["acknowledged_at"],
            acknowledged_by=m["acknowledged_by"],
            below_since=m["below_since"],
            resolved_at=m["resolved_at"],
            resolved_by=m["resolved_by"],
            resolution=m["resolution"],
            last_count=m["last_count"],
            peak_count=m["peak_count"],
            baseline=m["baseline"],
            threshold=m["threshold"],
            silenced=m["silenced"],
        ),
        department=m["department"],
        window_minutes=m["window_minutes"],
    )


async def active_incident(
    session: AsyncSession, rule_id: str, region: str
) -> IncidentRecord | None:
    row = (
        await _exec(
            session,
            text(
                "SELECT * FROM alert_incidents WHERE rule_id = :r AND region = :g "
                "AND status <> 'resolved' FOR UPDATE"
            ),
            {"r": rule_id, "g": region},
        )
    ).first()
    return _incident(row) if row else None


async def incident(
    session: AsyncSession, incident_id: int, *, for_update: bool = False
) -> IncidentRecord | None:
    row = (
        await _exec(
            session,
            text(
                "SELECT * FROM alert_incidents WHERE id = :i"
                + (" FOR UPDATE" if for_update else "")
            ),
            {"i": incident_id},
        )
    ).first()
    return _incident(row) if row else None


async def active_series(session: AsyncSession) -> list[tuple[str, str, str]]:
    """(rule_id, category, region) of every active incident."""
    rows = await _exec(
        session,
        text(
            "SELECT rule_id, category, region FROM alert_incidents "
            "WHERE status <> 'resolved' ORDER BY id"
        ),
    )
    return [(r.rule_id, r.category, r.region) for r in rows]


async def save_incident(
    session: AsyncSession, incident: Incident, *, department: str, window_minutes: int
) -> int:
    """Insert a new incident or update a stored one; return its id."""
    values = {
        "status": incident.status.value,
        "level": incident.level,
        "notified_level": incident.notified_level,
        "last_notified_at": incident.last_notified_at,
        "repeats": incident.repeats,
        "acknowledged_at": incident.acknowledged_at,
        "acknowledged_by": incident.acknowledged_by,
        "below_since": incident.below_since,
        "resolved_at": incident.resolved_at,
        "resolved_by": incident.resolved_by,
        "resolution": incident.resolution,
        "last_count": incident.last_count,
        "peak_count": incident.peak_count,
        "baseline": incident.baseline,
        "threshold": incident.threshold,
        "silenced": incident.silenced,
    }
    if incident.id is None:
        columns = ", ".join(values)
        params = ", ".join(f":{k}" for k in values)
        return int(
            await session.scalar(
                text(
                    "INSERT INTO alert_incidents (rule_id, category, region, department, "
                    f"opened_at, window_minutes, {columns}) VALUES (:rule_id, :category, "
                    f":region, :department, :opened_at, :window_minutes, {params}) RETURNING id"
                ),
                {
                    **values,
                    "rule_id": incident.rule_id,
                    "category": incident.category,
                    "region": incident.region,
                    "department": department,
                    "opened_at": incident.opened_at,
                    "window_minutes": window_minutes,
                },
            )
            or 0
        )
    assignments = ", ".join(f"{k} = :{k}" for k in values)
    await _exec(
        session,
        text(f"UPDATE alert_incidents SET {assignments}, updated_at = now() WHERE id = :id"),
        {**values, "id": incident.id},
    )
    return incident.id


async def add_incident_event(
    session: AsyncSession,
    *,
    incident_id: int,
    kind: str,
    at: datetime,
    level: int,
    count: int,
    actor: str | None,
    detail: dict[str, Any],
) -> int:
    return int(
        await session.scalar(
            text(
                "INSERT INTO alert_incident_events (incident_id, kind, at, level, count, actor, "
                "detail) VALUES (:i, :k, :at, :l, :n, :a, CAST(:d AS jsonb)) RETURNING id"
            ),
            {
                "i": incident_id,
                "k": kind,
                "at": at,
                "l": level,
                "n": count,
                "a": actor,
                "d": _json(detail),
            },
        )
        or 0
    )


async def list_incidents(
    session: AsyncSession, *, statuses: Sequence[str] | None, limit: int, before: int | None
) -> list[dict[str, Any]]:
    rows = await _exec(
        session,
        text(
            "SELECT * FROM alert_incidents WHERE (CAST(:s AS text[]) IS NULL OR status = ANY(:s)) "
            "AND (CAST(:b AS bigint) IS NULL OR id < :b) ORDER BY id DESC LIMIT :n"
        ),
        {"s": list(statuses) if statuses else None, "b": before, "n": limit},
    )
    return [dict(r._mapping) for r in rows]


async def incident_row(session: AsyncSession, incident_id: int) -> dict[str, Any] | None:
    row = (
        await _exec(
            session, text("SELECT * FROM alert_incidents WHERE id = :i"), {"i": incident_id}
        )
    ).first()
    return dict(row._mapping) if row else None


async def incident_events(session: AsyncSession, incident_id: int) -> list[dict[str, Any]]:
    rows = await _exec(
        session,
        text(
            "SELECT id, kind, at, level, count, actor, detail, recorded_at "
            "FROM alert_incident_events WHERE incident_id = :i ORDER BY id"
        ),
        {"i": incident_id},
    )
    return [dict(r._mapping) for r in rows]


async def open_incident_levels(session: AsyncSession) -> dict[int, int]:
    rows = await _exec(
        session,
        text(
            "SELECT level, count(*) AS n FROM alert_incidents WHERE status <> 'resolved' "
            "GROUP BY level"
        ),
    )
    return {r.level: r.n for r in rows}


# ----------------------------------------------------------------------- SMS outbox


@dataclass(frozen=True, slots=True)
class QueuedSms:
    incident_id: int
    level: int
    kind: str
    phone: str
    recipient: str
    body: str
    detected_at: datetime | None


async def queue_sms(session: AsyncSession, messages: Sequence[QueuedSms], now: datetime) -> int:
    """Queue SMS; one already queued for the same incident, level, kind and phone is skipped."""
    if not messages:
        return 0
    result = await _exec(
        session,
        text(
            "INSERT INTO alert_sms (incident_id, level, kind, phone, recipient, body, status, "
            "next_attempt_at, detected_at) "
            "SELECT unnest(CAST(:i AS bigint[])), unnest(CAST(:l AS smallint[])), "
            "unnest(CAST(:k AS text[])), unnest(CAST(:p AS text[])), unnest(CAST(:r AS text[])), "
            "unnest(CAST(:b AS text[])), 'queued', :now, unnest(CAST(:d AS timestamptz[])) "
            "ON CONFLICT ON CONSTRAINT ux_alert_sms_once DO NOTHING RETURNING id"
        ),
        {
            "i": [m.incident_id for m in messages],
            "l": [m.level for m in messages],
            "k": [m.kind for m in messages],
            "p": [m.phone for m in messages],
            "r": [m.recipient for m in messages],
            "b": [m.body for m in messages],
            "d": [m.detected_at for m in messages],
            "now": now,
        },
    )
    return len(result.all())


async def alerted_recipients(session: AsyncSession, incident_id: int) -> list[tuple[str, str]]:
    """(phone, name) of everyone sent an alert or a repeat about the incident."""
    rows = await _exec(
        session,
        text(
            "SELECT phone, min(recipient) AS recipient FROM alert_sms WHERE incident_id = :i "
            "AND kind <> 'resolved' GROUP BY phone ORDER BY min(id)"
        ),
        {"i": incident_id},
    )
    return [(r.phone, r.recipient) for r in rows]


async def incident_sms(session: AsyncSession, incident_id: int) -> list[dict[str, Any]]:
    rows = await _exec(
        session,
        text(
            "SELECT id, level, kind, phone, recipient, body, status, attempts, provider, "
            "provider_message_id, last_error, created_at, sent_at, delivered_at, failed_at, "
            "next_attempt_at FROM alert_sms WHERE incident_id = :i ORDER BY id"
        ),
        {"i": incident_id},
    )
    return [dict(r._mapping) for r in rows]


async def sms_status_counts(session: AsyncSession) -> dict[str, int]:
    rows = await _exec(session, text("SELECT status, count(*) AS n FROM alert_sms GROUP BY 1"))
    return {r.status: r.n for r in rows}


def region_label(region: str) -> str:
    return "all regions" if region == ALL_REGIONS else region


@dataclass(frozen=True, slots=True)
class DueSms:
    id: int
    incident_id: int
    level: int
    kind: str
    phone: str
    body: str
    attempts: int
    detected_at: datetime | None


async def due_sms(session: AsyncSession, now: datetime, limit: int) -> list[DueSms]:
    """Lock the SMS due now: queued ones, and sends whose lease ran out (the sender died)."""
    rows = await _exec(
        session,
        text(
            "SELECT id, incident_id, level, kind, phone, body, attempts, detected_at "
            "FROM alert_sms WHERE next_attempt_at <= :now AND (status = 'queued' "
            "OR (status = 'sending' AND lease_until < :now)) "
            "ORDER BY next_attempt_at, id LIMIT :n FOR UPDATE SKIP LOCKED"
        ),
        {"now": now, "n": limit},
    )
    return [DueSms(**r._mapping) for r in rows]


async def recent_sends(
    session: AsyncSession, phones: Sequence[str], since: datetime
) -> dict[str, list[datetime]]:
    """When each phone was sent SMS since `since` (sends in flight count as now)."""
    rows = await _exec(
        session,
        text(
            "SELECT phone, COALESCE(sent_at, now()) AS at FROM alert_sms "
            "WHERE phone = ANY(:p) AND (sent_at >= :since OR status = 'sending')"
        ),
        {"p": list(set(phones)), "since": since},
    )
    sends: dict[str, list[datetime]] = {}
    for r in rows:
        sends.setdefault(r.phone, []).append(r.at)
    return sends


async def lease_sms(session: AsyncSession, ids: Sequence[int], until: datetime) -> None:
    await _exec(
        session,
        text(
            "UPDATE alert_sms SET status = 'sending', attempts = attempts + 1, "
            "lease_until = :u WHERE id = ANY(:i)"
        ),
        {"i": list(ids), "u": until},
    )


async def postpone_sms(session: AsyncSession, sms_id: int, until: datetime, why: str) -> None:
    await _exec(
        session,
        text(
            "UPDATE alert_sms SET status = 'queued', next_attempt_at = :u, lease_until = NULL, "
            "last_error = :w WHERE id = :i"
        ),
        {"i": sms_id, "u": until, "w": why},
    )


async def sms_handed(
    session: AsyncSession,
    sms_id: int,
    *,
    provider: str,
    provider_message_id: str | None,
    delivered: bool,
    at: datetime,
) -> None:
    """Record an SMS the gateway took (a receipt that came first is kept)."""
    await _exec(
        session,
        text(
            "UPDATE alert_sms SET status = CASE WHEN status = 'sending' THEN :s ELSE status END, "
            "provider = :p, provider_message_id = COALESCE(provider_message_id, :m), "
            "sent_at = COALESCE(sent_at, :at), lease_until = NULL, last_error = NULL, "
            "delivered_at = CASE WHEN :d THEN COALESCE(delivered_at, :at) ELSE delivered_at END "
            "WHERE id = :i"
        ),
        {
            "i": sms_id,
            "s": "delivered" if delivered else "sent",
            "p": provider,
            "m": provider_message_id,
            "d": delivered,
            "at": at,
        },
    )


async def sms_failed(
    session: AsyncSession, sms_id: int, *, provider: str, error: str, at: datetime
) -> None:
    await _exec(
        session,
        text(
            "UPDATE alert_sms SET status = 'failed', provider = :p, last_error = :e, "
            "failed_at = :at, lease_until = NULL WHERE id = :i"
        ),
        {"i": sms_id, "p": provider, "e": error[:1000], "at": at},
    )


async def sms_receipt(
    session: AsyncSession,
    *,
    key: str | None,
    provider_message_id: str | None,
    delivered: bool,
    error: str | None,
    at: datetime,
) -> int | None:
    """Apply a delivery receipt; return the SMS id it matched (None if none did)."""
    sms_id: int | None = None
    if key and key.startswith("sms-") and key[4:].isdigit():
        sms_id = int(key[4:])
    row = (
        await _exec(
            session,
            text(
                "UPDATE alert_sms SET status = :s, "
                "delivered_at = CASE WHEN :d THEN :at ELSE delivered_at END, "
                "failed_at = CASE WHEN :d THEN failed_at ELSE :at END, "
                "last_error = COALESCE(:e, last_error) "
                "WHERE (id = :i OR (CAST(:i AS bigint) IS NULL AND provider_message_id = :m)) "
                "AND status IN ('sending', 'sent') RETURNING id"
            ),
            {
                "s": "delivered" if delivered else "failed",
                "d": delivered,
                "at": at,
                "e": error,
                "i": sms_id,
                "m": provider_message_id,
            },
        )
    ).first()
    return int(row.id) if row else None
