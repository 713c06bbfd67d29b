"""Complaint surges through the real pipeline: ingest → Kafka → alerting → PostgreSQL →
a real HTTP SMS sink (and its receipts back), incidents API, cc.alerts.v1."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import orjson
import pytest

from services.alerting.rules import default_rules
from shared.contracts.topics import ALERTS
from simulator.generator import Simulation
from simulator.org import build_org
from tests.integration.alerting_support import (
    DEPARTMENT,
    Sink,
    alerting_env,
    category,
    complaint_seen,
    complaints,
    free_port,
    serve_alerting,
    start_sink,
    stop,
    surge_rules,
    token,
    wait_for,
)
from tests.integration.conftest import CRM_KEY
from tests.kafka_tools import read_topic

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def sink() -> Any:
    running = start_sink()
    yield running
    stop(running.process)


@pytest.fixture
async def alerting(kafka: str, database: str, sink: Sink) -> AsyncIterator[httpx.AsyncClient]:
    await sink.mode("up")
    env = alerting_env(kafka, database, sink, free_port(), f"alerting-{uuid.uuid4().hex[:6]}")
    async with serve_alerting(env) as client:
        yield client


async def post(
    ingest: httpx.AsyncClient, events: list[dict[str, Any]], kind: str = "complaint.filed"
) -> None:
    response = await ingest.post(f"/v1/events/{kind}", json=events, headers={"X-API-Key": CRM_KEY})
    assert response.status_code == 202, response.text


async def incidents(alerting: httpx.AsyncClient, cat: str) -> list[dict[str, Any]]:
    response = await alerting.get("/v1/incidents", headers=token("manager", unit=DEPARTMENT))
    assert response.status_code == 200, response.text
    return [i for i in response.json()["incidents"] if i["category"] == cat]


async def sms_for(sink: Sink, phones: set[str]) -> list[dict[str, Any]]:
    return [m for m in await sink.messages() if m["to"] in phones]


async def test_a_surge_escalates_to_the_right_people_in_order(
    alerting: httpx.AsyncClient, ingest: httpx.AsyncClient, sink: Sink, kafka: str
) -> None:
    cat = category()
    rules = surge_rules(cat)
    assert (await alerting.put("/v1/rules", json=rules, headers=token())).status_code == 200
    ladder = rules["rules"][0]["ladder"]
    phones = {p["phone"]: lv["level"] for lv in ladder for p in lv["recipients"]}

    await post(ingest, complaints(cat, 4))  # below the trigger (5)
    await post(ingest, complaints(cat, 3, region="zhuhai"))  # another region: its own series
    await post(ingest, complaints(cat, 1))  # 5th in foshan: L1
    first = await wait_for(lambda: sms_for(sink, set(phones)))
    assert [phones[m["to"]] for m in first] == [1]
    assert "佛山" in first[0]["text"] and "激增至5件" in first[0]["text"]
    assert "当前L1级" in first[0]["text"]

    await post(ingest, complaints(cat, 16))  # 21: L2, L3, L4 in one step
    every = await wait_for(lambda: _at_least(sms_for(sink, set(phones)), 5), within=20)
    assert [phones[m["to"]] for m in every] == [1, 2, 3, 4, 4]
    assert all("当前L4级" in m["text"] for m in every[1:])

    [incident] = await incidents(alerting, cat)
    assert incident["region"] == "foshan" and incident["level"] == 4
    assert incident["status"] == "escalated" and incident["peak_count"] == 21

    # receipts come back from the sink: queued → sent → delivered
    async def delivered() -> dict[str, Any] | None:
        detail = (await alerting.get(f"/v1/incidents/{incident['id']}", headers=token())).json()
        return detail if all(s["status"] == "delivered" for s in detail["sms"]) else None

    detail = await wait_for(delivered)
    assert len(detail["sms"]) == 5
    assert [e["kind"] for e in detail["audit"]] == ["opened", "escalated", "escalated"]

    ack = await alerting.post(
        f"/v1/incidents/{incident['id']}/ack",
        json={"note": "on it"},
        headers=token("manager", "li", unit=DEPARTMENT),
    )
    assert ack.status_code == 200 and ack.json()["status"] == "acknowledged"
    assert ack.json()["acknowledged_by"] == "li"
    done = await alerting.post(
        f"/v1/incidents/{incident['id']}/resolve", headers=token("manager", unit=DEPARTMENT)
    )
    assert done.status_code == 200 and done.json()["status"] == "resolved"
    again = await alerting.post(
        f"/v1/incidents/{incident['id']}/ack", headers=token("manager", unit=DEPARTMENT)
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"

    resolved = await wait_for(lambda: _at_least(sms_for(sink, set(phones)), 10), within=20)
    closing = resolved[5:]
    assert sorted(m["to"] for m in closing) == sorted(phones)  # everyone alerted, once
    assert all("【投诉预警解除】" in m["text"] for m in closing)
    assert all(m["deliveries"] == 1 for m in resolved)

    seen = await read_topic(
        kafka,
        ALERTS.name,
        keep=lambda s: s.key == str(incident["id"]).encode(),
        until=lambda s: len(s) >= 5,
    )
    kinds = [orjson.loads(s.value)["type"] for s in seen]
    assert kinds == [
        "incident.opened",
        "incident.escalated",
        "incident.escalated",
        "incident.acknowledged",
        "incident.resolved",
    ]

    metrics = (await alerting.get("/metrics")).text
    assert 'alerting_sms_total{provider="http",status="delivered"}' in metrics
    assert "alerting_detection_latency_seconds_count" in metrics
    assert "alerting_open_incidents" in metrics


async def _at_least(messages: Any, n: int) -> list[dict[str, Any]] | None:
    found = await messages
    return found if len(found) >= n else None


async def test_gateway_outage_retries_then_delivers_everything(
    alerting: httpx.AsyncClient, ingest: httpx.AsyncClient, sink: Sink
) -> None:
    cat = category()
    rules = surge_rules(cat)
    assert (await alerting.put("/v1/rules", json=rules, headers=token())).status_code == 200
    phones = {p["phone"] for lv in rules["rules"][0]["ladder"] for p in lv["recipients"]}
    await sink.mode("down")
    await post(ingest, complaints(cat, 12))  # L1 and L2
    [incident] = await wait_for(lambda: incidents(alerting, cat))

    async def retried() -> list[dict[str, Any]] | None:
        sms = (await alerting.get(f"/v1/incidents/{incident['id']}", headers=token())).json()["sms"]
        # between attempts (an attempt in flight shows as "sending")
        done = len(sms) == 2 and all(s["attempts"] >= 3 and s["status"] == "queued" for s in sms)
        return sms if done else None

    waiting = await wait_for(retried, within=30)
    assert all("503" in s["last_error"] for s in waiting)
    assert await sms_for(sink, phones) == []

    await sink.mode("up")
    arrived = await wait_for(lambda: _at_least(sms_for(sink, phones), 2), within=20)
    assert len(arrived) == 2 and all(m["deliveries"] == 1 for m in arrived)

    async def all_delivered() -> bool:
        sms = (await alerting.get(f"/v1/incidents/{incident['id']}", headers=token())).json()["sms"]
        return all(s["status"] == "delivered" for s in sms)

    await wait_for(all_delivered)
    assert 'status="retried"' in (await alerting.get("/metrics")).text


async def test_withdrawn_complaints_leave_the_window(
    alerting: httpx.AsyncClient, ingest: httpx.AsyncClient, database: str
) -> None:
    cat = category()
    assert (
        await alerting.put("/v1/rules", json=surge_rules(cat), headers=token())
    ).status_code == 200
    filed = complaints(cat, 5)
    await post(ingest, filed[:4])
    withdrawal = {
        "type": "complaint.updated",
        "event_id": f"cu-{uuid.uuid4().hex}",
        "source": "crm-1",
        "occurred_at": filed[0]["occurred_at"],
        "complaint_id": filed[0]["complaint_id"],
        "status": "withdrawn",
        "category": cat,
    }
    await post(ingest, [withdrawal], "complaint.updated")
    duplicate = {**filed[4], "event_id": f"cf-{uuid.uuid4().hex}"}  # resent under a new id
    await post(ingest, [filed[4], duplicate])  # 5 filed, 1 withdrawn: 4, below the trigger
    await wait_for(lambda: complaint_seen(database, filed[4]["complaint_id"]))
    await asyncio.sleep(1.5)  # ticks pass too
    assert await incidents(alerting, cat) == []
    await post(ingest, complaints(cat, 1))
    [incident] = await wait_for(lambda: incidents(alerting, cat))
    assert incident["peak_count"] == 5


async def test_normal_background_complaints_open_no_incident(
    alerting: httpx.AsyncClient, ingest: httpx.AsyncClient, database: str
) -> None:
    """A simulated day of 250 agents' complaints at their normal rates, under the default
    rules (categories renamed so no other test's complaints mix in)."""
    tag = uuid.uuid4().hex[:6]
    rules = default_rules().model_dump()
    for rule in rules["rules"]:
        rule["category"] += tag
    assert (await alerting.put("/v1/rules", json=rules, headers=token())).status_code == 200
    day = [
        e
        for e in Simulation(build_org(250, seed=11), seed=11, start=date(2026, 4, 6)).events()
        if e["type"] == "complaint.filed"
    ]
    for e in day:
        e["category"] += tag
        e["complaint_id"] += tag
        e["event_id"] += tag
    assert len(day) > 300
    for start in range(0, len(day), 500):
        await post(ingest, day[start : start + 500])
    await wait_for(lambda: complaint_seen(database, day[-1]["complaint_id"]), within=30)
    await asyncio.sleep(1.5)  # ticks at the day's end clock
    response = await alerting.get("/v1/incidents", headers=token())
    assert [i for i in response.json()["incidents"] if i["category"].endswith(tag)] == []
