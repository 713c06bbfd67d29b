"""Campaign documents: the whole campaign (start, progress, result, countermeasures) and the
summaries of the list, as plain JSON data (the keys of `api/campaign_schemas.py`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services.garden.repo import campaigns as store
from services.garden.repo import countermeasures as plans


def status_of(row: dict[str, Any], today: date) -> str:
    """Return `ended` once the result is in, `running` from the first day of the period (or
    the first recorded day), `scheduled` before."""
    if row["ended_at"] is not None:
        return "ended"
    if row["last_recorded"] is not None or row["starts_on"] <= today:
        return "running"
    return "scheduled"


def _countermeasure(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "what": row["what"],
        "who": row["who"],
        "check_on": row["check_on"].isoformat(),
        "done": row["done"],
        "done_at": row["done_at"].isoformat() if row["done_at"] is not None else None,
    }


def countermeasure_document(row: dict[str, Any]) -> dict[str, Any]:
    """Return a countermeasure's document."""
    return _countermeasure(row)


def _day(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "date": row["business_date"].isoformat(),
        "classes": row["classes"],
        "unit_value": row["unit_value"],
    }


def summary_document(
    row: dict[str, Any],
    *,
    status: str,
    days: Sequence[dict[str, Any]],
    countermeasures: Sequence[dict[str, Any]],
) -> dict[str, Any]:
    """Return a campaign without its members' details (the list's items)."""
    start = row["start"]
    return {
        "id": row["campaign_id"],
        "name": row["name"],
        "indicator": row["indicator"],
        "unit": {"kind": row["unit_kind"], "id": row["unit_id"]},
        "center_id": row["center_id"],
        "starts_on": row["starts_on"].isoformat(),
        "ends_on": row["ends_on"].isoformat(),
        "goal": row["goal"],
        "status": status,
        "created_by": row["created_by"],
        "created_at": row["created_at"].isoformat(),
        "start": {"classes": start["classes"], "unit_value": start["unit_value"]},
        "progress": {"days": [_day(d) for d in days]},
        "result": row["result"],
        "countermeasures": [_countermeasure(c) for c in countermeasures],
    }


def member_progress(
    members: Sequence[dict[str, Any]], days: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Return each member's start class, class and value now, and moves, by name then id."""
    out = []
    for m in members:
        agent = m["agent_id"]
        klass, value, moves = m["start_class"], None, []
        for day in days:
            mine = day["members"].get(agent)
            if mine is None:
                continue
            klass = mine["class"]
            if mine["recorded"] and mine["value"] is not None:
                value = mine["value"]
            moves += [
                {"date": day["business_date"].isoformat(), "from": mv["from"], "to": mv["to"]}
                for mv in day["moves"]
                if mv["agent_id"] == agent
            ]
        out.append(
            {
                "agent_id": agent,
                "name": m["name"],
                "start_class": m["start_class"],
                "start_value": m["start_value"],
                "class": klass,
                "value": value,
                "moves": moves,
            }
        )
    return out


async def campaign_document(
    session: AsyncSession, row: dict[str, Any], today: date
) -> dict[str, Any]:
    """Return the whole campaign: its start with every member, its recorded days with every
    member's class, value and moves, its result and countermeasures."""
    campaign_id = row["campaign_id"]
    members = await store.members(session, campaign_id)
    days = await store.recorded_days(session, campaign_id)
    document = summary_document(
        row,
        status=status_of(row, today),
        days=days,
        countermeasures=await plans.countermeasures(session, campaign_id),
    )
    document["start"]["members"] = [
        {
            "agent_id": m["agent_id"],
            "name": m["name"],
            "class": m["start_class"],
            "value": m["start_value"],
            "as_of": m["start_date"].isoformat() if m["start_date"] is not None else None,
        }
        for m in members
    ]
    document["progress"]["members"] = member_progress(members, days)
    return document


async def summaries(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the summaries of a page of campaigns (rows with their `status`)."""
    ids = [r["campaign_id"] for r in rows]
    days = await store.day_summaries(session, ids)
    measures = await plans.countermeasures_of(session, ids)
    return [
        summary_document(
            r,
            status=r["status"],
            days=days[r["campaign_id"]],
            countermeasures=measures[r["campaign_id"]],
        )
        for r in rows
    ]
