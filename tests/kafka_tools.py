"""Reading topics back in tests: what arrived, with its key, headers and partition."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition


@dataclass(frozen=True)
class Seen:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: dict[str, bytes]


async def read_topic(
    bootstrap: str,
    topic: str,
    *,
    until: Callable[[list[Seen]], bool],
    keep: Callable[[Seen], bool] = lambda _: True,
    within: float = 30.0,
) -> list[Seen]:
    """Read `topic` from the beginning (no group) until `until(kept)` or `within` seconds pass."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        client_id=f"test-reader-{uuid.uuid4().hex[:6]}",
    )
    await consumer.start()
    kept: list[Seen] = []
    try:
        metadata = await consumer._client.fetch_all_metadata()
        partitions = metadata.partitions_for_topic(topic) or set()
        consumer.assign([TopicPartition(topic, p) for p in partitions])
        await consumer.seek_to_beginning()
        deadline = time.monotonic() + within
        while time.monotonic() < deadline and not until(kept):
            batch = await consumer.getmany(timeout_ms=300)
            for records in batch.values():
                for r in records:
                    seen = Seen(
                        r.topic, r.partition, r.offset, r.key, r.value or b"", dict(r.headers or ())
                    )
                    if keep(seen):
                        kept.append(seen)
        return kept
    finally:
        await consumer.stop()


async def settle(seconds: float = 1.0) -> None:
    """Give in-flight records a moment before asserting that nothing more arrived."""
    await asyncio.sleep(seconds)


async def end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    """The next offset of every partition of `topic` (to read only what comes after)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        metadata = await consumer._client.fetch_all_metadata()
        partitions = [TopicPartition(topic, p) for p in metadata.partitions_for_topic(topic) or ()]
        ends = await consumer.end_offsets(partitions)
        return {tp.partition: offset for tp, offset in ends.items()}
    finally:
        await consumer.stop()


async def read_all(bootstrap: str, topic: str, *, within: float = 60.0) -> list[Seen]:
    """Everything on `topic` now, from the beginning to its end offsets."""
    ends = await end_offsets(bootstrap, topic)

    def complete(seen: list[Seen]) -> bool:
        last: dict[int, int] = {}
        for s in seen:
            last[s.partition] = s.offset
        return all(last.get(p, -1) >= end - 1 for p, end in ends.items() if end > 0)

    seen = await read_topic(bootstrap, topic, until=complete, within=within)
    assert complete(seen), f"{topic} could not be read to its end within {within}s"
    return seen


def contract_violations(seen: list[Seen]) -> list[str]:
    """What on a derived topic breaks its contract: the payload, its topic, key or headers."""
    from shared.contracts.catalog import parse_derived
    from shared.contracts.events import EventRejected

    problems: list[str] = []
    for s in seen:
        where = f"{s.topic}@{s.partition}:{s.offset}"
        try:
            event = parse_derived(s.value)
        except EventRejected as rejected:
            problems.append(f"{where}: {rejected} in {s.value[:200]!r}")
            continue
        if event.topic.name != s.topic:
            problems.append(f"{where}: {event.type} belongs on {event.topic.name}")
        if s.key != event.partition_key.encode():
            problems.append(f"{where}: key {s.key!r}, contract says {event.partition_key!r}")
        if s.headers.get("event_type") != event.type.encode():
            problems.append(f"{where}: event_type header {s.headers.get('event_type')!r}")
        if s.headers.get("event_id") != event.event_id.encode():
            problems.append(f"{where}: event_id header {s.headers.get('event_id')!r}")
    return problems
