"""The complaint consumer: cc.complaints.v1 → minute buckets → assessment → SMS + events.

Runs inside `TransactionalConsumer`'s transaction (dedup claim, one commit,
offsets after the commit). Per batch:
  1. advance the complaint stream's detection clock to the latest `occurred_at`,
     never further than `max_clock_lead` (the platform's clock-skew tolerance,
     minutes) ahead of the wall clock: one complaint dated years ahead must not
     move every window past the complaints arriving now;
  2. count each complaint once (`alert_complaints`), subtract withdrawn ones,
     add both to the per-minute buckets in one statement;
  3. assess every series the batch touched, under the series lock.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from services.alerting.detection import Detector
from services.alerting.domain.surge import SurgeRule, capped, hour_of, minute_of, rules_for
from services.alerting.metrics import AlertingMetrics
from services.alerting.repo import series as series_store
from shared.consumer import Delivery
from shared.contracts.events import ComplaintFiled, ComplaintUpdated


class ComplaintHandler:
    """Applies batches of complaint events."""

    def __init__(
        self,
        *,
        detector: Detector,
        metrics: AlertingMetrics,
        max_clock_lead: timedelta,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._detector = detector
        self._metrics = metrics
        self._max_lead = max_clock_lead
        self._wall = wall

    async def apply(self, session: AsyncSession, deliveries: Sequence[Delivery]) -> None:
        wall = self._wall()
        filings: list[tuple[ComplaintFiled, datetime]] = []  # with the record's timestamp
        withdrawals: list[str] = []
        latest: dict[str, datetime] = {}
        for delivery in deliveries:
            event = delivery.payload
            if isinstance(event, ComplaintFiled):
                produced = datetime.fromtimestamp(delivery.record.timestamp / 1000, UTC)
                filings.append((event, produced))
                at = self._capped(event.occurred_at, wall)
                latest[series_store.STREAM] = max(latest.get(series_store.STREAM, at), at)
            elif isinstance(event, ComplaintUpdated) and event.status == "withdrawn":
                withdrawals.append(event.complaint_id)
            else:
                self._metrics.complaints.labels("ignored").inc()
        clocks = await series_store.advance_clocks(session, latest, wall, lead=self._max_lead)

        counted = await series_store.register_filings(
            session,
            [
                (f.complaint_id, f.category, f.region, minute_of(self._capped(f.occurred_at, wall)))
                for f, _ in filings
            ],
        )
        self._metrics.complaints.labels("duplicate").inc(len(filings) - len(counted))
        self._metrics.complaints.labels("counted").inc(len(counted))
        filed: Counter[tuple[str, str, datetime]] = Counter()
        first_seen: dict[tuple[str, str], datetime] = {}  # (category, region) → record time
        for event, produced in filings:
            if event.complaint_id not in counted:
                continue
            counted.discard(event.complaint_id)  # a batch may carry the same complaint twice
            at = self._capped(event.occurred_at, wall)
            filed[(event.category, event.region, minute_of(at))] += 1
            key = (event.category, event.region)
            first_seen[key] = min(first_seen.get(key, produced), produced)
        withdrawn_rows = await series_store.register_withdrawals(session, withdrawals)
        withdrawn: Counter[tuple[str, str, datetime]] = Counter(withdrawn_rows)
        self._metrics.complaints.labels("withdrawn").inc(len(withdrawn_rows))
        await series_store.add_to_buckets(session, filed, withdrawn)

        touched = {(c, r) for c, r, _ in filed} | {(c, r) for c, r, _ in withdrawn}
        if not touched:
            return
        if series_store.STREAM not in clocks:  # withdrawals only
            clocks = await series_store.load_clocks(session)
        clock = clocks.get(series_store.STREAM)
        if clock is None:
            return
        now = clock.now(wall)
        rules = await self._detector.rules.refresh(session)
        work: dict[tuple[str, str], tuple[SurgeRule, datetime | None]] = {}
        for category, region in touched:
            for rule in rules_for(rules, category):
                series_region = rule.series_region(region)
                if series_region is None:
                    continue
                seen = first_seen.get((category, region))
                key = (rule.rule_id, series_region)
                previous = work.get(key, (rule, None))[1]
                work[key] = (rule, min(filter(None, (previous, seen)), default=None))
        series = {(rule.category, region): rule for (_, region), (rule, _) in work.items()}
        await series_store.ensure_series(
            session,
            {key: hour_of(now) for key in series},
        )
        await series_store.lock_series(session, series)
        for (_, region), (rule, seen) in sorted(work.items(), key=lambda kv: kv[0]):
            await self._detector.assess_series(
                session, rule=rule, region=region, now=now, detected_at=seen
            )

    def _capped(self, at: datetime, wall: datetime) -> datetime:
        return capped(at, wall, self._max_lead)
