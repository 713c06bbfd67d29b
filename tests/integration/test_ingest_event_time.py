"""Through the real ingest and Kafka: an event dated years ahead is refused over HTTP (422
with the reason, nothing published) and dead-lettered when produced straight to a raw
topic."""

from __future__ import annotations

import uuid

import httpx
import orjson
import pytest

from services.ingest.app import create_app
from shared.kafka import EventProducer, OutgoingRecord
from tests import events_factory as ev
from tests.integration.conftest import SWITCH_KEY, ingest_settings
from tests.kafka_tools import read_topic, settle

pytestmark = pytest.mark.integration
FUTURE = "2031-01-01T00:00:00+00:00"


async def test_an_event_from_the_future_or_the_distant_past_is_refused(
    ingest: httpx.AsyncClient, kafka: str
) -> None:
    good = ev.call()
    future = ev.call(occurred_at=FUTURE, ended_at=FUTURE)
    ancient = ev.call(answered_at="1971-01-01T00:00:00+00:00")
    response = await ingest.post(
        "/v1/events/call.completed", json=[good, future, ancient], headers={"X-API-Key": SWITCH_KEY}
    )
    assert response.status_code == 422, response.text
    details = response.json()["error"]["details"]
    assert [d["index"] for d in details] == [1, 2]
    assert {r["code"] for r in details[0]["reasons"]} == {"in_the_future"}
    assert [r["field"] for r in details[1]["reasons"]] == ["answered_at"]
    assert details[1]["reasons"][0]["code"] == "too_old"
    await settle()
    ids = {good["event_id"], future["event_id"], ancient["event_id"]}
    seen = await read_topic(
        kafka,
        "cc.calls.v1",
        keep=lambda s: any(i.encode() in s.value for i in ids),  # other tests put garbage there
        until=lambda s: False,
        within=3,
    )
    assert seen == []  # a batch is all or nothing


async def test_the_validator_dead_letters_an_event_from_the_future(kafka: str) -> None:
    group = f"validator-{uuid.uuid4().hex[:8]}"
    future = ev.call(agent="A-future", occurred_at=FUTURE, ended_at=FUTURE)
    producer = EventProducer(kafka)
    try:  # an upstream producing straight to the raw topic
        await producer.send_all([OutgoingRecord("cc.calls.v1", orjson.dumps(future), b"A-future")])
    finally:
        await producer.stop()
    app = create_app(ingest_settings(kafka, validator_group_id=group))
    async with app.router.lifespan_context(app):
        letters = await read_topic(
            kafka,
            "cc.dlq.v1",
            keep=lambda s: (
                s.headers.get("dlq.consumer") == group.encode()
                and future["event_id"].encode() in s.value
            ),
            until=lambda s: len(s) >= 1,
            within=60,
        )
    assert len(letters) == 1
    assert b"ahead of the clock" in letters[0].headers["dlq.reason"]
