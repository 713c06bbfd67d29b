"""Browser tests of the garden's screens: the garden and rewards services run as real
processes on real ports, on the test Kafka and a PostgreSQL database of their own; a team's
settled days go onto `cc.scores.v1` and grow the garden; headless Chromium (Debian's
`/usr/bin/chromium`, driven by Playwright) opens the pages with the sign-in in the link.

Screenshots land in `test-artifacts/screens/`, the services' logs in `test-artifacts/logs/`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, async_playwright

from shared.auth.tokens import mint_token
from tests.infra import ROOT
from tests.integration.alerting_support import free_port, wait_for
from tests.integration.conftest import own_database
from tests.integration.garden_support import produce, score

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = ROOT / "test-artifacts"
SECRET = "browser-test-secret-of-at-least-32-bytes"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
INDICATORS = ("satisfaction", "fcr", "aht", "call_volume", "utilization", "complaint_rate")
DAYS = 6

# Each member's (state, points) per indicator on every settled day; None: not rated.
PLAN: dict[str, tuple[str, dict[str, tuple[str, float] | None]]] = {
    "a1": (
        "李雷",
        {
            "satisfaction": ("healthy", 10.0),
            "fcr": ("pests", 6.0),
            "aht": ("withered", 2.0),
            "call_volume": ("healthy", 8.0),
            "utilization": ("pests", 4.0),
            "complaint_rate": ("healthy", 10.0),
        },
    ),
    "a2": (
        "韩梅梅",
        {
            "satisfaction": ("pests", 6.0),
            "fcr": ("healthy", 10.0),
            "aht": ("healthy", 8.0),
            "call_volume": ("healthy", 10.0),
            "utilization": ("healthy", 8.0),
            "complaint_rate": ("withered", 0.0),
        },
    ),
    "a3": (
        "王芳",
        {
            "satisfaction": ("withered", 2.0),
            "fcr": ("withered", 2.0),
            "aht": ("pests", 6.0),
            "call_volume": ("pests", 6.0),
            "utilization": ("withered", 2.0),
            "complaint_rate": ("pests", 6.0),
        },
    ),
    "a4": (
        "张伟",
        {
            "satisfaction": None,
            "fcr": ("healthy", 8.0),
            "aht": ("healthy", 8.0),
            "call_volume": ("healthy", 8.0),
            "utilization": ("healthy", 8.0),
            "complaint_rate": ("healthy", 8.0),
        },
    ),
}
GARDEN_CONFIG = {
    "fruit_at": 5,
    "stage_thresholds": [0, 1, 2, 3, 4],
    "auto_harvest_days": 0,  # the fruit waits for the hand that harvests it
}


def bearer(sub: str, role: str, unit: str | None = None) -> str:
    return mint_token(secret=SECRET, subject=sub, role=role, unit=unit)


@dataclass
class Stack:
    """The running services and the center the tests grew."""

    garden_url: str
    rewards_url: str
    center: str
    team: str
    today: date
    agents: dict[str, str]
    """Plan key → agent id."""
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def agent(self, key: str) -> str:
        return self.agents[key]

    def agent_link(self, key: str) -> str:
        token = bearer(self.agents[key], "agent", self.team)
        return f"{self.garden_url}/ui/agent.html#token={token}"

    def leader_link(self) -> str:
        token = bearer(f"lead-{self.team}", "team_leader", self.team)
        return f"{self.garden_url}/ui/leader.html#token={token}"

    def headers(self, sub: str, role: str, unit: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {bearer(sub, role, unit)}"}


def _start(module: str, port: int, log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", module],
            cwd=ROOT,
            env={**os.environ, "HTTP_PORT": str(port), "LOG_LEVEL": "WARNING", **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )


async def _ready(url: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=2) as client:
            return (await client.get(f"{url}/readyz")).status_code == 200
    except httpx.HTTPError:
        return False


def _scores(stack: Stack) -> list[Any]:
    department = f"{stack.center}-D1"
    place = {"center": stack.center, "department": department, "team": stack.team}
    events: list[Any] = []
    for n in range(DAYS, 0, -1):
        day = stack.today - timedelta(days=n)
        for key, (name, plan) in PLAN.items():
            for indicator, result in plan.items():
                state, points = result or ("not_rated", 0.0)
                # a day with a lower score now and then, so the charts have a shape
                shaped = indicator != "satisfaction" and state != "not_rated" and points >= 4
                dip = 2.0 if shaped and n % 3 == 0 else 0.0
                events.append(
                    score(
                        stack.agent(key),
                        day,
                        points - dip,
                        state,
                        indicator=indicator,
                        owner_name=name,
                        **place,
                    )
                )
        for indicator in INDICATORS:
            events.append(
                score(stack.team, day, 8.0, "healthy", indicator=indicator, kind="team", **place)
            )
    # today's live preview of one plant
    events.append(
        score(
            stack.agent("a1"),
            stack.today,
            7.0,
            "healthy",
            indicator="satisfaction",
            settled=False,
            revision=1,
            owner_name="李雷",
            **place,
        )
    )
    return events


async def _grown(client: httpx.AsyncClient, stack: Stack) -> bool:
    leader = stack.headers(f"lead-{stack.team}", "team_leader", stack.team)
    unit = await client.get(f"/v1/units/team/{stack.team}/garden", headers=leader)
    if unit.status_code != 200:
        return False
    doc = unit.json()
    grown = {p["indicator"]: p for p in doc["plants"]}
    rated = sum(1 for m in doc["members"] for s in m["states"].values() if s)
    me = await client.get(
        f"/v1/agents/{stack.agent('a1')}/garden",
        headers=stack.headers(stack.agent("a1"), "agent", stack.team),
    )
    plants = {p["indicator"]: p for p in me.json()["plants"]} if me.status_code == 200 else {}
    return (
        len(grown) == len(INDICATORS)
        and rated == sum(1 for _, plan in PLAN.values() for r in plan.values() if r)
        and plants.get("satisfaction", {}).get("ripe_fruit") == 12
        and plants["satisfaction"].get("preview_points") == 7.0
        and len(plants) == len(INDICATORS)
    )


async def _harvest(client: httpx.AsyncClient, stack: Stack, key: str, indicator: str) -> None:
    agent = stack.agent(key)
    answer = await client.post(
        f"/v1/agents/{agent}/plants/{indicator}/harvest",
        headers={**stack.headers(agent, "agent", stack.team), "Idempotency-Key": uuid.uuid4().hex},
    )
    assert answer.status_code == 200, answer.text


@pytest.fixture(scope="package")
async def stack(kafka: str, database: str) -> AsyncIterator[Stack]:
    """The garden and rewards services on free ports with a grown team, stopped (and their
    database dropped) once the browser tests are done: they would otherwise consume every
    other test's topics for the rest of the session."""
    tag = uuid.uuid4().hex[:6].upper()
    center = f"CB{tag}"
    gport, rport = free_port(), free_port()
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    stack = Stack(
        garden_url=f"http://127.0.0.1:{gport}",
        rewards_url=f"http://127.0.0.1:{rport}",
        center=center,
        team=f"{center}-D1-T1",
        today=today,
        agents={key: f"{center}-{key.upper()}" for key in PLAN},
    )
    common = {
        "KAFKA_BOOTSTRAP_SERVERS": kafka,
        "JWT_SECRET": SECRET,
        "TOPIC_PARTITIONS": "3",
        "OUTBOX_POLL_SECONDS": "0.1",
    }
    async with own_database(database, "screens") as url:
        common["DATABASE_URL"] = url
        logs = ARTIFACTS / "logs"
        stack.processes += [
            _start(
                "services.garden",
                gport,
                logs / "garden.log",
                {
                    **common,
                    "CONSUMER_GROUP": f"garden-screens-{tag}",
                    "AUTO_HARVEST_ENABLED": "false",
                    "REWARDS_PUBLIC_URL": stack.rewards_url,
                },
            ),
            _start(
                "services.rewards",
                rport,
                logs / "rewards.log",
                {
                    **common,
                    "CONSUMER_GROUP": f"rewards-screens-{tag}",
                    "UI_ORIGINS": stack.garden_url,
                    "SEED_CATALOG": "true",
                },
            ),
        ]
        try:
            await wait_for(lambda: _ready(stack.garden_url), within=60, every=0.3)
            await wait_for(lambda: _ready(stack.rewards_url), within=60, every=0.3)
            async with httpx.AsyncClient(base_url=stack.garden_url, timeout=30) as client:
                answer = await client.put(
                    f"/v1/config/garden?center_id={center}",
                    json=GARDEN_CONFIG,
                    headers=stack.headers("screens-admin", "admin"),
                )
                assert answer.status_code in (200, 201), answer.text
                await produce(kafka, _scores(stack))
                await wait_for(lambda: _grown(client, stack), within=60, every=0.3)
                # two others harvest, so the leaderboards have rows before a1 joins them
                await _harvest(client, stack, "a2", "fcr")
                await _harvest(client, stack, "a3", "call_volume")
            yield stack
        finally:
            for process in stack.processes:
                process.terminate()
            for process in stack.processes:
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()


@pytest.fixture(scope="package")
async def browser() -> AsyncIterator[Browser]:
    """Headless Chromium from Debian's package (no browser download)."""
    if not os.path.exists(CHROMIUM):  # noqa: ASYNC240 (once per session)
        pytest.fail(
            f"{CHROMIUM} is missing: scripts/debian-packages.sh chromium:chromium installs it "
            "(scripts/test.sh does)"
        )
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield chromium
        await chromium.close()


@dataclass
class Watched:
    """A page and what its console said."""

    page: Page
    errors: list[str]

    def assert_quiet(self) -> None:
        assert not self.errors, "console errors:\n" + "\n".join(self.errors)


@pytest.fixture
async def open_page(browser: Browser) -> AsyncIterator[Any]:
    """Open pages in fresh contexts (their own sessionStorage), each watched for errors."""
    contexts = []

    async def opener(url: str, viewport: dict[str, int] | None = None) -> Watched:
        context = await browser.new_context(viewport=viewport or DESKTOP, locale="zh-CN")
        contexts.append(context)
        page = await context.new_page()
        errors: list[str] = []

        def console(message: ConsoleMessage) -> None:
            if message.type == "error":
                errors.append(f"{message.text} ({message.location.get('url')})")

        page.on("console", console)
        page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
        await page.goto(url)
        return Watched(page, errors)

    yield opener
    for context in contexts:
        await context.close()


def shot(name: str) -> str:
    """Where a screenshot goes (gitignored)."""
    folder = ARTIFACTS / "screens"
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder / f"{name}.png")
