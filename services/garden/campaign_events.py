"""The `cc.garden.v1` events of a campaign (`shared/contracts/campaigns.py`), built from its row
and what the domain computed. Ids are made of the campaign and the content, so a recompute
of the same content is the same event (consumers drop the copy)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from services.garden.domain.campaigns import CampaignDay, Result
from shared.contracts import campaigns as contract

E = TypeVar("E", bound=contract.CampaignEvent)


def _event(
    model: type[E], row: dict[str, Any], occurred_at: datetime, what: str, fields: dict[str, Any]
) -> E:
    """The event of the campaign `row` with `fields`; its id names the campaign and `what`."""
    return model.model_validate(
        {
            "event_id": f"campaign:{row['campaign_id']}/{what}",
            "campaign_id": row["campaign_id"],
            "unit_kind": row["unit_kind"],
            "unit_id": row["unit_id"],
            "center_id": row["center_id"],
            "indicator": row["indicator"],
            "occurred_at": occurred_at,
            **fields,
        },
        strict=False,
    )


def _float(value: float | None) -> float | None:
    return float(value) if value is not None else None


def started_event(
    row: dict[str, Any], digest: str, occurred_at: datetime
) -> contract.CampaignStarted:
    """The event of a campaign's start snapshot (`digest` names its content)."""
    return _event(
        contract.CampaignStarted,
        row,
        occurred_at,
        f"started/{digest[:16]}",
        {
            "name": row["name"],
            "starts_on": row["starts_on"],
            "ends_on": row["ends_on"],
            "goal": row["goal"],
            "classes": row["start"]["classes"],
            "unit_value": _float(row["start"]["unit_value"]),
            "created_by": row["created_by"],
        },
    )


def day_event(
    row: dict[str, Any], day: CampaignDay, occurred_at: datetime
) -> contract.CampaignDayRecorded:
    """The event of a recorded day (or of a day whose record changed)."""
    return _event(
        contract.CampaignDayRecorded,
        row,
        occurred_at,
        f"day/{day.business_date}/{day.digest[:16]}",
        {
            "business_date": day.business_date,
            "classes": day.classes,
            "unit_value": _float(day.unit_value),
            "moves": [{"agent_id": m.agent_id, "from": m.before, "to": m.after} for m in day.moves],
            "recorded": sum(m.recorded for m in day.members.values()),
        },
    )


def ended_event(
    row: dict[str, Any], result: Result, occurred_at: datetime
) -> contract.CampaignEnded:
    """The event of a campaign's result (the first, or a correction of it)."""
    return _event(
        contract.CampaignEnded,
        row,
        occurred_at,
        f"ended/{result.digest[:16]}",
        {
            "starts_on": row["starts_on"],
            "ends_on": row["ends_on"],
            "result": result.classes,
            "unit_value_before": _float(result.unit_value_before),
            "unit_value_after": _float(result.unit_value_after),
            "healthy_share": result.healthy_share,
            "goal_met": result.goal_met,
        },
    )
