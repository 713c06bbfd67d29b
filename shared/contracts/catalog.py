"""Every event type the platform publishes, by type and by topic, and the decoder of
derived events.

Upstream events (`shared.contracts.events`) arrive on the raw topics; derived
events (scores, incidents, plants, wallets) are published by the services
through their outboxes. `EVENTS_BY_TOPIC` names what each topic carries.
"""

from __future__ import annotations

from typing import Annotated, Final, Union

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from shared.contracts.alerts import INCIDENT_EVENTS
from shared.contracts.campaigns import CAMPAIGN_EVENTS
from shared.contracts.derived import DerivedEvent
from shared.contracts.events import EVENT_MODELS, EventRejected, reasons_of
from shared.contracts.garden import GARDEN_EVENTS
from shared.contracts.kinds import by_type
from shared.contracts.rewards import REWARDS_EVENTS
from shared.contracts.scores import SCORE_EVENTS
from shared.contracts.topics import ALL_TOPICS, TOPIC_FOR_EVENT_TYPE

DERIVED_EVENTS: Final[dict[str, type[DerivedEvent]]] = by_type(
    (*SCORE_EVENTS, *INCIDENT_EVENTS, *GARDEN_EVENTS, *CAMPAIGN_EVENTS, *REWARDS_EVENTS)
)
"""Derived event models by their `type`."""


def _by_topic() -> dict[str, tuple[type[BaseModel], ...]]:
    topics: dict[str, list[type[BaseModel]]] = {t.name: [] for t in ALL_TOPICS}
    for event_type, upstream in EVENT_MODELS.items():
        topics[TOPIC_FOR_EVENT_TYPE[event_type].name].append(upstream)
    for derived in DERIVED_EVENTS.values():
        topics[derived.topic.name].append(derived)
    return {name: tuple(models) for name, models in topics.items()}


EVENTS_BY_TOPIC: Final = _by_topic()
"""The models each topic carries (the DLQ carries any bytes, so none)."""


def _decoder() -> TypeAdapter[DerivedEvent]:
    union = Union[tuple(DERIVED_EVENTS.values())]  # type: ignore[valid-type]  # noqa: UP007
    return TypeAdapter(Annotated[union, Field(discriminator="type")])  # type: ignore[arg-type]


_DECODER: Final = _decoder()


def parse_derived(raw: bytes | str) -> DerivedEvent:
    """Validate one derived event from its JSON text; its `type` picks the contract.

    Raises `EventRejected` with per-field reasons.
    """
    try:
        return _DECODER.validate_json(raw)
    except ValidationError as error:
        raise EventRejected(reasons_of(error, tagged=True)) from None
