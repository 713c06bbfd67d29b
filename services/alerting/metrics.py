"""Alerting metrics: open incidents by level, SMS by provider and status, detection latency."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Detection latency runs from a few hundred ms (consumer batch + DB commit + gateway
# call) to the tick interval and retries; buckets cover 50 ms … 2 min.
DETECTION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0, 120.0)


@dataclass(frozen=True, slots=True)
class AlertingMetrics:
    open_incidents: Gauge
    incident_events: Counter
    sms: Counter
    sms_backlog: Gauge
    detection_latency: Histogram
    complaints: Counter
    tick_seconds: Histogram

    @classmethod
    def create(cls, registry: CollectorRegistry) -> AlertingMetrics:
        return cls(
            open_incidents=Gauge(
                "alerting_open_incidents",
                "Incidents not yet resolved, by current level",
                ["level"],
                registry=registry,
            ),
            incident_events=Counter(
                "alerting_incident_events_total",
                "Incident lifecycle events (opened, escalated, acknowledged, resolved, …)",
                ["kind"],
                registry=registry,
            ),
            sms=Counter(
                "alerting_sms_total",
                "SMS state changes by provider and status (queued, sent, delivered, failed, "
                "retried, rate_limited)",
                ["provider", "status"],
                registry=registry,
            ),
            sms_backlog=Gauge(
                "alerting_sms_messages",
                "SMS in the SMS outbox by status",
                ["status"],
                registry=registry,
            ),
            detection_latency=Histogram(
                "alerting_detection_latency_seconds",
                "From the complaint that crossed a trigger (its Kafka timestamp) or the "
                "wall-clock decision to the SMS handed to the gateway",
                buckets=DETECTION_BUCKETS,
                registry=registry,
            ),
            complaints=Counter(
                "alerting_complaints_total",
                "Complaint events applied, by effect (counted, withdrawn, duplicate, ignored)",
                ["effect"],
                registry=registry,
            ),
            tick_seconds=Histogram(
                "alerting_tick_seconds",
                "Time of one wall-clock evaluation round",
                registry=registry,
            ),
        )
