"""Acknowledging and resolving an incident by hand, in the caller's unit of work.

Each use case locks the incident's series (as the consumer and the ticker do),
reloads the incident under it, asks the domain at the detection clock's time,
and records the change: the incident, its audit trail, its cc.alerts.v1 events
and its SMS. Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from services.alerting.detection import Detector
from services.alerting.domain import incidents as lifecycle
from services.alerting.domain.incidents import Assessment, Incident
from services.alerting.domain.surge import SurgeRule
from services.alerting.repo import incidents as incident_store
from services.alerting.repo import series as series_store


class Decide(Protocol):
    """A domain decision about an incident taken by hand (acknowledge, resolve)."""

    def __call__(
        self, incident: Incident, *, by: str, now: datetime, note: str | None = None
    ) -> Assessment: ...


class IncidentNotFound(LookupError):
    """No incident has this id (or none the caller may see)."""


@dataclass(frozen=True, slots=True)
class IncidentScope:
    """Which incidents a caller may read and handle: every one (`everything`), or those of
    the departments and rules named. `phones`: whether recipients' numbers are shown."""

    everything: bool
    departments: frozenset[str] = frozenset()
    rule_ids: frozenset[str] = frozenset()
    phones: bool = False

    def covers(self, incident: Mapping[str, Any]) -> bool:
        """Whether the caller may see the incident (a row with `department`, `rule_id`)."""
        return (
            self.everything
            or incident["department"] in self.departments
            or incident["rule_id"] in self.rule_ids
        )


ADMIN_SCOPE = IncidentScope(everything=True, phones=True)


def manager_scope(subject: str, unit: str | None, rules: Iterable[SurgeRule]) -> IncidentScope:
    """A manager's incidents: those of the department they run (their token's `unit` is
    the rule's responsible department) and of every rule whose ladder names them
    (`user` of a recipient). Phone numbers stay masked."""
    on_ladder = frozenset(
        rule.rule_id
        for rule in rules
        if any(
            person.user == subject for level in rule.ladder.levels for person in level.recipients
        )
    )
    return IncidentScope(
        everything=False, departments=frozenset({unit} if unit else ()), rule_ids=on_ladder
    )


def mask_phone(phone: str) -> str:
    """`+8613800000001` → `+86138****0001`: enough to tell people apart, not to call them."""
    return phone[:-8] + "****" + phone[-4:]


@dataclass(frozen=True, slots=True)
class ManualChange:
    """A change to an incident by hand: which incident, who, their note, and when
    (wall clock; the decision is taken at the detection clock's time); `scope`: the
    incidents the caller may handle (others are not found)."""

    incident_id: int
    by: str
    note: str | None
    wall: datetime
    scope: IncidentScope = ADMIN_SCOPE


async def acknowledge(
    session: AsyncSession, detector: Detector, change: ManualChange
) -> dict[str, Any]:
    """Acknowledge an incident; return it as stored (raises `IncidentClosed` if resolved)."""
    return await _apply(session, detector, change, lifecycle.acknowledge)


async def resolve(
    session: AsyncSession, detector: Detector, change: ManualChange
) -> dict[str, Any]:
    """Resolve an incident by hand; return it as stored."""
    return await _apply(session, detector, change, lifecycle.resolve)


async def _apply(
    session: AsyncSession, detector: Detector, change: ManualChange, decide: Decide
) -> dict[str, Any]:
    """Load the incident under its series lock, decide at detection time, record."""
    stored = await incident_store.incident(session, change.incident_id)
    if stored is None or not change.scope.covers(
        {"department": stored.department, "rule_id": stored.incident.rule_id}
    ):
        raise IncidentNotFound(f"incident {change.incident_id} not found")
    await series_store.lock_series(session, [(stored.incident.category, stored.incident.region)])
    stored = await incident_store.incident(session, change.incident_id, for_update=True)
    assert stored is not None  # incidents are never deleted
    clock = (await series_store.load_clocks(session)).get(series_store.STREAM)
    now = clock.now(change.wall) if clock else change.wall
    result = decide(stored.incident, by=change.by, now=now, note=change.note)
    await detector.rules.refresh(session)
    await detector.record_change(
        session, stored, result, now=now, detected_at=change.wall, actor=change.by
    )
    row = await incident_store.incident_row(session, change.incident_id)
    assert row is not None
    return row
