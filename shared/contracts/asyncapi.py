"""The platform's events catalog: one AsyncAPI 3.0 document for every topic.

FastStream turns the contracts into JSON Schema components and the topics
into Kafka channels; this module then gives each event type its own message
(name, summary, example, headers, key) and each service its send and receive
operations, from the topic registry.

    python -m shared.contracts.asyncapi docs/events.asyncapi.json   # or `make catalog`
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Union

from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from pydantic import BaseModel

from shared.contracts import kinds
from shared.contracts.catalog import EVENTS_BY_TOPIC
from shared.contracts.derived import DerivedEvent
from shared.contracts.topics import ALL_TOPICS, DLQ, Topic

TITLE = "service garden events"
VERSION = "1.0.0"
DESCRIPTION = (
    "Every Kafka topic of the platform, its key, and each event type it carries. "
    "Upstream systems publish to the raw topics (through ingest or directly); the "
    "services publish derived events through their transactional outboxes. Consumers "
    "deduplicate on `event_id`; unknown fields are kept; a changed field means a v2 topic."
)

_DERIVED_HEADERS = {
    "type": "object",
    "properties": {
        "event_type": {"type": "string", "description": "the payload's `type`"},
        "event_id": {"type": "string", "description": "the payload's `event_id`"},
    },
}
_DLQ_PAYLOAD = {
    "type": "string",
    "contentEncoding": "binary",
    "description": "the original message's bytes, unchanged",
}
_DLQ_HEADERS = {
    "type": "object",
    "description": "why and where from; the original headers are kept beside these",
    "properties": {
        name: {"type": "string"}
        for name in (
            "dlq.reason",
            "dlq.consumer",
            "dlq.topic",
            "dlq.partition",
            "dlq.offset",
            "dlq.failed_at",
        )
    },
}


def _example(model: type[BaseModel]) -> dict[str, Any]:
    examples = model.model_json_schema().get("examples") or [{}]
    return dict(examples[0])


def _message(topic: Topic, model: type[BaseModel]) -> dict[str, Any]:
    example = _example(model)
    event_type = kinds.event_type(model)
    message: dict[str, Any] = {
        "name": event_type,
        "title": event_type,
        "summary": (model.__doc__ or "").strip().splitlines()[0],
        "contentType": "application/json",
        "payload": {"$ref": f"#/components/schemas/{model.__name__}"},
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": f"the event's {topic.keyed_by}"},
                "bindingVersion": "0.5.0",
            }
        },
        "examples": [{"name": event_type, "payload": example}],
    }
    if issubclass(model, DerivedEvent):
        message["headers"] = _DERIVED_HEADERS
    return message


def _broker() -> KafkaBroker:
    broker = KafkaBroker("localhost:9092")
    for topic in ALL_TOPICS:
        models = EVENTS_BY_TOPIC[topic.name]
        schema: Any = Union[models] if len(models) > 1 else (models[0] if models else bytes)  # noqa: UP007
        broker.publisher(topic.name, title=topic.name, description=topic.description, schema=schema)
    return broker


def build() -> dict[str, Any]:
    """Return the AsyncAPI document as JSON-ready data."""
    doc: dict[str, Any] = (
        AsyncAPI(_broker(), title=TITLE, version=VERSION, description=DESCRIPTION)
        .to_specification()
        .to_jsonable()
    )
    doc["servers"] = {
        "local": {
            "host": "localhost:9092",
            "protocol": "kafka",
            "description": "the broker `make run` starts (KAFKA_BOOTSTRAP_SERVERS elsewhere)",
        }
    }
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for topic in ALL_TOPICS:
        schemas.pop(f"{topic.name}:Message:Payload", None)
        refs: dict[str, Any] = {}
        if topic is DLQ:
            name = "dead-letter"
            messages[name] = {
                "name": name,
                "summary": "A message no consumer could read, parked with the reason.",
                "payload": _DLQ_PAYLOAD,
                "headers": _DLQ_HEADERS,
            }
            refs[name] = {"$ref": f"#/components/messages/{name}"}
        for model in EVENTS_BY_TOPIC[topic.name]:
            message = _message(topic, model)
            messages[message["name"]] = message
            refs[message["name"]] = {"$ref": f"#/components/messages/{message['name']}"}
        channels[topic.name] = {
            "address": topic.name,
            "title": topic.name,
            "description": f"{topic.description}. Key: {topic.keyed_by}.",
            "messages": refs,
            "bindings": {"kafka": {"topic": topic.name, "bindingVersion": "0.5.0"}},
        }
        channel_ref = {"$ref": f"#/channels/{topic.name}"}
        message_refs = [{"$ref": f"#/channels/{topic.name}/messages/{m}"} for m in refs]
        for action, services in (("send", topic.produced_by), ("receive", topic.consumed_by)):
            for service in services:
                operations[f"{service}.{action}.{topic.name}"] = {
                    "action": action,
                    "channel": channel_ref,
                    "messages": message_refs,
                    "summary": f"{service} {'publishes to' if action == 'send' else 'reads'} "
                    f"{topic.name}",
                }
    components["schemas"] = dict(sorted(schemas.items()))  # stable, whatever built them first
    components["messages"] = messages
    doc["channels"] = channels
    doc["operations"] = operations
    return doc


def render() -> str:
    """Return the document as stable, indented JSON text."""
    return json.dumps(build(), indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def main(argv: list[str]) -> None:
    """Write the document to the path given (stdout without one)."""
    text = render()
    if argv:
        Path(argv[0]).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main(sys.argv[1:])
