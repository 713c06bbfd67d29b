"""Topics carry the registry's retention and segment settings, so no record stays readable
longer than the processed-event keys that make a replay harmless."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from shared.contracts.topics import CALLS, LONGEST_READABLE, Topic
from shared.kafka import ensure_topics
from shared.settings import ServiceSettings

pytestmark = pytest.mark.integration


async def _configs(bootstrap: str, name: str, wanted: dict[str, str]) -> dict[str, str]:
    """A topic's settings once they show `wanted` (brokers learn of changes a moment later),
    or as they are after a while."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        deadline = time.monotonic() + 30
        while True:
            (response,) = await admin.describe_configs(
                [ConfigResource(ConfigResourceType.TOPIC, name)]
            )
            ((_, _, _, _, entries),) = response.resources
            configs = {e[0]: e[1] for e in entries}
            if wanted.items() <= configs.items() or time.monotonic() > deadline:
                return configs
            await asyncio.sleep(0.5)
    finally:
        await admin.close()


async def test_topics_are_created_and_altered_to_the_registry_settings(kafka: str) -> None:
    # the platform's topics (created by the session's fixture)
    calls = await _configs(kafka, CALLS.name, CALLS.configs())
    assert {k: calls[k] for k in CALLS.configs()} == CALLS.configs()
    assert calls["segment.ms"] == str(6 * 3600 * 1000)  # not the broker's week
    assert calls["message.timestamp.type"] == "LogAppendTime"

    # a topic created earlier with broker defaults and an operator's own setting
    old = Topic(f"cc.test-retention-{uuid.uuid4().hex[:8]}.v1", "key", "retention test")
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(old.name, 1, 1, topic_configs={"max.message.bytes": "2000000"})]
        )
    finally:
        await admin.close()
    await ensure_topics(kafka, [old], partitions=1)
    configs = await _configs(kafka, old.name, old.configs())
    assert {k: configs[k] for k in old.configs()} == old.configs()
    assert configs["max.message.bytes"] == "2000000"


def test_dedup_retention_must_outlive_every_readable_record() -> None:
    assert ServiceSettings().dedup_retention > LONGEST_READABLE
    with pytest.raises(ValueError, match="longest a record stays readable"):
        ServiceSettings(dedup_retention_days=7)
