"""Ingest refuses events whose instants are too far ahead of the clock or too old, per item
with the reason; the raw-topic validator judges by the time Kafka wrote the record."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from pydantic import ValidationError

from services.ingest.config import IngestSettings
from services.ingest.domain import TimeLimits, read_ndjson_body, read_typed_body
from services.ingest.handlers import problem_with
from tests import events_factory as ev
from tests.unit.test_intake import _record

NOW = datetime(2026, 3, 2, 2, 10, tzinfo=UTC)  # just after the factory's events
LIMITS = TimeLimits(lead=timedelta(minutes=5), max_age=timedelta(days=6))


def test_an_event_ahead_of_the_clock_or_too_old_is_refused_with_the_reason() -> None:
    good = ev.call()
    future = ev.call(occurred_at="2031-01-01T00:00:00+00:00", ended_at="2031-01-01T00:00:00Z")
    ancient = ev.call(answered_at="1971-01-01T00:00:00+00:00")
    body = orjson.dumps([good, future, ancient])
    intake, count = read_typed_body(body, "call.completed", now=NOW, limits=LIMITS)
    assert count == 3 and intake.positions == [0]
    (ahead, old) = intake.problems
    assert ahead.index == 1 and {r["field"] for r in ahead.reasons} == {"occurred_at", "ended_at"}
    assert {r["code"] for r in ahead.reasons} == {"in_the_future"}
    assert "ahead of the clock" in ahead.reasons[0]["reason"]
    assert old.index == 2 and [(r["field"], r["code"]) for r in old.reasons] == [
        ("answered_at", "too_old")
    ]
    lines = b"\n".join(orjson.dumps(e) for e in (good, future))
    intake, _ = read_ndjson_body(lines, now=NOW, limits=LIMITS)
    assert [p.index for p in intake.problems] == [1]


def test_a_few_minutes_of_skew_are_accepted() -> None:
    slightly_ahead = NOW + timedelta(minutes=4)
    event = ev.call(occurred_at=slightly_ahead.isoformat(), ended_at=slightly_ahead.isoformat())
    intake, _ = read_typed_body(orjson.dumps(event), "call.completed", now=NOW, limits=LIMITS)
    assert intake.problems == []


def test_the_validator_judges_by_when_kafka_wrote_the_record() -> None:
    future = orjson.dumps(ev.call(occurred_at="2031-01-01T00:00:00+00:00"))
    written = int(NOW.timestamp() * 1000)
    record = replace(_record("cc.calls.v1", future), timestamp=written)
    assert "ahead of the clock" in (problem_with(record, LIMITS) or "")
    good = replace(_record("cc.calls.v1", orjson.dumps(ev.call())), timestamp=written)
    assert problem_with(good, LIMITS) is None
    assert problem_with(replace(good, timestamp=written + 7 * 86_400_000), LIMITS) is not None


def test_the_maximum_age_must_stay_below_the_dedup_retention() -> None:
    settings = IngestSettings()
    assert settings.time_limits.max_age < settings.dedup_retention
    assert settings.time_limits.lead == timedelta(minutes=5)
    with pytest.raises(ValidationError, match="MAX_EVENT_AGE_HOURS must stay below"):
        IngestSettings(max_event_age_hours=8 * 24)
