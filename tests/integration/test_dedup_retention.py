"""Processed-event keys are forgotten once older than the retention, and only then."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import text

from shared.consumer import DedupRetention
from shared.db import make_engine

pytestmark = pytest.mark.integration


async def test_old_keys_are_pruned_in_chunks_and_recent_ones_kept(database: str) -> None:
    engine = make_engine(database, pool_size=1)
    consumer = f"retention-{uuid.uuid4().hex[:8]}"
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO processed_events (consumer, event_id, processed_at) "
                "SELECT :c, 'old-' || n, now() - interval '9 days' FROM generate_series(1, 25) n "
                "UNION ALL SELECT :c, 'new-' || n, now() - interval '1 day' "
                "FROM generate_series(1, 5) n"
            ),
            {"c": consumer},
        )
    removed = await DedupRetention(engine, retention=timedelta(days=8), chunk=10).prune_once()
    assert removed >= 25  # other tests' keys are all recent
    async with engine.connect() as conn:
        left = (
            (
                await conn.execute(
                    text("SELECT event_id FROM processed_events WHERE consumer = :c ORDER BY 1"),
                    {"c": consumer},
                )
            )
            .scalars()
            .all()
        )
    assert left == [f"new-{n}" for n in range(1, 6)]
    await engine.dispose()
