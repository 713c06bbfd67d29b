"""Versioned (v1) models of the events upstream systems publish (domain.md §2).

Every event carries `event_id` (the dedup key, unique per source), `source` and
`occurred_at` (RFC 3339 with an offset). Validation is strict: strings must be
strings, numbers numbers, booleans booleans, and timestamps must be RFC 3339
strings that carry an offset. Unknown extra fields are kept ("more fields are
welcome"), so a newer producer never loses data through an older validator.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Annotated, Any, Literal

import orjson
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    model_validator,
)

from shared.contracts.examples import add_example
from shared.contracts.kinds import by_type

ID_PATTERN = r"^[^\s\x00]([^\n\x00]*[^\s\x00])?$"
"""Non-empty, no surrounding white space, no line break, no NUL (PostgreSQL text
cannot hold NUL: an id with one would be refused by every consumer's database)."""
NO_NUL = r"^[^\x00]*$"
Id = Annotated[StrictStr, Field(min_length=1, max_length=128, pattern=ID_PATTERN)]
"""An upstream identifier: non-empty, no surrounding white space, no NUL."""

DEDUP_KEY_LENGTH = 160
"""Consumers deduplicate on `{source}/{event_id}`, stored in 160 characters."""
SOURCE_MAX_LENGTH = 32
EVENT_ID_MAX_LENGTH = DEDUP_KEY_LENGTH - SOURCE_MAX_LENGTH - 1
"""127: the longest source, the slash and the longest event id make exactly one key,
so two different events never share a (truncated) key."""
EventId = Annotated[
    StrictStr, Field(min_length=1, max_length=EVENT_ID_MAX_LENGTH, pattern=ID_PATTERN)
]
Source = Annotated[StrictStr, Field(min_length=1, max_length=SOURCE_MAX_LENGTH, pattern=NO_NUL)]

# Events are validated from JSON text (see `parse_event_json`), where strict
# mode takes timestamps and dates only as RFC 3339 strings (never Unix numbers)
# and rejects NaN and infinities: no Python-level validators on the hot path.
Timestamp = Annotated[AwareDatetime, Strict()]
"""An RFC 3339 timestamp that must carry a UTC offset."""

BusinessDate = Annotated[date, Strict()]
Seconds = Annotated[StrictFloat, Field(ge=0, le=86_400, allow_inf_nan=False)]
"""A duration in seconds (an integer or a decimal), at most a day."""
IndicatorCode = Annotated[StrictStr, Field(pattern=r"^[a-z][a-z0-9_]{1,47}$")]

AgentStateName = Literal["logged_out", "ready", "not_ready", "on_call", "wrap_up"]
ComplaintStatus = Literal["investigating", "resolved", "withdrawn"]


class EventBase(BaseModel):
    """Fields every upstream event carries."""

    model_config = ConfigDict(
        extra="allow", frozen=True, str_max_length=1024, json_schema_extra=add_example
    )

    event_id: EventId
    source: Source
    occurred_at: Timestamp

    @property
    def partition_key(self) -> str:
        """Return the Kafka key that keeps this event's stream in order."""
        raise NotImplementedError


class CallCompleted(EventBase):
    """A call answered by an agent has ended (switch/CTI)."""

    type: Literal["call.completed"] = "call.completed"
    call_id: Id
    agent_id: Id
    caller_id: Id
    queue: Id
    answered_at: Timestamp
    ended_at: Timestamp
    talk_seconds: Seconds
    hold_seconds: Seconds
    wrap_seconds: Seconds
    transferred: StrictBool

    @model_validator(mode="after")
    def _ended_after_answered(self) -> CallCompleted:
        if self.ended_at < self.answered_at:
            raise ValueError("ended_at is before answered_at")
        return self

    @property
    def partition_key(self) -> str:
        return self.agent_id


class AgentStateChanged(EventBase):
    """An agent entered a state at `occurred_at` (switch/CTI)."""

    type: Literal["agent.state"] = "agent.state"
    agent_id: Id
    state: AgentStateName

    @property
    def partition_key(self) -> str:
        return self.agent_id


class SurveyAnswered(EventBase):
    """A caller answered the post-call satisfaction survey (CRM)."""

    type: Literal["survey.answered"] = "survey.answered"
    survey_id: Id
    call_id: Id
    agent_id: Id
    score: Annotated[StrictInt, Field(ge=1, le=5)]

    @property
    def partition_key(self) -> str:
        return self.agent_id


class ComplaintFiled(EventBase):
    """A customer complaint was registered (CRM)."""

    type: Literal["complaint.filed"] = "complaint.filed"
    complaint_id: Id
    category: Id
    region: Id
    channel: Id
    customer_id: Id
    agent_id: Id | None = None
    justified: StrictBool | None = None

    @property
    def partition_key(self) -> str:
        return self.category


class ComplaintUpdated(EventBase):
    """A complaint's investigation status or justification changed (CRM).

    `category` is optional; when given the update is keyed like the filing, so a
    consumer of the category's stream sees both in order.
    """

    type: Literal["complaint.updated"] = "complaint.updated"
    complaint_id: Id
    status: ComplaintStatus
    justified: StrictBool | None = None
    category: Id | None = None

    @property
    def partition_key(self) -> str:
        return self.category or self.complaint_id


class MetricReported(EventBase):
    """A department system reported a value of one of its own indicators."""

    type: Literal["metric.reported"] = "metric.reported"
    agent_id: Id
    indicator: IndicatorCode
    business_date: BusinessDate
    value: Annotated[StrictFloat, Field(allow_inf_nan=False)]

    @property
    def partition_key(self) -> str:
        return self.agent_id


EVENT_MODELS: dict[str, type[EventBase]] = by_type(
    (
        CallCompleted,
        AgentStateChanged,
        SurveyAnswered,
        ComplaintFiled,
        ComplaintUpdated,
        MetricReported,
    )
)
"""Event type name -> model."""


class EventRejected(ValueError):
    """An event failed validation; `reasons` say why, one per problem."""

    def __init__(self, reasons: list[dict[str, Any]]) -> None:
        super().__init__("; ".join(f"{r['field']}: {r['reason']}" for r in reasons))
        self.reasons = reasons


def reasons_of(error: ValidationError, *, tagged: bool = False) -> list[dict[str, Any]]:
    """Per-field reasons of a validation error; `tagged`: the first location part is the
    union tag (the event type), which is left out."""
    return [
        {
            "field": ".".join(str(part) for part in item["loc"][1 if tagged else 0 :]) or "(event)",
            "reason": item["msg"],
            "code": item["type"],
        }
        for item in error.errors(include_url=False, include_context=False, include_input=False)
    ]


def _rejected(field: str, reason: str, code: str) -> EventRejected:
    return EventRejected([{"field": field, "reason": reason, "code": code}])


def parse_event(data: Any, event_type: str | None = None) -> EventBase:
    """Validate one decoded JSON object as an upstream event.

    With `event_type` the object is validated as that type (its own `type`
    field, if present, must agree); without it the object's `type` decides.
    Raises `EventRejected` with per-field reasons.
    """
    if not isinstance(data, dict):
        raise _rejected("(event)", "must be a JSON object", "object_type")
    declared = data.get("type", event_type)
    if declared is None:
        raise _rejected("type", "missing event type", "missing")
    if event_type is not None and declared != event_type:
        raise _rejected("type", f"type {declared!r} does not match {event_type!r}", "type_mismatch")
    model = EVENT_MODELS.get(declared) if isinstance(declared, str) else None
    if model is None:
        raise _rejected("type", f"unknown event type {declared!r}", "unknown_type")
    try:
        raw = orjson.dumps(data)
    except TypeError:  # e.g. an integer beyond 64 bits: let the validator name the field
        raw = json.dumps(data, default=str).encode()
    try:
        return model.model_validate_json(raw)
    except ValidationError as error:
        raise EventRejected(reasons_of(error)) from None


_TYPE_FIELD = re.compile(rb'"type"\s*:\s*"([a-z.]+)"')


def parse_event_json(raw: bytes) -> EventBase:
    """Validate one event from its JSON text (the fast path for consumers).

    The `type` is found without decoding the whole document; the model then
    validates the bytes in one pass.
    """
    found = _TYPE_FIELD.search(raw)
    model = EVENT_MODELS.get(found.group(1).decode()) if found else None
    if model is None:
        return parse_event(orjson.loads(raw))  # slow path: says precisely what is wrong
    try:
        return model.model_validate_json(raw)
    except ValidationError as error:
        raise EventRejected(reasons_of(error)) from None


def event_to_json(event: EventBase) -> bytes:
    """Serialise an event for the wire (RFC 3339 timestamps, extras kept)."""
    return event.model_dump_json().encode()
