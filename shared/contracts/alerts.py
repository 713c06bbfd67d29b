"""Events on `cc.alerts.v1` (alerting): a complaint-surge incident's lifecycle.

Keyed by incident id, so one incident's events stay in order. Every event
carries the incident as it stands after the change (`incident`) and what
changed (`detail`, typed per event).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr

from shared.contracts.derived import DerivedEvent, Name, Timestamp, example
from shared.contracts.topics import ALERTS

Level = Annotated[StrictInt, Field(ge=0, le=9)]
Count = Annotated[StrictInt, Field(ge=0)]


class _Part(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, strict=True)


class IncidentSnapshot(_Part):
    """The incident after the change."""

    id: Annotated[StrictInt, Field(ge=1)]
    rule_id: Name
    category: Name
    region: Name
    department: Name
    status: Literal["open", "escalated", "acknowledged", "resolved"]
    level: Level
    count: Count
    peak_count: Count
    baseline: StrictFloat
    threshold: Count
    opened_at: Timestamp
    acknowledged_at: Timestamp | None
    resolved_at: Timestamp | None
    resolution: StrictStr | None


class OpenedDetail(_Part):
    count: Count
    baseline: StrictFloat
    threshold: Count


class EscalatedDetail(_Part):
    from_level: Level
    to_level: Level
    reason: Literal["opened", "volume", "duration"]
    count: Count


class SilencedDetail(_Part):
    level: Level


class RenotifiedDetail(_Part):
    level: Level
    round: Annotated[StrictInt, Field(ge=1)]


class AcknowledgedDetail(_Part):
    by: Name
    note: StrictStr | None


class ResolvedDetail(_Part):
    reason: Literal["cooldown", "manual"]
    by: Name | None
    note: StrictStr | None


class IncidentEvent(DerivedEvent):
    """Something happened to an incident."""

    topic = ALERTS

    source: Literal["alerting"] = "alerting"
    incident: IncidentSnapshot

    @property
    def partition_key(self) -> str:
        return str(self.incident.id)


_INCIDENT = {
    "id": 42,
    "rule_id": "network",
    "category": "network",
    "region": "*",
    "department": "network-operations",
    "status": "open",
    "level": 1,
    "count": 57,
    "peak_count": 57,
    "baseline": 6.5,
    "threshold": 20,
    "opened_at": "2026-11-30T09:12:00+00:00",
    "acknowledged_at": None,
    "resolved_at": None,
    "resolution": None,
}


def _example(kind: str, detail: dict[str, object], **incident: object) -> ConfigDict:
    return example(
        event_id=f"alerting/incident-42/{kind}",
        type=f"incident.{kind}",
        source="alerting",
        occurred_at="2026-11-30T09:12:00+00:00",
        incident={**_INCIDENT, **incident},
        detail=detail,
    )


class IncidentOpened(IncidentEvent):
    """A surge passed its rule's trigger: an incident opened."""

    model_config = _example("opened", {"count": 57, "baseline": 6.5, "threshold": 20}, level=0)
    type: Literal["incident.opened"] = "incident.opened"
    detail: OpenedDetail


class IncidentEscalated(IncidentEvent):
    """The incident reached a higher level of its ladder (its recipients get SMS)."""

    model_config = _example(
        "escalated", {"from_level": 0, "to_level": 1, "reason": "opened", "count": 57}
    )
    type: Literal["incident.escalated"] = "incident.escalated"
    detail: EscalatedDetail


class IncidentSilenced(IncidentEvent):
    """Notifications at a level were held back by a silence."""

    model_config = _example("silenced", {"level": 1})
    type: Literal["incident.silenced"] = "incident.silenced"
    detail: SilencedDetail


class IncidentRenotified(IncidentEvent):
    """The current level was notified again (unacknowledged for `repeat_minutes`)."""

    model_config = _example("renotified", {"level": 1, "round": 1})
    type: Literal["incident.renotified"] = "incident.renotified"
    detail: RenotifiedDetail


class IncidentAcknowledged(IncidentEvent):
    """Someone took the incident on: time-based escalation and repeats stop."""

    model_config = _example(
        "acknowledged",
        {"by": "manager-1", "note": "on it"},
        status="acknowledged",
        acknowledged_at="2026-11-30T09:20:00+00:00",
    )
    type: Literal["incident.acknowledged"] = "incident.acknowledged"
    detail: AcknowledgedDetail


class IncidentResolved(IncidentEvent):
    """The incident ended, by cool-down or by hand; everyone notified gets an SMS."""

    model_config = _example(
        "resolved",
        {"reason": "cooldown", "by": None, "note": None},
        status="resolved",
        resolved_at="2026-11-30T10:45:00+00:00",
        resolution="cooldown",
    )
    type: Literal["incident.resolved"] = "incident.resolved"
    detail: ResolvedDetail


INCIDENT_EVENTS: tuple[type[IncidentEvent], ...] = (
    IncidentOpened,
    IncidentEscalated,
    IncidentSilenced,
    IncidentRenotified,
    IncidentAcknowledged,
    IncidentResolved,
)
