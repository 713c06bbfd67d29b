"""The scoring org and configuration API on the real PostgreSQL, in-process over HTTP.

The module works in a database of its own on the test server (created and
dropped here), since `PUT /v1/org` replaces the whole organisation.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import sys
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.scoring import org_load
from services.scoring.domain import (
    DEFAULT_VETO,
    SettlementPolicy,
    Tiers,
    default_library,
    default_tiers,
)
from services.scoring.library import store as library
from services.scoring.library.routes import config_router
from services.scoring.library.store import EVERY_DAY
from services.scoring.models import SettledDay
from services.scoring.org import store as org
from services.scoring.org.routes import org_router
from shared.auth.tokens import TokenVerifier, mint_token
from shared.db import make_engine, make_session_factory
from shared.errors import install_error_handlers
from shared.sql import execute as run_sql
from simulator.org import build_org
from tests.integration.conftest import own_database

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SECRET = "scoring-config-test-secret-of-32-bytes-or-more"
ADMIN = {"Authorization": "Bearer " + mint_token(secret=SECRET, subject="ops", role="admin")}
LEADER = {
    "Authorization": "Bearer "
    + mint_token(secret=SECRET, subject="lead", role="team_leader", unit="C1-D1-T01")
}
MARCH_1 = date(2026, 3, 1)
CONFIG_TABLES = (
    "scoring_tier_versions, scoring_library_versions, scoring_settled_days, "
    "scoring_memberships, scoring_agents, scoring_teams, scoring_departments, scoring_centers"
)


@pytest.fixture(scope="module")
async def config_database(database: str) -> AsyncIterator[str]:
    """A migrated database of this module's own, dropped afterwards."""
    async with own_database(database, "scoring_config") as url:
        yield url


@pytest.fixture(scope="module")
async def engine(config_database: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(config_database, pool_size=2)
    yield engine
    await engine.dispose()


@pytest.fixture
async def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """The session factory, on empty org and configuration tables."""
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {CONFIG_TABLES} RESTART IDENTITY CASCADE"))
    return make_session_factory(engine)


@pytest.fixture
async def client(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on an app with the org and configuration routers."""
    app = FastAPI()
    app.state.token_verifier = TokenVerifier(
        key=SECRET, algorithms=("HS256",), issuer="service-garden"
    )
    app.state.sessions = sessions
    install_error_handlers(app)
    app.include_router(org_router)
    app.include_router(config_router)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://scoring") as http:
        yield http


async def put_org(
    client: httpx.AsyncClient, tree: dict[str, Any], effective_from: date | None = MARCH_1
) -> dict[str, Any]:
    body = {**tree, "effective_from": effective_from.isoformat() if effective_from else None}
    response = await client.put("/v1/org", json=body, headers=ADMIN)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def get_org(client: httpx.AsyncClient, on: date | None = None) -> dict[str, Any]:
    params = {"on": on.isoformat()} if on else {}
    response = await client.get("/v1/org", params=params, headers=ADMIN)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    assert answer.pop("on") == (on.isoformat() if on else None)
    return answer


def team_of(tree: dict[str, Any], agent_id: str) -> str:
    found = [
        team["id"]
        for center in tree["centers"]
        for department in center["departments"]
        for team in department["teams"]
        for agent in team["agents"]
        if agent["id"] == agent_id
    ]
    assert len(found) == 1, found
    return str(found[0])


def teams(tree: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for c in tree["centers"] for d in c["departments"] for t in d["teams"]]


# --- the org -------------------------------------------------------------------------------------


async def test_org_round_trip_and_repo_reads(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    tree = build_org(400, seed=11, centers=2)
    tree["centers"][1]["timezone"] = "Asia/Urumqi"
    summary = await put_org(client, tree)
    assert summary["changed"] is True
    assert summary["agents"] == {"added": 400, "updated": 0, "deactivated": 0, "moved": 0}
    assert summary["effective_from"] == {"C1": "2026-03-01", "C2": "2026-03-01"}
    assert await get_org(client) == tree
    assert await get_org(client, on=MARCH_1) == tree
    assert await get_org(client, on=date(2026, 2, 28)) == {"centers": []}

    async with sessions() as session:
        members = await org.memberships_on(session, MARCH_1)
        assert len(members) == 400
        first = members[0]
        assert (first.agent_id, first.center_id) == ("A1024", "C1")
        assert first.team_id == team_of(tree, "A1024")
        assert await org.memberships_on(session, date(2026, 2, 28)) == []
        zones = await org.agent_zones(session, ["A1024", "A1423", "nobody"])
        assert {a: z.key for a, z in zones.items()} == {
            "A1024": "Asia/Shanghai",
            "A1423": "Asia/Urumqi",
        }
        assert [(c.id, c.timezone.key) for c in await org.centers(session)] == [
            ("C1", "Asia/Shanghai"),
            ("C2", "Asia/Urumqi"),
        ]
        team = teams(tree)[0]["id"]
        path = org.UnitPath("C1", "C1-D1", team)
        assert await org.unit_path(session, "team", team) == path
        assert await org.unit_path(session, "department", "C1-D1") == org.UnitPath("C1", "C1-D1")
        assert await org.unit_path(session, "center", "C2") == org.UnitPath("C2")
        assert await org.unit_path(session, "team", "C1-D1") is None
        assert await org.unit_exists(session, "department", "C1-D1")
        assert not await org.unit_exists(session, "center", "C9")
        assert await org.find_unit(session, "C1-D1") == org.UnitPath("C1", "C1-D1")
        assert await org.agent_unit_path(session, "A1024", MARCH_1) == org.UnitPath(
            "C1", "C1-D1", team_of(tree, "A1024")
        )
        assert await org.agent_unit_path(session, "A1024", date(2026, 2, 1)) is None


async def test_the_same_tree_twice_changes_nothing(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    tree = build_org(120, seed=4)
    await put_org(client, tree)
    before = await _table_state(sessions)
    again = await put_org(client, tree, effective_from=None)  # default day differs: still nothing
    assert again["changed"] is False
    assert again["agents"] == {"added": 0, "updated": 0, "deactivated": 0, "moved": 0}
    assert await _table_state(sessions) == before


async def _table_state(sessions: async_sessionmaker[AsyncSession]) -> list[Any]:
    async with sessions() as session:
        state = []
        for table in ("scoring_centers", "scoring_teams", "scoring_agents", "scoring_memberships"):
            rows = await run_sql(session, f"SELECT * FROM {table} ORDER BY 1")
            state.append([tuple(r) for r in rows])
        return state


async def test_a_team_move_counts_for_the_new_team_from_its_day(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    tree = build_org(60, seed=2)
    await put_org(client, tree)
    moved = copy.deepcopy(tree)
    first, second = teams(moved)[0], teams(moved)[1]
    agent = first["agents"].pop(0)
    second["agents"].append(agent)
    move_day = date(2026, 3, 10)
    summary = await put_org(client, moved, effective_from=move_day)
    assert summary["agents"]["moved"] == 1
    assert summary["memberships"] == {"opened": 1, "closed": 1, "corrected": 0}

    async with sessions() as session:
        before = await org.agent_unit_path(session, agent["id"], date(2026, 3, 9))
        after = await org.agent_unit_path(session, agent["id"], move_day)
        assert before is not None and before.team_id == first["id"]
        assert after is not None and after.team_id == second["id"]
        on_9th = {
            m.agent_id: m.team_id for m in await org.memberships_on(session, date(2026, 3, 9))
        }
        assert on_9th[agent["id"]] == first["id"] and len(on_9th) == 60
    assert team_of(await get_org(client, on=date(2026, 3, 9)), agent["id"]) == first["id"]
    assert team_of(await get_org(client), agent["id"]) == second["id"]

    # a move back dated before the move it undoes is refused, and changes nothing
    response = await client.put(
        "/v1/org", json={**tree, "effective_from": "2026-03-05"}, headers=ADMIN
    )
    assert response.status_code == 422
    assert "cannot take effect earlier" in response.text
    assert team_of(await get_org(client), agent["id"]) == second["id"]


async def test_removed_units_stay_in_history(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    tree = build_org(60, seed=2)
    await put_org(client, tree)
    smaller = copy.deepcopy(tree)
    gone = smaller["centers"][0]["departments"][0]["teams"].pop()
    summary = await put_org(client, smaller, effective_from=date(2026, 3, 20))
    assert summary["teams"]["deactivated"] == 1
    assert summary["agents"]["deactivated"] == len(gone["agents"])
    assert await get_org(client) == smaller
    assert await get_org(client, on=date(2026, 3, 19)) == tree
    async with sessions() as session:
        assert await org.unit_exists(session, "team", gone["id"])  # history references it
        assert len(await org.memberships_on(session, date(2026, 3, 20))) == 60 - len(gone["agents"])
    # it may come back, with its agents
    summary = await put_org(client, tree, effective_from=date(2026, 3, 25))
    assert summary["teams"] == {"added": 0, "updated": 1, "deactivated": 0}
    assert await get_org(client) == tree


async def test_org_endpoints_need_an_admin(client: httpx.AsyncClient) -> None:
    calls = [
        ("GET", "/v1/org", None),
        ("PUT", "/v1/org", build_org(5, seed=1)),
        ("GET", "/v1/config/indicators?center_id=C1", None),
        ("PUT", "/v1/config/indicators", {"center_id": "C1", "indicators": []}),
        ("GET", "/v1/config/tiers?center_id=C1", None),
        ("PUT", "/v1/config/tiers", {"center_id": "C1", "tiers": {}}),
    ]
    for method, url, body in calls:
        anonymous = await client.request(method, url, json=body)
        assert anonymous.status_code == 401, (method, url)
        assert anonymous.json()["error"]["code"] == "unauthenticated"
        leader = await client.request(method, url, json=body, headers=LEADER)
        assert leader.status_code == 403, (method, url)
        assert leader.json()["error"]["code"] == "forbidden"


async def test_invalid_trees_are_refused_with_reasons(client: httpx.AsyncClient) -> None:
    tree = build_org(30, seed=6)
    await put_org(client, tree)
    bad = copy.deepcopy(tree)
    bad["centers"][0]["timezone"] = "Asia/Atlantis"
    first, second = teams(bad)[0], teams(bad)[1]
    second["id"] = first["id"]
    second["agents"].append(dict(first["agents"][0]))
    first["agents"][1]["id"] = ""
    response = await client.put("/v1/org", json=bad, headers=ADMIN)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid"
    text_ = json.dumps(error["details"], ensure_ascii=False)
    assert "unknown time zone 'Asia/Atlantis'" in text_
    assert f"duplicate id '{first['id']}'" in text_
    assert "ids are 1–64 characters" in text_
    assert "listed twice in team" in text_  # same id now, so the same team twice

    moved_team = copy.deepcopy(tree)
    moved_team["centers"][0]["departments"].append(
        {
            "id": "C1-D9",
            "name": "新部",
            "teams": [moved_team["centers"][0]["departments"][0]["teams"].pop()],
        }
    )
    response = await client.put("/v1/org", json=moved_team, headers=ADMIN)
    assert response.status_code == 422
    assert "units keep their parent" in response.text

    shapeless = await client.put("/v1/org", json={"centers": [{"id": "C1"}]}, headers=ADMIN)
    assert shapeless.status_code == 422
    assert shapeless.json()["error"]["details"][0]["field"].endswith("name")
    assert await get_org(client) == tree  # nothing was changed by the refusals


async def test_the_loader_applies_a_csv_file(
    config_database: str, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    path = tmp_path / "org.csv"
    path.write_text(
        ",".join(org_load.CSV_COLUMNS) + "\n"
        "C7,佛山客服中心,Asia/Shanghai,C7-D1,账务查询一部,C7-D1-T01,账务一组,A9001,陈静\n"
        "C7,佛山客服中心,Asia/Shanghai,C7-D1,账务查询一部,C7-D1-T02,账务二组,A9002,林涛\n",
        encoding="utf-8",
    )
    env = {**os.environ, "DATABASE_URL": config_database}
    code, out, _ = await load_file(path, env, "--effective-from", "2026-03-01")
    assert code == 0
    assert json.loads(out)["agents"]["added"] == 2
    again = await org_load.load(config_database, org_load.read_org_file(path))
    assert again["changed"] is False
    async with sessions() as session:
        assert await org.agent_unit_path(session, "A9002", MARCH_1) == org.UnitPath(
            "C7", "C7-D1", "C7-D1-T02"
        )
    path.write_text(path.read_text(encoding="utf-8").replace("Asia/Shanghai", "Mars/Base"))
    with pytest.raises(org.OrgRejected) as refused:
        await org_load.load(config_database, org_load.read_org_file(path))
    assert "unknown time zone 'Mars/Base'" in refused.value.problems[0]["reason"]


async def load_file(path: Path, env: dict[str, str], *args: str) -> tuple[int, str, str]:
    """Run the loader CLI; answer its exit code, stdout and stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.scoring.org_load",
        str(path),
        *args,
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


# --- configuration -------------------------------------------------------------------------------

SATISFACTION = {
    "pass": 80,
    "center_avg": None,
    "center_benchmark": 90,
    "group_avg": 92,
    "group_excellence": 95,
    "points": [1, 2, 2, 2, 3],
}


def core_library(*extra: dict[str, Any], **settings: Any) -> dict[str, Any]:
    items = [{"code": code} for code in default_library()]
    return {"center_id": "C1", "indicators": [*items, *extra], "settings": settings}


async def settle(sessions: async_sessionmaker[AsyncSession], center: str, *days: date) -> None:
    async with sessions() as session, session.begin():
        session.add_all(SettledDay(center_id=center, business_date=d) for d in days)


async def test_defaults_apply_until_something_is_configured(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await put_org(client, build_org(20, seed=1))
    response = await client.get("/v1/config/indicators", params={"center_id": "C1"}, headers=ADMIN)
    assert response.status_code == 200
    body = response.json()
    assert body["version"] is None
    assert [i["code"] for i in body["indicators"]] == list(default_library())
    assert body["settings"]["veto"] == list(DEFAULT_VETO)
    tiers = (await client.get("/v1/config/tiers", params={"center_id": "C1"}, headers=ADMIN)).json()
    assert tiers["tiers"] == {} and tiers["resolved"]["aht"]["source"] == "default"
    async with sessions() as session:
        config = await library.scoring_config(session, "C1", "C1-D1", MARCH_1)
        assert dict(config.library) == default_library()
        assert dict(config.tiers) == default_tiers()
        assert config.veto == DEFAULT_VETO and config.satisfied_min_score == 4
        assert config.policy == SettlementPolicy()
    missing = await client.get("/v1/config/indicators", params={"center_id": "C9"}, headers=ADMIN)
    assert missing.status_code == 404


async def test_a_change_applies_from_the_next_unsettled_day(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await put_org(client, build_org(40, seed=3, centers=2))
    # nothing settled yet: the first version applies to every day
    first = await client.put(
        "/v1/config/tiers",
        json={"center_id": "C1", "tiers": {"satisfaction": SATISFACTION}},
        headers=ADMIN,
    )
    assert first.status_code == 200, first.text
    assert first.json()["effective_from"] is None
    await settle(sessions, "C1", date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 5))
    stricter = {**SATISFACTION, "pass": 85}
    second = await client.put(
        "/v1/config/tiers",
        json={"center_id": "C1", "tiers": {"satisfaction": stricter}},
        headers=ADMIN,
    )
    assert second.json()["effective_from"] == "2026-03-06"
    settings = await client.put(
        "/v1/config/indicators",
        json=core_library(satisfied_min_score=5, fcr_window_hours=6, allowed_lateness_hours=1),
        headers=ADMIN,
    )
    assert settings.json()["effective_from"] == "2026-03-06"
    async with sessions() as session, session.begin():
        # the pipeline's FCR window and the settlement policy follow the center's settings
        policies = await library.center_policies(
            session, [date(2026, 3, 5), date(2026, 3, 6)], default=SettlementPolicy()
        )
        assert policies.in_force == {
            ("C1", date(2026, 3, 6)): SettlementPolicy(
                fcr_window=timedelta(hours=6), allowed_lateness=timedelta(hours=1)
            )
        }
        assert await library.longest_fcr_window(session) == timedelta(hours=6)

    async with sessions() as session:
        for day, pass_, min_score in [
            (date(2025, 1, 1), 80, 4),
            (date(2026, 3, 5), 80, 4),
            (date(2026, 3, 6), 85, 5),
        ]:
            config = await library.scoring_config(session, "C1", "C1-D1", day)
            assert config.tiers["satisfaction"].pass_ == pass_, day
            assert config.satisfied_min_score == min_score, day
            book = await library.load_configs(session, day)
            assert book.for_owner("C1", "C1-D1", "agent") == config
        other = await library.scoring_config(session, "C2", None, date(2026, 3, 1))
        assert other.tiers["satisfaction"] == default_tiers()["satisfaction"]

    old = await client.get(
        "/v1/config/tiers", params={"center_id": "C1", "on": "2026-03-05"}, headers=ADMIN
    )
    assert old.json()["tiers"]["satisfaction"]["pass"] == 80
    assert old.json()["effective_from"] is None
    newest = await client.get("/v1/config/tiers", params={"center_id": "C1"}, headers=ADMIN)
    assert newest.json()["tiers"]["satisfaction"]["pass"] == 85
    assert newest.json()["created_by"] == "ops"


async def test_department_overrides_and_unit_tiers(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    tree = build_org(400, seed=8)
    await put_org(client, tree)
    qa = {"code": "qa_score", "name": "质检分", "direction": "higher", "department_id": "C1-D1"}
    response = await client.put("/v1/config/indicators", json=core_library(qa), headers=ADMIN)
    assert response.status_code == 200, response.text
    center = {"satisfaction": SATISFACTION}
    department = {
        "satisfaction": {**SATISFACTION, "pass": 70},
        "qa_score": {**SATISFACTION, "pass": 60, "center_avg": 70},
    }
    team = {"fcr": {"pass": 60, "center_benchmark": 75, "group_avg": 70, "group_excellence": 85}}
    scopes: list[dict[str, Any]] = [
        {"tiers": center},
        {"department_id": "C1-D1", "tiers": department},
        {"owner_kind": "team", "tiers": team},
    ]
    for scope in scopes:
        answer = await client.put(
            "/v1/config/tiers", json={"center_id": "C1", **scope}, headers=ADMIN
        )
        assert answer.status_code == 200, answer.text

    async with sessions() as session:
        d1 = await library.scoring_config(session, "C1", "C1-D1", MARCH_1)
        d2 = await library.scoring_config(session, "C1", "C1-D2", MARCH_1)
        d1_team = await library.scoring_config(session, "C1", "C1-D1", MARCH_1, "team")
        whole = await library.scoring_config(session, "C1", None, MARCH_1, "center")
        book = await library.load_configs(session, MARCH_1)
    assert d1.tiers["satisfaction"].pass_ == 70
    assert d1.tiers["qa_score"] == Tiers(60, 70, 90, 92, 95, (1, 2, 2, 2, 3))
    assert d1.library["qa_score"].department_id == "C1-D1"
    assert d2.tiers["satisfaction"].pass_ == 80 and "qa_score" not in d2.library
    assert d1_team.tiers["fcr"].pass_ == 60 and d1_team.tiers["satisfaction"].pass_ == 70
    assert whole.tiers["fcr"] == default_tiers()["fcr"] and "qa_score" not in whole.library
    assert book.for_owner("C1", "C1-D1", "team") == d1_team
    assert book.for_owner("C1", None, "center") == whole

    resolved = (
        await client.get(
            "/v1/config/tiers",
            params={"center_id": "C1", "department_id": "C1-D1", "owner_kind": "team"},
            headers=ADMIN,
        )
    ).json()
    assert resolved["tiers"] == {}  # nothing stored for exactly this scope
    sources = {code: t["source"] for code, t in resolved["resolved"].items()}
    assert sources["fcr"] == "center:team"
    assert sources["satisfaction"] == "department:C1-D1:agent"
    assert sources["aht"] == "default"

    wrong_department = await client.put(
        "/v1/config/tiers",
        json={"center_id": "C1", "department_id": "C1-D2", "tiers": {"qa_score": SATISFACTION}},
        headers=ADMIN,
    )
    assert wrong_department.status_code == 422
    assert "'qa_score' is not an indicator of this scope" in wrong_department.text


async def test_invalid_configuration_is_refused_with_reasons(client: httpx.AsyncClient) -> None:
    await put_org(client, build_org(20, seed=1))
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("indicators", {**core_library(), "center_id": "C9"}, "unknown center 'C9'"),
        (
            "indicators",
            {"center_id": "C1", "indicators": [{"code": "aht"}]},
            "core indicator 'fcr' cannot be removed",
        ),
        (
            "indicators",
            core_library({"code": "fcr", "direction": "lower"}),
            "its direction stays 'higher'",
        ),
        ("indicators", core_library(veto=["nps"]), "'nps' is not an indicator"),
        (
            "indicators",
            core_library(
                *(
                    {
                        "code": f"own_{n}",
                        "name": "x",
                        "direction": "higher",
                        "department_id": "C1-D1",
                    }
                    for n in range(5)
                )
            ),
            "more than 4 indicators",
        ),
        (
            "indicators",
            core_library({"code": "qa", "name": "x", "direction": "higher", "department_id": "D0"}),
            "not an active department",
        ),
        (
            "tiers",
            {"center_id": "C1", "tiers": {"satisfaction": {**SATISFACTION, "pass": 91}}},
            "pass (91) is better than center_benchmark (90)",
        ),
        ("tiers", {"center_id": "C1", "tiers": {"nps": SATISFACTION}}, "'nps' is not an indicator"),
        (
            "tiers",
            {"center_id": "C1", "department_id": "C1-D7", "tiers": {}},
            "not an active department",
        ),
        (
            "tiers",
            {"center_id": "C1", "owner_kind": "planet", "tiers": {}},
            "owner_kind",
        ),
    ]
    for kind, body, reason in cases:
        response = await client.put(f"/v1/config/{kind}", json=body, headers=ADMIN)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["error"]["code"] == "invalid"
        assert reason in json.dumps(response.json(), ensure_ascii=False), (reason, response.text)
    stored = await client.get("/v1/config/tiers", params={"center_id": "C1"}, headers=ADMIN)
    assert stored.json()["version"] is None  # no refused version was kept


async def test_settled_days_of_one_center_do_not_move_another(
    sessions: async_sessionmaker[AsyncSession], client: httpx.AsyncClient
) -> None:
    await put_org(client, build_org(40, seed=3, centers=2))
    await settle(sessions, "C2", date(2026, 3, 7))
    async with sessions() as session:
        assert await library.next_unsettled_day(session, "C1") == EVERY_DAY
        assert await library.next_unsettled_day(session, "C2") == date(2026, 3, 8)
