"""Tables that grew for ever are pruned past the replay horizon: scoring's calls and
complaints, alerting's complaint tombstones; what is inside the horizon stays and a replay
of it still changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.alerting.repo import series as series_store
from services.scoring.handlers import HistoryPruning
from services.scoring.library.store import longest_fcr_window
from shared.db import make_session_factory
from tests import events_factory as ev
from tests.integration.conftest import own_database
from tests.integration.test_scoring_settlement_safety import _app_parts, _call, _scalar
from tests.integration.test_transactional_consumer import Batch, _record

pytestmark = pytest.mark.integration


def _complaint(agent: str, at: datetime) -> dict[str, Any]:
    return ev.complaint(agent_id=agent, occurred_at=at.isoformat(), justified=True)


async def test_calls_and_complaints_past_the_horizon_are_pruned_and_replays_stay_safe(
    scoring_db: tuple[AsyncEngine, str], database: str, kafka: str
) -> None:
    engine, agent = scoring_db
    consumer, _ = _app_parts(database, kafka)
    now = datetime.now(UTC)
    recent, old = now - timedelta(days=1), now - timedelta(days=60)
    events = [_call(agent, old), _call(agent, recent), _complaint(agent, old)]
    events.append(_complaint(agent, recent))
    await consumer.handle(Batch([_record(n, e) for n, e in enumerate(events)]))
    assert await _scalar(engine, "SELECT count(*) FROM scoring_fcr_calls") == 2
    assert await _scalar(engine, "SELECT count(*) FROM scoring_complaints") == 2
    totals = "SELECT sum(calls), sum(justified_complaints) FROM scoring_agent_days"
    async with engine.connect() as conn:
        before = tuple((await conn.execute(text(totals))).one())

    pruning = HistoryPruning(
        make_session_factory(engine),
        retention=timedelta(days=30),
        replay_horizon=timedelta(days=16),
        longest_window=longest_fcr_window,
        chunk=1,
    )
    assert await pruning.prune_once() == 2
    kept_call = await _scalar(engine, "SELECT min(answered_at) FROM scoring_fcr_calls")
    assert kept_call == datetime.fromisoformat(events[1]["answered_at"])
    assert await _scalar(engine, "SELECT count(*) FROM scoring_complaints") == 1
    assert await pruning.prune_once() == 0

    # replaying what is inside the horizon changes nothing: its call is still known
    await consumer.handle(Batch([_record(9, events[1]), _record(10, events[3])]))
    async with engine.connect() as conn:
        assert tuple((await conn.execute(text(totals))).one()) == before


async def test_complaint_tombstones_are_purged_with_the_history(database: str) -> None:
    async with own_database(database, "alerting_tombstones") as url:
        from shared.db import make_engine

        engine = make_engine(url, pool_size=1)
        try:
            async with engine.begin() as conn:  # one written before tombstones had a minute
                await conn.execute(
                    text(
                        "INSERT INTO alert_complaints (complaint_id, withdrawn) VALUES ('x', true)"
                    )
                )
                await series_store.register_withdrawals(conn, ["y"])  # withdrawn before filed
                assert (
                    await series_store.register_filings(
                        conn, [("y", "network", "foshan", datetime.now(UTC))]
                    )
                    == set()
                )
            async with engine.begin() as conn:
                await series_store.purge_history(conn, datetime.now(UTC) - timedelta(days=15))
            async with engine.connect() as conn:
                kept = (await conn.execute(text("SELECT complaint_id FROM alert_complaints"))).all()
            assert sorted(r[0] for r in kept) == ["x", "y"]  # inside the retention
            async with engine.begin() as conn:
                later = datetime.now(UTC) + timedelta(minutes=2)  # a retention later
                await series_store.purge_history(conn, later)
            async with engine.connect() as conn:
                left = await conn.scalar(text("SELECT count(*) FROM alert_complaints"))
            assert left == 0
        finally:
            await engine.dispose()
