"""Event contract validation: hypothesis-generated valid events pass, every kind of bad input fails."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.contracts.events import EVENT_MODELS, EventRejected, parse_event
from shared.contracts.topics import TOPIC_FOR_EVENT_TYPE

ids = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789-_.", min_size=1, max_size=40)
sources = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=32)
offsets = st.integers(min_value=-12 * 60, max_value=14 * 60).map(
    lambda m: timezone(timedelta(minutes=m))
)
instants = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1))
timestamps = st.builds(lambda dt, tz: dt.replace(tzinfo=tz).isoformat(), instants, offsets)
seconds = st.one_of(st.integers(0, 86_400), st.floats(0, 86_400, allow_nan=False))


def common(event_type: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "type": st.just(event_type),
            "event_id": ids,
            "source": sources,
            "occurred_at": timestamps,
        }
    )


@st.composite
def calls(draw: st.DrawFn) -> dict[str, Any]:
    answered = draw(instants).replace(tzinfo=UTC)
    length = draw(st.integers(0, 7200))
    return {
        **draw(common("call.completed")),
        "call_id": draw(ids),
        "agent_id": draw(ids),
        "caller_id": draw(ids),
        "queue": draw(ids),
        "answered_at": answered.isoformat(),
        "ended_at": (answered + timedelta(seconds=length)).isoformat(),
        "talk_seconds": draw(seconds),
        "hold_seconds": draw(seconds),
        "wrap_seconds": draw(seconds),
        "transferred": draw(st.booleans()),
    }


@st.composite
def others(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(sorted(set(EVENT_MODELS) - {"call.completed"})))
    event = draw(common(kind))
    justified = st.one_of(st.none(), st.booleans())
    fields: dict[str, st.SearchStrategy[Any]] = {
        "agent.state": st.fixed_dictionaries(
            {
                "agent_id": ids,
                "state": st.sampled_from(
                    ["logged_out", "ready", "not_ready", "on_call", "wrap_up"]
                ),
            }
        ),
        "survey.answered": st.fixed_dictionaries(
            {"survey_id": ids, "call_id": ids, "agent_id": ids, "score": st.integers(1, 5)}
        ),
        "complaint.filed": st.fixed_dictionaries(
            {
                "complaint_id": ids,
                "category": ids,
                "region": ids,
                "channel": ids,
                "customer_id": ids,
                "agent_id": st.one_of(st.none(), ids),
                "justified": justified,
            }
        ),
        "complaint.updated": st.fixed_dictionaries(
            {
                "complaint_id": ids,
                "status": st.sampled_from(["investigating", "resolved", "withdrawn"]),
                "justified": justified,
            }
        ),
        "metric.reported": st.fixed_dictionaries(
            {
                "agent_id": ids,
                "indicator": st.from_regex(r"^[a-z][a-z0-9_]{1,20}$", fullmatch=True),
                "business_date": st.dates().map(str),
                "value": st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
            }
        ),
    }
    return {**event, **draw(fields[kind])}


@settings(max_examples=300)
@given(st.one_of(calls(), others()))
def test_valid_events_pass_and_round_trip(data: dict[str, Any]) -> None:
    event = parse_event(data)
    assert event.type == data["type"]  # type: ignore[attr-defined]
    again = parse_event(orjson.loads(event.model_dump_json()))
    assert again == event
    assert event.partition_key
    assert data["type"] in TOPIC_FOR_EVENT_TYPE


@settings(max_examples=200)
@given(st.one_of(calls(), others()), st.data())
def test_any_missing_required_field_is_refused_with_its_name(
    data: dict[str, Any], draw: st.DataObject
) -> None:
    model = EVENT_MODELS[data["type"]]
    required = [name for name, f in model.model_fields.items() if f.is_required()]
    missing = draw.draw(st.sampled_from(required))
    broken = {k: v for k, v in data.items() if k != missing}
    with pytest.raises(EventRejected) as refused:
        parse_event(broken)
    assert any(r["field"] == missing for r in refused.value.reasons)


@settings(max_examples=200)
@given(
    calls(),
    st.sampled_from(["talk_seconds", "hold_seconds", "wrap_seconds"]),
    st.one_of(
        st.integers(max_value=-1),
        st.floats(max_value=-0.001),
        st.text(max_size=3),
        st.none(),
        st.booleans(),
    ),
)
def test_durations_must_be_non_negative_numbers(data: dict[str, Any], field: str, bad: Any) -> None:
    with pytest.raises(EventRejected) as refused:
        parse_event({**data, field: bad})
    assert any(r["field"].startswith(field) for r in refused.value.reasons)


def _call(**changes: Any) -> dict[str, Any]:
    base = {
        "type": "call.completed",
        "event_id": "e-1",
        "source": "switch-1",
        "occurred_at": "2026-03-02T10:00:00+08:00",
        "call_id": "c-1",
        "agent_id": "A1024",
        "caller_id": "h-9",
        "queue": "general",
        "answered_at": "2026-03-02T09:55:00+08:00",
        "ended_at": "2026-03-02T10:00:00+08:00",
        "talk_seconds": 240,
        "hold_seconds": 20,
        "wrap_seconds": 40,
        "transferred": False,
    }
    base.update(changes)
    return base


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"occurred_at": "2026-03-02T10:00:00"}, "occurred_at", "timezone_aware"),
        ({"occurred_at": 1_772_416_800}, "occurred_at", "datetime_type"),
        ({"occurred_at": "yesterday"}, "occurred_at", "datetime_parsing"),
        ({"ended_at": "2026-03-02T09:00:00+08:00"}, "(event)", "value_error"),
        ({"talk_seconds": -5}, "talk_seconds", "greater_than_equal"),
        ({"talk_seconds": "240"}, "talk_seconds", "float_type"),
        ({"transferred": "no"}, "transferred", "bool_type"),
        ({"agent_id": ""}, "agent_id", "string_too_short"),
        ({"agent_id": 1024}, "agent_id", "string_type"),
        ({"event_id": " padded "}, "event_id", "string_pattern_mismatch"),
    ],
)
def test_bad_call_fields_are_refused_with_reason(
    changes: dict[str, Any], field: str, code: str
) -> None:
    with pytest.raises(EventRejected) as refused:
        parse_event(_call(**changes))
    assert (field, code) in {(r["field"], r["code"]) for r in refused.value.reasons}


def test_unknown_and_mismatched_types_are_refused() -> None:
    with pytest.raises(EventRejected, match="unknown event type"):
        parse_event(_call(type="call.dropped"))
    with pytest.raises(EventRejected, match="missing event type"):
        parse_event({k: v for k, v in _call().items() if k != "type"})
    with pytest.raises(EventRejected, match="does not match"):
        parse_event(_call(), "survey.answered")
    with pytest.raises(EventRejected, match="JSON object"):
        parse_event([_call()])


def test_survey_score_range_and_agent_state_values() -> None:
    survey = {
        "type": "survey.answered",
        "event_id": "s",
        "source": "crm",
        "occurred_at": "2026-03-02T10:00:00Z",
        "survey_id": "s",
        "call_id": "c",
        "agent_id": "A1",
    }
    for score in (0, 6, 4.5, "5"):
        with pytest.raises(EventRejected):
            parse_event({**survey, "score": score})
    assert parse_event({**survey, "score": 5}).score == 5  # type: ignore[attr-defined]
    with pytest.raises(EventRejected):
        parse_event(
            {
                "type": "agent.state",
                "event_id": "x",
                "source": "sw",
                "occurred_at": "2026-03-02T10:00:00Z",
                "agent_id": "A1",
                "state": "lunch",
            }
        )


def test_extra_fields_are_kept_and_typed_key_rules() -> None:
    event = parse_event(_call(site="guangzhou"))
    assert orjson.loads(event.model_dump_json())["site"] == "guangzhou"
    assert event.partition_key == "A1024"
    complaint = parse_event(
        {
            "type": "complaint.updated",
            "event_id": "u",
            "source": "crm",
            "occurred_at": "2026-03-02T10:00:00Z",
            "complaint_id": "K1",
            "status": "resolved",
        }
    )
    assert complaint.partition_key == "K1"
    metric = {
        "type": "metric.reported",
        "event_id": "m",
        "source": "qa",
        "occurred_at": "2026-03-02T10:00:00Z",
        "agent_id": "A1",
        "indicator": "qa_score",
        "business_date": "2026-03-02",
    }
    assert parse_event({**metric, "value": 87}).value == 87.0  # type: ignore[attr-defined]
    for bad in (float("inf"), float("nan"), "87", None):
        with pytest.raises(EventRejected):
            parse_event({**metric, "value": bad})


def test_the_longest_source_and_event_id_fit_one_dedup_key() -> None:
    """Consumers deduplicate on `source/event_id` cut to 160 characters: no two events
    the contract accepts may share that key, so the longest ids must fit it whole."""
    from shared.contracts.events import DEDUP_KEY_LENGTH, EventBase

    fields = EventBase.model_fields
    longest = [
        m.max_length
        for f in ("source", "event_id")
        for m in fields[f].metadata
        if getattr(m, "max_length", None)
    ]
    assert sum(longest) + 1 <= DEDUP_KEY_LENGTH
    event = {
        "type": "survey.answered",
        "source": "s" * 32,
        "event_id": "e" * 127,
        "occurred_at": "2026-03-02T10:00:00+08:00",
        "survey_id": "s1",
        "call_id": "c1",
        "agent_id": "A1",
        "score": 5,
    }
    parsed = parse_event(event)
    assert len(f"{parsed.source}/{parsed.event_id}") == DEDUP_KEY_LENGTH
    for field, value in (("source", "s" * 33), ("event_id", "e" * 128)):
        with pytest.raises(EventRejected) as error:
            parse_event({**event, field: value})
        assert [r["field"] for r in error.value.reasons] == [field]


@pytest.mark.parametrize("field", ["event_id", "source", "survey_id", "call_id", "agent_id"])
def test_nul_characters_are_refused_in_every_string_field(field: str) -> None:
    event = {
        "type": "survey.answered",
        "source": "crm",
        "event_id": "e1",
        "occurred_at": "2026-03-02T10:00:00+08:00",
        "survey_id": "s1",
        "call_id": "c1",
        "agent_id": "A1",
        "score": 5,
    }
    with pytest.raises(EventRejected) as error:
        parse_event({**event, field: "a\x00b"})
    assert [r["field"] for r in error.value.reasons] == [field]
