"""Idempotency keys of write requests (a harvest, a new campaign): a retried request with the
same key gets the first answer; the same key on a different request is refused."""

from __future__ import annotations

import hashlib
import re
from typing import Final

from shared.errors import ApiError
from shared.vocabulary import problem

KEY_PATTERN: Final = re.compile(r"^[\x21-\x7e]{1,128}$")
"""Printable ASCII without spaces, 1–128 characters (a UUID fits)."""
REUSED: Final = "idempotency_key_reused"


def checked_key(key: str | None) -> str | None:
    """Return the key if it is well formed (None when absent); 422 otherwise."""
    if key is None:
        return None
    if not KEY_PATTERN.match(key):
        raise ApiError(
            422,
            "the Idempotency-Key is not valid",
            details=[
                dict(problem("Idempotency-Key", "1–128 printable ASCII characters, no spaces"))
            ],
        )
    return key


def fingerprint(method: str, path: str, body: bytes = b"") -> str:
    """Return what identifies a request for its key: method, path and body."""
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def reused_key() -> ApiError:
    """The answer to a key first used for a different request."""
    return ApiError(
        422,
        "this Idempotency-Key was used for a different request",
        code=REUSED,
        details=[
            dict(problem("Idempotency-Key", "already used for another request; use a new key"))
        ],
    )
