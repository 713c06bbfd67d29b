"""The derived-event contracts and the events catalog built from them."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from shared.contracts.asyncapi import build, render
from shared.contracts.catalog import DERIVED_EVENTS, EVENTS_BY_TOPIC, parse_derived
from shared.contracts.events import EVENT_MODELS, EventRejected, parse_event
from shared.contracts.examples import examples
from shared.contracts.scores import ScoreSettled
from shared.contracts.topics import ALL_TOPICS, DLQ
from tests.infra import ROOT

CATALOG = ROOT / "docs" / "events.asyncapi.json"


def _example(model: type) -> dict:
    return dict(model.model_json_schema()["examples"][0])


@pytest.mark.parametrize("event_type", sorted(DERIVED_EVENTS))
def test_every_derived_example_decodes_as_its_own_contract(event_type: str) -> None:
    model = DERIVED_EVENTS[event_type]
    event = parse_derived(json.dumps(_example(model)))
    assert type(event) is model and event.type == event_type
    assert event.topic in ALL_TOPICS
    assert event.partition_key
    assert parse_derived(event.to_json()) == event  # what a service stages decodes the same


@pytest.mark.parametrize("event_type", sorted(EVENT_MODELS))
def test_every_upstream_example_is_valid(event_type: str) -> None:
    assert parse_event(_example(EVENT_MODELS[event_type])).type == event_type


def test_derived_events_are_strict() -> None:
    good = _example(ScoreSettled)
    for field, bad in [("points", "8"), ("settled", False), ("revision", 0), ("state", "sick")]:
        with pytest.raises(EventRejected) as rejected:
            parse_derived(json.dumps({**good, field: bad}))
        assert any(r["field"] == field for r in rejected.value.reasons), rejected.value.reasons
    with pytest.raises(EventRejected):
        parse_derived(json.dumps({**good, "type": "score.guessed"}))
    values = {**good, "business_date": date(2026, 11, 30)}  # what a producer passes
    with pytest.raises(ValidationError):
        ScoreSettled(**{**values, "occurred_at": datetime(2026, 1, 1)})  # no offset
    assert ScoreSettled(**{**values, "occurred_at": datetime.now(UTC)}).settled


def test_every_topic_says_what_it_carries() -> None:
    for topic in ALL_TOPICS:
        assert topic.produced_by, topic.name
        assert EVENTS_BY_TOPIC[topic.name] or topic is DLQ, topic.name


def test_the_catalog_names_every_topic_and_event_type() -> None:
    doc = build()
    assert doc["asyncapi"].startswith("3.")
    assert set(doc["channels"]) == {t.name for t in ALL_TOPICS}
    messages = doc["components"]["messages"]
    for topic in ALL_TOPICS:
        channel = doc["channels"][topic.name]
        assert channel["address"] == topic.name and topic.keyed_by in channel["description"]
        for model in EVENTS_BY_TOPIC[topic.name]:
            name = model.model_fields["type"].default
            assert name in channel["messages"], (topic.name, name)
            message = messages[name]
            schema = doc["components"]["schemas"][model.__name__]
            assert set(model.model_fields) <= set(schema["properties"])
            assert message["examples"][0]["payload"] == _example(model)
    for operation in doc["operations"].values():
        assert operation["channel"]["$ref"].removeprefix("#/channels/") in doc["channels"]


def test_the_published_catalog_is_current() -> None:
    assert CATALOG.read_text(encoding="utf-8") == render(), "run `make catalog`"


def test_examples_are_kept_for_event_types_only() -> None:
    assert set(examples()) == set(EVENT_MODELS) | set(DERIVED_EVENTS)
