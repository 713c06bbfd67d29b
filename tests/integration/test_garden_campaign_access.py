"""Campaigns on the real database: who may start, see and plan them, what is refused and why,
the list by scope and status, the Idempotency-Key, countermeasures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from shared.contracts.scores import ScoreRecorded
from tests.integration.garden_support import (
    bearer,
    grow,
    score,
    tag,
)

pytestmark = pytest.mark.integration
TODAY = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).date()
ADMIN = bearer("ops", "admin")


async def center(garden_api: httpx.AsyncClient) -> dict[str, str]:
    """A center with one department and two teams of two agents, three settled days each."""
    s = tag()
    o = {
        "center": f"K{s}",
        "dept": f"K{s}-D1",
        "team": f"K{s}-D1-T1",
        "other": f"K{s}-D1-T2",
    }
    events = []
    for team, agents in ((o["team"], ("a1", "a2")), (o["other"], ("b1", "b2"))):
        for agent in agents:
            for i in range(3):
                events.append(
                    score(
                        f"{agent}-{s}",
                        TODAY - timedelta(days=5 - i),
                        6.0,
                        "healthy" if agent.endswith("1") else "withered",
                        indicator="fcr",
                        center=o["center"],
                        department=o["dept"],
                        team=team,
                    )
                )
    await grow(garden_api, events)
    return o


def body(unit_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "name": "fcr up",
        "indicator": "fcr",
        "unit": {"kind": "team", "id": unit_id},
        "starts_on": (TODAY - timedelta(days=2)).isoformat(),
        "ends_on": (TODAY + timedelta(days=20)).isoformat(),
        "goal": {"healthy_share": 0.75},
        **changes,
    }


async def test_who_may_start_and_see_a_campaign(garden_api: httpx.AsyncClient) -> None:
    o = await center(garden_api)
    leader = bearer("lead-1", "team_leader", o["team"])
    other_leader = bearer("lead-2", "team_leader", o["other"])
    manager = bearer("mgr", "manager", o["dept"])
    agent = bearer("a1", "agent", o["team"])

    refused = await garden_api.post("/v1/campaigns", headers=agent, json=body(o["team"]))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert (await garden_api.get("/v1/campaigns", headers=agent)).status_code == 403

    created = await garden_api.post("/v1/campaigns", headers=leader, json=body(o["team"]))
    assert created.status_code == 201, created.text
    doc = created.json()
    assert doc["start"]["classes"] == {"A": 1, "B": 0, "C": 1, "unrated": 0}
    assert doc["status"] == "running" and doc["created_by"] == "lead-1"

    # a leader of another team: the same 404 for this campaign and for none at all
    theirs = await garden_api.get(f"/v1/campaigns/{doc['id']}", headers=other_leader)
    nothing = await garden_api.get(
        "/v1/campaigns/cmp-000000000000000000000000", headers=other_leader
    )
    assert theirs.status_code == nothing.status_code == 404
    assert theirs.json() == nothing.json()
    for url in (f"/v1/campaigns/{doc['id']}", "/v1/campaigns/cmp-000000000000000000000000"):
        planned = await garden_api.post(
            f"{url}/countermeasures",
            headers=other_leader,
            json={"what": "x", "who": "y", "check_on": TODAY.isoformat()},
        )
        assert planned.status_code == 404 and planned.json() == nothing.json()

    # a unit outside the leader's subtree is refused like one that does not exist
    outside = await garden_api.post("/v1/campaigns", headers=leader, json=body(o["other"]))
    unknown = await garden_api.post("/v1/campaigns", headers=leader, json=body(f"{o['team']}-nope"))
    assert outside.status_code == unknown.status_code == 422
    assert outside.json() == unknown.json()
    assert outside.json()["error"]["details"] == [
        {"field": "unit", "reason": "no such unit among those you lead"}
    ]

    # the manager of the department sees it, and starts one for the other team
    assert (await garden_api.get(f"/v1/campaigns/{doc['id']}", headers=manager)).status_code == 200
    second = await garden_api.post("/v1/campaigns", headers=manager, json=body(o["other"]))
    assert second.status_code == 201, second.text

    async def listed(headers: dict[str, str], query: str = "") -> list[str]:
        answer = await garden_api.get(f"/v1/campaigns{query}", headers=headers)
        assert answer.status_code == 200, answer.text
        assert all("members" not in item["start"] for item in answer.json()["items"])
        return [item["id"] for item in answer.json()["items"]]

    both = [second.json()["id"], doc["id"]]  # newest first
    assert await listed(leader) == [doc["id"]]
    assert await listed(other_leader) == [second.json()["id"]]
    assert await listed(manager) == both
    assert await listed(ADMIN, f"?unit=department:{o['dept']}") == both
    assert await listed(ADMIN, f"?unit=team:{o['other']}") == [second.json()["id"]]
    assert await listed(leader, f"?unit=team:{o['other']}") == []
    assert await listed(ADMIN, f"?unit=department:{o['dept']}&status=scheduled") == []
    first_page = await garden_api.get(
        f"/v1/campaigns?unit=department:{o['dept']}&limit=1", headers=manager
    )
    cursor = first_page.json()["next"]
    assert cursor and await listed(manager, f"?limit=1&before={cursor}") == [doc["id"]]


async def test_bad_campaigns_are_refused_with_reasons(garden_api: httpx.AsyncClient) -> None:
    o = await center(garden_api)
    leader = bearer("lead", "team_leader", o["team"])

    async def reasons(payload: dict[str, Any]) -> dict[str, str]:
        answer = await garden_api.post("/v1/campaigns", headers=leader, json=payload)
        assert answer.status_code == 422, answer.text
        details = answer.json()["error"]["details"]
        return {d["field"].removeprefix("body."): d["reason"] for d in details}

    start = TODAY - timedelta(days=2)
    assert "ends_on" in await reasons(
        body(o["team"], ends_on=(start - timedelta(days=1)).isoformat())
    )
    assert (
        "at most 92 days"
        in (await reasons(body(o["team"], ends_on=(start + timedelta(days=92)).isoformat())))[
            "ends_on"
        ]
    )
    assert "starts_on" in await reasons(
        body(
            o["team"],
            starts_on=(TODAY - timedelta(days=40)).isoformat(),
            ends_on=(TODAY - timedelta(days=35)).isoformat(),
        )
    )
    assert "indicator" in await reasons(body(o["team"], indicator="nps"))
    assert "goal" in await reasons(body(o["team"], goal={}))
    assert "goal.healthy_share" in await reasons(body(o["team"], goal={"healthy_share": 1.5}))
    assert "colour" in await reasons({**body(o["team"]), "colour": "red"})
    assert "goal.target" in await reasons(body(o["team"], goal={"target": 3}))
    assert "name" in await reasons(body(o["team"], name="   "))


async def test_idempotency_and_countermeasures(garden_api: httpx.AsyncClient) -> None:
    o = await center(garden_api)
    leader = bearer("lead", "team_leader", o["team"])
    key = {**leader, "Idempotency-Key": f"start-{tag()}"}
    first = await garden_api.post("/v1/campaigns", headers=key, json=body(o["team"]))
    again = await garden_api.post("/v1/campaigns", headers=key, json=body(o["team"]))
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true" and again.json() == first.json()
    reused = await garden_api.post("/v1/campaigns", headers=key, json=body(o["team"], name="other"))
    assert reused.status_code == 422
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    listed = (await garden_api.get(f"/v1/campaigns?unit=team:{o['team']}", headers=leader)).json()
    assert [i["id"] for i in listed["items"]] == [first.json()["id"]]

    url = f"/v1/campaigns/{first.json()['id']}/countermeasures"
    plan = {"what": "一对一帮扶", "who": "lead", "check_on": TODAY.isoformat()}
    added = await garden_api.post(url, headers=leader, json=plan)
    assert added.status_code == 201, added.text
    measure = added.json()
    assert measure["done"] is False and measure["done_at"] is None
    late = {**plan, "check_on": (TODAY + timedelta(days=60)).isoformat()}
    assert (await garden_api.post(url, headers=leader, json=late)).status_code == 422
    done = await garden_api.post(f"{url}/{measure['id']}/done", headers=leader)
    assert done.status_code == 200 and done.json()["done"] is True
    twice = await garden_api.post(f"{url}/{measure['id']}/done", headers=leader)
    assert twice.json()["done_at"] == done.json()["done_at"]
    assert (await garden_api.post(f"{url}/999999999/done", headers=leader)).status_code == 404
    doc = (await garden_api.get(f"/v1/campaigns/{first.json()['id']}", headers=leader)).json()
    assert doc["countermeasures"] == [done.json()]


async def test_no_countermeasure_once_a_campaign_ended(garden_api: httpx.AsyncClient) -> None:
    o = await center(garden_api)
    leader = bearer("lead", "team_leader", o["team"])
    start = TODAY - timedelta(days=4)
    created = await garden_api.post(
        "/v1/campaigns",
        headers=leader,
        json=body(
            o["team"],
            starts_on=start.isoformat(),
            ends_on=start.isoformat(),
        ),
    )
    assert created.status_code == 201, created.text
    doc = created.json()
    # the days of its period were settled already, and a later one: it ends as it starts
    assert doc["status"] == "ended" and doc["result"]["goal_met"] is False
    assert doc["result"]["classes"]["A"]["stayed"] == 1
    assert doc["result"]["classes"]["C"]["stayed"] == 1
    refused = await garden_api.post(
        f"/v1/campaigns/{doc['id']}/countermeasures",
        headers=leader,
        json={"what": "x", "who": "y", "check_on": start.isoformat()},
    )
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "campaign_ended"


async def test_a_campaign_set_up_ahead_starts_from_the_last_day_before_it(
    garden_api: httpx.AsyncClient,
) -> None:
    o = await center(garden_api)
    leader = bearer("lead", "team_leader", o["team"])
    starts_on = TODAY + timedelta(days=2)
    created = await garden_api.post(
        "/v1/campaigns",
        headers=leader,
        json=body(
            o["team"],
            starts_on=starts_on.isoformat(),
            ends_on=(starts_on + timedelta(days=5)).isoformat(),
        ),
    )
    assert created.status_code == 201, created.text
    doc = created.json()
    assert doc["status"] == "scheduled"
    assert doc["start"]["classes"] == {"A": 1, "B": 0, "C": 1, "unrated": 0}
    s = o["center"].removeprefix("K")

    def day(agent: str, offset: int, state: str) -> ScoreRecorded:
        return score(
            f"{agent}-{s}",
            TODAY + timedelta(days=offset),
            6.0,
            state,
            indicator="fcr",
            center=o["center"],
            department=o["dept"],
            team=o["team"],
        )

    async def campaign() -> Any:
        answer = await garden_api.get(f"/v1/campaigns/{doc['id']}", headers=leader)
        assert answer.status_code == 200, answer.text
        return answer.json()

    # a day before the start settles after the campaign was set up: its start follows, and a
    # newcomer to the team is a member
    await grow(garden_api, [day("a2", 1, "healthy"), day("a3", 1, "pests")])
    now = await campaign()
    assert now["start"]["classes"] == {"A": 2, "B": 1, "C": 0, "unrated": 0}
    assert {m["agent_id"]: m["class"] for m in now["start"]["members"]} == {
        f"a1-{s}": "A",
        f"a2-{s}": "A",
        f"a3-{s}": "B",
    }
    # from the first recorded day on the start never changes
    await grow(garden_api, [day("a1", 2, "withered")])
    await grow(garden_api, [day("a2", 1, "withered"), day("a3", 1, "healthy")])  # a late revision
    now = await campaign()
    assert now["status"] == "running"
    assert now["start"]["classes"] == {"A": 2, "B": 1, "C": 0, "unrated": 0}
    assert now["progress"]["days"] == [
        {
            "date": starts_on.isoformat(),
            "classes": {"A": 1, "B": 1, "C": 1, "unrated": 0},
            "unit_value": None,
        }
    ]
