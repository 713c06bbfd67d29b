"""The score consumer: cc.scores.v1 → plant days and previews → regrown plants + events.

Runs inside `TransactionalConsumer`'s transaction (claim, one commit, offsets
after the commit). Per batch:
  1. previews: each plant's and day's newest revision is kept (idempotent by
     revision, so previews are not claimed);
  2. settled scores (claimed by `event_id`): the copies that win over the
     stored copy of their date are written, the member view is updated, and
     every plant whose days changed is regrown from all its stored days
     (`growing.regrow`: one query per table for the whole batch);
  3. the campaigns whose members' or unit's days changed are recorded again from the
     stored days (`campaigning.record_campaigns`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime

from aiokafka import ConsumerRecord
from sqlmodel.ext.asyncio.session import AsyncSession

from services.garden.campaigning import record_campaigns
from services.garden.domain.plant import Plant, SettledDay, plant_of, settled_day
from services.garden.growing import newer_days, regrow
from services.garden.metrics import GardenMetrics
from services.garden.repo import campaigns as campaign_store
from services.garden.repo import config as config_store
from services.garden.repo import plants as plant_store
from services.garden.repo.plants import MemberRow, Place
from shared.consumer import Delivery
from shared.contracts.catalog import parse_derived
from shared.contracts.events import EventRejected
from shared.contracts.scores import ScorePreviewed, ScoreRecorded, ScoreSettled

NAME_FIELD = "owner_name"
"""An optional field of a score event naming its owner (kept when scoring sends it)."""


def decode_score(record: ConsumerRecord[bytes, bytes]) -> Delivery | None:
    """Decode a `cc.scores.v1` record: settled scores are claimed by `event_id`; previews are
    idempotent by revision and go unclaimed; anything else is skipped."""
    try:
        event = parse_derived(record.value or b"")
    except (EventRejected, ValueError):
        return None
    if isinstance(event, ScoreSettled):
        return Delivery(record, f"{event.source}/{event.event_id}"[:160], event)
    if isinstance(event, ScorePreviewed):
        return Delivery(record, None, event)
    return None


def owner_name(score: ScoreRecorded) -> str | None:
    """Return the owner's name if the score carries one."""
    name = (score.model_extra or {}).get(NAME_FIELD)
    return name if isinstance(name, str) and name.strip() else None


def _plant(score: ScoreRecorded) -> Plant:
    return Plant(score.owner_kind, score.owner_id, score.indicator)


def member_row(score: ScoreSettled) -> MemberRow:
    """Return the member view row a settled score gives its owner."""
    return (
        score.owner_kind,
        score.owner_id,
        score.center_id,
        score.department_id,
        score.team_id,
        owner_name(score),
        score.business_date,
    )


def latest_places(scores: Iterable[ScoreSettled]) -> dict[Plant, tuple[date, Place]]:
    """Return each plant's place as of its latest settled day among `scores`."""
    found: dict[Plant, tuple[date, Place]] = {}
    for s in scores:
        plant = plant_of(s)
        held = found.get(plant)
        if held is None or s.business_date >= held[0]:
            found[plant] = (s.business_date, Place(s.center_id, s.department_id, s.team_id))
    return found


class ScoreHandler:
    """Applies batches of score events."""

    def __init__(
        self, *, metrics: GardenMetrics, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._metrics = metrics
        self._clock = clock

    async def apply(self, session: AsyncSession, deliveries: Sequence[Delivery]) -> None:
        previews = [d.payload for d in deliveries if isinstance(d.payload, ScorePreviewed)]
        settled = [d.payload for d in deliveries if isinstance(d.payload, ScoreSettled)]
        if previews:
            await plant_store.save_previews(
                session,
                [(_plant(p), p.business_date, p.points, p.state, p.revision) for p in previews],
            )
        if settled:
            await self._settle(session, settled)

    async def _settle(self, session: AsyncSession, scores: Sequence[ScoreSettled]) -> None:
        incoming: dict[Plant, list[SettledDay]] = {}
        for score in scores:
            incoming.setdefault(plant_of(score), []).append(settled_day(score))
        placed = latest_places(scores)
        await config_store.hold_config(session, {p.center_id for _, p in placed.values()})
        stored = await plant_store.days_of(session, list(incoming))
        changed = {
            plant: days
            for plant in incoming
            if (days := newer_days(stored[plant], incoming[plant]))
        }
        await plant_store.save_members(session, map(member_row, scores))
        if not changed:
            return
        await plant_store.save_days(
            session, [(plant, day) for plant, days in changed.items() for day in days]
        )
        known = await plant_store.places_of(session, list(changed))
        places: dict[Plant, Place] = {}
        for plant in changed:
            latest_stored = max((d.business_date for d in stored[plant]), default=None)
            day, place = placed[plant]
            keep = plant in known and latest_stored is not None and latest_stored > day
            places[plant] = known[plant] if keep else place
        merged = {plant: [*stored[plant], *changed[plant]] for plant in changed}
        since = {plant: min(d.business_date for d in days) for plant, days in changed.items()}
        now = self._clock()
        regrown = await regrow(session, merged, places=places, since=since, occurred_at=now)
        self._metrics.fruit_ripened.inc(regrown.fruit_ripened)
        for entry in regrown.new_entries:
            self._metrics.timeline_entries.labels(entry.kind).inc()
        await self._record_campaigns(session, changed, now)

    async def _record_campaigns(
        self, session: AsyncSession, changed: dict[Plant, list[SettledDay]], now: datetime
    ) -> None:
        """Record the campaigns whose members' or unit's days changed (same transaction)."""
        spans = [
            (
                p.owner_kind,
                p.owner_id,
                p.indicator,
                min(d.business_date for d in days),
                max(d.business_date for d in days),
            )
            for p, days in changed.items()
        ]
        touched = await campaign_store.touched_by(session, spans)
        if touched:
            recorded = await record_campaigns(session, touched, occurred_at=now)
            self._metrics.campaign_days_recorded.inc(recorded.days)
            self._metrics.campaigns_ended.inc(recorded.ended)
