"""Consuming with FastStream safely: raw records in, explicit acknowledgement out.

FastStream's default policy commits offsets even when the handler fails, and
its default parser and decoder read every header as UTF-8 and every body as
JSON — a garbage message would fail a batch before the handler sees it. Our
subscribers use `AckPolicy.MANUAL` with this parser and decoder, so they get
every record as it is and commit only after their work is durable.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import ConsumerRecord
from faststream.kafka import KafkaBroker, KafkaMessage
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import CollectorRegistry

from shared.logging import get_logger


def make_broker(
    bootstrap_servers: str,
    *,
    service: str,
    registry: CollectorRegistry,
    client_id: str | None = None,
) -> KafkaBroker:
    """A FastStream Kafka broker with the service's Prometheus metrics and logger.

    Per-message "Received"/"Processed" lines are logged at DEBUG: at batch rates
    they would drown everything else at INFO.
    """
    return KafkaBroker(
        bootstrap_servers,
        client_id=client_id or service,
        middlewares=[KafkaPrometheusMiddleware(registry=registry, app_name=service)],
        logger=get_logger("faststream"),
        log_level=logging.DEBUG,
    )


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
    """Parse a batch whose headers may not be UTF-8, without decoding every record's
    headers: FastStream's batch parser builds a header dict per record, which no
    handler of ours reads. The message is built from the first record (headers
    that are not UTF-8 dropped from the parsed view only); `raw_message` and
    `body` carry the whole batch, so acknowledgement, rewinding and metrics see
    every record."""
    message = await original((_utf8_headers(records[0]),))
    message.raw_message = records
    message.body = [r.value or b"" for r in records]
    return message


async def raw_batch_decoder(message: KafkaMessage) -> list[bytes]:
    """Decode a batch to the records' raw values (handlers validate them themselves)."""
    records: tuple[ConsumerRecord[Any, Any], ...] = message.raw_message
    return [r.value or b"" for r in records]
