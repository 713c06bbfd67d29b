"""HTTP details of the garden's reads: entity tags, conditional answers, timeline cursors."""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any, Final

import orjson
from fastapi import Request, Response
from pydantic import BaseModel

from shared.errors import ApiError
from shared.vocabulary import problem

_CURSOR_PREFIX: Final = "t1:"


def etag_of(body: bytes) -> str:
    """Return the strong entity tag of a body (the same bytes, the same tag)."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def none_match(header: str | None, etag: str) -> bool:
    """Tell whether an `If-None-Match` header names `etag` (or `*`); weak tags compare equal."""
    if not header:
        return False
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return "*" in tags or etag in tags


def conditional(
    request: Request,
    body: bytes,
    *,
    media_type: str,
    cache_control: str = "private, no-cache",
) -> Response:
    """Answer `body` with its ETag, or 304 when the client already holds it."""
    etag = etag_of(body)
    headers = {"ETag": etag, "Cache-Control": cache_control}
    if none_match(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


def json_body(model: BaseModel | dict[str, Any]) -> bytes:
    """Serialise a response document (stable bytes for one content)."""
    data = model.model_dump(mode="json") if isinstance(model, BaseModel) else model
    return orjson.dumps(data)


def conditional_json(request: Request, model: BaseModel) -> Response:
    """Answer a JSON document with its ETag, or 304."""
    return conditional(request, json_body(model), media_type="application/json")


def encode_cursor(seq: int) -> str:
    """Return the opaque cursor of the page that starts below timeline position `seq`."""
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """Return the timeline position a cursor names; 422 when it is not one of ours."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode()).decode()
        if text.startswith(_CURSOR_PREFIX):
            seq = int(text.removeprefix(_CURSOR_PREFIX))
            if seq > 0:
                return seq
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise ApiError(
        422,
        "the cursor is not valid",
        code="invalid_cursor",
        details=[dict(problem("before", "unknown cursor"))],
    )
