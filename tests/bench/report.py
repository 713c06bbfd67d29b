"""One report of a `make bench` run: bench-results/report.md and report.png, from the JSON
each benchmark wrote to bench-results/.

    .venv/bin/python -m tests.bench.report [--results bench-results]

One row per measured scenario: its rate, p50 and p99, the peak RSS of the service under
test (when the benchmark recorded it: `peak_rss_mib`, or scoring's own figure) and the
baseline measured in the same run with the ratio to it. Each benchmark's JSON is read by
a reader of its own (`READERS`); a field a reader does not know is ignored and a missing
one is left blank, so benchmarks may add fields freely. A result file no reader knows is
listed at the end, not read.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.bench.common import RESULTS

REPORT, PLOT = "report.md", "report.png"
SCRATCH = frozenset({"wrk-body.json"})
"""JSON in bench-results/ that is no result (the body `common.wrk` posts)."""


@dataclass(frozen=True, slots=True)
class Row:
    """One measured scenario of a benchmark."""

    benchmark: str
    scenario: str
    rate: float | None
    unit: str
    p50_ms: float | None = None
    p99_ms: float | None = None
    peak_rss_mib: float | None = None
    baseline: str | None = None
    baseline_rate: float | None = None
    ratio: float | None = None


Reader = Callable[[dict[str, Any]], Iterator[Row]]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        return None
    return float(value)


def _get(result: dict[str, Any], *path: str) -> float | None:
    value: Any = result
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return _number(value)


def _rss(result: dict[str, Any], service: str) -> float | None:
    return _get(result, "peak_rss_mib", service)


def _ratio(rate: float | None, baseline: float | None) -> float | None:
    return rate / baseline if rate is not None and baseline else None


def ingest(result: dict[str, Any]) -> Iterator[Row]:
    rss = _rss(result, "ingest")
    for key, scenario, rate_key, unit in (
        ("single", "single-event POSTs, 32 connections", "ingest_requests_per_s", "req/s"),
        ("batch_500", "batches of 500, 4 connections", "ingest_events_per_s", "events/s"),
    ):
        if key in result:
            yield Row(
                "ingest",
                scenario,
                _get(result, key, rate_key),
                unit,
                _get(result, key, "ingest_p50_ms"),
                _get(result, key, "ingest_p99_ms"),
                rss,
                "bare aiokafka producer",
                _get(result, key, "bare_events_per_s"),
                _get(result, key, "ratio"),
            )


def scoring(result: dict[str, Any]) -> Iterator[Row]:
    events, instances = _get(result, "events"), result.get("scoring_instances", "?")
    size = f"{events:,.0f} events" if events is not None else "one day"
    yield Row(
        "scoring",
        f"a day of {size} through settlement, {instances} instances",
        _get(result, "scoring_events_per_s"),
        "events/s",
        peak_rss_mib=_get(result, "scoring_peak_rss_mib"),
        baseline="bare aiokafka consumer",
        baseline_rate=_get(result, "bare_consumer_events_per_s"),
        ratio=_get(result, "ratio"),
    )


def alerting(result: dict[str, Any]) -> Iterator[Row]:
    trials = _get(result, "trials")
    yield Row(
        "alerting",
        f"complaint → SMS, {trials or 0:.0f} trials under background load",
        _get(result, "background_events_per_s"),
        "events/s (background)",
        _get(result, "p50_ms"),
        _get(result, "p99_ms"),
        _rss(result, "alerting"),
    )


def garden(result: dict[str, Any]) -> Iterator[Row]:
    rss, bare = _rss(result, "garden"), _get(result, "bare_row", "requests_per_s")
    for key, scenario in (
        ("agent_garden", "an agent's garden"),
        ("team_garden", "a team's garden"),
        ("leaderboard", "a center's month leaderboard"),
    ):
        if key in result:
            rate = _get(result, key, "requests_per_s")
            yield Row(
                "garden",
                scenario,
                rate,
                "req/s",
                _get(result, key, "p50_ms"),
                _get(result, key, "p99_ms"),
                rss,
                "bare Starlette + asyncpg row" if key != "leaderboard" else None,
                bare if key != "leaderboard" else None,
                (_get(result, key, "ratio") or _ratio(rate, bare))
                if key != "leaderboard"
                else None,
            )
    if "one_day" in result:
        records, seconds = (
            _get(result, "one_day", "settled_records"),
            _get(result, "one_day", "seconds"),
        )
        bare_seconds = _get(result, "one_day", "bare_consumer_seconds")
        yield Row(
            "garden",
            f"one settled day ({records or 0:,.0f} records) grown",
            records / seconds if records and seconds else None,
            "records/s",
            peak_rss_mib=rss,
            baseline="bare aiokafka consumer",
            baseline_rate=records / bare_seconds if records and bare_seconds else None,
            ratio=_get(result, "one_day", "ratio"),
        )


def rewards(result: dict[str, Any]) -> Iterator[Row]:
    rss = _rss(result, "rewards")
    for key, scenario in (
        ("across_prizes", f"redemptions across {result.get('prizes', '?')} prizes"),
        ("hot_prize", "redemptions of one hot prize"),
    ):
        if key in result:
            rate = _get(result, key, "requests_per_s")
            bare = _get(result, f"bare_{key}", "requests_per_s")
            yield Row(
                "rewards",
                scenario,
                rate,
                "redemptions/s",
                _get(result, key, "p50_ms"),
                _get(result, key, "p99_ms"),
                rss,
                "bare asyncpg client",
                bare,
                _get(result, key, "ratio") or _ratio(rate, bare),
            )


def campaigns(result: dict[str, Any]) -> Iterator[Row]:
    records, count = _get(result, "records_per_day"), result.get("campaigns", "?")
    for day, scenario in (("first_day", "the period's first day"), ("second_day", "the day after")):
        with_s = _get(result, f"{day}_with_campaigns_s")
        without_s = _get(result, f"{day}_without_campaigns_s")
        if with_s is None:
            continue
        rate = records / with_s if records and with_s else None
        bare = records / without_s if records and without_s else None
        yield Row(
            "campaigns",
            f"{scenario} grown with {count} campaigns ({records or 0:,.0f} records)",
            rate,
            "records/s",
            baseline="the same day of a center without campaigns",
            baseline_rate=bare,
            ratio=_ratio(rate, bare),
        )
    if "start_campaign_p50_ms" in result:
        yield Row(
            "campaigns",
            "starting one campaign",
            None,
            "",
            _get(result, "start_campaign_p50_ms"),
            _get(result, "start_campaign_p99_ms"),
        )


READERS: dict[str, Reader] = {
    "ingest": ingest,
    "scoring": scoring,
    "alerting": alerting,
    "garden": garden,
    "campaigns": campaigns,
    "rewards": rewards,
}


@dataclass(frozen=True, slots=True)
class Results:
    rows: list[Row]
    measured: dict[str, datetime]
    missing: list[str]
    unread: list[str]


def collect(results: Path) -> Results:
    """Read every benchmark's JSON in `results`."""
    rows: list[Row] = []
    measured: dict[str, datetime] = {}
    unread: list[str] = []
    for name, reader in READERS.items():
        path = results / f"{name}.json"
        if not path.exists():
            continue
        try:
            result = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            unread.append(f"{path.name} (not JSON: {exc})")
            continue
        measured[name] = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        rows.extend(reader(result))
    known = {f"{name}.json" for name in READERS}
    unread += sorted(p.name for p in results.glob("*.json") if p.name not in known | SCRATCH)
    missing = [name for name in READERS if not (results / f"{name}.json").exists()]
    return Results(rows, measured, missing, unread)


def _fmt(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def _fmt_ratio(value: float | None) -> str:
    """Two decimals, three below 0.1 (a ratio of 0.005 is not 0)."""
    return _fmt(value, 2 if value is None or value >= 0.1 else 3)


def _machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    return f"{os.cpu_count()} cores ({model}), load average {load} when the report was written"


def markdown(found: Results, *, plot: str | None, now: datetime) -> str:
    """The report's text."""
    lines = [
        "# Benchmark report",
        "",
        f"Written by `make bench` (`tests/bench/report.py`) at {now:%Y-%m-%d %H:%M} UTC from "
        "the JSON the benchmarks wrote beside it. Machine: " + _machine() + ".",
        "",
        "Each ratio is the service's rate over the baseline's, both measured in the same run "
        "on the same machine (absolute figures move by ±20 % between runs on shared cores). "
        "Latencies are per request (per batch for ingest's batches); peak RSS is the service "
        "process under test (per process for scoring's instances).",
        "",
        "| benchmark | scenario | rate | p50 ms | p99 ms | peak RSS MiB | baseline (same run) | ratio |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in found.rows:
        rate = f"{_fmt(row.rate)} {row.unit}" if row.rate is not None else "—"
        baseline = "—"
        if row.baseline:
            baseline = f"{row.baseline}: {_fmt(row.baseline_rate)}"
        lines.append(
            f"| {row.benchmark} | {row.scenario} | {rate} | {_fmt(row.p50_ms, 1)} | "
            f"{_fmt(row.p99_ms, 1)} | {_fmt(row.peak_rss_mib)} | {baseline} | "
            f"{_fmt_ratio(row.ratio)} |"
        )
    if plot:
        lines += ["", f"![rates, latencies, memory and ratios]({plot})"]
    lines += ["", "Results read:"]
    lines += [
        f"- `{name}.json`, written {at:%Y-%m-%d %H:%M} UTC" for name, at in found.measured.items()
    ]
    if found.missing:
        lines.append("- not run: " + ", ".join(found.missing))
    if found.unread:
        lines.append("- not read (no reader for them): " + ", ".join(found.unread))
    lines += ["", "How each benchmark measures: `docs/benchmarks.md`."]
    return "\n".join(lines) + "\n"


def draw(rows: list[Row], path: Path) -> None:
    """A picture of the rows: rates, ratios, p50/p99 and peak RSS, one bar per scenario."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{r.benchmark}: {r.scenario}" for r in rows]
    figure, axes = plt.subplots(2, 2, figsize=(16, 2.2 + 0.45 * len(rows) * 2), sharey=True)
    positions = list(range(len(rows)))[::-1]

    def bars(ax: Any, values: list[float | None], title: str, *, log: bool = False) -> None:
        ax.barh(positions, [v or 0 for v in values], color="#4c956c")
        for y, v in zip(positions, values, strict=True):
            if v is not None:
                text = f" {_fmt_ratio(v)}" if v < 10 else f" {v:,.0f}"
                ax.text(v, y, text, va="center", fontsize=8)
        ax.set_title(title, fontsize=10)
        if log and any(values):
            ax.set_xscale("log")

    bars(axes[0][0], [r.rate for r in rows], "rate (each row's unit in the table)", log=True)
    bars(axes[0][1], [r.ratio for r in rows], "ratio to the bare baseline of the same run")
    axes[0][1].axvline(
        0.5,
        color="#bc4749",
        linestyle="--",
        linewidth=1,
        label="0.5, the target of ingest batches, garden and rewards",
    )
    axes[0][1].legend(fontsize=8)
    latency = axes[1][0]
    latency.barh([p + 0.2 for p in positions], [r.p50_ms or 0 for r in rows], 0.4, label="p50")
    latency.barh([p - 0.2 for p in positions], [r.p99_ms or 0 for r in rows], 0.4, label="p99")
    latency.set_title("latency, ms", fontsize=10)
    latency.legend(fontsize=8)
    bars(axes[1][1], [r.peak_rss_mib for r in rows], "peak RSS of the service, MiB")
    for ax in (axes[0][0], axes[1][0]):
        ax.set_yticks(positions, labels, fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write(results: Path = RESULTS, *, now: datetime | None = None) -> Path:
    """Write results/report.md (and report.png when there is a row); return the report."""
    found = collect(results)
    plot = None
    if found.rows:
        draw(found.rows, results / PLOT)
        plot = PLOT
    report = results / REPORT
    report.write_text(markdown(found, plot=plot, now=now or datetime.now(UTC)))
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench-report", description=__doc__.split("\n")[0])
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    report = write(args.results)
    print(f"\nbenchmark report -> {report}")
    print(report.read_text())


if __name__ == "__main__":
    main()
