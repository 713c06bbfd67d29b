"""Reading request bodies: every bad item is named by its index; good ones keep theirs."""

from __future__ import annotations

import orjson
import pytest
from aiokafka import ConsumerRecord

from services.ingest.domain import BodyUnreadable, read_ndjson_body, read_typed_body
from services.ingest.handlers import dead_letters_for, problem_with
from services.ingest.metrics import IngestMetrics
from shared.metrics import new_registry

STATE = {
    "type": "agent.state",
    "event_id": "s1",
    "source": "switch-1",
    "occurred_at": "2026-03-02T08:00:00+08:00",
    "agent_id": "A1",
    "state": "ready",
}


def test_one_object_or_an_array() -> None:
    intake, count = read_typed_body(orjson.dumps(STATE), "agent.state")
    assert (count, len(intake.events), intake.problems) == (1, 1, [])
    intake, count = read_typed_body(
        orjson.dumps([STATE, {**STATE, "event_id": "s2"}]), "agent.state"
    )
    assert count == 2
    assert [e.event_id for e in intake.events] == ["s1", "s2"]


def test_bad_items_are_named_by_index() -> None:
    body = orjson.dumps([STATE, {**STATE, "state": "lunch"}, 5, {**STATE, "agent_id": None}])
    intake, count = read_typed_body(body, "agent.state")
    assert count == 4
    assert [p.index for p in intake.problems] == [1, 2, 3]
    assert intake.problems[0].reasons[0]["field"] == "state"


def test_unreadable_body() -> None:
    with pytest.raises(BodyUnreadable):
        read_typed_body(b"{not json", "agent.state")


def test_ndjson_lines_keep_their_line_numbers() -> None:
    lines = [orjson.dumps(STATE), b"", b"{oops", orjson.dumps({**STATE, "event_id": "s3"})]
    intake, count = read_ndjson_body(b"\n".join(lines) + b"\n")
    assert count == 3
    assert [p.index for p in intake.problems] == [2]
    assert intake.positions == [0, 3]


def _record(
    topic: str, value: bytes, headers: tuple[tuple[str, bytes], ...] = ()
) -> ConsumerRecord:
    return ConsumerRecord(
        topic=topic,
        partition=0,
        offset=7,
        timestamp=0,
        timestamp_type=0,
        key=b"A1",
        value=value,
        checksum=None,
        serialized_key_size=2,
        serialized_value_size=len(value),
        headers=headers,
    )


def test_validator_finds_garbage_and_misrouted_events() -> None:
    good = orjson.dumps(STATE)
    assert problem_with(_record("cc.agent-states.v1", good)) is None
    assert "belongs on cc.agent-states.v1" in (problem_with(_record("cc.calls.v1", good)) or "")
    assert "not valid JSON" in (problem_with(_record("cc.calls.v1", b"\xff\xfe")) or "")
    assert problem_with(_record("cc.calls.v1", b"")) == "empty message"
    assert "invalid event" in (
        problem_with(_record("cc.calls.v1", b'{"type":"call.completed"}')) or ""
    )


def test_dead_letters_keep_the_original_bytes_and_say_why() -> None:
    metrics = IngestMetrics.create(new_registry())
    garbage = _record("cc.calls.v1", b"\x00garbage", headers=(("trace", b"\xff"),))
    letters = dead_letters_for(
        [garbage, _record("cc.agent-states.v1", orjson.dumps(STATE))],
        consumer="ingest-validator",
        metrics=metrics,
    )
    assert len(letters) == 1
    letter = letters[0]
    assert letter.topic == "cc.dlq.v1"
    assert letter.value == b"\x00garbage"
    assert letter.key == b"A1"
    headers = dict(letter.headers)
    assert headers["trace"] == b"\xff"
    assert headers["dlq.topic"] == b"cc.calls.v1"
    assert headers["dlq.offset"] == b"7"
    assert b"not valid JSON" in headers["dlq.reason"]
