"""Why the rewards rules said no: one reason code per rule, with a readable message.

The API answers a refusal with 409 and the code (`{"error": {"code": …}}`), so
the codes are part of the contract frontend teams code against.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, get_args

ReasonCode = Literal[
    "insufficient_fruit",
    "out_of_stock",
    "limit_reached",
    "not_active",
    "not_for_owner_kind",
    "inactive_prize",
    "fruit_not_accepted",
    "invalid_transition",
    "reference_reused",
]

REASON_CODES: Final[tuple[ReasonCode, ...]] = get_args(ReasonCode)


@dataclass(frozen=True, slots=True)
class Refusal:
    """A rule refused a change: nothing is written."""

    code: ReasonCode
    message: str
