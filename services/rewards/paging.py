"""Paging cursors: opaque, URL-safe tokens naming where the next page starts.

A cursor is the base64url text of a JSON array of the last row's sort key (a
ledger entry's id; a redemption's request time and id). A token that does not
decode to the expected shape is refused, never guessed at.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

import orjson


class BadCursor(ValueError):
    """A cursor that this API did not issue."""


def encode(*values: str | int) -> str:
    """Return the cursor of a sort key."""
    return base64.urlsafe_b64encode(orjson.dumps(list(values))).decode().rstrip("=")


def _decode(cursor: str) -> list[object]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = orjson.loads(raw)
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise BadCursor(cursor) from None
    if not isinstance(values, list):
        raise BadCursor(cursor)
    return values


def ledger_cursor(entry_id: int) -> str:
    """Return the cursor of the page after a ledger entry (newest first)."""
    return encode(entry_id)


def read_ledger_cursor(cursor: str) -> int:
    """Return the entry id a ledger cursor names."""
    values = _decode(cursor)
    if len(values) != 1 or not isinstance(values[0], int) or isinstance(values[0], bool):
        raise BadCursor(cursor)
    return values[0]


def redemption_cursor(requested_at: datetime, redemption_id: str) -> str:
    """Return the cursor of the page after a redemption (newest first)."""
    return encode(requested_at.isoformat(), redemption_id)


def read_redemption_cursor(cursor: str) -> tuple[datetime, str]:
    """Return the (request time, id) a redemptions cursor names."""
    values = _decode(cursor)
    if len(values) != 2 or not all(isinstance(v, str) for v in values):
        raise BadCursor(cursor)
    at, redemption_id = str(values[0]), str(values[1])
    try:
        instant = datetime.fromisoformat(at)
    except ValueError:
        raise BadCursor(cursor) from None
    if instant.tzinfo is None:
        raise BadCursor(cursor)
    return instant, redemption_id
