"""Campaign use cases: start one (classify its members), record its days from the stored
plant days, end it with its result.

Recording is a recompute: under the campaign's lock, every day of the period is
derived again from the members' and the unit's stored plant days
(`domain/campaigns.record_days`); a day whose content changed is stored and
published (`campaign.day_recorded`), and once the last day is settled the result
is computed and, if it differs from the one stored, stored and published
(`campaign.ended`). The consumer runs it in the transaction that stored the days,
so a replay or a late day gives the same campaign.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services.garden.campaign_events import day_event, ended_event, started_event
from services.garden.domain.campaigns import (
    ClassName,
    Goal,
    campaign_result,
    counts,
    is_over,
    record_days,
    standing_before,
    value_before,
)
from services.garden.repo import campaigns as store
from services.garden.repo import config as config_store
from services.garden.repo.reads import Member
from shared import sql
from shared.outbox import stage_event


def new_campaign_id() -> str:
    """Return a fresh campaign id."""
    return f"cmp-{uuid.uuid4().hex[:24]}"


@dataclass(frozen=True, slots=True)
class CampaignPlan:
    """A campaign as asked for (already validated)."""

    name: str
    indicator: str
    starts_on: date
    ends_on: date
    goal: Goal


def goal_document(goal: Goal) -> dict[str, Any]:
    return {
        "unit_value": float(goal.unit_value) if goal.unit_value is not None else None,
        "healthy_share": float(goal.healthy_share) if goal.healthy_share is not None else None,
        "better": goal.better,
    }


def goal_of(document: dict[str, Any]) -> Goal:
    return Goal(document.get("unit_value"), document.get("healthy_share"), document["better"])


@dataclass(frozen=True, slots=True)
class Recorded:
    """What recording campaigns changed."""

    days: int = 0
    ended: int = 0


async def start_campaign(
    session: AsyncSession,
    plan: CampaignPlan,
    unit: Member,
    *,
    created_by: str,
    occurred_at: datetime,
) -> tuple[str, Recorded]:
    """Store a campaign with its members' classes on the latest settled day before its start;
    record the days of its period already settled. Returns its id."""
    # No batch of the center is in flight while its campaign starts: the start sees every
    # day committed before it, and every batch after it sees the campaign.
    await config_store.lock_config(session, unit.center_id)
    kind, unit_id = unit.owner_kind, unit.owner_id
    agents = await store.unit_agents(session, kind, unit_id)  # type: ignore[arg-type]
    before = plan.starts_on - timedelta(days=1)
    days = await store.plant_days(session, "agent", agents, plan.indicator, until=before)
    own = (await store.plant_days(session, kind, [unit_id], plan.indicator, until=before))[unit_id]
    standings = {agent: standing_before(days[agent], plan.starts_on) for agent in agents}
    start = {
        "classes": counts(s.klass for s in standings.values()),
        "unit_value": value_before(own, plan.starts_on),
    }
    campaign_id = new_campaign_id()
    await store.insert_campaign(
        session,
        store.NewCampaign(
            campaign_id,
            plan.name,
            plan.indicator,
            unit,
            plan.starts_on,
            plan.ends_on,
            goal_document(plan.goal),
            start,
            created_by,
        ),
        [(a, agents[a], s.klass, s.value, s.as_of) for a, s in sorted(standings.items())],
    )
    row = await store.campaign(session, campaign_id)
    assert row is not None
    stage_event(session, started_event(row, occurred_at))
    return campaign_id, await record_campaigns(session, [campaign_id], occurred_at=occurred_at)


async def record_campaigns(
    session: AsyncSession, campaign_ids: Collection[str], *, occurred_at: datetime
) -> Recorded:
    """Recompute the campaigns' days and results from the stored plant days; store and
    publish what changed."""
    if not campaign_ids:
        return Recorded()
    await sql.lock(session, *(store.lock_name(i) for i in campaign_ids))
    days = ended = 0
    for row in await store.campaigns(session, campaign_ids):
        changed, over = await _record(session, row, occurred_at)
        days += changed
        ended += over
    return Recorded(days, ended)


async def _record(
    session: AsyncSession, row: dict[str, Any], occurred_at: datetime
) -> tuple[int, int]:
    campaign_id, indicator = row["campaign_id"], row["indicator"]
    starts_on, ends_on = row["starts_on"], row["ends_on"]
    start: dict[str, ClassName] = {
        m["agent_id"]: m["start_class"] for m in await store.members(session, campaign_id)
    }
    member_days = await store.plant_days(
        session, "agent", start, indicator, since=starts_on, until=ends_on
    )
    unit_kind, unit_id = row["unit_kind"], row["unit_id"]
    unit_days = (
        await store.plant_days(
            session, unit_kind, [unit_id], indicator, since=starts_on, until=ends_on
        )
    )[unit_id]
    recorded = record_days(start, member_days, unit_days, starts_on=starts_on, ends_on=ends_on)
    held = await store.recorded_digests(session, campaign_id)
    changed = [d for d in recorded if held.get(d.business_date) != d.digest]
    if changed:
        await store.save_days(
            session,
            campaign_id,
            [
                (
                    d.business_date,
                    d.classes,
                    d.unit_value,
                    d.member_documents(),
                    d.move_documents(),
                    d.digest,
                )
                for d in changed
            ],
        )
        for day in changed:
            stage_event(session, day_event(row, day, occurred_at))
    latest = max(
        (
            d
            for d in (
                await store.latest_day(session, "agent", start, indicator),
                await store.latest_day(session, unit_kind, [unit_id], indicator),
            )
            if d is not None
        ),
        default=None,
    )
    last = recorded[-1].business_date if recorded else None
    newly_ended = 0
    if is_over(ends_on, (d.business_date for d in unit_days), latest):
        result = campaign_result(
            start, recorded, unit_value_before=row["start"]["unit_value"], goal=goal_of(row["goal"])
        )
        if result.digest != await store.result_digest(session, campaign_id):
            newly_ended = int(row["ended_at"] is None)
            await store.save_progress(
                session,
                campaign_id,
                last_recorded=last,
                ended_at=occurred_at,
                result=result.document(),
                digest=result.digest,
            )
            stage_event(session, ended_event(row, result, occurred_at))
            return len(changed), newly_ended
    if changed:
        await store.save_progress(
            session, campaign_id, last_recorded=last, ended_at=None, result=None, digest=None
        )
    return len(changed), newly_ended
