"""The wall-clock side of detection: every `tick_seconds`, in one transaction,
1. take the tick lock (one instance ticks at a time; the others skip the round);
2. assess every series with an active incident at its category's detection
   clock: time-based escalation, repeats, cool-down and resolution happen
   even when no complaint arrives;
3. fold each finished hour into the series' hour-of-week baselines;
4. refresh the gauges; now and then forget history past the retention.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.alerting.detection import Detector
from services.alerting.domain.incidents import resolve
from services.alerting.domain.surge import (
    ALL_REGIONS,
    HOUR,
    SurgeRule,
    hour_of,
    hour_of_week,
    learn_hour,
)
from services.alerting.metrics import AlertingMetrics
from services.alerting.repo import incidents as incident_store
from services.alerting.repo import series as series_store
from services.alerting.repo import sms as sms_store
from shared import sql
from shared.logging import get_logger

log = get_logger(__name__)
MAX_HOURS_LEARNED = 14 * 24  # after a long outage, learn the last two weeks, skip the rest


def rule_of_series(rules: list[SurgeRule], category: str, region: str) -> SurgeRule | None:
    """Return the rule that watches series (category, region)."""
    for rule in rules:
        if rule.category != category:
            continue
        if region == ALL_REGIONS and rule.region == ALL_REGIONS and not rule.per_region:
            return rule
        if region != ALL_REGIONS and (
            rule.region == region or (rule.region == ALL_REGIONS and rule.per_region)
        ):
            return rule
    return None


class Ticker:
    """Runs the wall-clock rounds."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        detector: Detector,
        metrics: AlertingMetrics,
        zone: ZoneInfo,
        alpha: float,
        retention: timedelta,
        after_commit: Callable[[], None] = lambda: None,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._sessions = sessions
        self._detector = detector
        self._metrics = metrics
        self._zone = zone
        self._alpha = alpha
        self._retention = retention
        self._after_commit = after_commit
        self._wall = wall
        self._last_purge = 0.0

    async def tick(self) -> bool:
        """Run one round; False when another instance holds the tick lock."""
        started = time.perf_counter()
        wall = self._wall()
        async with self._sessions() as session, session.begin():
            if not await sql.try_lock(session, "alerting:tick"):
                return False
            rules = await self._detector.rules.refresh(session)
            clock = (await series_store.load_clocks(session)).get(series_store.STREAM)
            now = clock.now(wall) if clock else wall
            active = await incident_store.active_series(session)
            # every lock up front, in the consumer's order: no deadlock between them
            await series_store.lock_series(
                session, [(category, region) for _, category, region in active]
            )
            for rule_id, _category, region in active:
                rule = self._detector.rules.find(rule_id)
                if rule is None:
                    await self._close_orphan(session, rule_id, region, now)
                    continue
                await self._detector.assess_series(session, rule=rule, region=region, now=now)
            for category, region, learned_through in await series_store.all_series(session):
                await self._learn(session, rules, category, region, learned_through, now)
            levels = await incident_store.open_incident_levels(session)
            backlog = await sms_store.sms_status_counts(session)
            if time.monotonic() - self._last_purge > 3600:
                await series_store.purge_history(session, wall - self._retention)
                self._last_purge = time.monotonic()
        self._after_commit()
        self._metrics.open_incidents.clear()
        for level, n in levels.items():
            self._metrics.open_incidents.labels(str(level)).set(n)
        for status in ("queued", "sending", "sent", "delivered", "failed"):
            self._metrics.sms_backlog.labels(status).set(backlog.get(status, 0))
        self._metrics.tick_seconds.observe(time.perf_counter() - started)
        return True

    async def _close_orphan(
        self, session: AsyncSession, rule_id: str, region: str, now: datetime
    ) -> None:
        """An incident whose rule was removed is resolved (its ladder is gone)."""
        stored = await incident_store.active_incident(session, rule_id, region)
        if stored is None:
            return
        result = resolve(stored.incident, by="system", now=now, note="rule removed")
        await self._detector.record_change(
            session, stored, result, now=now, detected_at=self._wall(), actor="system"
        )

    async def _learn(
        self,
        session: AsyncSession,
        rules: list[SurgeRule],
        category: str,
        region: str,
        learned_through: datetime,
        now: datetime,
    ) -> None:
        """Fold every finished hour since `learned_through` into the series' baselines."""
        current = hour_of(now)
        if learned_through >= current:
            return
        rule = rule_of_series(rules, category, region)
        if rule is None:
            return
        start = max(learned_through, current - MAX_HOURS_LEARNED * HOUR)
        counts = await series_store.hourly_counts(session, category, region, start, current)
        slots = await series_store.baseline_slots(session, category, region)
        changed = {}
        hour = start
        while hour < current:
            slot_number = hour_of_week(hour, self._zone)
            slot = learn_hour(slots.get(slot_number), counts.get(hour, 0), rule, alpha=self._alpha)
            slots[slot_number] = changed[slot_number] = slot
            hour += HOUR
        await series_store.save_baselines(session, category, region, changed, current)
