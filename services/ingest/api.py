"""Ingest HTTP API: the front door for switch, CRM and department systems."""

from __future__ import annotations

import time
from collections import Counter as Tally
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Header, Request, Response

from services.ingest.intake import BodyUnreadable, Intake, read_ndjson_body, read_typed_body
from shared.auth.api_keys import ApiKey, ApiKeyring
from shared.contracts.events import EVENT_MODELS, EventBase
from shared.contracts.topics import TOPIC_FOR_EVENT_TYPE
from shared.errors import ApiError
from shared.kafka import EventProducer, KafkaUnavailable, OutgoingRecord

router = APIRouter(prefix="/v1", tags=["events"])

_BATCH_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"type": "object", "description": "one event"},
                        {"type": "array", "items": {"type": "object"}, "description": "a batch"},
                    ]
                }
            }
        },
    }
}
_NDJSON_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
    }
}


def _caller(
    request: Request, x_api_key: Annotated[str | None, Header(alias="X-API-Key")] = None
) -> ApiKey:
    keyring: ApiKeyring = request.app.state.keyring
    key = keyring.find(x_api_key)
    if key is None:
        message = "X-API-Key is missing" if not x_api_key else "X-API-Key is not valid"
        raise ApiError(401, message)
    return key


Caller = Annotated[ApiKey, Depends(_caller)]


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


def _record(event: EventBase) -> OutgoingRecord:
    event_type = event.type  # type: ignore[attr-defined]
    return OutgoingRecord(
        topic=TOPIC_FOR_EVENT_TYPE[event_type].name,
        value=event.model_dump_json().encode(),
        key=event.partition_key.encode(),
        headers=[
            ("event_type", event_type.encode()),
            ("event_id", event.event_id.encode()),
            ("content-type", b"application/json"),
        ],
    )


async def _publish(request: Request, events: list[EventBase]) -> Response:
    producer: EventProducer = request.app.state.producer
    metrics = request.app.state.metrics
    started = time.perf_counter()
    try:
        await producer.send_all([_record(e) for e in events])
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


_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {
        "description": "Kafka acknowledged every event",
        "content": {"application/json": {"example": {"accepted": 2}}},
    },
    400: {"description": "the body is not JSON"},
    401: {"description": "missing or unknown X-API-Key"},
    403: {"description": "this key may not send this event type"},
    413: {"description": "body or batch too large"},
    422: {"description": "invalid events, with per-item index and reasons; nothing accepted"},
    503: {"description": "Kafka unavailable; retry after Retry-After seconds"},
}


@router.post(
    "/events/{event_type}",
    status_code=202,
    openapi_extra=_BATCH_SCHEMA,
    responses=_RESPONSES,
    summary="Publish one event or a batch of one type",
)
async def post_typed_events(event_type: str, request: Request, caller: Caller) -> Response:
    """Validate and publish events of one type; 202 only once Kafka has them all."""
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
        intake, count = read_typed_body(body, event_type)
    except BodyUnreadable as exc:
        request.app.state.metrics.rejected.labels(event_type, "json_invalid").inc()
        raise ApiError(400, str(exc)) from None
    _refuse_problems(request, intake, count)
    return await _publish(request, intake.events)


@router.post(
    "/events",
    status_code=202,
    openapi_extra=_NDJSON_SCHEMA,
    responses=_RESPONSES,
    summary="Publish NDJSON of mixed event types",
)
async def post_ndjson_events(request: Request, caller: Caller) -> Response:
    """Validate and publish NDJSON lines, each with its `type`."""
    body = await _read_body(request)
    intake, count = read_ndjson_body(body)
    _refuse_problems(request, intake, count)
    forbidden = [
        {
            "index": i,
            "reasons": [
                {
                    "field": "type",
                    "code": "forbidden",
                    "reason": f"this API key may not send {e.type}",
                }
            ],
        }  # type: ignore[attr-defined]
        for i, e in zip(intake.positions, intake.events, strict=True)
        if not caller.may_send(e.type)  # type: ignore[attr-defined]
    ]
    if forbidden:
        raise ApiError(
            403, "this API key may not send some of these event types", details=forbidden
        )
    return await _publish(request, intake.events)
