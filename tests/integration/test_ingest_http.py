"""Events posted over HTTP arrive on the right topic, keyed and intact, exactly once;
bad input is refused with reasons and nothing of it reaches Kafka."""

from __future__ import annotations

import asyncio

import httpx
import orjson
import pytest

from tests import events_factory as ev
from tests.integration.conftest import ALL_KEY, CRM_KEY, SWITCH_KEY
from tests.kafka_tools import read_topic, settle

pytestmark = pytest.mark.integration


def _by_ids(ids: set[str]):  # type: ignore[no-untyped-def]
    return lambda seen: seen.headers.get("event_id", b"").decode() in ids


async def test_each_type_lands_on_its_topic_with_its_key_exactly_once(
    ingest: httpx.AsyncClient, kafka: str
) -> None:
    complaint = ev.complaint()
    cases = [
        (SWITCH_KEY, ev.call(agent="A7"), "cc.calls.v1", b"A7"),
        (SWITCH_KEY, ev.agent_state(agent="A8"), "cc.agent-states.v1", b"A8"),
        (CRM_KEY, ev.survey(agent="A9"), "cc.surveys.v1", b"A9"),
        (CRM_KEY, complaint, "cc.complaints.v1", b"network"),
        (
            CRM_KEY,
            ev.complaint_update(complaint["complaint_id"]),
            "cc.complaints.v1",
            complaint["complaint_id"].encode(),
        ),
        (
            CRM_KEY,
            ev.complaint_update(complaint["complaint_id"], category="network"),
            "cc.complaints.v1",
            b"network",
        ),
        (ALL_KEY, ev.metric(agent="A10"), "cc.metrics.v1", b"A10"),
    ]
    for key, event, _, _ in cases:
        response = await ingest.post(
            f"/v1/events/{event['type']}", json=event, headers={"X-API-Key": key}
        )
        assert response.status_code == 202, response.text
        assert response.json() == {"accepted": 1}
    for _, event, topic, expected_key in cases:
        seen = await read_topic(
            kafka, topic, keep=_by_ids({event["event_id"]}), until=lambda s: len(s) >= 1
        )
        await settle(0.2)
        seen = await read_topic(
            kafka, topic, keep=_by_ids({event["event_id"]}), until=lambda s: False, within=1.5
        )
        assert len(seen) == 1, f"{event['type']} arrived {len(seen)} times"
        record = seen[0]
        assert record.key == expected_key
        assert record.headers["event_type"] == event["type"].encode()
        body = orjson.loads(record.value)
        assert body["event_id"] == event["event_id"]
        assert {k: body[k] for k in ("type", "source")} == {k: event[k] for k in ("type", "source")}


async def test_a_batch_of_500_and_ndjson_of_mixed_types(
    ingest: httpx.AsyncClient, kafka: str
) -> None:
    batch = [ev.call(agent=f"A{i % 40}") for i in range(500)]
    response = await ingest.post(
        "/v1/events/call.completed", json=batch, headers={"X-API-Key": SWITCH_KEY}
    )
    assert response.status_code == 202, response.text
    assert response.json() == {"accepted": 500}
    mixed = [ev.agent_state(), ev.survey(), ev.metric(), ev.call()]
    ndjson = b"\n".join(orjson.dumps(e) for e in mixed) + b"\n"
    response = await ingest.post(
        "/v1/events",
        content=ndjson,
        headers={"X-API-Key": ALL_KEY, "Content-Type": "application/x-ndjson"},
    )
    assert response.status_code == 202, response.text
    ids = {e["event_id"] for e in batch} | {mixed[-1]["event_id"]}
    seen = await read_topic(
        kafka, "cc.calls.v1", keep=_by_ids(ids), until=lambda s: len(s) >= len(ids)
    )
    assert sorted(orjson.loads(s.value)["event_id"] for s in seen) == sorted(ids)
    # per-agent order: within a key, records keep the order of the batch
    by_agent: dict[bytes, list[str]] = {}
    for s in sorted(seen, key=lambda s: (s.partition, s.offset)):
        by_agent.setdefault(s.key or b"", []).append(orjson.loads(s.value)["event_id"])
    expected: dict[bytes, list[str]] = {}
    for e in batch:
        expected.setdefault(e["agent_id"].encode(), []).append(e["event_id"])
    for agent, order in expected.items():
        assert [i for i in by_agent[agent] if i in set(order)] == order


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({k: v for k, v in ev.call().items() if k != "caller_id"}, "caller_id"),
        (ev.call(talk_seconds="long"), "talk_seconds"),
        (ev.call(hold_seconds=-3), "hold_seconds"),
        (ev.call(ended_at="2026-03-02T01:00:00+00:00"), "(event)"),
        (ev.call(occurred_at="2026-03-02T10:00:00"), "occurred_at"),
        (ev.call(type="survey.answered"), "type"),
    ],
)
async def test_bad_events_are_refused_with_reasons_and_nothing_is_published(
    ingest: httpx.AsyncClient, kafka: str, event: dict, field: str
) -> None:
    good = ev.call()
    response = await ingest.post(
        "/v1/events/call.completed", json=[good, event], headers={"X-API-Key": SWITCH_KEY}
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert [d["index"] for d in error["details"]] == [1]
    assert field in {r["field"] for r in error["details"][0]["reasons"]}
    await settle(0.5)
    ids = {good["event_id"], event.get("event_id", "")}
    assert (
        await read_topic(kafka, "cc.calls.v1", keep=_by_ids(ids), until=lambda s: False, within=1.0)
        == []
    )


async def test_unknown_types_credentials_and_sizes(ingest: httpx.AsyncClient) -> None:
    call = ev.call()
    missing = await ingest.post("/v1/events/call.completed", json=call)
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "unauthenticated"
    wrong = await ingest.post(
        "/v1/events/call.completed", json=call, headers={"X-API-Key": "not-a-key-at-all"}
    )
    assert wrong.status_code == 401
    forbidden = await ingest.post(
        "/v1/events/survey.answered", json=ev.survey(), headers={"X-API-Key": SWITCH_KEY}
    )
    assert forbidden.status_code == 403
    ndjson_forbidden = await ingest.post(
        "/v1/events",
        content=orjson.dumps(call) + b"\n" + orjson.dumps(ev.survey()),
        headers={"X-API-Key": SWITCH_KEY},
    )
    assert ndjson_forbidden.status_code == 403
    assert [d["index"] for d in ndjson_forbidden.json()["error"]["details"]] == [1]
    unknown = await ingest.post(
        "/v1/events/call.dropped", json=call, headers={"X-API-Key": ALL_KEY}
    )
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "unknown_event_type"
    ndjson_unknown = await ingest.post(
        "/v1/events", content=b'{"type": "call.dropped"}', headers={"X-API-Key": ALL_KEY}
    )
    assert ndjson_unknown.status_code == 422
    assert ndjson_unknown.json()["error"]["details"][0]["reasons"][0]["code"] == "unknown_type"
    too_many = await ingest.post(
        "/v1/events/call.completed",
        json=[ev.call() for _ in range(601)],
        headers={"X-API-Key": SWITCH_KEY},
    )
    assert too_many.status_code == 413
    too_big = await ingest.post(
        "/v1/events/call.completed",
        json={**call, "note": "x" * 600_000},
        headers={"X-API-Key": SWITCH_KEY},
    )
    assert too_big.status_code == 413
    not_json = await ingest.post(
        "/v1/events/call.completed", content=b"{nope", headers={"X-API-Key": SWITCH_KEY}
    )
    assert not_json.status_code == 400
    empty = await ingest.post(
        "/v1/events/call.completed", json=[], headers={"X-API-Key": SWITCH_KEY}
    )
    assert empty.status_code == 422


async def test_health_and_metrics_need_no_credentials(ingest: httpx.AsyncClient) -> None:
    assert (await ingest.get("/healthz")).json() == {"status": "ok"}
    ready = await ingest.get("/readyz")
    assert ready.status_code == 200, ready.text
    await ingest.post(
        "/v1/events/agent.state", json=ev.agent_state(), headers={"X-API-Key": SWITCH_KEY}
    )
    metrics = (await ingest.get("/metrics")).text
    assert 'ingest_events_accepted_total{type="agent.state"}' in metrics
    assert "ingest_produce_latency_seconds_bucket" in metrics


async def test_concurrent_posts_all_arrive(ingest: httpx.AsyncClient, kafka: str) -> None:
    events = [ev.agent_state(agent=f"A{i}") for i in range(200)]
    responses = await asyncio.gather(
        *(
            ingest.post("/v1/events/agent.state", json=e, headers={"X-API-Key": SWITCH_KEY})
            for e in events
        )
    )
    assert {r.status_code for r in responses} == {202}
    ids = {e["event_id"] for e in events}
    seen = await read_topic(
        kafka, "cc.agent-states.v1", keep=_by_ids(ids), until=lambda s: len(s) >= len(ids)
    )
    assert len(seen) == len(ids)
