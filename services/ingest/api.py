"""Ingest HTTP API: the front door for switch, CRM and department systems.

The two endpoints are the hot path of the platform, so they are plain
Starlette routes: no dependency injection or body models, just the request's
bytes through `intake` to the producer. Their OpenAPI description is written
out in `openapi_paths()`.
"""

from __future__ import annotations

import time
from collections import Counter as Tally
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.ingest.domain import BodyUnreadable, Intake, read_ndjson_body, read_typed_body
from shared.auth.api_keys import ApiKey, ApiKeyring
from shared.contracts.events import EVENT_MODELS, EventBase
from shared.contracts.topics import TOPIC_FOR_EVENT_TYPE
from shared.errors import ApiError
from shared.kafka import EventProducer, KafkaUnavailable, OutgoingRecord


def _caller(request: Request) -> ApiKey:
    secret = request.headers.get("x-api-key")
    keyring: ApiKeyring = request.app.state.keyring
    key = keyring.find(secret)
    if key is None:
        raise ApiError(401, "X-API-Key is not valid" if secret else "X-API-Key is missing")
    return key


async def _read_body(request: Request) -> bytes:
    limit: int = request.app.state.settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"body exceeds {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, f"body exceeds {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _refuse_problems(request: Request, intake: Intake, count: int) -> None:
    metrics = request.app.state.metrics
    if intake.problems:
        for problem in intake.problems:
            for reason in problem.reasons:
                metrics.rejected.labels("(batch)", reason.get("code", "invalid")).inc()
        raise ApiError(
            422,
            f"{len(intake.problems)} of {count} events are invalid; none were accepted",
            details=[p.as_detail() for p in intake.problems],
        )
    if count == 0:
        metrics.rejected.labels("(batch)", "empty").inc()
        raise ApiError(422, "no events in the request")
    limit = request.app.state.settings.max_batch_events
    if count > limit:
        metrics.rejected.labels("(batch)", "too_many").inc()
        raise ApiError(413, f"{count} events exceed the batch limit of {limit}")


def _record(event: EventBase, document: dict[str, Any]) -> OutgoingRecord:
    """The Kafka record of a validated event: its document as sent, keyed for order."""
    event_type = event.type  # type: ignore[attr-defined]
    return OutgoingRecord(
        topic=TOPIC_FOR_EVENT_TYPE[event_type].name,
        value=orjson.dumps(document),
        key=event.partition_key.encode(),
        headers=[
            ("event_type", event_type.encode()),
            ("event_id", event.event_id.encode()),
            ("content-type", b"application/json"),
        ],
    )


async def _publish(request: Request, intake: Intake) -> Response:
    events = intake.events
    producer: EventProducer = request.app.state.producer
    metrics = request.app.state.metrics
    started = time.perf_counter()
    try:
        await producer.send_all(
            [_record(e, d) for e, d in zip(events, intake.documents, strict=True)]
        )
    except KafkaUnavailable as exc:
        for event_type, n in Tally(e.type for e in events).items():  # type: ignore[attr-defined]
            metrics.rejected.labels(event_type, "kafka_unavailable").inc(n)
        retry_after = str(request.app.state.settings.retry_after_seconds)
        raise ApiError(
            503,
            "Kafka did not acknowledge the events; none may be assumed accepted, send them again",
            code="kafka_unavailable",
            details=[{"reason": str(exc)[:300]}],
            headers={"Retry-After": retry_after},
        ) from None
    metrics.produce_latency.observe(time.perf_counter() - started)
    for event_type, n in Tally(e.type for e in events).items():  # type: ignore[attr-defined]
        metrics.accepted.labels(event_type).inc(n)
    return Response(
        orjson.dumps({"accepted": len(events)}), status_code=202, media_type="application/json"
    )


async def post_typed_events(request: Request) -> Response:
    """Validate and publish events of one type; 202 only once Kafka has them all."""
    caller = _caller(request)
    event_type: str = request.path_params["event_type"]
    if event_type not in EVENT_MODELS:
        raise ApiError(
            404,
            f"unknown event type {event_type!r}",
            code="unknown_event_type",
            details=[{"known_types": sorted(EVENT_MODELS)}],
        )
    if not caller.may_send(event_type):
        request.app.state.metrics.rejected.labels(event_type, "forbidden").inc()
        raise ApiError(403, f"this API key may not send {event_type}")
    body = await _read_body(request)
    try:
        intake, count = read_typed_body(
            body, event_type, now=datetime.now(UTC), limits=request.app.state.settings.time_limits
        )
    except BodyUnreadable as exc:
        request.app.state.metrics.rejected.labels(event_type, "json_invalid").inc()
        raise ApiError(400, str(exc)) from None
    _refuse_problems(request, intake, count)
    return await _publish(request, intake)


async def post_ndjson_events(request: Request) -> Response:
    """Validate and publish NDJSON lines, each with its `type`."""
    caller = _caller(request)
    body = await _read_body(request)
    settings = request.app.state.settings
    intake, count = read_ndjson_body(body, now=datetime.now(UTC), limits=settings.time_limits)
    _refuse_problems(request, intake, count)
    forbidden = [
        {
            "index": i,
            "reasons": [
                {
                    "field": "type",
                    "code": "forbidden",
                    "reason": f"this API key may not send {e.type}",  # type: ignore[attr-defined]
                }
            ],
        }
        for i, e in zip(intake.positions, intake.events, strict=True)
        if not caller.may_send(e.type)  # type: ignore[attr-defined]
    ]
    if forbidden:
        raise ApiError(
            403, "this API key may not send some of these event types", details=forbidden
        )
    return await _publish(request, intake)


routes = [
    Route("/v1/events/{event_type}", post_typed_events, methods=["POST"]),
    Route("/v1/events", post_ndjson_events, methods=["POST"]),
]


def openapi_paths() -> dict[str, Any]:
    """Describe the event endpoints for the OpenAPI document."""
    error = {"$ref": "#/components/schemas/Error"}
    responses: dict[str, Any] = {
        "202": {
            "description": "Kafka acknowledged every event",
            "content": {"application/json": {"example": {"accepted": 2}}},
        },
        **{
            str(status): {"description": text, "content": {"application/json": {"schema": error}}}
            for status, text in (
                (400, "the body is not JSON"),
                (401, "missing or unknown X-API-Key"),
                (403, "this key may not send this event type"),
                (404, "unknown event type"),
                (413, "body or batch too large"),
                (
                    422,
                    "invalid events (including instants too far ahead of the clock or too "
                    "old): per-item index and reasons; nothing was accepted",
                ),
                (503, "Kafka unavailable: nothing confirmed; retry after Retry-After seconds"),
            )
        },
    }
    key = [{"UpstreamApiKey": []}]
    return {
        "/v1/events/{event_type}": {
            "post": {
                "tags": ["events"],
                "summary": "Publish one event or a batch of one type",
                "security": key,
                "parameters": [
                    {
                        "name": "event_type",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "enum": sorted(EVENT_MODELS)},
                    }
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "oneOf": [
                                    {"type": "object"},
                                    {"type": "array", "items": {"type": "object"}},
                                ]
                            }
                        }
                    },
                },
                "responses": responses,
            }
        },
        "/v1/events": {
            "post": {
                "tags": ["events"],
                "summary": "Publish NDJSON of mixed event types (one event per line, with `type`)",
                "security": key,
                "requestBody": {
                    "required": True,
                    "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
                },
                "responses": responses,
            }
        },
    }
