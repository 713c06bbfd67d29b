"""The benchmark report read from sample results in the shapes the benchmarks write: one row
per scenario with its rate, latencies, memory and ratio; fields it does not know ignored,
missing ones left blank; benchmarks not run and files it cannot read listed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.bench import report

SAMPLES: dict[str, dict[str, Any]] = {
    "ingest": {
        "seconds_per_run": 15,
        "single": {
            "ingest_requests_per_s": 3577.2,
            "ingest_p50_ms": 8.2,
            "ingest_p99_ms": 15.5,
            "non_2xx": 0,
            "bare_events_per_s": 9180.0,
            "bare_p50_ms": 3.3,
            "bare_p99_ms": 5.3,
            "ratio": 0.3897,
        },
        "batch_500": {
            "ingest_events_per_s": 41435.0,
            "ingest_p50_ms": 46.5,
            "ingest_p99_ms": 75.6,
            "non_2xx": 0,
            "bare_events_per_s": 62739.0,
            "bare_p50_ms": 27.3,
            "bare_p99_ms": 60.8,
            "ratio": 0.6604,
        },
        "peak_rss_mib": {"ingest": 97.4},
    },
    "scoring": {
        "agents": 3000,
        "scoring_instances": 2,
        "events": 1993254,
        "by_type": {"call.completed": 453520},
        "scoring_events_per_s": 43724.0,
        "scoring_consume_events_per_s": 48600.0,
        "seconds_to_consume": 41.0,
        "seconds_through_settlement": 45.6,
        "bare_consumer_events_per_s": 127289.0,
        "ratio": 0.3435,
        "scoring_peak_rss_mib": 343.0,
    },
    "alerting": {
        "trials": 60,
        "p50_ms": 98.0,
        "p99_ms": 669.0,
        "max_ms": 702.0,
        "from_request_p50_ms": 110.0,
        "from_request_p99_ms": 690.0,
        "cpus": 2,
        "background_events_per_s": 6005.0,
        "background_complaints_per_s": 99.0,
        "detection_latency_metric": ["alerting_detection_latency_seconds_count 60.0"],
        "peak_rss_mib": {"ingest": 90.0, "alerting": 120.5},
    },
    "garden": {
        "agents": 3000,
        "load": {"settled_records": 582840, "seconds_to_grow": 52.0},
        "agent_garden": {"requests_per_s": 551.0, "p50_ms": 26.0, "p99_ms": 78.0, "ratio": 0.0518},
        "team_garden": {"requests_per_s": 858.0, "p50_ms": 18.0, "p99_ms": 26.0, "ratio": 0.0807},
        "leaderboard": {"requests_per_s": 127.0, "p50_ms": 122.0, "p99_ms": 239.0},
        "bare_row": {"requests_per_s": 10628.0, "p50_ms": 1.6, "p99_ms": 4.5},
        "one_day": {
            "settled_records": 19428,
            "seconds": 8.1,
            "bare_consumer_seconds": 0.04,
            "ratio": 0.0049,
        },
        "a_field_added_later": {"anything": [1, 2]},
    },
    "rewards": {
        "owners": 2000,
        "prizes": 50,
        "across_prizes": {"requests_per_s": 353.0, "p50_ms": 43.0, "p99_ms": 81.0},
        "bare_across_prizes": {"requests_per_s": 2083.0, "p50_ms": 7.4, "p99_ms": 15.6},
        "hot_prize": {"requests_per_s": 238.0, "p50_ms": 60.0, "p99_ms": 199.0, "ratio": 0.287},
        "bare_hot_prize": {"requests_per_s": 828.0, "p50_ms": 17.0, "p99_ms": 49.0},
        "checks": {"exact": True},
        "peak_rss_mib": {"rewards": float("nan")},
    },
}


def _write(folder: Path, samples: dict[str, dict[str, Any]]) -> None:
    for name, payload in samples.items():
        (folder / f"{name}.json").write_text(json.dumps(payload))


def test_one_row_per_scenario_with_rate_latency_memory_and_ratio(tmp_path: Path) -> None:
    _write(tmp_path, SAMPLES)
    rows = {(r.benchmark, r.scenario): r for r in report.collect(tmp_path).rows}
    assert len(rows) == 10
    single = rows[("ingest", "single-event POSTs, 32 connections")]
    assert (single.rate, single.unit, single.p50_ms, single.p99_ms) == (3577.2, "req/s", 8.2, 15.5)
    assert (single.peak_rss_mib, single.baseline_rate, single.ratio) == (97.4, 9180.0, 0.3897)
    scoring = rows[("scoring", "a day of 1,993,254 events through settlement, 2 instances")]
    assert (scoring.rate, scoring.peak_rss_mib, scoring.ratio) == (43724.0, 343.0, 0.3435)
    assert scoring.p99_ms is None
    alerting = rows[("alerting", "complaint → SMS, 60 trials under background load")]
    assert (alerting.p99_ms, alerting.peak_rss_mib, alerting.ratio) == (669.0, 120.5, None)
    day = rows[("garden", "one settled day (19,428 records) grown")]
    assert day.rate == pytest.approx(19428 / 8.1) and day.ratio == 0.0049
    assert day.baseline_rate == pytest.approx(19428 / 0.04)
    board = rows[("garden", "a center's month leaderboard")]
    assert board.baseline is None and board.ratio is None
    across = rows[("rewards", "redemptions across 50 prizes")]
    assert across.ratio == pytest.approx(353 / 2083)  # computed where the file has none
    assert across.peak_rss_mib is None  # NaN recorded: left blank


def test_the_report_names_every_figure_and_the_plot(tmp_path: Path) -> None:
    _write(tmp_path, SAMPLES)
    written = report.write(tmp_path, now=datetime(2026, 12, 1, 17, 5, tzinfo=UTC))
    text = written.read_text()
    assert written == tmp_path / "report.md"
    assert "at 2026-12-01 17:05 UTC" in text
    assert (
        "| ingest | single-event POSTs, 32 connections | 3,577 req/s | 8.2 | 15.5 | 97 | "
        "bare aiokafka producer: 9,180 | 0.39 |"
    ) in text
    assert (
        "| rewards | redemptions of one hot prize | 238 redemptions/s | 60.0 | 199.0 | — |" in text
    )
    assert "![rates, latencies, memory and ratios](report.png)" in text
    assert sum(line.startswith("|") for line in text.splitlines()) == 12  # header, rule, 10 rows
    assert (tmp_path / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_missing_benchmarks_fields_and_unknown_files_are_said(tmp_path: Path) -> None:
    _write(tmp_path, {"ingest": {"single": {"ingest_requests_per_s": 100.0}}})
    (tmp_path / "soak.json").write_text("{}")
    (tmp_path / "wrk-body.json").write_text('{"type": "call.completed"}')  # wrk's body, no result
    (tmp_path / "garden.json").write_text("{not json")
    found = report.collect(tmp_path)
    assert [(r.scenario, r.rate, r.ratio) for r in found.rows] == [
        ("single-event POSTs, 32 connections", 100.0, None)
    ]
    assert found.missing == ["scoring", "alerting", "campaigns", "rewards"]
    text = report.markdown(found, plot=None, now=datetime(2026, 12, 1, tzinfo=UTC))
    assert "| 100 req/s | — | — | — | bare aiokafka producer: — | — |" in text
    assert "not run: scoring, alerting, campaigns, rewards" in text
    assert "soak.json" in text and "garden.json (not JSON" in text
    assert "wrk-body" not in text


def test_no_results_make_a_report_without_a_plot(tmp_path: Path) -> None:
    written = report.write(tmp_path)
    assert "not run: ingest, scoring, alerting, garden, campaigns, rewards" in written.read_text()
    assert not (tmp_path / "report.png").exists()


def test_campaign_days_against_the_same_days_without_campaigns(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "campaigns": {
                "campaigns": 250,
                "records_per_day": 19500,
                "first_day_with_campaigns_s": 5.0,
                "first_day_without_campaigns_s": 4.0,
                "start_campaign_p50_ms": 11.0,
                "start_campaign_p99_ms": 22.3,
            }
        },
    )
    rows = report.collect(tmp_path).rows
    first, start = rows
    assert first.scenario == "the period's first day grown with 250 campaigns (19,500 records)"
    assert (first.rate, first.baseline_rate, first.ratio) == (3900.0, 4875.0, 0.8)
    assert (start.rate, start.p50_ms, start.p99_ms) == (None, 11.0, 22.3)
