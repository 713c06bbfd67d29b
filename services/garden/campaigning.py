"""Campaign use cases: start one (classify its members), record its days from the stored
plant days, end it with its result.

The start snapshot is taken when the campaign is created and taken again, until the
first day of its period is recorded, whenever a settled day changes (a day before the
start that settled after the campaign was created); from its first recorded day on it
never changes. Recording is a recompute: under the campaign's lock, every day of the period is
derived again from the members' and the unit's stored plant days
(`domain/campaigns.record_days`); a day whose content changed is stored and
published (`campaign.day_recorded`), and once the last day is settled the result
is computed and, if it differs from the one stored, stored and published
(`campaign.ended`). The consumer runs it in the transaction that stored the days,
so a replay or a late day gives the same campaign.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import orjson
from sqlmodel.ext.asyncio.session import AsyncSession

from services.garden.campaign_events import day_event, ended_event, started_event
from services.garden.domain.campaigns import (
    Goal,
    campaign_result,
    counts,
    is_over,
    record_days,
    standing_before,
    value_before,
)
from services.garden.repo import campaign_days as day_store
from services.garden.repo import campaigns as store
from services.garden.repo import config as config_store
from services.garden.repo.reads import Member
from shared import sql
from shared.outbox import stage_event
from shared.vocabulary import UnitKind


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


async def take_start(
    session: AsyncSession, kind: UnitKind, unit_id: str, indicator: str, starts_on: date
) -> tuple[dict[str, Any], list[store.MemberStart]]:
    """Classify the unit's agents (the member view) by their plants on the latest rated day
    before `starts_on`; the unit's value on its latest settled day before it."""
    agents = await store.unit_agents(session, kind, unit_id)
    before = starts_on - timedelta(days=1)
    days = await store.plant_days(session, "agent", agents, indicator, until=before)
    own = (await store.plant_days(session, kind, [unit_id], indicator, until=before))[unit_id]
    standings = {agent: standing_before(days[agent], starts_on) for agent in agents}
    start: dict[str, Any] = {
        "classes": counts(s.klass for s in standings.values()),
        "unit_value": value_before(own, starts_on),
    }
    members: list[store.MemberStart] = [
        (a, agents[a], s.klass, s.value, s.as_of) for a, s in sorted(standings.items())
    ]
    return start, members


def start_digest(start: dict[str, Any], members: list[store.MemberStart]) -> str:
    """Return a hash of a start snapshot (the same snapshot, the same hash)."""
    body = orjson.dumps(
        {"start": start, "members": [[*m[:4], str(m[4])] for m in members]},
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(body).hexdigest()


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
    kind: UnitKind = unit.owner_kind  # type: ignore[assignment]
    start, members = await take_start(session, kind, unit.owner_id, plan.indicator, plan.starts_on)
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
        members,
    )
    row = await store.campaign(session, campaign_id)
    assert row is not None
    stage_event(session, started_event(row, start_digest(start, members), occurred_at))
    return campaign_id, await record_campaigns(session, [campaign_id], occurred_at=occurred_at)


async def _retake_start(
    session: AsyncSession, row: dict[str, Any], occurred_at: datetime
) -> dict[str, Any]:
    """Before its first recorded day, a campaign's start follows the days settled before it
    (and the unit's agents); return the row with the start in force."""
    start, members = await take_start(
        session, row["unit_kind"], row["unit_id"], row["indicator"], row["starts_on"]
    )
    held = sorted(
        (m["agent_id"], m["name"], m["start_class"], m["start_value"], m["start_date"])
        for m in await store.members(session, row["campaign_id"])
    )
    if held == members and row["start"] == start:
        return row
    await store.replace_start(session, row["campaign_id"], start, members)
    row = {**row, "start": start}
    stage_event(session, started_event(row, start_digest(start, members), occurred_at))
    return row


async def record_campaigns(
    session: AsyncSession, campaign_ids: Collection[str], *, occurred_at: datetime
) -> Recorded:
    """Recompute the campaigns' days and results from the stored plant days; store and
    publish what changed."""
    if not campaign_ids:
        return Recorded()
    await sql.lock(session, *(store.lock_name(i) for i in campaign_ids))
    rows = await store.campaigns(session, campaign_ids)
    rows = [
        await _retake_start(session, row, occurred_at)
        if row["last_recorded"] is None and row["ended_at"] is None
        else row
        for row in rows
    ]
    inputs = await day_store.period_days(session, campaign_ids)
    held = await day_store.recorded_digests(session, campaign_ids)
    days: list[day_store.DayRow] = []
    progress: list[day_store.ProgressRow] = []
    ended = 0
    for row in rows:
        campaign_id = row["campaign_id"]
        period = inputs[campaign_id]
        recorded = record_days(
            period.start,
            period.members,
            period.unit,
            starts_on=row["starts_on"],
            ends_on=row["ends_on"],
        )
        changed = [d for d in recorded if held[campaign_id].get(d.business_date) != d.digest]
        for d in changed:
            days.append(
                (
                    campaign_id,
                    d.business_date,
                    d.classes,
                    d.unit_value,
                    d.member_documents(),
                    d.move_documents(),
                    d.digest,
                )
            )
            stage_event(session, day_event(row, d, occurred_at))
        last = recorded[-1].business_date if recorded else None
        unit_dates = [d.business_date for d in period.unit]
        if is_over(row["ends_on"], unit_dates, later_day_settled=period.later_day):
            result = campaign_result(
                period.start,
                recorded,
                unit_value_before=row["start"]["unit_value"],
                goal=goal_of(row["goal"]),
            )
            if result.digest != row["result_digest"]:
                ended += row["ended_at"] is None
                progress.append((campaign_id, last, occurred_at, result.document(), result.digest))
                stage_event(session, ended_event(row, result, occurred_at))
                continue
        if changed:
            progress.append((campaign_id, last, None, None, None))
    await day_store.save_days(session, days)
    await day_store.save_progress(session, progress)
    return Recorded(len(days), ended)
