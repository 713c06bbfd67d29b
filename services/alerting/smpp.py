"""SMPP 3.4 provider on aiosmpplib's ESME (bound as a transceiver).

`send` queues a submit_sm carrying our key as the library's `log_id` and
waits for its submit_sm_resp: ESME_ROK means the SMSC took it (its
`message_id` is kept); throttling or no bind means "try again later"; other
statuses are refusals. No submit_sm_resp in time means the SMSC may have taken
the SMS: it is reported unconfirmed (`SmsUnconfirmed`), never resent blindly. Delivery receipts (deliver_sm with the receipt flag)
are correlated back to our key by the library, or to the SMSC message id
after a restart, and reported through the receipt callback. Chinese text
goes out as UCS-2; long texts use the message_payload parameter.
"""

from __future__ import annotations

import asyncio
import contextlib

from aiosmpplib import (
    ESME,
    AbstractBroker,
    AbstractHook,
    DeliverSm,
    PhoneNumber,
    SmppCommandStatus,
    SmppMessage,
    SmppSessionState,
    SubmitSm,
    SubmitSmResp,
)

from services.alerting.providers import (
    Handed,
    OutgoingSms,
    ReceiptCallback,
    ReceiptStatus,
    SmsRefused,
    SmsUnavailable,
    SmsUnconfirmed,
)
from shared.logging import get_logger

log = get_logger(__name__)

_RETRYABLE = {
    SmppCommandStatus.ESME_RTHROTTLED,
    SmppCommandStatus.ESME_RMSGQFUL,
    SmppCommandStatus.ESME_RSYSERR,
    SmppCommandStatus.ESME_RSUBMITFAIL,
}
_DELIVERED = {"DELIVRD", "ACCEPTD"}


class _Queue(AbstractBroker):  # type: ignore[misc]
    """The ESME's outgoing queue (our durable queue is the SMS outbox table)."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[SmppMessage] = asyncio.Queue()

    async def enqueue(self, message: SmppMessage) -> None:
        await self.queue.put(message)

    async def dequeue(self) -> SmppMessage:
        return await self.queue.get()


class _Hook(AbstractHook):  # type: ignore[misc]
    def __init__(self, provider: SmppProvider) -> None:
        self._provider = provider

    async def sending(self, smpp_message: SmppMessage, pdu: bytes, client_id: str) -> None:
        return None

    async def received(self, smpp_message: SmppMessage | None, pdu: bytes, client_id: str) -> None:
        if isinstance(smpp_message, DeliverSm):
            if smpp_message.is_receipt():
                await self._provider.receipt(smpp_message)
        elif isinstance(smpp_message, SubmitSmResp):
            self._provider.answered(smpp_message)

    async def send_error(self, smpp_message: SmppMessage, error: Exception, client_id: str) -> None:
        if isinstance(smpp_message, SubmitSm):
            self._provider.failed(smpp_message.log_id, error)


class SmppProvider:
    name = "smpp"

    def __init__(
        self,
        *,
        host: str,
        port: int,
        system_id: str,
        password: str,
        source: str,
        timeout: float = 10.0,
    ) -> None:
        self._queue = _Queue()
        self._esme = ESME(
            smsc_host=host,
            smsc_port=port,
            system_id=system_id,
            password=password,
            broker=self._queue,
            hook=_Hook(self),
            client_id=f"alerting-{system_id}",
            enquire_link_interval=30.0,
            log_level="WARNING",
        )
        self._source = source
        self._timeout = timeout
        self._pending: dict[str, asyncio.Future[SubmitSmResp]] = {}
        self._on_receipt: ReceiptCallback | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def bound(self) -> bool:
        return bool(self._esme.session_state == SmppSessionState.BOUND_TRX)

    async def start(self, on_receipt: ReceiptCallback) -> None:
        self._on_receipt = on_receipt
        self._task = asyncio.create_task(self._esme.start(), name="smpp-esme")

    async def send(self, sms: OutgoingSms) -> Handed:
        if not self.bound:
            raise SmsUnavailable("not bound to the SMSC")
        future: asyncio.Future[SubmitSmResp] = asyncio.get_running_loop().create_future()
        self._pending[sms.key] = future
        try:
            await self._queue.enqueue(
                SubmitSm(
                    short_message=sms.text,
                    source=PhoneNumber(self._source),
                    destination=PhoneNumber(sms.phone),
                    log_id=sms.key,
                    registered_delivery=0b00000001,
                )
            )
            try:
                answer = await asyncio.wait_for(future, self._timeout)
            except TimeoutError as exc:
                raise SmsUnconfirmed(
                    f"no submit_sm_resp within {self._timeout:g} s: the SMSC may have taken it; "
                    "not resent"
                ) from exc
        finally:
            self._pending.pop(sms.key, None)
        if answer.command_status == SmppCommandStatus.ESME_ROK:
            return Handed(answer.message_id or None, "sent")
        if answer.command_status in _RETRYABLE:
            raise SmsUnavailable(f"SMSC answered {answer.command_status.name}")
        raise SmsRefused(f"SMSC refused: {answer.command_status.name}")

    def answered(self, response: SubmitSmResp) -> None:
        future = self._pending.get(response.log_id)
        if future is not None and not future.done():
            future.set_result(response)

    def failed(self, key: str, error: Exception) -> None:
        future = self._pending.get(key)
        if future is not None and not future.done():
            future.set_exception(SmsUnavailable(f"{type(error).__name__}: {error}"))

    async def receipt(self, message: DeliverSm) -> None:
        receipt = message.parse_receipt()
        stat = str(receipt.get("stat", "")).upper()
        smsc_id = str(receipt.get("id", "")) or None
        if self._on_receipt is None:
            return
        status: ReceiptStatus = "delivered" if stat in _DELIVERED else "failed"
        await self._on_receipt(
            message.log_id or None, smsc_id, status, None if status == "delivered" else stat
        )

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._esme.stop(), 5)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
