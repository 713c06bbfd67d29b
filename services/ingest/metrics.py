"""Ingest metrics."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram

from shared.metrics import LATENCY_BUCKETS


@dataclass(frozen=True)
class IngestMetrics:
    accepted: Counter
    rejected: Counter
    produce_latency: Histogram
    raw_checked: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry) -> IngestMetrics:
        return cls(
            accepted=Counter(
                "ingest_events_accepted_total",
                "Events Kafka acknowledged",
                ["type"],
                registry=registry,
            ),
            rejected=Counter(
                "ingest_events_rejected_total",
                "Events refused, by type and reason",
                ["type", "reason"],
                registry=registry,
            ),
            produce_latency=Histogram(
                "ingest_produce_latency_seconds",
                "Time from handing a request's events to Kafka until all were acknowledged",
                buckets=LATENCY_BUCKETS,
                registry=registry,
            ),
            raw_checked=Counter(
                "ingest_raw_messages_checked_total",
                "Messages on the raw topics checked by the validator, by topic and result",
                ["topic", "result"],
                registry=registry,
            ),
        )
