"""Consuming with FastStream safely: raw records in, explicit acknowledgement out.

FastStream's default policy commits offsets even when the handler fails, and
its default parser and decoder read every header as UTF-8 and every body as
JSON — a garbage message would fail a batch before the handler sees it. Our
subscribers use `AckPolicy.MANUAL` with this parser and decoder, so they get
every record as it is and commit only after their work is durable.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import ConsumerRecord
from faststream.kafka import KafkaMessage


def _utf8_headers(record: ConsumerRecord[Any, Any]) -> ConsumerRecord[Any, Any]:
    headers = record.headers or ()
    safe = []
    changed = False
    for name, value in headers:
        try:
            (value or b"").decode()
        except UnicodeDecodeError:
            changed = True
            continue
        safe.append((name, value))
    return dataclasses.replace(record, headers=tuple(safe)) if changed else record


async def raw_batch_parser(
    records: tuple[ConsumerRecord[Any, Any], ...],
    original: Callable[[tuple[ConsumerRecord[Any, Any], ...]], Awaitable[KafkaMessage]],
) -> KafkaMessage:
    """Parse a batch whose headers may not be UTF-8 (such headers are dropped from
    the parsed view only; `raw_message` keeps the original records)."""
    message = await original(tuple(_utf8_headers(r) for r in records))
    message.raw_message = records
    return message


async def raw_batch_decoder(message: KafkaMessage) -> list[bytes]:
    """Decode a batch to the records' raw values (handlers validate them themselves)."""
    records: tuple[ConsumerRecord[Any, Any], ...] = message.raw_message
    return [r.value or b"" for r in records]
