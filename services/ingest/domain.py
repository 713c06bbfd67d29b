"""Reading upstream request bodies into events, with a reason for every bad item.

Pure functions: bytes in, events or per-item problems out. A batch with any
invalid item is refused whole, so nothing is half-applied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson

from shared.contracts.events import EventBase, EventRejected, parse_event


@dataclass(frozen=True, slots=True)
class ItemProblem:
    """Why the item at `index` (0-based; a line for NDJSON) was refused."""

    index: int
    reasons: list[dict[str, Any]]

    def as_detail(self) -> dict[str, Any]:
        return {"index": self.index, "reasons": self.reasons}


@dataclass(slots=True)
class Intake:
    """The events read from one request, or the problems that refuse it."""

    events: list[EventBase] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)
    """The item index of each event in `events`."""
    documents: list[dict[str, Any]] = field(default_factory=list)
    """Each event as the upstream sent it (with its `type`), for publishing unchanged."""
    problems: list[ItemProblem] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TimeLimits:
    """How far from the clock an event's instants may be: at most `lead` ahead (clock skew)
    and at most `max_age` behind (below the consumers' dedup retention, so an event old
    enough for its key to be forgotten can never be accepted again)."""

    lead: timedelta
    max_age: timedelta

    def problems(self, event: EventBase, now: datetime) -> list[dict[str, Any]]:
        """The reasons `event` is refused at `now` (every instant it carries), or none."""
        reasons = []
        for name in type(event).model_fields:
            at = getattr(event, name)
            if not isinstance(at, datetime):
                continue
            if at > now + self.lead:
                reasons.append(
                    {
                        "field": name,
                        "code": "in_the_future",
                        "reason": f"{at.isoformat()} is more than {self.lead} ahead of the clock "
                        f"({now.isoformat()})",
                    }
                )
            elif at < now - self.max_age:
                reasons.append(
                    {
                        "field": name,
                        "code": "too_old",
                        "reason": f"{at.isoformat()} is more than {self.max_age} old "
                        f"(clock {now.isoformat()})",
                    }
                )
        return reasons


class BodyUnreadable(ValueError):
    """The body is not JSON at all (a syntax problem, not an item problem)."""


def read_typed_body(
    body: bytes, event_type: str, *, now: datetime | None = None, limits: TimeLimits | None = None
) -> tuple[Intake, int]:
    """Read `POST /v1/events/{type}`: one object or an array; return intake and item count.

    With `limits`, an event whose instants are too far from `now` is an item problem.
    """
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BodyUnreadable(f"body is not valid JSON: {exc}") from None
    items = document if isinstance(document, list) else [document]
    intake = Intake()
    for index, item in enumerate(items):
        _take(intake, index, item, event_type, now, limits)
    return intake, len(items)


def read_ndjson_body(
    body: bytes, *, now: datetime | None = None, limits: TimeLimits | None = None
) -> tuple[Intake, int]:
    """Read `POST /v1/events`: one JSON object per line, each with its `type`.

    Blank lines are skipped; `index` is the 0-based line number. `limits` as for
    `read_typed_body`.
    """
    intake = Intake()
    count = 0
    for index, line in enumerate(body.split(b"\n")):
        if not line.strip():
            continue
        count += 1
        try:
            item = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            intake.problems.append(
                ItemProblem(
                    index,
                    [
                        {
                            "field": "(line)",
                            "reason": f"not valid JSON: {exc}",
                            "code": "json_invalid",
                        }
                    ],
                )
            )
            continue
        _take(intake, index, item, None, now, limits)
    return intake, count


def _take(
    intake: Intake,
    index: int,
    item: Any,
    event_type: str | None,
    now: datetime | None,
    limits: TimeLimits | None,
) -> None:
    try:
        event = parse_event(item, event_type)
    except EventRejected as rejected:
        intake.problems.append(ItemProblem(index, rejected.reasons))
        return
    if limits is not None and now is not None and (problems := limits.problems(event, now)):
        intake.problems.append(ItemProblem(index, problems))
        return
    intake.events.append(event)
    intake.positions.append(index)
    intake.documents.append(item if "type" in item else {**item, "type": event.type})  # type: ignore[attr-defined]
