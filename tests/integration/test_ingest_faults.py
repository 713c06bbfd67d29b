"""Faults: Kafka goes away and comes back; poison on the raw topics."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from services.ingest.app import create_app
from tests import events_factory as ev
from tests.infra import Infrastructure
from tests.integration.conftest import SWITCH_KEY, ingest_settings
from tests.kafka_tools import read_topic

pytestmark = pytest.mark.integration


def _ids(ids: set[str]):  # type: ignore[no-untyped-def]
    """Keep this test's events; other tests' garbage on the topic is not JSON."""

    def keep(seen) -> bool:  # type: ignore[no-untyped-def]
        try:
            return orjson.loads(seen.value).get("event_id") in ids
        except orjson.JSONDecodeError:
            return False

    return keep


async def test_kafka_outage_gives_503_then_recovers_with_nothing_lost(
    infra: Infrastructure, kafka: str
) -> None:
    if infra.broker is None:
        pytest.skip(f"the broker cannot be stopped and restarted on the {infra.origin} path")
    app = create_app(ingest_settings(kafka, validator_enabled=False, produce_timeout_seconds=2.0))
    async with app.router.lifespan_context(app):
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://i")
        headers = {"X-API-Key": SWITCH_KEY}
        before = [ev.call() for _ in range(50)]
        assert (
            await client.post("/v1/events/call.completed", json=before, headers=headers)
        ).status_code == 202
        await asyncio.to_thread(infra.broker.stop)
        try:
            during = [ev.call() for _ in range(5)]
            refused = await client.post("/v1/events/call.completed", json=during, headers=headers)
            assert refused.status_code == 503, refused.text
            assert refused.headers["Retry-After"].isdigit()
            assert refused.json()["error"]["code"] == "kafka_unavailable"
            assert (await client.get("/readyz")).status_code == 503
        finally:
            await asyncio.to_thread(infra.broker.start)
        # the upstream retries what was refused; new events flow again
        after = [ev.call() for _ in range(50)]
        for _ in range(30):
            retried = await client.post("/v1/events/call.completed", json=during, headers=headers)
            if retried.status_code == 202:
                break
            assert retried.status_code == 503
            await asyncio.sleep(1)
        else:
            pytest.fail("ingest did not recover after Kafka came back")
        assert (
            await client.post("/v1/events/call.completed", json=after, headers=headers)
        ).status_code == 202
        assert (await client.get("/readyz")).status_code == 200
        await client.aclose()
    wanted = {e["event_id"] for e in before + during + after}
    seen = await read_topic(
        kafka,
        "cc.calls.v1",
        keep=_ids(wanted),
        until=lambda s: {orjson.loads(x.value)["event_id"] for x in s} >= wanted,
        within=60,
    )
    assert {orjson.loads(s.value)["event_id"] for s in seen} == wanted
    # acknowledged before the outage: exactly once
    counts: dict[str, int] = {}
    for s in seen:
        event_id = orjson.loads(s.value)["event_id"]
        counts[event_id] = counts.get(event_id, 0) + 1
    assert all(counts[e["event_id"]] == 1 for e in before + after)


async def _committed(bootstrap: str, group: str, topic: str) -> dict[int, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return {tp.partition: meta.offset for tp, meta in offsets.items() if tp.topic == topic}


async def test_validator_moves_poison_to_the_dlq_without_blocking(kafka: str) -> None:
    group = f"validator-{uuid.uuid4().hex[:8]}"
    app = create_app(ingest_settings(kafka, validator_group_id=group))
    producer = AIOKafkaProducer(bootstrap_servers=kafka, enable_idempotence=True, acks="all")
    await producer.start()
    tag = uuid.uuid4().hex
    poison = [
        (b"\x00\xffnot json " + tag.encode(), [("trace", b"\xc3\x28")]),
        (orjson.dumps({"type": "call.completed", "event_id": f"bad-{tag}"}), []),
        (orjson.dumps(ev.survey() | {"event_id": f"misrouted-{tag}"}), []),
        (b"", [("tag", tag.encode())]),
    ]
    good = ev.call(agent="A-poison")
    try:
        ends: dict[int, int] = {}
        for value, headers in [poison[0], poison[1], (orjson.dumps(good), []), *poison[2:]]:
            meta = await producer.send_and_wait(
                "cc.calls.v1", value, key=b"A-poison", headers=headers
            )
            ends[meta.partition] = meta.offset + 1
        async with app.router.lifespan_context(app):
            letters = await read_topic(
                kafka,
                "cc.dlq.v1",
                keep=lambda s: (
                    s.headers.get("dlq.consumer") == group.encode()
                    and int(s.headers["dlq.offset"]) >= min(ends.values()) - 5
                    and (tag.encode() in s.value or s.headers.get("tag") == tag.encode())
                ),
                until=lambda s: len(s) >= len(poison),
                within=60,
            )
            assert len(letters) == len(poison)
            assert all(s.headers["dlq.reason"] for s in letters)
            assert any(b"invalid event" in s.headers["dlq.reason"] for s in letters)
            assert any(b"not valid JSON" in s.headers["dlq.reason"] for s in letters)
            assert all(s.headers["dlq.topic"] == b"cc.calls.v1" for s in letters)
            assert any(s.value.startswith(b"\x00\xff") for s in letters)  # original bytes
            assert any(b"belongs on cc.surveys.v1" in s.headers["dlq.reason"] for s in letters)
            assert any(s.headers["dlq.reason"] == b"empty message" for s in letters)
            # the partition moved on past the poison and the good event after it
            ((partition, end),) = ends.items()
            for _ in range(60):
                committed = await _committed(kafka, group, "cc.calls.v1")
                if committed.get(partition, -1) >= end:
                    break
                await asyncio.sleep(0.5)
            assert committed.get(partition, -1) >= end
            metrics = app.state.metrics.raw_checked
            assert metrics.labels("cc.calls.v1", "dead_lettered")._value.get() >= len(poison)
    finally:
        await producer.stop()
