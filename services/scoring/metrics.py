"""Scoring metrics: late and out-of-order events, settled days, previews, round times, lateness."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import Counter, Gauge, Histogram

from shared.metrics import LATENCY_BUCKETS, MetricSet, counter, gauge, histogram


@dataclass(frozen=True, slots=True)
class ScoringMetrics(MetricSet):
    late_events: Counter = counter(
        "scoring_late_events_total", "Agent-day changes that arrived after their day was settled"
    )
    out_of_order_states: Counter = counter(
        "scoring_out_of_order_states_total",
        "Agent state changes older than the agent's current state (out of order or replayed), "
        "ignored",
    )
    days_settled: Counter = counter(
        "scoring_days_settled_total", "Center business days settled", "center"
    )
    previews_published: Counter = counter(
        "scoring_previews_published_total", "Preview records published"
    )
    round_seconds: Histogram = histogram(
        "scoring_round_seconds",
        "Duration of a preview or settlement round",
        "round",
        buckets=LATENCY_BUCKETS,
    )
    oldest_unsettled_age: Gauge = gauge(
        "scoring_oldest_unsettled_age_seconds",
        "Age of the oldest unsettled day's end (settlement lateness)",
    )
