"""What every event a service derives and publishes has in common.

Derived events are facts a service has committed (a settled day, an opened
incident, a harvest). Each is a versioned (v1), strictly typed model that
names its topic and its key, so `shared.outbox.stage_event` needs nothing but
the event. Fields may be added in a later v1 (consumers keep unknown fields);
renaming or retyping one means a v2 topic.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, Strict, StrictStr

from shared.contracts.examples import add_example
from shared.contracts.topics import Topic

EventId = Annotated[StrictStr, Field(min_length=1, max_length=256)]
Name = Annotated[StrictStr, Field(min_length=1, max_length=128)]
"""An identifier of the platform's own (an owner, a unit, an indicator, a fruit kind)."""
Timestamp = Annotated[AwareDatetime, Strict()]
BusinessDate = Annotated[date, Strict()]


class DerivedEvent(BaseModel):
    """Fields every derived event carries."""

    model_config = ConfigDict(
        extra="allow", frozen=True, strict=True, json_schema_extra=add_example
    )

    topic: ClassVar[Topic]
    """Where events of this type are published."""

    event_id: EventId
    """Unique per event and stable across retries and replays: consumers deduplicate on it."""
    type: str
    source: Name
    """The producing service; also the name of its outbox."""
    occurred_at: Timestamp
    """When the producing service committed the fact (its own clock)."""

    @property
    def partition_key(self) -> str:
        """Return the Kafka key that keeps this event's stream in order."""
        raise NotImplementedError

    def to_json(self) -> bytes:
        """Serialise for Kafka."""
        return self.model_dump_json().encode()
