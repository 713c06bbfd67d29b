"""Applying a batch of upstream events to the agent-day aggregates.

Runs inside the transaction of `shared.consumer.TransactionalConsumer`: the
events are already deduplicated, and the offsets are committed after this
transaction. Every write is a bulk statement for the whole batch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.scoring import repo
from services.scoring.library.resolution import PolicyBook
from services.scoring.metrics import ScoringMetrics
from services.scoring.tally import (
    AgentDayKey,
    CallRef,
    ComplaintView,
    Tally,
    advance_states,
    apply_complaint,
    call_ref,
    count_calls,
    count_complaint_change,
    count_metric,
    count_repeats,
    count_survey,
    find_repeats,
)
from shared.consumer import Delivery
from shared.contracts.views import (
    AgentStateView,
    CallCompletedView,
    ComplaintFiledView,
    ComplaintUpdatedView,
    EventView,
    MetricReportedView,
    SurveyAnsweredView,
)
from shared.vocabulary import DEFAULT_TIMEZONE

Placement = tuple[str | None, ZoneInfo]
"""An agent's center (None when not in the org yet) and its time zone."""

Placements = Callable[[AsyncSession, Collection[str]], Awaitable[dict[str, Placement]]]
CenterPolicies = Callable[[AsyncSession, Collection[date]], Awaitable[PolicyBook]]
"""Each center's settlement policy in force on some days (the service's by default)."""
LongestWindow = Callable[[AsyncSession], Awaitable[timedelta | None]]
SettledDays = Callable[[AsyncSession, Collection[date]], Awaitable[set[tuple[str, date]]]]


DEFAULT_ZONE = ZoneInfo(DEFAULT_TIMEZONE)

CLAIMED_EVENTS: tuple[type[EventView], ...] = (SurveyAnsweredView, MetricReportedView)
"""The event types this applier needs claimed by `event_id` (their totals are plain
sums). Every other type is idempotent by its content, so it needs no
`processed_events` row: a call is kept once per call id (ON CONFLICT DO NOTHING)
and only a newly kept call is counted; a state change at or before the agent's
current state changes nothing; a complaint is a fold of its filing and updates
by event time, and only the change of its counted state moves a total."""


@dataclass(frozen=True)
class ScoringRules:
    """The pipeline's fixed knobs (center settings live in the configuration)."""

    fcr_window: timedelta = timedelta(hours=24)
    max_state_span: timedelta = timedelta(hours=12)
    default_zone: ZoneInfo = DEFAULT_ZONE
    clock_tolerance: timedelta = timedelta(minutes=5)
    """How far ahead of the wall clock event time may count (the watermark is capped)."""


class EventApplier:
    """Folds deduplicated upstream events into the agent-day aggregates."""

    def __init__(
        self,
        *,
        placements: Placements,
        settled_days: SettledDays,
        center_policies: CenterPolicies,
        longest_window: LongestWindow,
        rules: ScoringRules,
        metrics: ScoringMetrics,
    ) -> None:
        self._placements = placements
        self._settled_days = settled_days
        self._center_policies = center_policies
        self._longest_window = longest_window
        self._rules = rules
        self._metrics = metrics

    async def __call__(self, session: AsyncSession, deliveries: Sequence[Delivery]) -> None:
        by_kind: defaultdict[type, list[EventView]] = defaultdict(list)
        agents: set[str] = set()
        latest: dict[tuple[str, int], datetime] = {}
        for delivery in deliveries:
            event = delivery.payload
            by_kind[type(event)].append(event)
            if agent := getattr(event, "agent_id", None):
                agents.add(agent)
            record = delivery.record
            where = (record.topic, record.partition)
            at = event.occurred_at
            if where not in latest or at > latest[where]:
                latest[where] = at
        placed = await self._placements(session, agents)
        zone = {a: placed[a][1] if a in placed else self._rules.default_zone for a in agents}
        tally = Tally()
        await self._calls(session, tally, by_kind[CallCompletedView], zone, placed)  # type: ignore[arg-type]
        for survey in by_kind[SurveyAnsweredView]:
            count_survey(tally, survey, zone[survey.agent_id])  # type: ignore[attr-defined]
        for metric in by_kind[MetricReportedView]:
            count_metric(tally, metric)  # type: ignore[arg-type]
        await self._states(session, tally, by_kind[AgentStateView], zone)  # type: ignore[arg-type]
        await self._complaints(
            session, tally, [*by_kind[ComplaintFiledView], *by_kind[ComplaintUpdatedView]], zone
        )  # type: ignore[list-item]
        late = await self._late(session, tally, placed)
        await repo.add_to_days(session, tally.days, late)
        await repo.add_metrics(session, tally.metrics)
        await repo.mark_dirty(
            session, {day for _, day in tally.days} | {k[1] for k in tally.metrics}
        )
        await repo.advance_watermarks(session, latest, lead=self._rules.clock_tolerance)

    async def _calls(
        self,
        session: AsyncSession,
        tally: Tally,
        calls: list[CallCompletedView],
        zone: dict[str, ZoneInfo],
        placed: dict[str, Placement],
    ) -> None:
        if not calls:
            return
        handle: dict[str, float] = {}
        refs = []
        for call in calls:  # a call resent in the same batch counts once
            ref = call_ref(call, zone[call.agent_id])
            if ref.call_key not in handle:
                handle[ref.call_key] = call.talk_seconds + call.hold_seconds + call.wrap_seconds
                refs.append(ref)
        default = self._rules.fcr_window
        reach = max(default, await self._longest_window(session) or default)
        callers = {r.caller_id for r in refs}
        await repo.lock_callers(session, callers)
        known = await repo.known_calls(
            session,
            callers,
            min(r.answered_at for r in refs) - reach,
            max(r.answered_at for r in refs) + reach,
        )
        # A call is judged by the FCR window of its agent's center on its own day.
        others = {k.agent_id for k in known} - placed.keys()
        centers = {a: p[0] for a, p in (placed | await self._placements(session, others)).items()}
        policy = await self._center_policies(
            session, {r.business_date for r in refs} | {k.business_date for k in known}
        )

        def window(ref: CallRef) -> timedelta:
            return policy(centers.get(ref.agent_id), ref.business_date).fcr_window

        fresh_refs, newly_repeated = find_repeats(refs, known, window)
        inserted = await repo.insert_calls(session, fresh_refs)
        fresh = [r for r in fresh_refs if r.call_key in inserted]  # a resent call counts once
        count_calls(tally, fresh, handle)
        count_repeats(tally, [r for r in fresh if r.repeated])
        count_repeats(
            tally, await repo.mark_repeated(session, [r.call_key for r in newly_repeated])
        )

    async def _states(
        self,
        session: AsyncSession,
        tally: Tally,
        changes: list[AgentStateView],
        zone: dict[str, ZoneInfo],
    ) -> None:
        if not changes:
            return
        per_agent: defaultdict[str, list[AgentStateView]] = defaultdict(list)
        for change in changes:
            per_agent[change.agent_id].append(change)
        cursors = await repo.cursors_for_update(session, per_agent.keys())
        updated = {}
        for agent, agent_changes in per_agent.items():
            cursor, late = advance_states(
                tally,
                agent,
                cursors.get(agent),
                agent_changes,
                zone[agent],
                max_span=self._rules.max_state_span,
            )
            if late:
                self._metrics.out_of_order_states.inc(late)
            if cursor is not None:
                updated[agent] = cursor
        await repo.save_cursors(session, updated)

    async def _complaints(
        self,
        session: AsyncSession,
        tally: Tally,
        events: list[ComplaintFiledView | ComplaintUpdatedView],
        zone: dict[str, ZoneInfo],
    ) -> None:
        if not events:
            return
        views = await repo.complaints_for_update(session, {e.complaint_id for e in events})
        before: dict[str, ComplaintView | None] = {}
        for event in sorted(events, key=lambda e: e.occurred_at):
            cid = event.complaint_id
            before.setdefault(cid, views.get(cid))
            agent = getattr(event, "agent_id", None)
            views[cid] = apply_complaint(
                views.get(cid),
                event,
                zone.get(agent, self._rules.default_zone) if agent else self._rules.default_zone,
            )
        for cid, old in before.items():
            count_complaint_change(tally, old, views[cid])
        await repo.save_complaints(session, (views[cid] for cid in before))

    async def _late(
        self, session: AsyncSession, tally: Tally, placed: dict[str, Placement]
    ) -> dict[AgentDayKey, int]:
        """Count changes to days already settled: recorded, never rewriting results."""
        days = {day for _, day in tally.days}
        if not days:
            return {}
        # a settlement of these days waits for this transaction, or this one sees it committed
        await repo.share_days(session, days)
        settled = await self._settled_days(session, days)
        late = {}
        for agent, day in tally.days:
            center = placed.get(agent, (None, None))[0]
            if center is not None and (center, day) in settled:
                late[(agent, day)] = 1
        if late:
            self._metrics.late_events.inc(len(late))
        return late


class HistoryPruning:
    """Forgets calls and complaints past the replay horizon (one round of a background loop).

    A call is kept while a repeat could still match it and while its record
    could still be delivered again (the primary key on `source/call_id` is what
    keeps a replayed call from counting twice); a complaint while an update
    could still fold into it. Past `retention` from their latest instant neither
    can happen: ingest accepts an event at most `MAX_EVENT_AGE_HOURS` after its
    instants and a record stays readable less than `DEDUP_RETENTION_DAYS` after
    it was written (both checked at start). The horizon also covers the longest
    FCR window a center has. The horizon counts back from the event time of the
    partition read least far (or the wall clock, if that is earlier), so a backlog
    or a backfill of old events being read keeps what it needs. Deletes run in
    small chunks, one transaction each.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        retention: timedelta,
        replay_horizon: timedelta,
        longest_window: LongestWindow,
        chunk: int = 5000,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._sessions = sessions
        self._retention = retention
        self._replay_horizon = replay_horizon
        self._longest_window = longest_window
        self._chunk = chunk
        self._clock = clock

    async def prune_once(self) -> int:
        """Delete what is past the horizon; return how many rows went."""
        async with self._sessions() as session, session.begin():
            window = await self._longest_window(session) or timedelta(0)
            slowest = await repo.lowest_mark(session)
        now = min(self._clock(), slowest or self._clock())
        before = now - max(self._retention, self._replay_horizon + window)
        removed = 0
        for table in repo.PRUNED_BY:
            while True:
                async with self._sessions() as session, session.begin():
                    gone = await repo.prune_history(session, table, before, self._chunk)
                removed += gone
                if gone < self._chunk:
                    break
        return removed
