"""The SMS dispatcher: sends what the SMS outbox holds, exactly once per SMS in effect.

Checkpoint order, per round:
  1. one transaction: lock the SMS due now (`FOR UPDATE SKIP LOCKED`, so
     instances share the work), hold back those over a recipient's rate limit
     (they wait, never dropped), lease the rest (`sending`, `attempts + 1`,
     `lease_until`), commit;
  2. hand each to the provider with its stable key `sms-{id}` — in id order
     per incident and level, so L1 hears before L2;
  3. one transaction: record each outcome — sent/delivered, a retry with
     exponential backoff, or failed (refused, or out of attempts).
A crash after 1 leaves leases that run out; the SMS are sent again with the
same key, which the HTTP gateway deduplicates. Nothing is lost: an SMS
leaves the table's queue only as sent, delivered or failed.
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
                    await sms_store.postpone_sms(session, message.id, allowed, "rate limited")
                    self._metrics.sms.labels(self._provider.name, "rate_limited").inc()
                    continue
                history.append(now)
                ready.append(message)
            await sms_store.lease_sms(session, [m.id for m in ready], now + self._lease)
        outcomes: list[tuple[sms_store.DueSms, Handed | Exception]] = []
        ordered = sorted(ready, key=lambda m: (m.incident_id, m.level, m.id))
        for _, group in groupby(ordered, key=lambda m: (m.incident_id, m.level)):
            batch = list(group)
            results = await asyncio.gather(*(self._send(m) for m in batch), return_exceptions=True)
            for message, result in zip(batch, results, strict=True):
                if isinstance(result, BaseException) and not isinstance(result, Exception):
                    raise result
                outcomes.append((message, result))
        await self._record(outcomes)
        return len(due)

    async def _send(self, message: sms_store.DueSms) -> Handed:
        return await self._provider.send(
            OutgoingSms(key=f"sms-{message.id}", phone=message.phone, text=message.body)
        )

    async def _record(self, outcomes: list[tuple[sms_store.DueSms, Handed | Exception]]) -> None:
        now = self._wall()
        name = self._provider.name
        async with self._sessions() as session, session.begin():
            for message, result in outcomes:
                if isinstance(result, Handed):
                    delivered = result.status == "delivered"
                    await sms_store.sms_handed(
                        session,
                        message.id,
                        provider=name,
                        provider_message_id=result.provider_message_id,
                        delivered=delivered,
                        at=now,
                    )
                    self._metrics.sms.labels(name, "sent").inc()
                    if delivered:
                        self._metrics.sms.labels(name, "delivered").inc()
                    if message.detected_at is not None and message.attempts == 0:
                        self._metrics.detection_latency.observe(
                            max(0.0, (now - message.detected_at).total_seconds())
                        )
                elif isinstance(result, SmsRefused) or (message.attempts + 1 >= self._max_attempts):
                    await sms_store.sms_failed(
                        session, message.id, provider=name, error=str(result), at=now
                    )
                    self._metrics.sms.labels(name, "failed").inc()
                    log.error("SMS failed", sms=message.id, phone=message.phone, error=str(result))
                else:
                    delay = retry_delay(
                        message.attempts + 1,
                        base=self._backoff[0],
                        cap=self._backoff[1],
                        jitter=random.random(),
                    )
                    await sms_store.postpone_sms(
                        session, message.id, now + timedelta(seconds=delay), str(result)[:1000]
                    )
                    self._metrics.sms.labels(name, "retried").inc()
                    log.warning(
                        "SMS not sent; will retry",
                        sms=message.id,
                        attempt=message.attempts + 1,
                        in_seconds=round(delay, 1),
                        error=str(result)[:200],
                    )

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
