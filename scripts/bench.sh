#!/usr/bin/env bash
# Runs the benchmarks (not part of `make test`); results land in bench-results/.
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
