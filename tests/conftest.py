"""Test fixtures shared by every tier.

Unit tests need nothing. Integration and e2e tests get the real broker and
database from `tests.infra.provide()` once per session.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest
from hypothesis import settings as hypothesis_settings

from tests.infra import Infrastructure, provide

# Properties are about values, not time: on a shared machine a slow example is no failure.
hypothesis_settings.register_profile("suite", deadline=None, print_blob=True)
hypothesis_settings.load_profile("suite")


@pytest.fixture(scope="session")
def infra() -> Iterator[Infrastructure]:
    """Real Kafka and PostgreSQL for this test session."""
    infrastructure = provide()
    os.environ["KAFKA_BOOTSTRAP_SERVERS"] = infrastructure.kafka_bootstrap_servers
    os.environ["DATABASE_URL"] = infrastructure.database_url
    try:
        yield infrastructure
    finally:
        infrastructure.close()


@pytest.fixture(scope="session")
async def kafka(infra: Infrastructure) -> AsyncIterator[str]:
    """The bootstrap servers, with every platform topic created."""
    from shared.kafka import ensure_topics

    await ensure_topics(infra.kafka_bootstrap_servers, partitions=3)
    yield infra.kafka_bootstrap_servers
    await _derived_topics_keep_their_contracts(infra.kafka_bootstrap_servers)


async def _derived_topics_keep_their_contracts(bootstrap: str) -> None:
    """After the session: every event the services published validates against its contract."""
    from shared.contracts.topics import ALERTS, GARDEN, REWARDS, SCORES
    from tests.kafka_tools import contract_violations, read_all

    problems: list[str] = []
    for topic in (SCORES, ALERTS, GARDEN, REWARDS):
        problems += contract_violations(await read_all(bootstrap, topic.name))
    assert not problems, f"{len(problems)} events break their contracts:\n" + "\n".join(
        problems[:20]
    )


@pytest.fixture(scope="session")
async def database(infra: Infrastructure) -> AsyncIterator[str]:
    """The database URL, migrated to the newest schema."""
    from shared.migrate import migrate

    await migrate(infra.database_url)
    yield infra.database_url
