"""Acknowledging and resolving an incident by hand, in the caller's unit of work.

Each use case locks the incident's series (as the consumer and the ticker do),
reloads the incident under it, asks the domain at the detection clock's time,
and records the change: the incident, its audit trail, its cc.alerts.v1 events
and its SMS. Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services.alerting.detection import Detector
from services.alerting.domain import incidents as lifecycle
from services.alerting.domain.incidents import Assessment, Incident
from services.alerting.repo import incidents as incident_store
from services.alerting.repo import series as series_store


class IncidentNotFound(LookupError):
    """No incident has this id."""


async def acknowledge(
    session: AsyncSession,
    *,
    detector: Detector,
    incident_id: int,
    by: str,
    note: str | None,
    wall: datetime,
) -> dict[str, Any]:
    """Acknowledge an incident; return it as stored (raises `IncidentClosed` if resolved)."""
    return await _change(
        session,
        detector,
        incident_id,
        by=by,
        wall=wall,
        decide=lambda incident, now: lifecycle.acknowledge(incident, by=by, now=now, note=note),
    )


async def resolve(
    session: AsyncSession,
    *,
    detector: Detector,
    incident_id: int,
    by: str,
    note: str | None,
    wall: datetime,
) -> dict[str, Any]:
    """Resolve an incident by hand; return it as stored."""
    return await _change(
        session,
        detector,
        incident_id,
        by=by,
        wall=wall,
        decide=lambda incident, now: lifecycle.resolve(incident, by=by, now=now, note=note),
    )


async def _change(
    session: AsyncSession,
    detector: Detector,
    incident_id: int,
    *,
    by: str,
    wall: datetime,
    decide: Callable[[Incident, datetime], Assessment],
) -> dict[str, Any]:
    """Load the incident under its series lock, decide at detection time, record."""
    stored = await incident_store.incident(session, incident_id)
    if stored is None:
        raise IncidentNotFound(f"incident {incident_id} not found")
    await series_store.lock_series(session, [(stored.incident.category, stored.incident.region)])
    stored = await incident_store.incident(session, incident_id, for_update=True)
    assert stored is not None  # incidents are never deleted
    clock = (await series_store.load_clocks(session)).get(series_store.STREAM)
    now = clock.now(wall) if clock else wall
    result = decide(stored.incident, now)
    await detector.rules.refresh(session)
    await detector.record_change(session, stored, result, now=now, detected_at=wall, actor=by)
    row = await incident_store.incident_row(session, incident_id)
    assert row is not None
    return row
