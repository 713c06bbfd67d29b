"""Dead-letter records: the original bytes, untouched, plus why they were refused."""

from __future__ import annotations

from datetime import UTC, datetime

from aiokafka import ConsumerRecord

from shared.contracts.topics import DLQ
from shared.kafka import OutgoingRecord

REASON_LIMIT = 1000


def dead_letter(
    record: ConsumerRecord[bytes, bytes], *, reason: str, consumer: str
) -> OutgoingRecord:
    """Return the DLQ record for `record`: same key and value, original headers kept.

    Headers added: `dlq.reason`, `dlq.consumer`, `dlq.topic`, `dlq.partition`,
    `dlq.offset`, `dlq.failed_at`; enough to find, fix and replay the message.
    """
    headers = [(k, v) for k, v in (record.headers or ()) if not k.startswith("dlq.")]
    headers += [
        ("dlq.reason", reason[:REASON_LIMIT].encode()),
        ("dlq.consumer", consumer.encode()),
        ("dlq.topic", record.topic.encode()),
        ("dlq.partition", str(record.partition).encode()),
        ("dlq.offset", str(record.offset).encode()),
        ("dlq.failed_at", datetime.now(UTC).isoformat().encode()),
    ]
    return OutgoingRecord(
        topic=DLQ.name, value=record.value or b"", key=record.key, headers=headers
    )
