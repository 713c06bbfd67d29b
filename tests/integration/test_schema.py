"""The ORM's tables are the migrated schema: what the models declare is what Alembic builds.

Autogenerate compares `SQLModel.metadata` (every module `import_all_models`
finds) with a freshly migrated database; any difference (a table, column,
type, nullability, index or server default on one side only) is a model or a
migration out of step.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from shared.db import make_engine
from shared.migrate import import_all_models
from tests.integration.conftest import own_database

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def migrated(database: str) -> AsyncIterator[str]:
    """A database of this module's own on the test server, migrated to the newest schema."""
    async with own_database(database, "schema") as url:
        yield url


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, SQLModel.metadata))


async def test_the_models_are_the_migrated_schema(migrated: str) -> None:
    import_all_models()
    tables = set(SQLModel.metadata.tables)
    # every owner's models are in the metadata: the plumbing, scoring (org and pipeline), alerting
    assert {"outbox", "scoring_centers", "scoring_agent_days", "alert_incidents"} <= tables
    engine = make_engine(migrated, pool_size=1)
    try:
        async with engine.connect() as conn:
            differences = await conn.run_sync(_differences)
    finally:
        await engine.dispose()
    assert differences == [], "\n".join(str(d) for d in differences)
