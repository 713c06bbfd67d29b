"""The incident tables: incidents and their audit trail.

Used by detection, the ticker and the incidents API. Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from services.alerting.domain.incidents import Incident, Status
from shared.sql import Executor, execute, mappings, scalar


@dataclass(frozen=True, slots=True)
class IncidentRecord:
    """An incident as stored, with what the domain model does not carry."""

    incident: Incident
    department: str
    window_minutes: int


_IDENTITY = ("rule_id", "category", "region", "opened_at")
"""Columns set when an incident opens and never changed."""
_STATE = (
    "status",
    "level",
    "notified_level",
    "last_notified_at",
    "repeats",
    "acknowledged_at",
    "acknowledged_by",
    "below_since",
    "resolved_at",
    "resolved_by",
    "resolution",
    "last_count",
    "peak_count",
    "baseline",
    "threshold",
    "silenced",
)
"""Columns that follow the incident through its lifecycle."""


def _record(row: Mapping[str, Any]) -> IncidentRecord:
    values = {name: row[name] for name in ("id", *_IDENTITY, *_STATE)}
    values["status"] = Status(values["status"])
    return IncidentRecord(
        Incident(**values), department=row["department"], window_minutes=row["window_minutes"]
    )


async def _one(db: Executor, sql: str, params: Mapping[str, Any]) -> IncidentRecord | None:
    rows = await mappings(db, sql, params)
    return _record(rows[0]) if rows else None


async def active_incident(db: Executor, rule_id: str, region: str) -> IncidentRecord | None:
    """Lock and return the unresolved incident of a rule's series, if any."""
    return await _one(
        db,
        "SELECT * FROM alert_incidents WHERE rule_id = :r AND region = :g "
        "AND status <> 'resolved' FOR UPDATE",
        {"r": rule_id, "g": region},
    )


async def incident(
    db: Executor, incident_id: int, *, for_update: bool = False
) -> IncidentRecord | None:
    """Return an incident (locked for the transaction with `for_update`)."""
    return await _one(
        db,
        "SELECT * FROM alert_incidents WHERE id = :i" + (" FOR UPDATE" if for_update else ""),
        {"i": incident_id},
    )


async def active_series(db: Executor) -> list[tuple[str, str, str]]:
    """Return (rule_id, category, region) of every active incident."""
    rows = await execute(
        db,
        "SELECT rule_id, category, region FROM alert_incidents "
        "WHERE status <> 'resolved' ORDER BY id",
    )
    return [(r.rule_id, r.category, r.region) for r in rows]


async def save_incident(
    db: Executor, incident: Incident, *, department: str, window_minutes: int
) -> int:
    """Insert a new incident or update a stored one; return its id."""
    values: dict[str, Any] = {name: getattr(incident, name) for name in _STATE}
    values["status"] = incident.status.value
    if incident.id is None:
        values |= {name: getattr(incident, name) for name in _IDENTITY}
        values |= {"department": department, "window_minutes": window_minutes}
        columns = ", ".join(values)
        placeholders = ", ".join(f":{name}" for name in values)
        return int(
            await scalar(
                db,
                f"INSERT INTO alert_incidents ({columns}) VALUES ({placeholders}) RETURNING id",
                values,
            )
            or 0
        )
    assignments = ", ".join(f"{name} = :{name}" for name in values)
    await execute(
        db,
        f"UPDATE alert_incidents SET {assignments}, updated_at = now() WHERE id = :id",
        {**values, "id": incident.id},
    )
    return incident.id


async def add_incident_event(
    db: Executor,
    *,
    incident_id: int,
    kind: str,
    at: datetime,
    level: int,
    count: int,
    actor: str | None,
    detail: dict[str, Any],
) -> int:
    """Append an entry to an incident's audit trail; return its id."""
    return int(
        await scalar(
            db,
            "INSERT INTO alert_incident_events (incident_id, kind, at, level, count, actor, "
            "detail) VALUES (:i, :k, :at, :l, :n, :a, CAST(:d AS jsonb)) RETURNING id",
            {
                "i": incident_id,
                "k": kind,
                "at": at,
                "l": level,
                "n": count,
                "a": actor,
                "d": orjson.dumps(detail, default=str).decode(),
            },
        )
        or 0
    )


async def list_incidents(
    db: Executor,
    *,
    statuses: Sequence[str] | None,
    limit: int,
    before: int | None,
    departments: Sequence[str] | None = None,
    rule_ids: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Return incidents newest first, of the given statuses, with ids below `before`; with
    `departments` given, only those of these departments or of the `rule_ids`."""
    return await mappings(
        db,
        "SELECT * FROM alert_incidents WHERE (CAST(:s AS text[]) IS NULL OR status = ANY(:s)) "
        "AND (CAST(:b AS bigint) IS NULL OR id < :b) "
        "AND (CAST(:d AS text[]) IS NULL OR department = ANY(:d) OR rule_id = ANY(:r)) "
        "ORDER BY id DESC LIMIT :n",
        {
            "s": list(statuses) if statuses else None,
            "b": before,
            "n": limit,
            "d": list(departments) if departments is not None else None,
            "r": list(rule_ids),
        },
    )


async def incident_row(db: Executor, incident_id: int) -> dict[str, Any] | None:
    """Return an incident as stored (every column), if it exists."""
    rows = await mappings(db, "SELECT * FROM alert_incidents WHERE id = :i", {"i": incident_id})
    return rows[0] if rows else None


async def incident_events(db: Executor, incident_id: int) -> list[dict[str, Any]]:
    """Return an incident's audit trail, oldest first."""
    return await mappings(
        db,
        "SELECT id, kind, at, level, count, actor, detail, recorded_at "
        "FROM alert_incident_events WHERE incident_id = :i ORDER BY id",
        {"i": incident_id},
    )


async def open_incident_levels(db: Executor) -> dict[int, int]:
    """Return how many unresolved incidents stand at each level."""
    rows = await execute(
        db,
        "SELECT level, count(*) AS n FROM alert_incidents WHERE status <> 'resolved' "
        "GROUP BY level",
    )
    return {r.level: r.n for r in rows}
