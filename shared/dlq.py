"""Dead-letter records: the original bytes plus why they were refused.

A dead letter must always be accepted by Kafka, or the partition it came from
would be blocked by a nack loop. A record that would not fit (the original near
the broker's size limit, plus the `dlq.*` headers) is shortened: the body is
cut to its first `KEPT_BYTES` and the headers say so, with the original size
and its SHA-256 (`dlq.truncated`, `dlq.original_bytes`, `dlq.sha256`); original
headers and a key too large to keep are dropped the same way (`dlq.key_sha256`).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from aiokafka import ConsumerRecord

from shared.contracts.topics import DLQ
from shared.kafka import Headers, OutgoingRecord

REASON_LIMIT = 1000
MAX_RECORD_BYTES = 512 * 1024
"""Largest dead letter sent whole: half of Kafka's default record and request limits (1 MiB),
so the headers always fit beside it."""
KEPT_BYTES = 64 * 1024
"""How much of a body too large to send whole is kept."""
KEY_LIMIT = 1024
HEADERS_LIMIT = 16 * 1024
"""Original headers kept on a shortened dead letter, at most (bytes)."""


def _size(headers: Headers) -> int:
    return sum(len(k) + len(v) for k, v in headers)


def dead_letter(
    record: ConsumerRecord[bytes, bytes], *, reason: str, consumer: str
) -> OutgoingRecord:
    """Return the DLQ record for `record`: same key and value, original headers kept
    (shortened when too large to send, see the module's documentation).

    Headers added: `dlq.reason`, `dlq.consumer`, `dlq.topic`, `dlq.partition`,
    `dlq.offset`, `dlq.failed_at`; enough to find, fix and replay the message.
    """
    value, key = record.value or b"", record.key
    original = [(k, v or b"") for k, v in (record.headers or ()) if not k.startswith("dlq.")]
    headers = [
        ("dlq.reason", reason[:REASON_LIMIT].encode()),
        ("dlq.consumer", consumer.encode()),
        ("dlq.topic", record.topic.encode()),
        ("dlq.partition", str(record.partition).encode()),
        ("dlq.offset", str(record.offset).encode()),
        ("dlq.failed_at", datetime.now(UTC).isoformat().encode()),
    ]
    if len(value) + len(key or b"") + _size(original) + _size(headers) > MAX_RECORD_BYTES:
        headers += [
            ("dlq.truncated", b"true"),
            ("dlq.original_bytes", str(len(value)).encode()),
            ("dlq.sha256", hashlib.sha256(value).hexdigest().encode()),
        ]
        value = value[:KEPT_BYTES]
        if key is not None and len(key) > KEY_LIMIT:
            headers.append(("dlq.key_sha256", hashlib.sha256(key).hexdigest().encode()))
            key = key[:KEY_LIMIT]
        if _size(original) > HEADERS_LIMIT:
            headers.append(("dlq.headers_dropped", str(len(original)).encode()))
            original = []
    return OutgoingRecord(topic=DLQ.name, value=value, key=key, headers=original + headers)
