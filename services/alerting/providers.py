"""SMS providers behind one interface: a generic HTTP JSON gateway, SMPP 3.4, a log.

Every SMS carries a stable key (`sms-{id}`). A provider call whose outcome was
lost (the process died after handing the SMS over, before recording it) is
repeated with the same key, so a gateway that deduplicates on it — the HTTP
contract below, and the local SMS sink — never shows the SMS twice. SMPP has
no such key: the same crash window can duplicate an SMS there (documented).

HTTP gateway contract (`SMS_HTTP_URL`, e.g. `http://127.0.0.1:8010/messages`):
    POST {"id": "sms-42", "to": "+8613800000001", "text": "…",
          "callback": {"url": "<SMS_RECEIPT_URL>", "token": "<SMS_RECEIPT_TOKEN>"}}
    with `Authorization: Bearer <SMS_HTTP_TOKEN>` when a token is set;
    2xx {"id": …, "status": "accepted" | "delivered"} = handed over (a repeated
    id answers as the first time did); 429, 5xx, timeouts = try again later;
    other 4xx = refused for good. Receipts: the gateway POSTs
    {"id": "sms-42", "status": "delivered" | "failed", "error": "…"} to the
    callback URL with `Authorization: Bearer <token>`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, Protocol

import httpx

from shared.logging import get_logger

log = get_logger(__name__)

ReceiptStatus = Literal["delivered", "failed"]
ReceiptCallback = Callable[[str | None, str | None, ReceiptStatus, str | None], Awaitable[object]]
"""(our key or None, provider message id or None, status, error) → recorded."""


@dataclass(frozen=True, slots=True)
class OutgoingSms:
    key: str
    phone: str
    text: str


@dataclass(frozen=True, slots=True)
class Handed:
    """The gateway took the SMS: its id there, and whether it already reports delivery."""

    provider_message_id: str | None
    status: Literal["sent", "delivered"] = "sent"


class SmsUnavailable(Exception):
    """The gateway could not take the SMS now; try again later."""


class SmsRefused(Exception):
    """The gateway refused the SMS for good (bad number, bad request)."""


class SmsUnconfirmed(Exception):
    """The SMS went out but its acceptance was never confirmed (SMPP: no submit_sm_resp
    in time): the SMSC may have taken it. It is recorded as sent, counted in
    `alerting_sms_unconfirmed_total`, and not sent again (a resend could deliver it
    twice; the protocol has no key to deduplicate on)."""


class SmsProvider(Protocol):
    name: str

    async def start(self, on_receipt: ReceiptCallback) -> None: ...

    async def send(self, sms: OutgoingSms) -> Handed: ...

    async def stop(self) -> None: ...


class LogProvider:
    """Writes SMS to the log and reports them delivered (local runs without a gateway)."""

    name = "log"

    async def start(self, on_receipt: ReceiptCallback) -> None:
        return None

    async def send(self, sms: OutgoingSms) -> Handed:
        log.info("SMS", key=sms.key, to=sms.phone, text=sms.text)
        return Handed(sms.key, "delivered")

    async def stop(self) -> None:
        return None


class HttpProvider:
    """The generic HTTP JSON gateway (see the module docstring)."""

    name = "http"

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        timeout: float = 5.0,
        receipt_url: str | None = None,
        receipt_token: str | None = None,
    ) -> None:
        self._url = url
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._timeout = timeout
        self._callback = {"url": receipt_url, "token": receipt_token or ""} if receipt_url else None
        self._client: httpx.AsyncClient | None = None

    async def start(self, on_receipt: ReceiptCallback) -> None:
        # Receipts arrive on the API (POST /v1/sms/receipts), not through this object.
        self._client = httpx.AsyncClient(timeout=self._timeout, headers=self._headers)

    async def send(self, sms: OutgoingSms) -> Handed:
        if self._client is None:
            raise SmsUnavailable("provider not started")
        body: dict[str, object] = {"id": sms.key, "to": sms.phone, "text": sms.text}
        if self._callback:
            body["callback"] = self._callback
        try:
            response = await self._client.post(self._url, json=body)
        except httpx.HTTPError as exc:
            raise SmsUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise SmsUnavailable(f"gateway answered {response.status_code}")
        if response.status_code >= 400:
            raise SmsRefused(f"gateway refused: {response.status_code} {response.text[:200]}")
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        status: Literal["sent", "delivered"] = (
            "delivered" if answer.get("status") == "delivered" else "sent"
        )
        return Handed(str(answer.get("provider_id") or answer.get("id") or sms.key), status)

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
