"""Live previews and daily settlement (domain.md §9).

Two periodic rounds, each run by one instance at a time (a transaction-scoped
advisory lock), each writing results and their `cc.scores.v1` records through
the outbox in one transaction:

- preview: re-score the recent days (yesterday and today) whose aggregates
  changed since the last round and publish `score.previewed` for rows whose
  value, points or state moved (throttled by the round interval; previews grow
  nothing; older days being replayed go straight to settlement);
- settle: for each center, settle every day that is due by the event-time
  watermark or the wall clock; a settled day is final and publishes one
  `score.settled` record per owner, day and indicator.

A day's settlement holds the day exclusively (`repo.hold_day`) while appliers
adding to it and previews scoring it share it (`repo.share_days`): an event
committed to the day is either in the settled result or counted late, and no
`score.previewed` is staged after the day's `score.settled`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.scoring import repo
from services.scoring.domain import (
    Partition,
    PartitionMark,
    SettlementPolicy,
    WarningMethod,
    day_bounds,
    event_watermark,
)
from services.scoring.metrics import ScoringMetrics
from services.scoring.org.plan import Membership
from services.scoring.org.store import centers, memberships_on
from services.scoring.scorecard import ConfigFor, ScoreRow, score_center_day
from shared import sql
from shared.contracts.scores import ScorePreviewed, ScoreRecorded, ScoreSettled
from shared.logging import get_logger
from shared.outbox import stage_event

log = get_logger(__name__)
PRODUCER = "scoring"

ConfigLoader = Callable[[AsyncSession, date], Awaitable[ConfigFor]]
"""Loads the configuration in force on a day, once, for bulk use."""
PolicyFor = Callable[
    [AsyncSession, Collection[date]], Awaitable[Callable[[str, date], SettlementPolicy]]
]
"""Centers' settlement policies in force on some days, looked up by center and day."""


class Settlement:
    """Runs the preview and settlement rounds."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        load_config: ConfigLoader,
        policy_for: PolicyFor,
        metrics: ScoringMetrics,
        after_commit: Callable[[], None],
        lock_center: Callable[[AsyncSession, str], Awaitable[None]],
        backlog: Callable[[], Awaitable[Mapping[Partition, int]]],
        quiet_seconds: float = 60.0,
        clock_tolerance: timedelta = timedelta(minutes=5),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._sessions = sessions
        self._load_config = load_config
        self._policy_for = policy_for
        self._after_commit = after_commit
        self._lock_center = lock_center
        self._backlog = backlog
        """The consumer group's backlog per partition in Kafka."""
        self._quiet_seconds = quiet_seconds
        """No events applied for this long: the stream is quiet and the wall clock may settle."""
        self._clock_tolerance = clock_tolerance
        self._clock = clock
        self._metrics = metrics

    # --- rounds ---------------------------------------------------------------------------

    async def preview_round(self) -> int:
        """Re-score changed days; return how many preview records were published."""
        with self._metrics.round_seconds.labels("preview").time():
            async with self._sessions() as session, session.begin():
                if not await sql.try_lock(session, "scoring:preview"):
                    return 0
                published = 0
                oldest = self._clock().date() - timedelta(days=1)
                # before anything is read, every day that may be previewed (a center's today
                # can be the day after the UTC date): a settlement of them waits for this round
                await repo.share_days(session, [oldest + timedelta(days=n) for n in range(3)])
                for day in await repo.take_dirty_days(session):
                    if day >= oldest:  # days being replayed from the past settle, unpreviewed
                        published += await self._score(session, day, settle=False)
        if published:
            self._metrics.previews_published.inc(published)
            self._after_commit()
        return published

    async def settle_round(self) -> list[tuple[str, date]]:
        """Settle every due day of every center; return what was settled."""
        settled: list[tuple[str, date]] = []
        with self._metrics.round_seconds.labels("settle").time():
            async with self._sessions() as session:
                async with session.begin():
                    if not await sql.try_lock(session, "scoring:settle"):
                        return []
                    zones = {c.id: c.timezone for c in await centers(session)}
                    marks, db_now = await repo.partition_marks(session)
                    candidates = {c: await repo.unsettled_days(session, c) for c in zones}
                now = self._clock()
                watermark, quiet = self._progress(marks, db_now, await self._lags())
                waiting = 0.0
                for center, days in candidates.items():
                    for day in days:
                        async with session.begin():
                            policy = (await self._policy_for(session, [day]))(center, day)
                        if not policy.due(
                            day, zones[center], watermark=watermark, now=now, quiet=quiet
                        ):
                            closes = day_bounds(day, zones[center])[1] + policy.fcr_window
                            waiting = max(waiting, (now - closes).total_seconds())
                            break
                        async with session.begin():
                            if not await sql.try_lock(session, "scoring:settle"):
                                return settled
                            await repo.hold_day(session, day)  # whatever is committed to it
                            await self._lock_center(session, center)
                            if await repo.settle_day(session, center, day):
                                await self._score(session, day, settle=True, only_center=center)
                                settled.append((center, day))
                        self._metrics.days_settled.labels(center).inc()
                        log.info("day settled", center=center, day=day.isoformat())
        self._metrics.oldest_unsettled_age.set(waiting)
        if settled:
            self._after_commit()
        return settled

    async def _score(
        self, session: AsyncSession, day: date, *, settle: bool, only_center: str | None = None
    ) -> int:
        config_for = await self._load_config(session, day)
        members = await memberships_on(session, day)
        totals = await repo.day_totals(session, day)
        settled = {c for c, _ in await repo.settled_days(session, [day])}
        centers = sorted({m.center_id for m in members})
        trend = _trend_indicators(config_for, members)
        history = await repo.trend_history(session, day, trend, depth=10) if trend else {}
        published = 0
        for center in centers:
            if only_center is not None and center != only_center:
                continue
            if not settle and center in settled:
                continue  # settled days are final: later events are counted, not re-scored
            rows = score_center_day(day, center, members, totals, config_for, history)
            published += await self._publish(session, center, day, rows, settle=settle)
        return published

    async def _publish(
        self,
        session: AsyncSession,
        center: str,
        day: date,
        rows: Sequence[ScoreRow],
        *,
        settle: bool,
    ) -> int:
        stored = await repo.stored_results(session, center, day)
        changed: list[tuple[ScoreRow, int]] = []
        for row in rows:
            before = stored.get((row.owner_kind, row.owner_id, row.indicator))
            v = row.verdict
            now_ = (v.value, v.points, v.state.value)
            if before is not None and before[3]:
                continue  # settled already
            revision = (before[4] if before else 0) + 1
            if settle or before is None or tuple(before[:3]) != now_:
                changed.append((row, revision))
        await repo.save_results(
            session,
            [
                (
                    r.owner_kind,
                    r.owner_id,
                    r.business_date,
                    r.indicator,
                    r.center_id,
                    r.verdict.value,
                    r.verdict.sample,
                    r.verdict.points,
                    r.verdict.state.value,
                    rev,
                )
                for r, rev in changed
            ],
            settled=settle,
        )
        occurred = self._clock()
        for row, revision in changed:
            stage_event(session, _score_event(row, revision, settled=settle, occurred_at=occurred))
        return len(changed)

    async def _lags(self) -> dict[Partition, int] | None:
        """The group's backlog per partition; None when Kafka cannot tell."""
        try:
            return dict(await self._backlog())
        except Exception as exc:  # Kafka unreachable: assume events may be waiting
            log.warning("cannot measure the backlog", error=str(exc)[:200])
            return None

    def _progress(
        self, marks: Sequence[PartitionMark], db_now: datetime, lags: Mapping[Partition, int] | None
    ) -> tuple[datetime | None, bool]:
        """The event-time watermark, and whether the stream is quiet.

        Quiet: nothing applied for `quiet_seconds` and no backlog waiting in
        Kafka, so a consumer that is down or still catching up never lets the
        wall clock settle a day whose events are still to be read. The
        watermark counts a partition with a backlog even when it is idle (a
        stalled consumer's partitions are not drained), and never runs more
        than the clock tolerance ahead of the database's clock.
        """
        lagging = None if lags is None else {p for p, n in lags.items() if n > 0}
        watermark = event_watermark(
            marks,
            now=db_now,
            idle_after=timedelta(seconds=self._quiet_seconds),
            lagging=lagging,
            lead=self._clock_tolerance,
        )
        idle = (db_now - max(m.touched for m in marks)).total_seconds() if marks else None
        quiet = lagging is not None and not lagging
        return watermark, quiet and (idle is None or idle >= self._quiet_seconds)


def _score_event(
    row: ScoreRow, revision: int, *, settled: bool, occurred_at: datetime
) -> ScoreRecorded:
    """The `cc.scores.v1` event about a row: one id per settled result, one per preview
    revision (a replayed round stages the same ids again; consumers drop the copies)."""
    suffix = "settled" if settled else f"preview-{revision}"
    event_id = f"{row.owner_kind}:{row.owner_id}:{row.business_date}:{row.indicator}:{suffix}"
    event = ScoreSettled if settled else ScorePreviewed
    return event.model_validate(
        {
            **row.payload(),
            "business_date": row.business_date,  # the payload's is its ISO text
            "event_id": event_id,
            "occurred_at": occurred_at,
            "revision": revision,
        }
    )


def _trend_indicators(config_for: ConfigFor, members: Sequence[Membership]) -> set[str]:
    codes: set[str] = set()
    for center, department in {(m.center_id, m.department_id) for m in members}:
        config = config_for(center, department, "agent")
        codes |= {c for c, i in config.library.items() if i.warning is WarningMethod.TREND}
    return codes
