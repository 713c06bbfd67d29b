#!/usr/bin/env bash
# Runs the whole suite: unit, then integration and e2e against the real Kafka
# broker and PostgreSQL (see tests/infra.py for where they come from).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

stop_test_infra() {
  # The fixtures stop what they started; this catches an interrupted run.
  KAFKA_PORT=19092 KAFKA_CONTROLLER_PORT=19093 KAFKA_STATE_DIR=.local/test/kafka \
    deploy/kafka/kafkactl.sh stop >/dev/null 2>&1 || true
  PG_PORT=15432 PG_DATA_DIR=.local/test/postgres $PY deploy/native/postgres.py stop >/dev/null 2>&1 || true
  # and the reliability suite's own broker and database (tests/reliability/processes.py)
  KAFKA_PORT=$(( ${TEST_KAFKA_PORT:-19092} + 100 )) KAFKA_CONTROLLER_PORT=$(( ${TEST_KAFKA_CONTROLLER_PORT:-19093} + 100 )) \
    KAFKA_STATE_DIR=${TEST_STATE_DIR:-.local/test}/reliability/kafka deploy/kafka/kafkactl.sh stop >/dev/null 2>&1 || true
  PG_PORT=$(( ${TEST_PG_PORT:-15432} + 100 )) PG_DATA_DIR=${TEST_STATE_DIR:-.local/test}/reliability/postgres \
    $PY deploy/native/postgres.py stop >/dev/null 2>&1 || true
}
trap stop_test_infra EXIT

scripts/debian-packages.sh promtool:prometheus  # the alert-rule tests run promtool
scripts/debian-packages.sh chromium:chromium  # the browser tests drive Debian's headless Chromium
# a CJK font, so the Chinese pages' screenshots show their text
scripts/debian-packages.sh /usr/share/fonts/truetype/wqy/wqy-microhei.ttc:fonts-wqy-microhei

$PY -m pytest tests -p no:cacheprovider "$@"
