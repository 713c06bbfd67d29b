"""One complaint dated years ahead, produced straight to the raw topic, must not move
alerting's detection clock past the complaints arriving now: the surge that follows still
opens an incident (its own database: the stream has one clock)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import text

from shared.db import make_engine
from shared.kafka import EventProducer, OutgoingRecord
from tests.events_factory import complaint
from tests.integration.alerting_support import (
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
from tests.integration.conftest import CRM_KEY, own_database

pytestmark = pytest.mark.integration


async def test_a_complaint_from_the_future_does_not_blind_detection(
    kafka: str, database: str, ingest: httpx.AsyncClient
) -> None:
    sink = start_sink()
    try:
        async with own_database(database, "alerting_clock") as url:
            env = alerting_env(kafka, url, sink, free_port(), f"alerting-{uuid.uuid4().hex[:6]}")
            async with serve_alerting(env) as alerting:
                cat = category()
                rules = surge_rules(cat)
                assert (await alerting.put("/v1/rules", json=rules, headers=token())).is_success
                future = complaint(cat, "foshan", occurred_at="2031-06-01T00:00:00+00:00")
                producer = EventProducer(kafka)
                try:  # an upstream producing straight to the raw topic
                    await producer.send_all(
                        [OutgoingRecord("cc.complaints.v1", orjson.dumps(future), cat.encode())]
                    )
                finally:
                    await producer.stop()
                await wait_for(lambda: complaint_seen(url, future["complaint_id"]), within=60)
                surge = complaints(cat, 30)
                response = await ingest.post(
                    "/v1/events/complaint.filed", json=surge, headers={"X-API-Key": CRM_KEY}
                )
                assert response.status_code == 202, response.text

                async def opened() -> list[dict[str, Any]]:
                    listed = await alerting.get("/v1/incidents", headers=token())
                    return [i for i in listed.json()["incidents"] if i["category"] == cat]

                [incident] = await wait_for(opened, within=60)
                assert incident["peak_count"] >= 5
            engine = make_engine(url, pool_size=1)
            try:
                async with engine.connect() as conn:
                    lead = await conn.scalar(
                        text("SELECT max(watermark - observed_at) FROM alert_clocks")
                    )
            finally:
                await engine.dispose()
            assert lead <= timedelta(minutes=5)
    finally:
        stop(sink.process)
