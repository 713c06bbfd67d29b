"""Upstream API keys: each key may send a set of event types.

`INGEST_API_KEYS` reads `key:type,type;key:*` — e.g.
`switch-secret:call.completed,agent.state;crm-secret:survey.answered,complaint.filed`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass

ALL_TYPES = "*"


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A configured upstream key: its name (for logs and metrics) and allowed types."""

    name: str
    allowed: frozenset[str]

    def may_send(self, event_type: str) -> bool:
        return ALL_TYPES in self.allowed or event_type in self.allowed


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


class ApiKeyring:
    """Looks up upstream keys without keeping or comparing the secrets in plain form."""

    def __init__(self, spec: str, known_types: Iterable[str]) -> None:
        known = set(known_types)
        self._keys: dict[bytes, ApiKey] = {}
        for position, entry in enumerate(filter(None, (e.strip() for e in spec.split(";")))):
            secret, sep, types = entry.partition(":")
            if not sep or not secret or not types:
                raise ValueError(f"API key entry {position + 1} must read key:type,type or key:*")
            if len(secret) < 8:
                raise ValueError(f"API key entry {position + 1} is shorter than 8 characters")
            allowed = frozenset(t.strip() for t in types.split(",") if t.strip())
            unknown = allowed - known - {ALL_TYPES}
            if unknown:
                raise ValueError(
                    f"API key entry {position + 1} names unknown types {sorted(unknown)}"
                )
            self._keys[_digest(secret)] = ApiKey(name=f"key{position + 1}", allowed=allowed)
        if not self._keys:
            raise ValueError("no API keys configured")

    def find(self, secret: str | None) -> ApiKey | None:
        """Return the key for `secret`, or None when it is missing or unknown."""
        if not secret:
            return None
        wanted = _digest(secret)
        found = None
        for digest, key in self._keys.items():  # constant work whatever matches
            if hmac.compare_digest(digest, wanted):
                found = key
        return found
