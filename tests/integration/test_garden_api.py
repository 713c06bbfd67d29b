"""The garden API on the real database and broker: harvests collected once under concurrent
requests, idempotency keys, reads with ETags, timeline pages, pictures, leaderboards,
configuration, and who may see what."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import text

from shared.contracts.garden import FruitHarvested
from shared.contracts.scores import ScoreRecorded
from shared.db import unit_of_work
from tests.integration.alerting_support import wait_for
from tests.integration.garden_support import (
    bearer,
    garden_events,
    grow,
    score,
    tag,
)

pytestmark = pytest.mark.integration
TODAY = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).date()
ADMIN = bearer("ops", "admin")


def org(suffix: str) -> dict[str, str]:
    return {
        "center": f"C{suffix}",
        "dept": f"C{suffix}-D1",
        "team": f"C{suffix}-D1-T1",
        "other_team": f"C{suffix}-D1-T2",
        "agent": f"A{suffix}-1",
        "mate": f"A{suffix}-2",
        "stranger": f"A{suffix}-3",
    }


def days_of(
    owner: str,
    o: dict[str, str],
    *,
    team: str,
    count: int,
    kind: str = "agent",
    points: float = 10.0,
) -> list[ScoreRecorded]:
    first = TODAY - timedelta(days=count)
    return [
        score(
            owner,
            first + timedelta(days=i),
            points,
            indicator="fcr",
            kind=kind,
            center=o["center"],
            department=o["dept"],
            team=team if kind in ("agent", "team") else None,
        )
        for i in range(count)
    ]


async def garden_of(suffix: str, garden_api: httpx.AsyncClient) -> dict[str, str]:
    o = org(suffix)
    await grow(
        garden_api,
        days_of(o["agent"], o, team=o["team"], count=25)
        + days_of(o["mate"], o, team=o["team"], count=3, points=4.0)
        + days_of(o["stranger"], o, team=o["other_team"], count=12)
        + days_of(o["team"], o, team=o["team"], count=12, kind="team"),
    )
    return o


async def test_twenty_concurrent_harvests_collect_the_fruit_once(
    garden_api: httpx.AsyncClient, kafka: str
) -> None:
    o = await garden_of(tag(), garden_api)
    me = bearer(o["agent"])
    url = f"/v1/agents/{o['agent']}/plants/fcr/harvest"
    answers = await asyncio.gather(*(garden_api.post(url, headers=me) for _ in range(20)))
    ok = [a for a in answers if a.status_code == 200]
    assert len(ok) == 1, [a.status_code for a in answers]
    assert {a.status_code for a in answers} == {200, 409}
    refused = next(a for a in answers if a.status_code == 409)
    assert refused.json()["error"]["code"] == "nothing_ripe"
    body = ok[0].json()
    assert body["count"] == 2 and body["fruit"] == "apple" and body["ripe_fruit"] == 0
    assert body["harvest_ids"] == [f"agent:{o['agent']}:fcr/harvest/1-2"]

    async def harvested() -> list[FruitHarvested] | None:
        events = [
            e for e in await garden_events(kafka, {o["agent"]}) if isinstance(e, FruitHarvested)
        ]
        return events or None

    events = await wait_for(harvested, within=30)
    await asyncio.sleep(1.0)
    events = [e for e in await garden_events(kafka, {o["agent"]}) if isinstance(e, FruitHarvested)]
    assert [(e.harvest_id, e.count, e.trigger, e.harvested_by) for e in events] == [
        (body["harvest_ids"][0], 2, "owner", o["agent"])
    ]
    garden = (await garden_api.get(f"/v1/agents/{o['agent']}/garden", headers=me)).json()
    assert garden["plants"][0]["ripe_fruit"] == 0
    timeline = (
        await garden_api.get(f"/v1/agents/{o['agent']}/timeline?limit=1", headers=me)
    ).json()
    assert timeline["entries"][0]["type"] == "fruit.harvested"


async def test_a_retried_key_gets_the_first_answer(garden_api: httpx.AsyncClient) -> None:
    o = await garden_of(tag(), garden_api)
    me = bearer(o["agent"])
    url = f"/v1/agents/{o['agent']}/plants/fcr/harvest"
    first = await garden_api.post(url, headers={**me, "Idempotency-Key": "k-1"})
    again = await asyncio.gather(
        *(garden_api.post(url, headers={**me, "Idempotency-Key": "k-1"}) for _ in range(5))
    )
    assert first.status_code == 200
    assert all(a.status_code == 200 and a.json() == first.json() for a in again)
    assert all(a.headers["Idempotent-Replayed"] == "true" for a in again)
    other = await garden_api.post(
        f"/v1/agents/{o['agent']}/plants/satisfaction/harvest",
        headers={**me, "Idempotency-Key": "k-1"},
    )
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    fresh = await garden_api.post(url, headers={**me, "Idempotency-Key": "k-2"})
    assert fresh.status_code == 409 and fresh.json()["error"]["code"] == "nothing_ripe"
    bad = await garden_api.post(url, headers={**me, "Idempotency-Key": "has spaces"})
    assert bad.status_code == 422


async def test_the_garden_answers_its_contract_with_etags(garden_api: httpx.AsyncClient) -> None:
    o = await garden_of(tag(), garden_api)
    await grow(
        garden_api,
        [score(o["agent"], TODAY, 6.0, indicator="fcr", settled=False, center=o["center"])],
    )
    me = bearer(o["agent"])
    answer = await garden_api.get(f"/v1/agents/{o['agent']}/garden", headers=me)
    assert answer.status_code == 200
    body = answer.json()
    assert body["agent_id"] == o["agent"] and body["star_level"] == 5
    (plant,) = body["plants"]
    assert {k: plant[k] for k in ("indicator", "fruit", "stage", "state", "ripe_fruit")} == {
        "indicator": "fcr",
        "fruit": "apple",
        "stage": 3,
        "state": "healthy",
        "ripe_fruit": 2,
    }
    assert plant["growth"] == 50.0 and plant["preview_points"] == 6.0
    assert len(body["days"]["fcr"]) == 25
    etag = answer.headers["ETag"]
    cached = await garden_api.get(
        f"/v1/agents/{o['agent']}/garden", headers={**me, "If-None-Match": etag}
    )
    assert cached.status_code == 304 and cached.headers["ETag"] == etag

    picture = await garden_api.get(f"/v1/agents/{o['agent']}/plants/fcr.svg", headers=me)
    assert picture.status_code == 200
    assert picture.headers["content-type"].startswith("image/svg+xml")
    assert picture.text.startswith("<svg") and "max-age" in picture.headers["Cache-Control"]
    again = await garden_api.get(
        f"/v1/agents/{o['agent']}/plants/fcr.svg",
        headers={**me, "If-None-Match": picture.headers["ETag"]},
    )
    assert again.status_code == 304


async def test_timeline_pages_walk_every_entry_newest_first(garden_api: httpx.AsyncClient) -> None:
    o = await garden_of(tag(), garden_api)
    me = bearer(o["agent"])
    seen: list[dict[str, object]] = []
    cursor = None
    while True:
        query = "?limit=3" + (f"&before={cursor}" if cursor else "")
        page = (await garden_api.get(f"/v1/agents/{o['agent']}/timeline{query}", headers=me)).json()
        seen += page["entries"]
        cursor = page["next"]
        if cursor is None:
            break
    ids = [e["entry_id"] for e in seen]
    assert len(ids) == len(set(ids)) == 13  # 4 stages and a fruit, twice; stages 1–3 of cycle 3
    dates = [e["business_date"] for e in seen]
    assert dates == sorted(dates, reverse=True)
    bad = await garden_api.get(f"/v1/agents/{o['agent']}/timeline?before=nonsense", headers=me)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_cursor"


async def test_who_may_read_and_harvest_what(garden_api: httpx.AsyncClient) -> None:
    o = await garden_of(tag(), garden_api)
    agent, leader = bearer(o["agent"]), bearer("lead", "team_leader", o["team"])
    manager = bearer("boss", "manager", o["dept"])

    async def status(path: str, who: dict[str, str], method: str = "GET") -> int:
        return (await garden_api.request(method, path, headers=who)).status_code

    def forbidden_body(path: str, who: dict[str, str]) -> object:
        return garden_api.get(path, headers=who)

    g = lambda owner: f"/v1/agents/{owner}/garden"  # noqa: E731
    assert await status(g(o["agent"]), agent) == 200
    other = await garden_api.get(g(o["mate"]), headers=agent)
    missing = await garden_api.get(g("nobody-at-all"), headers=agent)
    assert other.status_code == missing.status_code == 403
    assert other.json() == missing.json()
    assert await status(g(o["mate"]), leader) == 200
    assert await status(g(o["stranger"]), manager) == 200
    beyond = await garden_api.get(g(o["stranger"]), headers=leader)
    unknown = await garden_api.get(g("nobody-at-all"), headers=leader)
    assert beyond.status_code == unknown.status_code == 403 and beyond.json() == unknown.json()

    team = f"/v1/units/team/{o['team']}/garden"
    assert await status(team, agent) == 403
    answer = await garden_api.get(team, headers=leader)
    assert answer.status_code == 200
    body = answer.json()
    assert [m["owner_id"] for m in body["members"]] == [o["agent"], o["mate"]]
    (split,) = body["split"]
    assert split["indicator"] == "fcr" and split["a"] == [o["agent"], o["mate"]]
    assert await status(f"/v1/units/team/{o['other_team']}/garden", leader) == 403
    assert await status(f"/v1/units/department/{o['dept']}/garden", manager) == 200
    assert await status(f"/v1/units/department/{o['dept']}/garden", leader) == 403

    harvest = lambda kind, owner: f"/v1/{kind}/{owner}/plants/fcr/harvest"  # noqa: E731
    assert await status(harvest("agents", o["mate"]), agent, "POST") == 403
    assert await status(harvest("agents", o["agent"]), leader, "POST") == 403
    assert await status(harvest("units/team", o["team"]), agent, "POST") == 403
    assert await status(harvest("units/team", o["other_team"]), leader, "POST") == 403
    team_harvest = await garden_api.post(harvest("units/team", o["team"]), headers=leader)
    assert team_harvest.status_code == 200 and team_harvest.json()["count"] == 1

    board = f"/v1/leaderboards?scope=team:{o['team']}&period=day:{TODAY}"
    assert await status(board, agent) == 200
    assert (
        await status(f"/v1/leaderboards?scope=team:{o['other_team']}&period=day:{TODAY}", agent)
        == 403
    )
    assert await status("/v1/config/garden?center_id=C1", leader) == 403
    assert await status(f"/v1/units/team/{o['team']}/plants/fcr.svg", leader) == 200
    assert await status(f"/v1/agents/{o['mate']}/plants/fcr.svg", agent) == 403
    assert await status(f"/v1/agents/{o['mate']}/timeline", agent) == 403


async def test_every_endpoint_needs_a_token(garden_api: httpx.AsyncClient) -> None:
    paths = [
        ("GET", "/v1/agents/A1/garden"),
        ("GET", "/v1/agents/A1/timeline"),
        ("GET", "/v1/agents/A1/plants/fcr.svg"),
        ("POST", "/v1/agents/A1/plants/fcr/harvest"),
        ("GET", "/v1/units/team/T1/garden"),
        ("GET", "/v1/units/team/T1/timeline"),
        ("GET", "/v1/units/team/T1/plants/fcr.svg"),
        ("POST", "/v1/units/team/T1/plants/fcr/harvest"),
        ("GET", "/v1/leaderboards?scope=team:T1&period=day:2026-03-01"),
        ("GET", "/v1/config/garden?center_id=C1"),
        ("PUT", "/v1/config/garden?center_id=C1"),
    ]
    for method, path in paths:
        answer = await garden_api.request(method, path)
        assert answer.status_code == 401, (method, path)
        assert answer.json()["error"]["code"] == "unauthenticated"
    assert (await garden_api.get("/healthz")).status_code == 200
    assert (await garden_api.get("/metrics")).status_code == 200


async def test_leaderboards_rank_the_harvested_fruit(garden_api: httpx.AsyncClient) -> None:
    o = await garden_of(tag(), garden_api)
    await garden_api.post(f"/v1/agents/{o['agent']}/plants/fcr/harvest", headers=bearer(o["agent"]))
    await garden_api.post(
        f"/v1/agents/{o['stranger']}/plants/fcr/harvest", headers=bearer(o["stranger"])
    )
    board = await garden_api.get(
        f"/v1/leaderboards?scope=department:{o['dept']}&period=week:{TODAY}",
        headers=bearer("boss", "manager", o["dept"]),
    )
    assert board.status_code == 200, board.text
    body = board.json()
    assert [(e["rank"], e["owner"], e["fruit"]) for e in body["entries"]] == [
        (1, o["agent"], 2),
        (2, o["stranger"], 1),
    ]
    assert body["me"] is None
    mine = await garden_api.get(
        f"/v1/leaderboards?scope=team:{o['team']}&period=month:{TODAY}&fruit=apple",
        headers=bearer(o["agent"]),
    )
    assert mine.json()["me"] == {"rank": 1, "fruit": 2}
    bad = await garden_api.get(f"/v1/leaderboards?scope=galaxy:1&period=day:{TODAY}", headers=ADMIN)
    assert bad.status_code == 422


async def test_a_garden_read_the_database_cannot_hold_is_refused(
    garden_api: httpx.AsyncClient,
) -> None:
    answer = await garden_api.get("/v1/agents/A%00x/garden", headers=ADMIN)
    assert answer.status_code == 422, answer.text
    nobody = await garden_api.get("/v1/agents/nobody-at-all/garden", headers=ADMIN)
    assert nobody.status_code == 200 and nobody.json()["plants"] == []


async def test_a_board_follows_every_harvest_rename_and_move(garden_api: httpx.AsyncClient) -> None:
    """Boards are kept ranked between requests: each answer still counts every harvest and
    shows every member as they stand, whoever wrote them (here: straight to the database)."""
    o = await garden_of(tag(), garden_api)
    url = f"/v1/leaderboards?scope=team:{o['team']}&period=month:{TODAY}"
    leader = bearer("lead", "team_leader", o["team"])

    async def rows() -> list[tuple[int, str, str, int]]:
        answer = await garden_api.get(url, headers=leader)
        assert answer.status_code == 200, answer.text
        return [(e["rank"], e["owner"], e["name"], e["fruit"]) for e in answer.json()["entries"]]

    assert await rows() == []
    await garden_api.post(f"/v1/agents/{o['agent']}/plants/fcr/harvest", headers=bearer(o["agent"]))
    assert await rows() == [(1, o["agent"], o["agent"], 2)]
    app = garden_api.app  # type: ignore[attr-defined]
    async with unit_of_work(app.state.sessions) as session:
        await session.execute(
            text("UPDATE garden_members SET name = 'Mei' WHERE owner_id = :o"), {"o": o["agent"]}
        )
    assert await rows() == [(1, o["agent"], "Mei", 2)]
    async with unit_of_work(app.state.sessions) as session:
        await session.execute(
            text("UPDATE garden_members SET team_id = :t WHERE owner_id = :o"),
            {"o": o["agent"], "t": o["other_team"]},
        )
    assert await rows() == []


async def test_config_is_validated_and_versioned_from_the_next_ungrown_day(
    garden_api: httpx.AsyncClient,
) -> None:
    o = await garden_of(tag(), garden_api)
    url = f"/v1/config/garden?center_id={o['center']}"
    default = (await garden_api.get(url, headers=ADMIN)).json()
    assert default["version"] is None and default["config"]["fruit_at"] == 100
    wrong = await garden_api.put(
        url,
        headers=ADMIN,
        json={"fruit_at": -1, "multipliers": {"healthy": 2}, "colour": "green"},
    )
    assert wrong.status_code == 422
    fields = {d["field"] for d in wrong.json()["error"]["details"]}
    assert {"fruit_at", "multipliers.healthy", "colour"} <= fields
    stored = await garden_api.put(
        url, headers=ADMIN, json={"fruit_at": 120, "auto_harvest_days": 3}
    )
    assert stored.status_code == 200, stored.text
    body = stored.json()
    assert body["effective_from"] == TODAY.isoformat()  # the latest grown day is yesterday
    assert body["config"]["fruit_at"] == 120 and body["config"]["auto_harvest_days"] == 3
    assert (await garden_api.get(url, headers=ADMIN)).json()["version"] == body["version"]
    assert (await garden_api.put(url, headers=bearer(o["agent"]), json={})).status_code == 403
