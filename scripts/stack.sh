#!/usr/bin/env bash
# Starts and stops the local stack: native Kafka + PostgreSQL, the services, a demo load.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=$ROOT/.venv/bin/python
# STACK_LOCAL moves the pid files, logs and Prometheus's data (tests start Prometheus alone there).
LOCAL=${STACK_LOCAL:-$ROOT/.local}
RUN=$LOCAL/run
LOGS=$LOCAL/logs
mkdir -p "$RUN" "$LOGS"

# Local defaults; every one can be overridden from the environment.
export KAFKA_BOOTSTRAP_SERVERS=${KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:9092}
export DATABASE_URL=${DATABASE_URL:-postgresql+asyncpg://postgres@127.0.0.1:5432/garden}
export INGEST_API_KEYS=${INGEST_API_KEYS:-demo-switch-key:call.completed,agent.state;demo-crm-key:survey.answered,complaint.filed,complaint.updated;demo-all-key:*}
export JWT_SECRET=${JWT_SECRET:-local-development-secret-change-me}
export LOG_FORMAT=${LOG_FORMAT:-console}
export CORS_ORIGINS=${CORS_ORIGINS:-http://localhost:5173,http://127.0.0.1:5173}  # the garden, for a local frontend
export SMS_PROVIDER=${SMS_PROVIDER:-http}
export SMS_HTTP_URL=${SMS_HTTP_URL:-http://127.0.0.1:8010/messages}
export SMS_RECEIPT_URL=${SMS_RECEIPT_URL:-http://127.0.0.1:8003/v1/sms/receipts}
export SMS_RECEIPT_TOKEN=${SMS_RECEIPT_TOKEN:-local-receipt-token}
PROMETHEUS_PORT=${PROMETHEUS_PORT:-9090}
PROMETHEUS_HOME=$LOCAL/prometheus
PROMETHEUS_URL=http://127.0.0.1:$PROMETHEUS_PORT

# name:module:port — services that exist in this checkout are started.
SERVICES=(ingest:services.ingest:8001 scoring:services.scoring:8002 alerting:services.alerting:8003 garden:services.garden:8004 rewards:services.rewards:8005)

infra_up() {
  deploy/kafka/kafkactl.sh start
  $PY deploy/native/postgres.py start
  deploy/kafka/kafkactl.sh wait
  $PY -c "import asyncio, os; from shared.migrate import migrate; asyncio.run(migrate(os.environ['DATABASE_URL']))"
  $PY -c "import asyncio, os; from shared.kafka import ensure_topics; asyncio.run(ensure_topics(os.environ['KAFKA_BOOTSTRAP_SERVERS']))"
  echo "infrastructure up: Kafka $KAFKA_BOOTSTRAP_SERVERS, PostgreSQL $DATABASE_URL"
}

infra_down() {
  deploy/kafka/kafkactl.sh stop || true
  $PY deploy/native/postgres.py stop || true
}

start_bg() {  # name, log file, command...
  local name=$1 log=$2; shift 2
  if [[ -f $RUN/$name.pid ]] && kill -0 "$(cat "$RUN/$name.pid")" 2>/dev/null; then
    echo "$name already running"; return
  fi
  nohup "$@" >"$log" 2>&1 &
  echo $! >"$RUN/$name.pid"
}

wait_http() {  # url, seconds
  local deadline=$((SECONDS + $2))
  until curl -fsS -o /dev/null "$1" 2>/dev/null; do
    (( SECONDS < deadline )) || { echo "timed out waiting for $1"; return 1; }
    sleep 0.5
  done
}

services_up() {
  start_bg sms-sink "$LOGS/sms-sink.log" "$PY" -m tools.sms_sink --port 8010
  wait_http http://127.0.0.1:8010/healthz 30
  echo "SMS sink up: http://127.0.0.1:8010/ (every SMS alerting sends)"
  for entry in "${SERVICES[@]}"; do
    IFS=: read -r name module port <<<"$entry"
    [[ -f ${module//.//}/app.py ]] || continue
    HTTP_PORT=$port start_bg "$name" "$LOGS/$name.log" "$PY" -m "$module"
    wait_http "http://127.0.0.1:$port/healthz" 60
    echo "$name up: http://127.0.0.1:$port (docs at /docs, metrics at /metrics)"
  done
}

prometheus_config() {  # the native scrape config: every service of this checkout on 127.0.0.1
  cat <<EOT
# Written by scripts/stack.sh for the local stack; deploy/prometheus/prometheus.yml is the
# docker-compose one. Same job, labels and alert rules.
global:
  scrape_interval: 5s
  evaluation_interval: 15s
rule_files: ["$ROOT/deploy/prometheus/alerts.yml"]
scrape_configs:
  - job_name: service-garden
    static_configs:
EOT
  for entry in "${SERVICES[@]}"; do
    IFS=: read -r name module port <<<"$entry"
    [[ -f ${module//.//}/app.py ]] || continue
    printf '      - targets: ["127.0.0.1:%s"]\n        labels: {service: %s}\n' "$port" "$name"
  done
}

prometheus_up() {  # PROMETHEUS_CONFIG, if set, is used instead of the generated config
  scripts/debian-packages.sh prometheus:prometheus || return 1
  local config=${PROMETHEUS_CONFIG:-$PROMETHEUS_HOME/prometheus.yml}
  mkdir -p "$PROMETHEUS_HOME/data"
  [[ -n ${PROMETHEUS_CONFIG:-} ]] || prometheus_config >"$config"
  if [[ ! -f $RUN/prometheus.pid ]] && curl -fsS -o /dev/null "$PROMETHEUS_URL/-/ready" 2>/dev/null; then
    echo "something else answers on port $PROMETHEUS_PORT; set PROMETHEUS_PORT to another port" >&2
    return 1
  fi
  start_bg prometheus "$LOGS/prometheus.log" prometheus --config.file="$config" \
    --storage.tsdb.path="$PROMETHEUS_HOME/data" --storage.tsdb.retention.time=7d \
    --web.listen-address="127.0.0.1:$PROMETHEUS_PORT"
  if ! wait_http "$PROMETHEUS_URL/-/ready" 60 || ! kill -0 "$(cat "$RUN/prometheus.pid")" 2>/dev/null; then
    echo "Prometheus did not start; see $LOGS/prometheus.log" >&2
    tail -n 5 "$LOGS/prometheus.log" >&2 || true
    stop_pidfile "$RUN/prometheus.pid"
    return 1
  fi
  echo "Prometheus up: $PROMETHEUS_URL (scrapes every service, alert rules at /alerts)"
}

prometheus_down() {
  stop_pidfile "$RUN/prometheus.pid"
}

prom_graph() {  # a link to Prometheus's graph of the PromQL expression $1
  echo "$PROMETHEUS_URL/graph?g0.expr=$($PY -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1")&g0.tab=0&g0.range_input=30m"
}

demo_up() {
  # The demo center: its org goes to scoring (members since 30 days ago), then the
  # simulator posts three past days at once (they settle), replays today up to now fast,
  # then follows the wall clock.
  $PY -m simulator org --agents 120 --seed 7 --out "$ROOT/.local/demo-org.json" 2>/dev/null
  # Dates are business days of the demo center, in its time zone.
  local today
  today=$(TZ=Asia/Shanghai date +%F)
  $PY -m services.scoring.org_load "$ROOT/.local/demo-org.json" \
    --effective-from "$(date -d "$today -30 days" +%F)" >/dev/null
  # A short fruit cycle, so the few demo days ripen fruit; ripe fruit waits three days for
  # the owner's harvest (the screens' harvest button) before it is harvested automatically.
  local admin
  admin=$($PY -m shared.auth.cli --sub demo-admin --role admin --ttl 600)
  curl -fsS -o /dev/null -X PUT "http://127.0.0.1:8004/v1/config/garden?center_id=C1" \
    -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
    -d '{"fruit_at": 15, "stage_thresholds": [0, 3, 6, 9, 12], "auto_harvest_days": 3}' \
    || echo "the garden refused the demo configuration (see $LOGS/garden.log)"
  start_bg demo-load "$LOGS/demo-load.log" "$PY" -m simulator send --to http \
    --url http://127.0.0.1:8001 --api-key demo-all-key --agents 120 --seed 7 \
    --start-date "$(date -d "$today -3 days" +%F)" --days 4 --realtime --speed 60
  echo "demo load: 120 agents; three past days (settling), today caught up fast, then live"
  start_bg demo-outage "$LOGS/demo-outage.log" "$PY" -m tools.alerting_demo \
    --url http://127.0.0.1:8001 --api-key demo-all-key --category network --region foshan \
    --after 20
  echo "demo outage: network complaints surge in Foshan ~20 s from now; escalation L1→L4" \
    "in the SMS sink, /v1/incidents and /metrics"
  local agent team
  read -r agent team < <(sample_agent)
  start_bg demo-rewards "$LOGS/demo-rewards.log" "$PY" -m tools.rewards_demo \
    --url http://127.0.0.1:8005 --agent "$agent" --team "$team" --grant-after "${DEMO_GRANT_AFTER:-600}"
  echo "demo redemption: once $agent's wallet holds fruit, a prize is redeemed, approved and" \
    "fulfilled ($LOGS/demo-rewards.log)"
  where_to_look
}

sample_agent() {  # the sample agent and their team: the demo org's first team's first agent
  $PY -c "import json; c = json.load(open('$ROOT/.local/demo-org.json'))['centers'][0]; t = c['departments'][0]['teams'][0]; print(t['agents'][0]['id'], t['id'])"
}

where_to_look() {
  # A sample agent and their team leader from the demo org, with tokens to read as them.
  local agent team agent_token leader_token
  read -r agent team < <(sample_agent)
  agent_token=$($PY -m shared.auth.cli --sub "$agent" --role agent --unit "$team" --ttl 86400)
  leader_token=$($PY -m shared.auth.cli --sub "lead-$team" --role team_leader --unit "$team" --ttl 86400)
  cat <<EOT

where to look (the past days settle within a minute or two; gardens grow as they do):
  API docs:        http://127.0.0.1:800{1,2,3,4,5}/docs
  SMS sink:        http://127.0.0.1:8010/
  Prometheus:      $PROMETHEUS_URL/alerts (the alert rules), /targets (every service scraped)
    ingest rate:   $(prom_graph 'sum by (type) (rate(ingest_events_accepted_total[1m]))')
    consumer lag:  $(prom_graph 'sum by (group) (consumer_lag_records)')
  agent $agent:    export AGENT_TOKEN=$agent_token
    garden:        curl -H "Authorization: Bearer \$AGENT_TOKEN" http://127.0.0.1:8004/v1/agents/$agent/garden
    a plant:       curl -H "Authorization: Bearer \$AGENT_TOKEN" http://127.0.0.1:8004/v1/agents/$agent/plants/satisfaction.svg > plant.svg
    wallet:        curl -H "Authorization: Bearer \$AGENT_TOKEN" http://127.0.0.1:8005/v1/wallets/agent/$agent
    prizes:        curl -H "Authorization: Bearer \$AGENT_TOKEN" http://127.0.0.1:8005/v1/prizes
    redemptions:   curl -H "Authorization: Bearer \$AGENT_TOKEN" http://127.0.0.1:8005/v1/redemptions
                   (the demo's: requested → approved → fulfilled, as $LOGS/demo-rewards.log tells)
  team $team:      export LEADER_TOKEN=$leader_token
    team garden:   curl -H "Authorization: Bearer \$LEADER_TOKEN" http://127.0.0.1:8004/v1/units/team/$team/garden
    leaderboard:   curl -H "Authorization: Bearer \$LEADER_TOKEN" "http://127.0.0.1:8004/v1/leaderboards?scope=team:$team&period=week:$(TZ=Asia/Shanghai date +%F)"
  harvest ripe fruit by hand (what is left is harvested three days after it ripens):
    curl -X POST -H "Authorization: Bearer \$AGENT_TOKEN" -H "Idempotency-Key: \$(uuidgen || date +%s%N)" http://127.0.0.1:8004/v1/agents/$agent/plants/satisfaction/harvest
EOT
  $PY -m tools.ui_links "$ROOT/.local/demo-org.json"  # the agent's and the leader's pages
}

stop_pidfile() {  # stop the process of a pid file (TERM, then KILL after 10 s) and remove the file
  local pidfile=$1 pid
  [[ -f $pidfile ]] || return 0
  pid=$(cat "$pidfile")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$pidfile"
}

stop_all() {
  for pidfile in "$RUN"/*.pid; do
    stop_pidfile "$pidfile"
  done
  infra_down
}

status() {
  for pidfile in "$RUN"/*.pid; do
    [[ -f $pidfile ]] || continue
    name=$(basename "$pidfile" .pid)
    if kill -0 "$(cat "$pidfile")" 2>/dev/null; then echo "$name: running"
    elif [[ $name == demo-* ]]; then echo "$name: done (its log: $LOGS/$name.log)"
    else echo "$name: stopped"; fi
  done
  deploy/kafka/kafkactl.sh status && echo "kafka: running" || echo "kafka: stopped"
  $PY deploy/native/postgres.py status >/dev/null && echo "postgres: running" || echo "postgres: stopped"
}

case ${1:-} in
  infra-up) infra_up ;;
  infra-down) infra_down ;;
  prometheus-config) prometheus_config ;;
  prometheus-up) prometheus_up ;;
  prometheus-down) prometheus_down ;;
  up) infra_up; services_up; prometheus_up || echo "running without Prometheus"; demo_up
      echo "everything is up; 'make logs' follows the logs, 'make stop' stops it all" ;;
  run) infra_up; services_up; prometheus_up || echo "running without Prometheus"; demo_up
       echo "following the logs; Ctrl-C stops everything"
       tail -n 5 -F "$LOGS"/*.log &
       follower=$!
       trap 'echo; echo stopping...; kill "$follower" 2>/dev/null || true; stop_all' INT TERM
       wait "$follower" || true ;;
  stop) stop_all ;;
  status) status ;;
  logs) tail -n 50 -F "$LOGS"/*.log ;;
  *) echo "usage: $0 infra-up|infra-down|up|run|stop|status|logs|prometheus-config|prometheus-up|prometheus-down" >&2
     exit 2 ;;
esac
