"""Prize requests without the web framework's routing and dependency work.

`POST /v1/redemptions` is the service's hottest route; FastAPI's matching through the
included routers, its dependency resolution and its middleware cost more CPU per request
than the request's own statements. This middleware answers the plain case itself, with the
route's own work (`redemptions.answer_request`): a JSON body of at most 4 KiB that the
route's model accepts, one valid bearer token and one `Idempotency-Key`, no `Origin`
(CORS). Anything else — a bad token, a body the model refuses, a browser's request — goes
on to the framework unchanged, the body read so far handed on with it, so those refusals
are the framework's own answers; the route's own refusals are rendered by the handler the
framework renders them with (`error_response`). The route stays the one OpenAPI documents.
"""

from __future__ import annotations

import json
from typing import Final

from pydantic import ValidationError
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.rewards.api.redemptions import RedemptionIn, answer_request
from shared.auth.tokens import current_principal
from shared.errors import ApiError, error_response

PATH: Final = "/v1/redemptions"
MAX_BODY: Final = 4096
_ONCE: Final = (b"authorization", b"idempotency-key", b"content-type", b"content-length")


class QuickRequests:
    """ASGI middleware answering plain prize requests (see the module's docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _candidate(scope):
            await self.app(scope, receive, send)
            return
        read: list[Message] = []
        body = await _body(receive, read)
        replay = _replay(read, receive)
        request = Request(scope, replay)
        if body is None:
            await self.app(scope, replay, send)
            return
        try:
            principal = current_principal(request)
            given = RedemptionIn.model_validate(json.loads(body))
        except (ApiError, ValidationError, ValueError, RecursionError):
            await self.app(scope, replay, send)  # the framework's own answer
            return
        key = request.headers.get("idempotency-key")
        try:
            response = await answer_request(request, given, principal, key)
        except ApiError as exc:
            response = error_response(exc)
        await response(scope, replay, send)


def _candidate(scope: Scope) -> bool:
    """Whether a request may be a plain prize request (its headers checked here)."""
    if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != PATH:
        return False
    if scope.get("query_string") or scope.get("root_path"):
        return False
    seen: dict[bytes, int] = {}
    length = b""
    for name, value in scope["headers"]:
        if name == b"origin" or name == b"transfer-encoding":
            return False
        if name in _ONCE:
            seen[name] = seen.get(name, 0) + 1
            if name == b"content-type" and value != b"application/json":
                return False
            if name == b"content-length":
                length = value
    if any(seen.get(name) != 1 for name in _ONCE):
        return False
    return length.isdigit() and int(length) <= MAX_BODY


async def _body(receive: Receive, read: list[Message]) -> bytes | None:
    """The whole body (each message kept in `read`), or None for anything but a body of at
    most `MAX_BODY` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        read.append(message)
        if message["type"] != "http.request":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(read: list[Message], receive: Receive) -> Receive:
    """A `receive` that hands on the messages already read, then the client's own."""
    pending = list(read)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay
