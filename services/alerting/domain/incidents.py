"""The incident lifecycle (domain.md §8): open → escalated → acknowledged → resolved.

`assess` / `acknowledge` / `resolve` take an incident and `now` and return an
`Assessment`: the incident's new state, its past-tense `IncidentEvent`s (the
audit trail and the cc.alerts.v1 events) and the `Notify` decisions (which
level gets which SMS).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from services.alerting.domain.ladder import Reason
from services.alerting.domain.surge import SurgeRule


class Status(StrEnum):
    OPEN = "open"
    ESCALATED = "escalated"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class Incident:
    """A complaint surge of one series, from detection to resolution.

    `level` is the highest level reached; `notified_level` the highest level
    whose recipients were sent the alert (lower while a silence holds SMS back).
    """

    rule_id: str
    category: str
    region: str
    opened_at: datetime
    status: Status = Status.OPEN
    level: int = 1
    notified_level: int = 0
    last_notified_at: datetime | None = None
    repeats: int = 0
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    below_since: datetime | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    resolution: str | None = None
    last_count: int = 0
    peak_count: int = 0
    baseline: float = 0.0
    threshold: int = 0
    silenced: bool = False
    id: int | None = None

    @property
    def active(self) -> bool:
        return self.status is not Status.RESOLVED

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_at is not None

    def minutes_open(self, now: datetime) -> float:
        return max(0.0, (now - self.opened_at).total_seconds() / 60)


# Past-tense events of an incident (its audit trail and its cc.alerts.v1 events).


@dataclass(frozen=True, slots=True)
class IncidentOpened:
    count: int
    baseline: float
    threshold: int
    kind: str = "opened"


@dataclass(frozen=True, slots=True)
class LevelReached:
    from_level: int
    to_level: int
    reason: Reason
    count: int
    kind: str = "escalated"


@dataclass(frozen=True, slots=True)
class NotificationsSuppressed:
    level: int
    kind: str = "silenced"


@dataclass(frozen=True, slots=True)
class Renotified:
    level: int
    round: int
    kind: str = "renotified"


@dataclass(frozen=True, slots=True)
class Acknowledged:
    by: str
    note: str | None
    kind: str = "acknowledged"


@dataclass(frozen=True, slots=True)
class Resolved:
    reason: Literal["cooldown", "manual"]
    by: str | None
    note: str | None = None
    kind: str = "resolved"


IncidentEvent = (
    IncidentOpened | LevelReached | NotificationsSuppressed | Renotified | Acknowledged | Resolved
)

NotifyKind = Literal["alert", "repeat", "resolved"]


@dataclass(frozen=True, slots=True)
class Notify:
    """Send an SMS of `kind` about the incident.

    alert/repeat: to the recipients of `level`; resolved: to everyone who was
    sent an alert or a repeat about the incident. `round` numbers repeats.
    """

    kind: NotifyKind
    level: int
    round: int = 0

    @property
    def tag(self) -> str:
        """The SMS kind as stored (unique per incident, level and recipient)."""
        return f"repeat-{self.round}" if self.kind == "repeat" else self.kind


@dataclass(frozen=True, slots=True)
class Assessment:
    """What assessing a series decided: the incident's new state, events, SMS."""

    incident: Incident | None
    events: tuple[IncidentEvent, ...] = ()
    notify: tuple[Notify, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.events or self.notify)


def _status(incident: Incident) -> Status:
    if incident.resolved_at is not None:
        return Status.RESOLVED
    if incident.acknowledged:
        return Status.ACKNOWLEDGED
    return Status.ESCALATED if incident.level > 1 else Status.OPEN


def assess(
    incident: Incident | None,
    *,
    rule: SurgeRule,
    region: str,
    count: int,
    baseline: float,
    now: datetime,
    silenced: bool = False,
) -> Assessment:
    """Assess one series at `now`: open, escalate, re-notify, cool down or resolve.

    - No active incident: opens one when `count` reaches the trigger.
    - Level: the highest reached so far, or higher when a level's volume
      trigger is met, or (unacknowledged and not cooling down) its time trigger.
      Levels never go down.
    - SMS: every level above the last notified one is alerted (a jump from L1
      to L3 also tells L2); while unacknowledged the current level is re-sent
      every `repeat_minutes`. A silence holds SMS back but not the incident;
      when it ends, levels reached meanwhile are alerted.
    - Resolution: after the count stayed below the trigger for `cooldown_minutes`;
      everyone alerted gets a resolution SMS.
    """
    threshold = rule.threshold(baseline)
    surging = count >= threshold
    events: list[IncidentEvent] = []
    notify: list[Notify] = []
    if incident is None or not incident.active:
        if not surging:
            return Assessment(None)
        incident = Incident(
            rule_id=rule.rule_id,
            category=rule.category,
            region=region,
            opened_at=now,
            level=0,
        )
        events.append(IncidentOpened(count=count, baseline=baseline, threshold=threshold))

    below_since = None if surging else (incident.below_since or now)
    by_time = not incident.acknowledged and below_since is None
    met, reason = rule.ladder.highest_met(count, incident.minutes_open(now), by_time=by_time)
    level = max(incident.level, met)
    if level > incident.level:
        events.append(LevelReached(incident.level, level, reason, count))

    notified_level, last_notified_at, repeats = (
        incident.notified_level,
        incident.last_notified_at,
        incident.repeats,
    )
    if level > notified_level:
        if silenced:
            if level > incident.level or not incident.silenced:
                events.append(NotificationsSuppressed(level))
        else:
            notify.extend(Notify("alert", lv) for lv in range(notified_level + 1, level + 1))
            notified_level, last_notified_at = level, now
    elif (
        not silenced
        and not incident.acknowledged
        and rule.repeat_minutes > 0
        and last_notified_at is not None
        and now - last_notified_at >= timedelta(minutes=rule.repeat_minutes)
    ):
        repeats += 1
        notify.append(Notify("repeat", level, repeats))
        events.append(Renotified(level, repeats))
        last_notified_at = now

    incident = replace(
        incident,
        level=level,
        notified_level=notified_level,
        last_notified_at=last_notified_at,
        repeats=repeats,
        below_since=below_since,
        last_count=count,
        peak_count=max(incident.peak_count, count),
        baseline=baseline,
        threshold=threshold,
        silenced=silenced,
    )
    if below_since is not None and now - below_since >= timedelta(minutes=rule.cooldown_minutes):
        resolved = _resolve(incident, now, Resolved("cooldown", None))
        return Assessment(
            resolved.incident, (*events, *resolved.events), (*notify, *resolved.notify)
        )
    return Assessment(replace(incident, status=_status(incident)), tuple(events), tuple(notify))


def _resolve(incident: Incident, now: datetime, event: Resolved) -> Assessment:
    done = replace(
        incident,
        resolved_at=now,
        resolved_by=event.by,
        resolution=event.reason,
        status=Status.RESOLVED,
    )
    notify = (Notify("resolved", incident.level),) if incident.notified_level > 0 else ()
    return Assessment(done, (event,), notify)


class IncidentClosed(ValueError):
    """The incident is resolved; it can no longer be acknowledged."""


def acknowledge(
    incident: Incident, *, by: str, now: datetime, note: str | None = None
) -> Assessment:
    """Acknowledge: stops time-based escalation and repeats (volume still escalates).

    Acknowledging twice changes nothing; a resolved incident cannot be acknowledged.
    """
    if not incident.active:
        raise IncidentClosed(f"incident {incident.id} is resolved")
    if incident.acknowledged:
        return Assessment(incident)
    done = replace(incident, acknowledged_at=now, acknowledged_by=by, status=Status.ACKNOWLEDGED)
    return Assessment(done, (Acknowledged(by, note),))


def resolve(incident: Incident, *, by: str, now: datetime, note: str | None = None) -> Assessment:
    """Resolve by hand; resolving a resolved incident changes nothing."""
    if not incident.active:
        return Assessment(incident)
    return _resolve(incident, now, Resolved("manual", by, note))
