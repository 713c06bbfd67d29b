"""The raw-topic validator: upstreams may produce straight to the raw topics,
bypassing HTTP validation; this consumer checks every such message and moves
the unreadable ones to the dead-letter topic with the reason.

Per batch: check every record → publish the dead letters and wait for Kafka's
acknowledgement → commit the offsets. A crash before the commit checks the
batch again (a dead letter may then appear twice; its headers name the source
offset). A partition never blocks: a bad message is dead-lettered, not retried.
Downstream consumers skip records that fail validation; this is the one place
that dead-letters them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

import orjson
from aiokafka import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage

from services.ingest.domain import TimeLimits
from services.ingest.metrics import IngestMetrics
from shared.contracts.events import EventRejected, parse_event
from shared.contracts.topics import RAW_TOPICS, TOPIC_FOR_EVENT_TYPE
from shared.dlq import dead_letter
from shared.kafka import EventProducer, KafkaUnavailable, OutgoingRecord
from shared.kafka_consume import raw_batch_decoder, raw_batch_parser
from shared.logging import get_logger

log = get_logger(__name__)


def problem_with(
    record: ConsumerRecord[bytes, bytes], limits: TimeLimits | None = None
) -> str | None:
    """Return why `record` is unreadable for its topic, or None when it is fine.

    With `limits`, an event whose instants are too far from the time Kafka wrote the
    record (its timestamp) is refused too: the verdict does not depend on when the
    validator reads it, so replaying the topic gives the same dead letters.
    """
    if not record.value:
        return "empty message"
    try:
        document = orjson.loads(record.value)
    except orjson.JSONDecodeError as exc:
        return f"not valid JSON: {exc}"
    try:
        event = parse_event(document)
    except EventRejected as rejected:
        return f"invalid event: {rejected}"
    expected = TOPIC_FOR_EVENT_TYPE[event.type].name  # type: ignore[attr-defined]
    if record.topic != expected:
        return f"{event.type} belongs on {expected}, not {record.topic}"  # type: ignore[attr-defined]
    if limits is not None:
        written = (
            datetime.fromtimestamp(record.timestamp / 1000, UTC)
            if record.timestamp and record.timestamp > 0
            else datetime.now(UTC)
        )
        if problems := limits.problems(event, written):
            return "; ".join(f"{p['field']}: {p['reason']}" for p in problems)
    return None


def dead_letters_for(
    records: Sequence[ConsumerRecord[bytes, bytes]],
    *,
    consumer: str,
    metrics: IngestMetrics,
    limits: TimeLimits | None = None,
) -> list[OutgoingRecord]:
    """Check `records`; return the dead letters for the unreadable ones."""
    letters = []
    for record in records:
        reason = problem_with(record, limits)
        metrics.raw_checked.labels(record.topic, "ok" if reason is None else "dead_lettered").inc()
        if reason is not None:
            letters.append(dead_letter(record, reason=reason, consumer=consumer))
    return letters


def register_validator(
    broker: KafkaBroker,
    *,
    group_id: str,
    producer: EventProducer,
    metrics: IngestMetrics,
    limits: TimeLimits | None = None,
    retry_seconds: float = 1.0,
) -> None:
    """Subscribe the validator to every raw topic."""

    @broker.subscriber(
        *(t.name for t in RAW_TOPICS),
        group_id=group_id,
        batch=True,
        max_records=1000,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.MANUAL,
        parser=raw_batch_parser,
        decoder=raw_batch_decoder,
        title="raw-topic-validator",
    )
    async def validate_raw(message: KafkaMessage) -> None:
        records: tuple[ConsumerRecord[bytes, bytes], ...] = message.raw_message  # type: ignore[assignment]
        letters = dead_letters_for(records, consumer=group_id, metrics=metrics, limits=limits)
        try:
            if letters:
                await producer.send_all(letters)
        except KafkaUnavailable as exc:
            log.warning("dead-letter publish failed; will re-check the batch", error=str(exc))
            await message.nack()  # rewind: the batch is checked again
            await asyncio.sleep(retry_seconds)
            return
        await message.ack()
