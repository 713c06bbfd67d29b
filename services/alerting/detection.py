"""Assessing a series and recording what was decided, in the caller's transaction.

Used by the complaint consumer (event time), the ticker (wall clock) and the
incident use cases (acknowledge, resolve): each locks the series, loads the
window, baseline, incident and silences, asks the domain, and writes the
incident, its audit trail, its cc.alerts.v1 events (outbox) and its SMS (SMS
outbox) together.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from services.alerting.domain.incidents import Assessment, Incident, IncidentEvent, assess
from services.alerting.domain.sms import SmsFacts, render_sms
from services.alerting.domain.surge import (
    SurgeRule,
    SurgeWindow,
    hour_of_week,
    silenced,
    window_baseline,
)
from services.alerting.metrics import AlertingMetrics
from services.alerting.repo import incidents as incident_store
from services.alerting.repo import rules as rule_store
from services.alerting.repo import series as series_store
from services.alerting.repo import sms as sms_store
from services.alerting.repo.incidents import IncidentRecord
from services.alerting.rules import RuleSetSpec, default_rules
from shared import sql
from shared.contracts import alerts as contract
from shared.contracts.kinds import by_type
from shared.logging import get_logger
from shared.outbox import stage_event

log = get_logger(__name__)
INCIDENT_EVENT: dict[str, type[contract.IncidentEvent]] = {
    event_type.removeprefix("incident."): model
    for event_type, model in by_type(contract.INCIDENT_EVENTS).items()
}
"""The contract of each kind of incident event."""
PRODUCER = "alerting"


class RuleBook:
    """The surge rules in force, reloaded when a newer version is stored."""

    def __init__(self) -> None:
        self.version: int | None = None
        self.rules: list[SurgeRule] = []

    async def refresh(self, session: AsyncSession) -> list[SurgeRule]:
        latest = await rule_store.latest_rule_set_id(session)
        if latest is not None and latest != self.version:
            document = await rule_store.rule_set(session, latest)
            self.rules = RuleSetSpec.model_validate({"rules": document["rules"]}).to_domain()
            self.version = latest
            log.info("surge rules loaded", version=latest, rules=len(self.rules))
        return self.rules

    def find(self, rule_id: str) -> SurgeRule | None:
        return next((r for r in self.rules if r.rule_id == rule_id), None)


async def seed_default_rules(session: AsyncSession) -> None:
    """Store the default rules unless some version exists (safe with instances racing)."""
    if not await sql.try_lock(session, "alerting:seed-rules"):
        return
    if await rule_store.latest_rule_set_id(session) is None:
        await rule_store.save_rule_set(session, default_rules().model_dump(), "system")
        log.info("default surge rules seeded")


@dataclass(frozen=True, slots=True)
class Decision:
    """What one assessment changed (for the caller's logs and wake-ups)."""

    incident_id: int | None
    events: int
    sms: int


class Detector:
    """Assesses series and records the decisions."""

    def __init__(
        self,
        *,
        rules: RuleBook,
        metrics: AlertingMetrics,
        zone: ZoneInfo,
        provider: str,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.rules = rules
        self._metrics = metrics
        self._zone = zone
        self._provider = provider
        self._wall = wall

    async def assess_series(
        self,
        session: AsyncSession,
        *,
        rule: SurgeRule,
        region: str,
        now: datetime,
        detected_at: datetime | None = None,
    ) -> Decision:
        """Assess one series at detection time `now` (the caller holds its lock)."""
        window = SurgeWindow(rule.window_minutes)
        buckets = await series_store.window_buckets(
            session, rule.category, region, window.first_minute(now), now
        )
        count = SurgeWindow(rule.window_minutes, buckets).count(now)
        slot = await series_store.baseline_slot(
            session, rule.category, region, hour_of_week(now, self._zone)
        )
        baseline = window_baseline(slot, rule)
        stored = await incident_store.active_incident(session, rule.rule_id, region)
        if stored is None and not rule.is_surge(count, baseline):
            return Decision(None, 0, 0)
        quiet = silenced(
            [
                rule_store.silence_of(s)
                for s in await rule_store.silences(session, category=rule.category)
            ],
            rule.category,
            region,
            now,
        )
        result = assess(
            stored.incident if stored else None,
            rule=rule,
            region=region,
            count=count,
            baseline=baseline,
            now=now,
            silenced=quiet,
        )
        department = stored.department if stored else rule.department
        return await self.record(
            session,
            result,
            rule=rule,
            department=department,
            now=now,
            detected_at=detected_at or self._wall(),
        )

    async def record_change(
        self,
        session: AsyncSession,
        stored: IncidentRecord,
        result: Assessment,
        *,
        now: datetime,
        detected_at: datetime,
        actor: str,
    ) -> Decision:
        """Record a change decided outside detection (by hand, or by the system)."""
        return await self.record(
            session,
            result,
            rule=self.rules.find(stored.incident.rule_id),
            department=stored.department,
            now=now,
            detected_at=detected_at,
            actor=actor,
            window_minutes=stored.window_minutes,
        )

    async def record(
        self,
        session: AsyncSession,
        result: Assessment,
        *,
        rule: SurgeRule | None,
        department: str,
        now: datetime,
        detected_at: datetime,
        actor: str | None = None,
        window_minutes: int | None = None,
    ) -> Decision:
        """Write the incident, its audit trail, its events and its SMS."""
        incident = result.incident
        if incident is None:
            return Decision(None, 0, 0)
        window = rule.window_minutes if rule else (window_minutes or 30)
        incident_id = await incident_store.save_incident(
            session, incident, department=department, window_minutes=window
        )
        for event in result.events:
            await self._audit(session, incident_id, incident, department, event, now, actor)
        queued = 0
        if result.notify:
            queued = await self._queue_sms(
                session, incident_id, incident, rule, result, now, detected_at, window
            )
        if result.events:
            log.info(
                "incident changed",
                incident=incident_id,
                rule=incident.rule_id,
                region=incident.region,
                status=incident.status.value,
                level=incident.level,
                count=incident.last_count,
                events=[e.kind for e in result.events],
                sms=queued,
            )
        return Decision(incident_id, len(result.events), queued)

    async def _audit(
        self,
        session: AsyncSession,
        incident_id: int,
        incident: Incident,
        department: str,
        event: IncidentEvent,
        now: datetime,
        actor: str | None,
    ) -> None:
        detail = {k: v for k, v in asdict(event).items() if k != "kind"}
        event_row = await incident_store.add_incident_event(
            session,
            incident_id=incident_id,
            kind=event.kind,
            at=now,
            level=incident.level,
            count=incident.last_count,
            actor=actor or detail.get("by"),
            detail=detail,
        )
        self._metrics.incident_events.labels(event.kind).inc()
        stage_event(
            session,
            INCIDENT_EVENT[event.kind](
                event_id=f"alerting/incident-{incident_id}/{event_row}",
                occurred_at=now,
                incident=_snapshot(incident_id, incident, department),
                detail=detail,
            ),
        )

    async def _queue_sms(
        self,
        session: AsyncSession,
        incident_id: int,
        incident: Incident,
        rule: SurgeRule | None,
        result: Assessment,
        now: datetime,
        detected_at: datetime,
        window: int,
    ) -> int:
        facts = SmsFacts(
            incident_id=incident_id,
            category=incident.category,
            region=incident.region,
            count=incident.last_count,
            baseline=incident.baseline,
            minutes_open=incident.minutes_open(now),
            level=incident.level,
            window_minutes=window,
            peak_count=incident.peak_count,
            resolution=incident.resolution,
        )
        language = rule.language if rule else "zh"
        messages: list[sms_store.QueuedSms] = []
        for notify in result.notify:
            body = render_sms(notify.kind, facts, language)
            if notify.kind == "resolved":
                people = await sms_store.alerted_recipients(session, incident_id)
            elif rule is not None and notify.level <= rule.ladder.top:
                people = [(r.phone, r.name) for r in rule.ladder.level(notify.level).recipients]
            else:
                log.warning("no recipients for level", incident=incident_id, level=notify.level)
                people = []
            messages += [
                sms_store.QueuedSms(
                    incident_id, notify.level, notify.tag, phone, name, body, detected_at
                )
                for phone, name in people
            ]
        queued = await sms_store.queue_sms(session, messages, self._wall())
        self._metrics.sms.labels(self._provider, "queued").inc(queued)
        return queued


def _snapshot(incident_id: int, incident: Incident, department: str) -> contract.IncidentSnapshot:
    return contract.IncidentSnapshot(
        id=incident_id,
        rule_id=incident.rule_id,
        category=incident.category,
        region=incident.region,
        department=department,
        status=incident.status.value,
        level=incident.level,
        count=incident.last_count,
        peak_count=incident.peak_count,
        baseline=float(incident.baseline),
        threshold=incident.threshold,
        opened_at=incident.opened_at,
        acknowledged_at=incident.acknowledged_at,
        resolved_at=incident.resolved_at,
        resolution=incident.resolution,
    )
