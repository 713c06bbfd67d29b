"""Scoring metrics: late and out-of-order events, settled days, previews, round times, lateness."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from shared.metrics import LATENCY_BUCKETS


@dataclass(frozen=True, slots=True)
class ScoringMetrics:
    late_events: Counter
    out_of_order_states: Counter
    days_settled: Counter
    previews_published: Counter
    round_seconds: Histogram
    oldest_unsettled_age: Gauge

    @classmethod
    def create(cls, registry: CollectorRegistry) -> ScoringMetrics:
        return cls(
            late_events=Counter(
                "scoring_late_events_total",
                "Agent-day changes that arrived after their day was settled",
                registry=registry,
            ),
            out_of_order_states=Counter(
                "scoring_out_of_order_states_total",
                "Agent state changes older than the agent's current state (out of order or "
                "replayed), ignored",
                registry=registry,
            ),
            days_settled=Counter(
                "scoring_days_settled_total",
                "Center business days settled",
                ["center"],
                registry=registry,
            ),
            previews_published=Counter(
                "scoring_previews_published_total", "Preview records published", registry=registry
            ),
            round_seconds=Histogram(
                "scoring_round_seconds",
                "Duration of a preview or settlement round",
                ["round"],
                buckets=LATENCY_BUCKETS,
                registry=registry,
            ),
            oldest_unsettled_age=Gauge(
                "scoring_oldest_unsettled_age_seconds",
                "Age of the oldest unsettled day's end (settlement lateness)",
                registry=registry,
            ),
        )
