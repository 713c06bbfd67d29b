"""The topic registry: every Kafka topic the platform uses, and where events go."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Final

RETENTION: Final = timedelta(days=7)
"""How long every platform topic keeps its records (`retention.ms`)."""
SEGMENT: Final = timedelta(hours=6)
"""How long a log segment stays open (`segment.ms`): a record is deleted with its segment,
so it may stay readable this much longer than the retention."""
RETENTION_CHECK: Final = timedelta(minutes=5)
"""How often the broker looks for segments to delete (`log.retention.check.interval.ms`)."""


@dataclass(frozen=True, slots=True)
class Topic:
    """A Kafka topic, how it is keyed and how long it keeps its records."""

    name: str
    keyed_by: str
    description: str
    produced_by: tuple[str, ...] = ()
    consumed_by: tuple[str, ...] = ()
    retention: timedelta = RETENTION
    segment: timedelta = SEGMENT

    def configs(self) -> dict[str, str]:
        """The topic-level settings the platform sets on the topic.

        Records carry the broker's append time (`LogAppendTime`), so retention
        counts from when a record was written, whatever clock its producer has.
        """
        return {
            "retention.ms": str(int(self.retention.total_seconds() * 1000)),
            "segment.ms": str(int(self.segment.total_seconds() * 1000)),
            "message.timestamp.type": "LogAppendTime",
        }

    @property
    def readable_for(self) -> timedelta:
        """The longest a record stays readable after it was written: the retention, plus
        the segment it sits in staying open, plus the broker's deletion round."""
        return self.retention + self.segment + RETENTION_CHECK


UPSTREAM: Final = ("ingest", "upstream")
"""Raw topics are written by ingest, or by upstream systems producing directly; ingest's
validator reads them back and dead-letters what is invalid."""

CALLS: Final = Topic(
    "cc.calls.v1", "agent_id", "call.completed from the switch", UPSTREAM, ("ingest", "scoring")
)
AGENT_STATES: Final = Topic(
    "cc.agent-states.v1", "agent_id", "agent.state from the switch", UPSTREAM, ("ingest", "scoring")
)
SURVEYS: Final = Topic(
    "cc.surveys.v1", "agent_id", "survey.answered from the CRM", UPSTREAM, ("ingest", "scoring")
)
COMPLAINTS: Final = Topic(
    "cc.complaints.v1",
    "category",
    "complaint.filed / complaint.updated from the CRM",
    UPSTREAM,
    ("ingest", "scoring", "alerting"),
)
METRICS: Final = Topic(
    "cc.metrics.v1",
    "agent_id",
    "metric.reported from department systems",
    UPSTREAM,
    ("ingest", "scoring"),
)
SCORES: Final = Topic(
    "cc.scores.v1",
    "owner",
    "live previews and settled days (scoring)",
    ("scoring",),
    ("garden",),
)
ALERTS: Final = Topic(
    "cc.alerts.v1", "incident", "complaint-surge incident events (alerting)", ("alerting",)
)
GARDEN: Final = Topic(
    "cc.garden.v1",
    "owner",
    "plant events and fruit.harvested (keyed by owner), campaign events (keyed by the "
    "campaign's unit) (garden)",
    ("garden",),
    ("rewards",),
)
REWARDS: Final = Topic(
    "cc.rewards.v1", "owner", "ledger and redemption events (rewards)", ("rewards",)
)
DLQ: Final = Topic(
    "cc.dlq.v1",
    "original key",
    "unreadable messages, original bytes + reason",
    ("ingest", "scoring", "alerting", "garden", "rewards"),
)

RAW_TOPICS: Final = (CALLS, AGENT_STATES, SURVEYS, COMPLAINTS, METRICS)
ALL_TOPICS: Final = (*RAW_TOPICS, SCORES, ALERTS, GARDEN, REWARDS, DLQ)
LONGEST_READABLE: Final = max(t.readable_for for t in ALL_TOPICS)
"""The longest any record of the platform can be delivered again (a replay): processed-event
keys must be kept at least this long."""

TOPIC_FOR_EVENT_TYPE: Final[dict[str, Topic]] = {
    "call.completed": CALLS,
    "agent.state": AGENT_STATES,
    "survey.answered": SURVEYS,
    "complaint.filed": COMPLAINTS,
    "complaint.updated": COMPLAINTS,
    "metric.reported": METRICS,
}
"""Raw topic for each upstream event type."""
