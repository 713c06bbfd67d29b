"""Fast read-only views of the v1 upstream events, for high-volume consumers.

`shared.contracts.events` (pydantic) is the contract: ingest validates with it
and its error reasons reach upstream systems. A consumer reading the raw
topics validates every record again, and at a province's volume that
validation is half of its work. These msgspec structs mirror the models field
by field, constraint by constraint, and decode about three times faster.

`parse_event_view` keeps the contract's verdict exact: a record the views
refuse is validated by the pydantic model, which either rejects it (with its
reasons) or accepts it, and then it becomes a view without further checks.
So a view may be stricter than the contract, never looser;
`tests/unit/test_event_views.py` checks both agree on generated valid and
invalid events.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec

from shared.contracts.events import (
    EVENT_ID_MAX_LENGTH,
    ID_PATTERN,
    NO_NUL,
    SOURCE_MAX_LENGTH,
    EventBase,
    parse_event_json,
)

Id = Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=ID_PATTERN)]
EventId = Annotated[
    str, msgspec.Meta(min_length=1, max_length=EVENT_ID_MAX_LENGTH, pattern=ID_PATTERN)
]
Source = Annotated[str, msgspec.Meta(min_length=1, max_length=SOURCE_MAX_LENGTH, pattern=NO_NUL)]
Timestamp = Annotated[datetime, msgspec.Meta(tz=True)]
Seconds = Annotated[float, msgspec.Meta(ge=0, le=86_400)]
IndicatorCode = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{1,47}$")]
AgentStateName = Literal["logged_out", "ready", "not_ready", "on_call", "wrap_up"]
ComplaintStatus = Literal["investigating", "resolved", "withdrawn"]


class EventView(msgspec.Struct, frozen=True, tag_field="type"):
    """Fields every upstream event carries (extra fields are not kept)."""

    event_id: EventId
    source: Source
    occurred_at: Timestamp

    @property
    def type(self) -> str:
        return self.__struct_config__.tag  # type: ignore[return-value]


class CallCompletedView(EventView, frozen=True, tag="call.completed"):
    call_id: Id
    agent_id: Id
    caller_id: Id
    queue: Id
    answered_at: Timestamp
    ended_at: Timestamp
    talk_seconds: Seconds
    hold_seconds: Seconds
    wrap_seconds: Seconds
    transferred: bool

    def __post_init__(self) -> None:
        if self.ended_at < self.answered_at:
            raise ValueError("ended_at is before answered_at")


class AgentStateView(EventView, frozen=True, tag="agent.state"):
    agent_id: Id
    state: AgentStateName


class SurveyAnsweredView(EventView, frozen=True, tag="survey.answered"):
    survey_id: Id
    call_id: Id
    agent_id: Id
    score: Annotated[int, msgspec.Meta(ge=1, le=5)]


class ComplaintFiledView(EventView, frozen=True, tag="complaint.filed"):
    complaint_id: Id
    category: Id
    region: Id
    channel: Id
    customer_id: Id
    agent_id: Id | None = None
    justified: bool | None = None


class ComplaintUpdatedView(EventView, frozen=True, tag="complaint.updated"):
    complaint_id: Id
    status: ComplaintStatus
    justified: bool | None = None
    category: Id | None = None


class MetricReportedView(EventView, frozen=True, tag="metric.reported"):
    agent_id: Id
    indicator: IndicatorCode
    business_date: date
    value: float


VIEWS: dict[str, type[EventView]] = {
    view.__struct_config__.tag: view  # type: ignore[misc]
    for view in (
        CallCompletedView,
        AgentStateView,
        SurveyAnsweredView,
        ComplaintFiledView,
        ComplaintUpdatedView,
        MetricReportedView,
    )
}
"""Event type name -> view."""

_decoder: msgspec.json.Decoder[EventView] = msgspec.json.Decoder(
    CallCompletedView
    | AgentStateView
    | SurveyAnsweredView
    | ComplaintFiledView
    | ComplaintUpdatedView
    | MetricReportedView
)


_SUB_MICROSECOND = re.compile(rb"\.[0-9]{7}")
"""More than six decimals (in a timestamp, perhaps): msgspec rounds a timestamp's
fraction to the microsecond where the contract truncates it, so such records
take the contract's path."""


def parse_event_view(raw: bytes) -> EventView:
    """Validate one event from its JSON text as the contract does; return its view.

    Raises `EventRejected` (or `orjson.JSONDecodeError`) exactly when
    `parse_event_json` does.
    """
    if not _SUB_MICROSECOND.search(raw):
        try:
            view: EventView = _decoder.decode(raw)
            return view
        except (msgspec.ValidationError, msgspec.DecodeError):
            pass
    return view_of(parse_event_json(raw))  # the contract decides, and says why


def view_of(event: EventBase) -> EventView:
    """The view of an event the contract accepted (no further checks)."""
    view = VIEWS[event.type]  # type: ignore[attr-defined]
    fields: dict[str, Any] = {name: getattr(event, name) for name in view.__struct_fields__}
    return view(**fields)
