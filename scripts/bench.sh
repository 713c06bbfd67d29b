#!/usr/bin/env bash
# Runs the benchmarks (not part of `make test`); results land in bench-results/, with one
# report of them (report.md, report.png) written last.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null; then
  echo "installing wrk (HTTP load generator) from the distribution's packages"
  SUDO=$([[ $(id -u) -eq 0 ]] && echo "" || echo sudo)
  $SUDO apt-get install -y -q wrk >/dev/null 2>&1 || { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q wrk >/dev/null; }
fi
mkdir -p bench-results
.venv/bin/python -m tests.bench.bench_ingest
.venv/bin/python -m tests.bench.bench_scoring
.venv/bin/python -m tests.bench.bench_alerting
.venv/bin/python -m tests.bench.bench_garden
.venv/bin/python -m tests.bench.bench_campaigns
.venv/bin/python -m tests.bench.bench_rewards
# One report of this run from the JSON above: bench-results/report.md and report.png.
.venv/bin/python -m tests.bench.report
