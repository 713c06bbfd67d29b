"""Ingest metrics."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import Counter, Histogram

from shared.metrics import LATENCY_BUCKETS, MetricSet, counter, histogram


@dataclass(frozen=True)
class IngestMetrics(MetricSet):
    accepted: Counter = counter("ingest_events_accepted_total", "Events Kafka acknowledged", "type")
    rejected: Counter = counter(
        "ingest_events_rejected_total", "Events refused, by type and reason", "type", "reason"
    )
    produce_latency: Histogram = histogram(
        "ingest_produce_latency_seconds",
        "Time from handing a request's events to Kafka until all were acknowledged",
        buckets=LATENCY_BUCKETS,
    )
    raw_checked: Counter = counter(
        "ingest_raw_messages_checked_total",
        "Messages on the raw topics checked by the validator, by topic and result",
        "topic",
        "result",
    )
