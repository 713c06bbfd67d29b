"""Words every service uses, defined once: owner and unit kinds, the default time zone,
and the shape of a per-field problem report."""

from __future__ import annotations

from typing import Final, Literal, TypedDict

UnitKind = Literal["team", "department", "center"]
"""An organisational unit that has its own scores, garden and leaderboards."""

OwnerKind = Literal["agent", "team", "department", "center"]
"""Who a score, a plant or a wallet belongs to."""

UNIT_KINDS: Final[tuple[UnitKind, ...]] = ("team", "department", "center")
OWNER_KINDS: Final[tuple[OwnerKind, ...]] = ("agent", "team", "department", "center")

DEFAULT_TIMEZONE: Final = "Asia/Shanghai"
"""The zone of a center that names none: business days and hours of the week are local."""


class Problem(TypedDict):
    """One thing wrong with a request: where (a dotted path or an index) and why.

    Reported in the `details` of the common error document
    (`{"error": {"code", "message", "details": [Problem, ...]}}`).
    """

    field: str
    reason: str


def problem(field: str, reason: str) -> Problem:
    """Return a problem report for `field`."""
    return {"field": field, "reason": reason}
