"""The SMS dispatcher on the real database: two instances against a slow gateway send each
SMS once, outcomes are fenced by the lease (nothing moves a delivered SMS back), and an
SMS whose acceptance was never confirmed is not sent again."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.alerting.dispatcher import SmsDispatcher
from services.alerting.domain.incidents import Incident, Status
from services.alerting.domain.sms import RecipientRateLimit
from services.alerting.metrics import AlertingMetrics
from services.alerting.providers import (
    Handed,
    HttpProvider,
    OutgoingSms,
    ReceiptCallback,
    SmsUnconfirmed,
)
from services.alerting.repo import incidents as incident_store
from services.alerting.repo import sms as sms_store
from shared import sql
from shared.db import make_engine, make_session_factory, unit_of_work
from tests.integration.alerting_support import Sink, sink, wait_for

pytestmark = pytest.mark.integration
__all__ = ["sink"]  # the module's SMS sink fixture
Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture(scope="module")
async def sessions(database: str) -> AsyncIterator[Sessions]:
    engine = make_engine(database, pool_size=4)
    yield make_session_factory(engine)
    await engine.dispose()


async def _queue(sessions: Sessions, incidents: int, phones_per: int = 1) -> list[int]:
    """Queue SMS about `incidents` new incidents (L1, `phones_per` recipients each)."""
    now = datetime.now(UTC)
    tag = uuid.uuid4().hex[:8]
    async with unit_of_work(sessions) as session:
        messages = []
        for n in range(incidents):
            incident_id = await incident_store.save_incident(
                session,
                Incident(
                    rule_id=f"lease{tag}/*",
                    category=f"lease{tag}",
                    region=f"r{n}",
                    opened_at=now,
                    # resolved already: no alerting instance of a later test takes it up
                    status=Status.RESOLVED,
                    resolved_at=now,
                ),
                department="网络运维部",
                window_minutes=30,
            )
            messages += [
                sms_store.QueuedSms(
                    incident_id,
                    1,
                    "alert",
                    f"+86137{abs(hash((tag, n, p))) % 10**8:08d}",
                    "someone",
                    f"SMS {tag} {n}/{p}",
                    now,
                )
                for p in range(phones_per)
            ]
        await sms_store.queue_sms(session, messages, now - timedelta(seconds=1))
        rows = await sql.execute(
            session,
            "SELECT id FROM alert_sms WHERE body LIKE :b ORDER BY id",
            {"b": f"SMS {tag} %"},
        )
        return [r.id for r in rows]


async def _rows(sessions: Sessions, ids: list[int]) -> dict[int, Any]:
    async with sessions() as session:
        rows = await sql.mappings(
            session, "SELECT * FROM alert_sms WHERE id = ANY(:i) ORDER BY id", {"i": ids}
        )
    return {r["id"]: r for r in rows}


def _dispatcher(sessions: Sessions, provider: Any, lease: float) -> SmsDispatcher:
    return SmsDispatcher(
        sessions=sessions,
        provider=provider,
        metrics=AlertingMetrics.create(CollectorRegistry()),
        rate_limit=RecipientRateLimit(1000, timedelta(minutes=10)),
        batch_size=200,
        lease=timedelta(seconds=lease),
        backoff_base=0.1,
        backoff_max=0.2,
    )


async def test_two_dispatchers_and_a_slow_gateway_send_each_sms_once(
    sessions: Sessions, sink: Sink
) -> None:
    """Four incidents are four groups sent one after another; each takes the gateway 0.8 s,
    so a round takes about 3 s against a lease of 1.5 s. The second instance keeps
    polling; no SMS may reach the gateway twice."""
    ids = await _queue(sessions, incidents=4)
    await sink.mode("hold", hold_seconds=0.8)
    provider = HttpProvider(f"{sink.url}/messages", timeout=5)
    await provider.start(lambda *a: asyncio.sleep(0))
    first, second = (_dispatcher(sessions, provider, lease=1.5) for _ in range(2))
    try:
        stop = asyncio.Event()

        async def poll() -> None:
            while not stop.is_set():
                await second.dispatch_once()
                await asyncio.sleep(0.05)

        poller = asyncio.create_task(poll())
        try:
            await first.dispatch_once()

            async def settled() -> dict[int, Any] | None:
                rows = await _rows(sessions, ids)
                return rows if all(r["status"] == "sent" for r in rows.values()) else None

            rows = await wait_for(settled, within=30)
        finally:
            stop.set()
            await poller
    finally:
        await sink.mode("up")
        await provider.stop()
    keys = {f"sms-{i}" for i in ids}
    arrived = [m for m in await sink.messages() if m["id"] in keys]
    assert sorted(m["id"] for m in arrived) == sorted(keys)
    assert [m["deliveries"] for m in arrived] == [1] * len(ids), arrived
    assert all(r["attempts"] == 1 and r["sent_at"] is not None for r in rows.values())


async def test_outcomes_are_fenced_by_the_lease(sessions: Sessions) -> None:
    [sms_id] = await _queue(sessions, incidents=1)
    now = datetime.now(UTC)
    async with unit_of_work(sessions) as session:
        [due] = [m for m in await sms_store.due_sms(session, now, 1000) if m.id == sms_id]
        await sms_store.lease_sms(session, [sms_id], now - timedelta(seconds=1))  # ran out
    async with unit_of_work(sessions) as session:  # a second sender takes it over
        [again] = [m for m in await sms_store.due_sms(session, now, 1000) if m.id == sms_id]
        await sms_store.lease_sms(session, [sms_id], now + timedelta(seconds=30))
    assert (due.lease, again.lease) == (1, 2)
    async with unit_of_work(sessions) as session:
        assert await sms_store.sms_handed(
            session,
            sms_id,
            lease=again.lease,
            provider="http",
            provider_message_id="p",
            delivered=True,
            at=now,
        )
    # the first sender's late outcomes change nothing
    async with unit_of_work(sessions) as session:
        assert not await sms_store.postpone_sms(
            session, sms_id, lease=due.lease, until=now, why="timeout"
        )
        assert not await sms_store.sms_failed(
            session, sms_id, lease=due.lease, provider="http", error="late", at=now
        )
        assert not await sms_store.sms_handed(
            session,
            sms_id,
            lease=due.lease,
            provider="http",
            provider_message_id="old",
            delivered=False,
            at=now,
        )
        # nor do the second sender's own repeats, once delivered
        assert not await sms_store.postpone_sms(
            session, sms_id, lease=again.lease, until=now, why="late retry"
        )
        assert not await sms_store.sms_failed(
            session, sms_id, lease=again.lease, provider="http", error="late", at=now
        )
        assert not await sms_store.renew_leases(session, [again], now + timedelta(seconds=30))
        assert (
            await sms_store.sms_receipt(
                session,
                key=f"sms-{sms_id}",
                provider_message_id=None,
                delivered=False,
                error="late receipt",
                at=now,
            )
            is None
        )
    row = (await _rows(sessions, [sms_id]))[sms_id]
    assert row["status"] == "delivered" and row["provider_message_id"] == "p"
    assert row["failed_at"] is None and row["last_error"] is None


@dataclass
class Unconfirmed:
    """A gateway that takes every SMS and never confirms it."""

    name: str = "smpp"
    calls: int = 0

    async def start(self, on_receipt: ReceiptCallback) -> None:
        return None

    async def send(self, sms: OutgoingSms) -> Handed:
        self.calls += 1
        raise SmsUnconfirmed("no submit_sm_resp within 10 s: the SMSC may have taken it")

    async def stop(self) -> None:
        return None


async def test_an_unconfirmed_sms_is_recorded_sent_and_not_resent(sessions: Sessions) -> None:
    [sms_id] = await _queue(sessions, incidents=1)
    provider = Unconfirmed()
    dispatcher = _dispatcher(sessions, provider, lease=0.5)
    await dispatcher.dispatch_once()
    calls = provider.calls
    assert calls >= 1
    deadline = time.monotonic() + 2  # leases and backoffs would have run out by now
    while time.monotonic() < deadline:
        await dispatcher.dispatch_once()
        await asyncio.sleep(0.1)
    assert provider.calls == calls  # nothing of it again
    row = (await _rows(sessions, [sms_id]))[sms_id]
    assert row["status"] == "sent" and row["attempts"] == 1
    assert row["last_error"].startswith("unconfirmed:")
    metrics = dispatcher._metrics
    assert metrics.sms_unconfirmed.labels("smpp")._value.get() >= 1
