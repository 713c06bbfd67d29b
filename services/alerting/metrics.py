"""Alerting metrics: open incidents by level, SMS by provider and status, detection latency."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import Counter, Gauge, Histogram

from shared.metrics import MetricSet, counter, gauge, histogram

# Detection latency runs from a few hundred ms (consumer batch + DB commit + gateway
# call) to the tick interval and retries; buckets cover 50 ms … 2 min.
DETECTION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0, 120.0)


@dataclass(frozen=True, slots=True)
class AlertingMetrics(MetricSet):
    open_incidents: Gauge = gauge(
        "alerting_open_incidents", "Incidents not yet resolved, by current level", "level"
    )
    incident_events: Counter = counter(
        "alerting_incident_events_total",
        "Incident lifecycle events (opened, escalated, acknowledged, resolved, …)",
        "kind",
    )
    sms: Counter = counter(
        "alerting_sms_total",
        "SMS state changes by provider and status (queued, sent, delivered, failed, retried, "
        "rate_limited, lease_lost)",
        "provider",
        "status",
    )
    sms_unconfirmed: Counter = counter(
        "alerting_sms_unconfirmed_total",
        "SMS handed over whose acceptance was never confirmed (SMPP: no submit_sm_resp in "
        "time); recorded as sent and not resent, so each may have been delivered or lost",
        "provider",
    )
    sms_backlog: Gauge = gauge("alerting_sms_messages", "SMS in the SMS outbox by status", "status")
    detection_latency: Histogram = histogram(
        "alerting_detection_latency_seconds",
        "From the complaint that crossed a trigger (its Kafka timestamp) or the wall-clock "
        "decision to the SMS handed to the gateway",
        buckets=DETECTION_BUCKETS,
    )
    complaints: Counter = counter(
        "alerting_complaints_total",
        "Complaint events applied, by effect (counted, withdrawn, duplicate, ignored)",
        "effect",
    )
    tick_seconds: Histogram = histogram(
        "alerting_tick_seconds", "Time of one wall-clock evaluation round"
    )
