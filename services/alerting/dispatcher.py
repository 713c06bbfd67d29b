"""The SMS dispatcher: sends what the SMS outbox holds, exactly once per SMS in effect.

Checkpoint order, per round:
  1. one transaction: lock the SMS due now (`FOR UPDATE SKIP LOCKED`, so
     instances share the work), hold back those over a recipient's rate limit
     (they wait, never dropped), lease the rest (`sending`, `attempts + 1` —
     the lease's number — and `lease_until`), commit;
  2. per incident and level, in id order (L1 hears before L2): renew the
     leases of everything the round has still to send (one short transaction;
     an SMS another instance took over meanwhile is dropped from the round),
     hand the group to the provider, each SMS with its stable key `sms-{id}`,
     and record each outcome in one transaction — sent/delivered, a retry with
     exponential backoff, or failed (refused, or out of attempts).
Every outcome is fenced by the lease: it is written only while the row still
carries this sender's lease number and is `sending`, so a sender that
outlived its lease (a slow gateway) and was taken over writes nothing, and no
write moves a delivered SMS back. Renewing before each group keeps a round of
many groups from outliving its lease (one group takes at most the provider's
timeout, which the settings keep below `SMS_LEASE_SECONDS`). A crash after 1 leaves leases that run out;
the SMS are sent again with the same key, which the HTTP gateway
deduplicates. Nothing is lost: an SMS leaves the table's queue only as sent,
delivered or failed.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import groupby

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.alerting.domain.sms import RecipientRateLimit, retry_delay
from services.alerting.metrics import AlertingMetrics
from services.alerting.providers import (
    Handed,
    OutgoingSms,
    ReceiptStatus,
    SmsProvider,
    SmsRefused,
    SmsUnconfirmed,
)
from services.alerting.repo import sms as sms_store
from shared.logging import get_logger

log = get_logger(__name__)


class SmsDispatcher:
    """Claims due SMS, sends them through the provider, records the outcome."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        provider: SmsProvider,
        metrics: AlertingMetrics,
        rate_limit: RecipientRateLimit,
        batch_size: int = 50,
        lease: timedelta = timedelta(seconds=30),
        max_attempts: int = 15,
        backoff_base: float = 1.0,
        backoff_max: float = 120.0,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._sessions = sessions
        self._provider = provider
        self._metrics = metrics
        self._rate_limit = rate_limit
        self._batch_size = batch_size
        self._lease = lease
        self._max_attempts = max_attempts
        self._backoff = (backoff_base, backoff_max)
        self._wall = wall

    async def dispatch_once(self) -> int:
        """Run one round; return how many SMS were handed to the provider or settled."""
        now = self._wall()
        async with self._sessions() as session, session.begin():
            due = await sms_store.due_sms(session, now, self._batch_size)
            if not due:
                return 0
            sends = await sms_store.recent_sends(
                session, [m.phone for m in due], now - self._rate_limit.window
            )
            ready: list[sms_store.DueSms] = []
            for message in due:
                history = sends.setdefault(message.phone, [])
                allowed = self._rate_limit.next_allowed(history, now)
                if allowed > now:
                    await sms_store.hold_back_sms(session, message.id, allowed, "rate limited")
                    self._metrics.sms.labels(self._provider.name, "rate_limited").inc()
                    continue
                history.append(now)
                ready.append(message)
            await sms_store.lease_sms(session, [m.id for m in ready], now + self._lease)
        ordered = sorted(ready, key=lambda m: (m.incident_id, m.level, m.id))
        groups = [list(g) for _, g in groupby(ordered, key=lambda m: (m.incident_id, m.level))]
        while groups:
            groups = await self._renew([m for group in groups for m in group])
            if groups:
                await self._send_group(groups.pop(0))
        return len(due)

    async def _renew(self, pending: list[sms_store.DueSms]) -> list[list[sms_store.DueSms]]:
        """Renew the leases of what this round has still to send (one short transaction);
        return it by group, without the SMS another instance took over meanwhile."""
        async with self._sessions() as session, session.begin():
            held = await sms_store.renew_leases(session, pending, self._wall() + self._lease)
        for message in pending:
            if message.id not in held:
                self._lost(message, "send")
        kept = [m for m in pending if m.id in held]
        return [list(g) for _, g in groupby(kept, key=lambda m: (m.incident_id, m.level))]

    async def _send_group(self, batch: list[sms_store.DueSms]) -> None:
        """Send one incident level's SMS together and record their outcomes."""
        results = await asyncio.gather(*(self._send(m) for m in batch), return_exceptions=True)
        outcomes: list[tuple[sms_store.DueSms, Handed | Exception]] = []
        for message, result in zip(batch, results, strict=True):
            if isinstance(result, BaseException) and not isinstance(result, Exception):
                raise result
            outcomes.append((message, result))
        await self._record(outcomes)

    async def _send(self, message: sms_store.DueSms) -> Handed:
        return await self._provider.send(
            OutgoingSms(key=f"sms-{message.id}", phone=message.phone, text=message.body)
        )

    async def _record(self, outcomes: list[tuple[sms_store.DueSms, Handed | Exception]]) -> None:
        now = self._wall()
        name = self._provider.name
        async with self._sessions() as session, session.begin():
            for message, result in outcomes:
                if isinstance(result, SmsUnconfirmed):
                    # Resending could deliver it twice: record it sent, say so, count it.
                    if await sms_store.sms_handed(
                        session,
                        message.id,
                        lease=message.lease,
                        provider=name,
                        provider_message_id=None,
                        delivered=False,
                        at=now,
                        note=f"unconfirmed: {result}"[:1000],
                    ):
                        self._metrics.sms_unconfirmed.labels(name).inc()
                        self._metrics.sms.labels(name, "sent").inc()
                        log.warning("SMS unconfirmed; not resent", sms=message.id)
                    else:
                        self._lost(message, "unconfirmed")
                elif isinstance(result, Handed):
                    delivered = result.status == "delivered"
                    if not await sms_store.sms_handed(
                        session,
                        message.id,
                        lease=message.lease,
                        provider=name,
                        provider_message_id=result.provider_message_id,
                        delivered=delivered,
                        at=now,
                    ):
                        self._lost(message, "sent")
                        continue
                    self._metrics.sms.labels(name, "sent").inc()
                    if delivered:
                        self._metrics.sms.labels(name, "delivered").inc()
                    if message.detected_at is not None and message.attempts == 0:
                        self._metrics.detection_latency.observe(
                            max(0.0, (now - message.detected_at).total_seconds())
                        )
                elif isinstance(result, SmsRefused) or (message.lease >= self._max_attempts):
                    if not await sms_store.sms_failed(
                        session,
                        message.id,
                        lease=message.lease,
                        provider=name,
                        error=str(result),
                        at=now,
                    ):
                        self._lost(message, "failed")
                        continue
                    self._metrics.sms.labels(name, "failed").inc()
                    log.error("SMS failed", sms=message.id, phone=message.phone, error=str(result))
                else:
                    delay = retry_delay(
                        message.lease,
                        base=self._backoff[0],
                        cap=self._backoff[1],
                        jitter=random.random(),
                    )
                    if not await sms_store.postpone_sms(
                        session,
                        message.id,
                        lease=message.lease,
                        until=now + timedelta(seconds=delay),
                        why=str(result)[:1000],
                    ):
                        self._lost(message, "retry")
                        continue
                    self._metrics.sms.labels(name, "retried").inc()
                    log.warning(
                        "SMS not sent; will retry",
                        sms=message.id,
                        attempt=message.lease,
                        in_seconds=round(delay, 1),
                        error=str(result)[:200],
                    )

    def _lost(self, message: sms_store.DueSms, outcome: str) -> None:
        """This sender's lease was taken over (or a receipt settled the SMS meanwhile): the
        SMS is not sent, or its outcome not written; the newer state stands."""
        self._metrics.sms.labels(self._provider.name, "lease_lost").inc()
        log.warning("SMS lease lost; left to its new holder", sms=message.id, step=outcome)

    async def record_receipt(
        self,
        key: str | None,
        provider_message_id: str | None,
        status: ReceiptStatus,
        error: str | None,
    ) -> bool:
        """Apply a delivery receipt (from the HTTP callback or an SMPP deliver_sm)."""
        async with self._sessions() as session, session.begin():
            matched = await sms_store.sms_receipt(
                session,
                key=key,
                provider_message_id=provider_message_id,
                delivered=status == "delivered",
                error=error,
                at=self._wall(),
            )
        if matched is not None:
            self._metrics.sms.labels(self._provider.name, status).inc()
        return matched is not None
