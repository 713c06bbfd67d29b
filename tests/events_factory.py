"""Valid upstream events for tests, unique per call."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any


def uid(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def call(agent: str = "A1024", **changes: Any) -> dict[str, Any]:
    end = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    event = {
        "type": "call.completed",
        "event_id": uid("call"),
        "source": "switch-1",
        "occurred_at": end.isoformat(),
        "call_id": uid("c"),
        "agent_id": agent,
        "caller_id": uid("h"),
        "queue": "general",
        "answered_at": (end - timedelta(minutes=5)).isoformat(),
        "ended_at": end.isoformat(),
        "talk_seconds": 250,
        "hold_seconds": 10,
        "wrap_seconds": 40,
        "transferred": False,
    }
    return event | changes


def agent_state(agent: str = "A1024", state: str = "ready") -> dict[str, Any]:
    return {
        "type": "agent.state",
        "event_id": uid("st"),
        "source": "switch-1",
        "occurred_at": "2026-03-02T08:00:00+08:00",
        "agent_id": agent,
        "state": state,
    }


def survey(agent: str = "A1024", score: int = 5) -> dict[str, Any]:
    return {
        "type": "survey.answered",
        "event_id": uid("sv"),
        "source": "crm-1",
        "occurred_at": "2026-03-02T10:00:00+08:00",
        "survey_id": uid("s"),
        "call_id": uid("c"),
        "agent_id": agent,
        "score": score,
    }


def complaint(category: str = "network", region: str = "foshan", **changes: Any) -> dict[str, Any]:
    event = {
        "type": "complaint.filed",
        "event_id": uid("cf"),
        "source": "crm-1",
        "occurred_at": "2026-03-02T10:00:00+08:00",
        "complaint_id": uid("k"),
        "category": category,
        "region": region,
        "channel": "phone",
        "customer_id": uid("u"),
        "agent_id": None,
        "justified": None,
    }
    return event | changes


def complaint_update(complaint_id: str, category: str | None = None) -> dict[str, Any]:
    event = {
        "type": "complaint.updated",
        "event_id": uid("cu"),
        "source": "crm-1",
        "occurred_at": "2026-03-03T10:00:00+08:00",
        "complaint_id": complaint_id,
        "status": "resolved",
        "justified": True,
    }
    return event | ({"category": category} if category else {})


def metric(agent: str = "A1024") -> dict[str, Any]:
    return {
        "type": "metric.reported",
        "event_id": uid("m"),
        "source": "qa-1",
        "occurred_at": "2026-03-02T18:00:00+08:00",
        "agent_id": agent,
        "indicator": "qa_score",
        "business_date": "2026-03-02",
        "value": 91.5,
    }
