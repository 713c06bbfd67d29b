"""Improvement campaigns through the real broker and database: a campaign on a simulated team
starts with the classes its members' plants have, follows the settled days produced after it
(one arriving late, one record replayed) and ends with the result computed here on its own;
its events on `cc.garden.v1`."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from shared.contracts.campaigns import CampaignDayRecorded, CampaignEnded, CampaignStarted
from shared.contracts.catalog import parse_derived
from shared.contracts.scores import ScoreRecorded
from shared.contracts.topics import GARDEN
from tests.integration.alerting_support import wait_for
from tests.integration.garden_support import (
    bearer,
    produce,
    score,
    tag,
)
from tests.kafka_tools import read_all

pytestmark = pytest.mark.integration
TODAY = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).date()
START = TODAY - timedelta(days=8)
END = START + timedelta(days=3)
CLASS = {"healthy": "A", "pests": "B", "withered": "C"}
RANK = {"A": 3, "B": 2, "C": 1, "unrated": 0}

# Each member's states before the start (oldest first) and on the days of the period.
BEFORE: dict[str, list[str]] = {
    "a1": ["pests", "healthy"],  # A
    "a2": ["withered"],  # C
    "a3": ["healthy", "pests"],  # B
    "a4": ["not_rated"],  # unrated: in the member view, never rated
    "a5": ["healthy", "withered"],  # C
}
DURING: dict[str, dict[int, str]] = {  # day offset from START → state
    "a1": {0: "pests", 1: "healthy", 2: "not_rated", 3: "pests"},  # A → B: fell
    "a2": {0: "withered", 1: "pests", 2: "healthy", 3: "healthy"},  # C → A: improved
    "a3": {0: "pests", 3: "pests"},  # B → B: stayed
    "a4": {1: "healthy"},  # unrated → A: improved
    "a5": {},  # C → C: stayed (no day at all)
}
UNIT_VALUES = {-1: 350.0, 0: 340.0, 1: 330.0, 2: 320.0, 3: 300.0}


def _team(s: str) -> dict[str, str]:
    return {"center": f"CC{s}", "department": f"CC{s}-D1", "team": f"CC{s}-D1-T1"}


def member_score(s: str, who: str, day: date, state: str, *, value: float) -> ScoreRecorded:
    o = _team(s)
    return score(
        f"{who}-{s}",
        day,
        6.0 if state != "not_rated" else 0.0,
        state,
        indicator="aht",
        center=o["center"],
        department=o["department"],
        team=o["team"],
        value=value,
    )


def unit_score(s: str, offset: int) -> ScoreRecorded:
    o = _team(s)
    return score(
        o["team"],
        START + timedelta(days=offset),
        8.0,
        "healthy",
        indicator="aht",
        kind="team",
        center=o["center"],
        department=o["department"],
        team=o["team"],
        value=UNIT_VALUES[offset],
    )


def _value(who: str, offset: int) -> float:
    return 300.0 + 10 * int(who[1]) + offset


def during(s: str, offsets: list[int]) -> list[ScoreRecorded]:
    return [
        member_score(s, who, START + timedelta(days=o), days[o], value=_value(who, o))
        for who, days in DURING.items()
        for o in offsets
        if o in days
    ]


def expected_classes() -> tuple[dict[str, str], list[dict[str, Any]], dict[str, str]]:
    """Start classes, the classes after each recorded day and the end classes, computed from
    the plan above without the service's code."""
    start = {}
    for who, states in BEFORE.items():
        rated = [x for x in states if x != "not_rated"]
        start[who] = CLASS[rated[-1]] if rated else "unrated"
    current = dict(start)
    days = []
    for offset in range(4):
        for who, states in DURING.items():
            state = states.get(offset)
            if state is not None and state != "not_rated":
                current[who] = CLASS[state]
        classes = {k: 0 for k in ("A", "B", "C", "unrated")}
        for klass in current.values():
            classes[klass] += 1
        days.append(
            {
                "date": (START + timedelta(days=offset)).isoformat(),
                "classes": classes,
                "unit_value": UNIT_VALUES[offset],
            }
        )
    return start, days, current


def expected_result(start: dict[str, str], end: dict[str, str]) -> dict[str, Any]:
    rows: dict[str, Any] = {}
    for klass in ("A", "B", "C", "unrated"):
        row = {"improved": 0, "stayed": 0, "fell": 0}
        for who in [w for w, c in start.items() if c == klass]:
            change = RANK[end[who]] - RANK[klass]
            row["improved" if change > 0 else "fell" if change < 0 else "stayed"] += 1
        rows[klass] = row
    return rows


async def _campaign(garden_api: httpx.AsyncClient, campaign_id: str, leader: dict[str, str]) -> Any:
    answer = await garden_api.get(f"/v1/campaigns/{campaign_id}", headers=leader)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_a_campaign_follows_its_team_from_the_start_to_the_result(
    garden_api: httpx.AsyncClient, kafka: str
) -> None:
    s = tag()
    o = _team(s)
    leader = bearer(f"lead-{s}", "team_leader", o["team"])
    before = [
        member_score(s, who, START - timedelta(days=len(states) - i), state, value=_value(who, -1))
        for who, states in BEFORE.items()
        for i, state in enumerate(states)
    ]
    await produce(kafka, [*before, unit_score(s, -1)])

    async def garden_ready() -> Any:
        answer = await garden_api.get(f"/v1/units/team/{o['team']}/garden", headers=leader)
        if answer.status_code != 200:
            return None
        body = answer.json()
        return body if len(body["members"]) == len(BEFORE) and body["plants"] else None

    garden = await wait_for(garden_ready, within=60)
    created = await garden_api.post(
        "/v1/campaigns",
        headers=leader,
        json={
            "name": "关注健康,快乐成长",
            "indicator": "aht",
            "unit": {"kind": "team", "id": o["team"]},
            "starts_on": START.isoformat(),
            "ends_on": END.isoformat(),
            "goal": {"unit_value": 310, "healthy_share": 0.4},
        },
    )
    assert created.status_code == 201, created.text
    doc = created.json()
    campaign_id = doc["id"]
    assert doc["status"] == "running" and doc["result"] is None
    assert doc["goal"] == {"unit_value": 310.0, "healthy_share": 0.4, "better": "lower"}

    # the start is the garden's own split: every member's class is their plant's state
    states = {m["owner_id"]: m["states"].get("aht") for m in garden["members"]}
    from_garden = {who: CLASS.get(state or "", "unrated") for who, state in states.items()}
    start_classes = {m["agent_id"]: m["class"] for m in doc["start"]["members"]}
    assert start_classes == from_garden
    start, days, end = expected_classes()
    assert start_classes == {f"{who}-{s}": klass for who, klass in start.items()}
    split = next(x for x in garden["split"] if x["indicator"] == "aht")
    assert doc["start"]["classes"] == {
        "A": len(split["a"]),
        "B": len(split["b"]),
        "C": len(split["c"]),
        "unrated": len(split["unrated"]),
    }
    assert doc["start"]["unit_value"] == UNIT_VALUES[-1]

    async def recorded(count: int) -> Any:
        body = await _campaign(garden_api, campaign_id, leader)
        return body if len(body["progress"]["days"]) >= count else None

    await produce(kafka, [*during(s, [0]), unit_score(s, 0)])
    await wait_for(lambda: recorded(1), within=60)
    await produce(kafka, [*during(s, [2]), unit_score(s, 2)])  # day 2 before day 1
    await wait_for(lambda: recorded(2), within=60)
    await produce(kafka, [*during(s, [1]), unit_score(s, 1)])  # day 1, late
    await wait_for(lambda: recorded(3), within=60)
    replayed = during(s, [0])[:1]  # a copy of a record already applied
    await produce(kafka, [*replayed, *during(s, [3])])
    await wait_for(lambda: recorded(4), within=60)
    assert (await _campaign(garden_api, campaign_id, leader))["status"] == "running"
    await produce(kafka, [unit_score(s, 3)])  # the unit's last day: the period is settled

    async def ended() -> Any:
        body = await _campaign(garden_api, campaign_id, leader)
        return body if body["status"] == "ended" else None

    doc = await wait_for(ended, within=60)
    assert doc["progress"]["days"] == days
    result = doc["result"]
    got = {
        k: {x: v[x] for x in ("improved", "stayed", "fell")} for k, v in result["classes"].items()
    }
    assert got == expected_result(start, end)
    assert got == {
        "A": {"improved": 0, "stayed": 0, "fell": 1},
        "B": {"improved": 0, "stayed": 1, "fell": 0},
        "C": {"improved": 1, "stayed": 1, "fell": 0},
        "unrated": {"improved": 1, "stayed": 0, "fell": 0},
    }
    assert result["unit_value_before"] == 350.0 and result["unit_value_after"] == 300.0
    assert result["healthy_share"] == 0.4 and result["goal_met"] is True
    members = {m["agent_id"]: m for m in doc["progress"]["members"]}
    a1 = members[f"a1-{s}"]
    assert [(m["date"], m["from"], m["to"]) for m in a1["moves"]] == [
        (START.isoformat(), "A", "B"),
        ((START + timedelta(days=1)).isoformat(), "B", "A"),
        (END.isoformat(), "A", "B"),
    ]
    assert a1["class"] == "B" and a1["value"] == _value("a1", 3)
    assert members[f"a5-{s}"]["moves"] == [] and members[f"a5-{s}"]["class"] == "C"

    # the events: started once, every day recorded, the result as the document says
    async def events() -> Any:
        mine = [
            e
            for e in (parse_derived(r.value) for r in await read_all(kafka, GARDEN.name))
            if getattr(e, "campaign_id", None) == campaign_id
        ]
        return mine if any(isinstance(e, CampaignEnded) for e in mine) else None

    published = await wait_for(events, within=30)
    assert [e.type for e in published if isinstance(e, CampaignStarted)] == ["campaign.started"]
    assert all(e.partition_key == o["team"] for e in published)
    recorded_dates = {e.business_date for e in published if isinstance(e, CampaignDayRecorded)}
    assert recorded_dates == {START + timedelta(days=i) for i in range(4)}
    last = [e for e in published if isinstance(e, CampaignEnded)][-1]
    assert last.goal_met and last.unit_value_after == 300.0
    assert last.result.C.improved == 1 and last.result.A.fell == 1
