"""Metric names read out of PromQL by its tokens, and the series a `/metrics` text serves."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from tests.promql import metric_names, served_names, tokens


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ("up", {"up"}),
        ('up{job="service-garden"} == 0', {"up"}),
        (
            "histogram_quantile(0.99, sum by (le) (rate(alerting_detection_latency_seconds_bucket[15m]))) > 2",
            {"alerting_detection_latency_seconds_bucket"},
        ),
        (
            "sum(rate(a_total[5m])) by (consumer, outcome) / ignoring(outcome) group_left sum(b)",
            {"a_total", "b"},
        ),
        (
            'sum by (consumer) (rate(consumer_records_total{outcome="applied"}[5m])) == 0\n'
            "and on() sum(rate(ingest_events_accepted_total[5m])) > 10",
            {"consumer_records_total", "ingest_events_accepted_total"},
        ),
        (
            "max by (producer) (outbox_oldest_pending_age_seconds) > 60",
            {"outbox_oldest_pending_age_seconds"},
        ),
        ("rate(x_total[$__rate_interval]) * 60", {"x_total"}),
        ("increase(x_total[${__range}]) offset 1h", {"x_total"}),
        ('{__name__="only_by_matcher", job=~"a|b"}', {"only_by_matcher"}),
        (
            'label_replace(g, "dst", "$1", "by", "(.*)") unless on(by) h @ start()',
            {"g", "h"},
        ),
        ("sum without (instance) (rate(c_total[1m:10s]))", {"c_total"}),
        ("topk(5, sum by (owner_kind, state) (garden_plants)) or vector(0)", {"garden_plants"}),
        (
            "time() - background_last_success_timestamp_seconds > 300",
            {"background_last_success_timestamp_seconds"},
        ),
        ("1 - x{a='it''s'} # a comment naming not_a_metric", {"x"}),
    ],
)
def test_the_names_an_expression_selects(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names


def test_unreadable_text_is_an_error_not_a_silent_miss() -> None:
    with pytest.raises(ValueError):
        tokens("sum(x) ¤ y")
    with pytest.raises(ValueError):
        metric_names("sum(rate(x[5m])")


def test_a_family_without_samples_yet_is_served_with_the_series_prometheus_stores() -> None:
    registry = CollectorRegistry()
    Counter("jobs_total", "d", ["kind"], registry=registry)  # no child yet: no sample
    Counter("runs", "d", registry=registry).inc()
    Histogram("wait_seconds", "d", ["route"], registry=registry)
    Gauge("depth", "d", ["queue"], registry=registry).labels("a").set(3)
    served = served_names(generate_latest(registry).decode())
    assert {"jobs_total", "runs_total", "depth"} <= served
    assert {"wait_seconds_bucket", "wait_seconds_count", "wait_seconds_sum"} <= served
    assert "wait_seconds" not in served  # a classic histogram's own name holds no series
    assert "jobs" not in served
