"""Events on `cc.alerts.v1` (alerting): a complaint-surge incident's lifecycle.

Keyed by incident id, so one incident's events stay in order. Every event
carries the incident as it stands after the change (`incident`) and what
changed (`detail`, typed per event).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr

from shared.contracts.derived import DerivedEvent, Name, Timestamp
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


class IncidentEvent(DerivedEvent):
    """Something happened to an incident."""

    topic = ALERTS

    source: Literal["alerting"] = "alerting"
    incident: IncidentSnapshot

    @property
    def partition_key(self) -> str:
        return str(self.incident.id)


class OpenedDetail(_Part):
    count: Count
    baseline: StrictFloat
    threshold: Count


class IncidentOpened(IncidentEvent):
    """A surge passed its rule's trigger: an incident opened."""

    type: Literal["incident.opened"] = "incident.opened"
    detail: OpenedDetail


class EscalatedDetail(_Part):
    from_level: Level
    to_level: Level
    reason: Literal["opened", "volume", "duration"]
    count: Count


class IncidentEscalated(IncidentEvent):
    """The incident reached a higher level of its ladder (its recipients get SMS)."""

    type: Literal["incident.escalated"] = "incident.escalated"
    detail: EscalatedDetail


class SilencedDetail(_Part):
    level: Level


class IncidentSilenced(IncidentEvent):
    """Notifications at a level were held back by a silence."""

    type: Literal["incident.silenced"] = "incident.silenced"
    detail: SilencedDetail


class RenotifiedDetail(_Part):
    level: Level
    round: Annotated[StrictInt, Field(ge=1)]


class IncidentRenotified(IncidentEvent):
    """The current level was notified again (unacknowledged for `repeat_minutes`)."""

    type: Literal["incident.renotified"] = "incident.renotified"
    detail: RenotifiedDetail


class AcknowledgedDetail(_Part):
    by: Name
    note: StrictStr | None


class IncidentAcknowledged(IncidentEvent):
    """Someone took the incident on: time-based escalation and repeats stop."""

    type: Literal["incident.acknowledged"] = "incident.acknowledged"
    detail: AcknowledgedDetail


class ResolvedDetail(_Part):
    reason: Literal["cooldown", "manual"]
    by: Name | None
    note: StrictStr | None


class IncidentResolved(IncidentEvent):
    """The incident ended, by cool-down or by hand; everyone notified gets an SMS."""

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
