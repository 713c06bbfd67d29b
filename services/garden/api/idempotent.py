"""Writes safely retried with an `Idempotency-Key` (a harvest, a new campaign): the first
answer is kept in the write's own transaction; a retry with the key gets it again, marked
`Idempotent-Replayed: true`, and the key on a different request is refused."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Final

from fastapi import BackgroundTasks, Header
from fastapi.responses import JSONResponse

from services.garden.api.deps import CallContext
from services.garden.idempotency import checked_key, fingerprint, reused_key
from services.garden.repo import idempotency as answers

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="a retry with the same key gets the first answer (kept for a day)",
    ),
]
REPLAYED: Final = "Idempotent-Replayed"


@dataclass(frozen=True, slots=True)
class IdempotentWrite:
    """A `POST` and the caller's key for it (None: the caller sent none)."""

    call: CallContext
    key: str | None
    request_hash: str

    async def first_answer(self) -> JSONResponse | None:
        """Hold the key until the transaction ends and return the answer its first use got
        (None: no key, or this is its first use); 422 when that was a different request."""
        if self.key is None:
            return None
        session, who = self.call.session, self.call.principal.subject
        await answers.hold_key(session, who, self.key)
        first = await answers.stored_answer(session, who, self.key)
        if first is None:
            return None
        if first.request_hash != self.request_hash:
            raise reused_key()
        return JSONResponse(first.response, first.status, headers={REPLAYED: "true"})

    async def answer(
        self, background: BackgroundTasks, document: dict[str, Any], status: int = 200
    ) -> JSONResponse:
        """Keep `document` as the key's answer (in the write's transaction), wake the outbox
        relay once the transaction committed, and answer with it."""
        if self.key is not None:
            await answers.store_answer(
                self.call.session,
                self.call.principal.subject,
                self.key,
                route=f"POST {self.call.request.url.path}",
                request_hash=self.request_hash,
                status=status,
                response=document,
            )
        background.add_task(self.call.after_commit)  # runs after the response: committed
        return JSONResponse(document, status, headers={REPLAYED: "false"})


def idempotent_write(call: CallContext, key: str | None, body: bytes = b"") -> IdempotentWrite:
    """Check the caller's key (422 when malformed) and fingerprint the `POST` to the request's
    path with its canonical `body`."""
    return IdempotentWrite(call, checked_key(key), fingerprint("POST", call.request.url.path, body))
