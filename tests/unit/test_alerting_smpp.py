"""The SMPP provider against a tiny SMSC speaking SMPP 3.4 over a real TCP socket.

The SMSC is built from aiosmpplib's own PDU classes: it answers bind_transceiver,
submit_sm (with a message id, or a chosen error status) and enquire_link, and
sends a delivery receipt (deliver_sm) for every message it accepts.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from datetime import datetime
from typing import Any

import pytest
from aiosmpplib import (
    BindTransceiverResp,
    DeliverSm,
    EnquireLinkResp,
    PhoneNumber,
    SmppCommand,
    SmppCommandStatus,
    SmppMessage,
    SubmitSm,
    SubmitSmResp,
)

from services.alerting.providers import OutgoingSms, SmsRefused, SmsUnavailable, SmsUnconfirmed
from services.alerting.smpp import SmppProvider


class TinySmsc:
    def __init__(
        self, answer: SmppCommandStatus = SmppCommandStatus.ESME_ROK, *, silent: bool = False
    ) -> None:
        self.answer = answer
        self.silent = silent  # take submit_sm, never answer it
        self.received: list[SubmitSm] = []
        self.binds: list[str] = []
        self._server: asyncio.Server | None = None
        self._sequence = 1000

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._session, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readexactly(16)
                length = struct.unpack("!I", head[:4])[0]
                pdu = head + await reader.readexactly(length - 16)
                header = SmppMessage.parse_header(pdu)
                seq = header.sequence_num
                if header.smpp_command == SmppCommand.BIND_TRANSCEIVER:
                    self.binds.append(pdu[16:].split(b"\0")[0].decode())
                    writer.write(BindTransceiverResp(sequence_num=seq, system_id="tiny").pdu())
                elif header.smpp_command == SmppCommand.ENQUIRE_LINK:
                    writer.write(EnquireLinkResp(sequence_num=seq).pdu())
                elif header.smpp_command == SmppCommand.SUBMIT_SM:
                    submit = SubmitSm.from_pdu(pdu, header, "gsm0338")
                    assert isinstance(submit, SubmitSm)
                    self.received.append(submit)
                    if self.silent:
                        continue
                    message_id = f"smsc-{len(self.received)}"
                    writer.write(
                        SubmitSmResp(
                            sequence_num=seq, command_status=self.answer, message_id=message_id
                        ).pdu()
                    )
                    if self.answer == SmppCommandStatus.ESME_ROK:
                        self._sequence += 1
                        receipt = DeliverSm.encode_receipt(
                            {
                                "id": message_id,
                                "sub": 1,
                                "dlvrd": 1,
                                "submit date": datetime(2026, 3, 2, 10, 0),
                                "done date": datetime(2026, 3, 2, 10, 1),
                                "stat": "DELIVRD",
                            }
                        )
                        writer.write(
                            DeliverSm(
                                sequence_num=self._sequence,
                                short_message=receipt,
                                source=submit.destination,
                                destination=PhoneNumber("10086"),
                                esm_class=0b00000100,
                            ).pdu()
                        )
                elif header.smpp_command == SmppCommand.UNBIND:
                    writer.write(struct.pack("!IIII", 16, 0x80000006, 0, seq))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


async def _bound(provider: SmppProvider) -> None:
    for _ in range(100):
        if provider.bound:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the ESME did not bind")


@pytest.fixture
async def smsc() -> Any:
    server = TinySmsc()
    port = await server.start()
    yield server, port
    await server.stop()


async def test_submit_sm_in_ucs2_and_a_delivery_receipt(smsc: tuple[TinySmsc, int]) -> None:
    server, port = smsc
    receipts: list[tuple[Any, ...]] = []

    async def on_receipt(*args: Any) -> None:
        receipts.append(args)

    provider = SmppProvider(
        host="127.0.0.1", port=port, system_id="alerting", password="secret", source="10086"
    )
    await provider.start(on_receipt)
    try:
        await _bound(provider)
        text = "【投诉预警】网络类投诉30分钟内激增至57件(基线8件),已持续25分钟,当前L2级。事件#123"
        handed = await provider.send(OutgoingSms("sms-7", "+8613800000001", text))
        assert handed.provider_message_id == "smsc-1" and handed.status == "sent"
        assert server.binds == ["alerting"]
        [submit] = server.received
        assert submit.destination.number == "+8613800000001"
        assert submit.source.number == "10086"
        assert (submit.short_message or submit.message_payload) == text  # UCS-2 both ways
        assert submit.registered_delivery == 1
        for _ in range(50):
            if receipts:
                break
            await asyncio.sleep(0.05)
        assert receipts == [("sms-7", "smsc-1", "delivered", None)]
    finally:
        await provider.stop()


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (SmppCommandStatus.ESME_RTHROTTLED, SmsUnavailable),
        (SmppCommandStatus.ESME_RINVDSTADR, SmsRefused),
    ],
)
async def test_error_statuses(status: SmppCommandStatus, error: type[Exception]) -> None:
    server = TinySmsc(answer=status)
    port = await server.start()
    provider = SmppProvider(
        host="127.0.0.1", port=port, system_id="alerting", password="secret", source="10086"
    )
    await provider.start(lambda *a: asyncio.sleep(0))
    try:
        await _bound(provider)
        with pytest.raises(error):
            await provider.send(OutgoingSms("sms-8", "+8613800000002", "test"))
    finally:
        await provider.stop()
        await server.stop()


async def test_not_bound_means_try_later() -> None:
    provider = SmppProvider(
        host="127.0.0.1", port=1, system_id="alerting", password="secret", source="10086"
    )
    with pytest.raises(SmsUnavailable):
        await provider.send(OutgoingSms("sms-9", "+8613800000003", "test"))


async def test_no_submit_sm_resp_is_unconfirmed_not_retried() -> None:
    """The SMSC took the submit_sm but its answer never came: it may deliver it, so the
    provider reports the SMS unconfirmed (recorded as sent), not "try again"."""
    server = TinySmsc(silent=True)
    port = await server.start()
    provider = SmppProvider(
        host="127.0.0.1",
        port=port,
        system_id="alerting",
        password="secret",
        source="10086",
        timeout=0.5,
    )
    await provider.start(lambda *a: asyncio.sleep(0))
    try:
        await _bound(provider)
        with pytest.raises(SmsUnconfirmed, match="not resent"):
            await provider.send(OutgoingSms("sms-9", "+8613800000003", "test"))
        assert len(server.received) == 1
        assert not issubclass(SmsUnconfirmed, SmsUnavailable)
    finally:
        await provider.stop()
        await server.stop()
