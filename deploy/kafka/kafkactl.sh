#!/usr/bin/env bash
# kafkactl.sh - run a real single-node Apache Kafka broker (KRaft, combined broker+controller)
# from the official jars on Maven Central. No Docker, no tarball: `mvn` fetches the jars
# listed in deploy/kafka/pom.xml once into .local/kafka/libs; Java 17+ runs them.
#
# Usage: deploy/kafka/kafkactl.sh {start|stop|status|wait [SECONDS]|logs [-f]|reset|fetch|config}
#   start   fetch jars (once), write server.properties, format storage (once), start in background
#   wait    block until the broker accepts connections and answers metadata (default 90 s)
#   stop    SIGTERM, wait KAFKA_STOP_TIMEOUT (30 s), then SIGKILL
#   status  exit 0 if running, 3 if not
#   logs    last KAFKA_LOG_LINES (200) lines of the broker log; `logs -f` follows it
#   reset   stop, then delete the data dir, config and logs (the jar cache is kept)
#   fetch   only fetch the jars (e.g. to warm a CI cache)
#   config  print the resolved settings
#
# Environment (all optional):
#   KAFKA_PORT             PLAINTEXT listener port on 127.0.0.1            (9092)
#   KAFKA_CONTROLLER_PORT  KRaft controller listener port                  (9093)
#   KAFKA_HOST             listener/advertised host                        (127.0.0.1)
#   KAFKA_STATE_DIR        per-instance dir: config, pid, logs, data       (<repo>/.local/kafka)
#   KAFKA_DATA_DIR         log.dirs (Kafka data)                           ($KAFKA_STATE_DIR/data)
#   KAFKA_LIBS_DIR         shared jar cache                                (<repo>/.local/kafka/libs)
#   KAFKA_NUM_PARTITIONS   num.partitions for auto-created topics          (3)
#   KAFKA_EXTRA_CONFIG     extra server.properties lines, appended (later keys win)
#   KAFKA_HEAP_OPTS        broker heap                                     (-Xms256m -Xmx768m)
#   KAFKA_JVM_OPTS         broker JVM flags (GC etc.); KAFKA_OPTS: more flags appended
#   KAFKA_LOG_LEVEL        root log level                                  (INFO)
#   KAFKA_WAIT_TIMEOUT     default for `wait`, seconds                     (90)
#   KAFKA_STOP_TIMEOUT     seconds between SIGTERM and SIGKILL             (30)
#   JAVA_HOME / MVN        which java / mvn to use; KAFKA_MVN_ARGS: extra mvn arguments
#
# Several instances: give each its own KAFKA_STATE_DIR and ports, e.g.
#   KAFKA_STATE_DIR=.local/kafka-test KAFKA_PORT=19092 KAFKA_CONTROLLER_PORT=19093 kafkactl.sh start
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
POM="$SCRIPT_DIR/pom.xml"
LOG4J_CONF="$SCRIPT_DIR/log4j2.yaml"

abspath() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$PWD/$1" ;; esac; }

KAFKA_HOST="${KAFKA_HOST:-127.0.0.1}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
STATE_DIR="$(abspath "${KAFKA_STATE_DIR:-$REPO_ROOT/.local/kafka}")"
DATA_DIR="$(abspath "${KAFKA_DATA_DIR:-$STATE_DIR/data}")"
LIBS_DIR="$(abspath "${KAFKA_LIBS_DIR:-$REPO_ROOT/.local/kafka/libs}")"
CACHE_DIR="$(dirname "$LIBS_DIR")"          # holds the fetch lock/log and the compiled check
NUM_PARTITIONS="${KAFKA_NUM_PARTITIONS:-3}"
WAIT_TIMEOUT="${KAFKA_WAIT_TIMEOUT:-90}"
STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
LOG_LEVEL="${KAFKA_LOG_LEVEL:-INFO}"
HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx768m}"
JVM_OPTS="${KAFKA_JVM_OPTS:--XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true}"
# Short-lived helper JVMs (storage format, readiness check): start fast, stay small.
TOOL_JVM_OPTS="-Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true"

CONF="$STATE_DIR/server.properties"
PID_FILE="$STATE_DIR/kafka.pid"
LOG_DIR="$STATE_DIR/logs"
SERVER_LOG="$LOG_DIR/server.log"
OUT_FILE="$LOG_DIR/kafka.out"               # JVM stdout/stderr (crashes, etc.)

if [[ -n "${JAVA_HOME:-}" ]]; then JAVA="$JAVA_HOME/bin/java"; JAVAC="$JAVA_HOME/bin/javac"; else JAVA=java; JAVAC=javac; fi
MVN="${MVN:-mvn}"

log() { printf 'kafkactl[%s]: %s\n' "$KAFKA_PORT" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

is_uint() { [[ "$1" =~ ^[0-9]+$ ]]; }
for v in KAFKA_PORT KAFKA_CONTROLLER_PORT NUM_PARTITIONS WAIT_TIMEOUT STOP_TIMEOUT; do
  is_uint "${!v}" || die "$v must be a non-negative integer, got '${!v}'"
done
[[ "$KAFKA_PORT" != "$KAFKA_CONTROLLER_PORT" ]] || die "KAFKA_PORT and KAFKA_CONTROLLER_PORT must differ"

# ---------------------------------------------------------------------------------------------
# jars

pom_sum() { cksum <"$POM" | awk '{print $1 "-" $2}'; }

libs_ok() { [[ -f "$LIBS_DIR/.fetched" && "$(cat "$LIBS_DIR/.fetched")" == "$(pom_sum)" ]]; }

fetch() {
  libs_ok && return 0
  mkdir -p "$CACHE_DIR"
  command -v "$MVN" >/dev/null || die "'$MVN' not found: Maven is needed to fetch the Kafka jars"
  # flock in a subshell: the lock fd is never inherited by a broker started later.
  (
    flock 9
    libs_ok && exit 0
    local tmp="$LIBS_DIR.tmp.$$" t0=$SECONDS
    rm -rf "$tmp"
    log "fetching Kafka jars with mvn into $LIBS_DIR (once) ..."
    # shellcheck disable=SC2086
    if ! "$MVN" -B -q -Dstyle.color=never -f "$POM" dependency:copy-dependencies \
          -DoutputDirectory="$tmp" -DincludeScope=runtime ${KAFKA_MVN_ARGS:-} \
          </dev/null >"$CACHE_DIR/fetch.log" 2>&1; then
      tail -n 40 "$CACHE_DIR/fetch.log" >&2
      rm -rf "$tmp"
      die "mvn failed to fetch the Kafka jars (full output: $CACHE_DIR/fetch.log)"
    fi
    ls "$tmp"/kafka_2.13-*.jar >/dev/null 2>&1 || die "no kafka_2.13 jar after fetch (see $CACHE_DIR/fetch.log)"
    pom_sum >"$tmp/.fetched"
    rm -rf "$LIBS_DIR.old"
    [[ -d "$LIBS_DIR" ]] && mv "$LIBS_DIR" "$LIBS_DIR.old"
    mv "$tmp" "$LIBS_DIR"
    rm -rf "$LIBS_DIR.old" "$CACHE_DIR/check-classes"
    local jars=("$LIBS_DIR"/*.jar)
    log "fetched ${#jars[@]} jars in $((SECONDS - t0)) s"
  ) 9>"$CACHE_DIR/.fetch.lock"
}

kafka_version() {
  local j
  for j in "$LIBS_DIR"/kafka_2.13-*.jar; do
    [[ -f "$j" ]] || break
    j="${j##*/kafka_2.13-}"; echo "${j%.jar}"; return 0
  done
  echo "(not fetched)"
}

# ---------------------------------------------------------------------------------------------
# process helpers

# pid of OUR broker (pid file + live process whose command line names our config), or nothing.
broker_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid cmd
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  is_uint "$pid" || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  if [[ -r "/proc/$pid/cmdline" ]]; then
    cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline")"
  else
    cmd="$(ps -p "$pid" -o args= 2>/dev/null || true)"
  fi
  [[ "$cmd" == *kafka.Kafka*"$CONF"* ]] || return 1
  echo "$pid"
}

port_open() { (exec 3<>"/dev/tcp/$KAFKA_HOST/$1") 2>/dev/null; }

# ---------------------------------------------------------------------------------------------
# config + storage

write_config() {
  mkdir -p "$STATE_DIR" "$DATA_DIR" "$LOG_DIR"
  cat >"$CONF.tmp" <<EOF
# Written by deploy/kafka/kafkactl.sh on every start - edit the script / env, not this file.
# Single-node KRaft: one process is both broker and controller.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT,CONTROLLER://$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT

log.dirs=$DATA_DIR

# topics
num.partitions=$NUM_PARTITIONS
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=true

# internal topics on a single node
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1

# consumer groups: no 3 s wait before the first rebalance
group.initial.rebalance.delay.ms=0

# small machine
num.network.threads=3
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.cleaner.dedupe.buffer.size=33554432
EOF
  if [[ -n "${KAFKA_EXTRA_CONFIG:-}" ]]; then
    printf '\n# KAFKA_EXTRA_CONFIG\n%s\n' "$KAFKA_EXTRA_CONFIG" >>"$CONF.tmp"
  fi
  mv "$CONF.tmp" "$CONF"
}

random_cluster_id() {
  # A Kafka Uuid: 16 random bytes, base64url without padding (22 chars); like
  # Uuid.randomUuid(), avoid a leading '-' so it can't be taken for a CLI flag.
  local id
  while :; do
    id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
    [[ ${#id} -eq 22 && "$id" != -* ]] && { echo "$id"; return; }
  done
}

tool_java() {  # run a short-lived JVM on the Kafka classpath, logging to tools.log
  # shellcheck disable=SC2086
  "$JAVA" $TOOL_JVM_OPTS -Dkafka.logs.dir="$LOG_DIR" -Dkafka.log.file=tools.log \
    -Dkafka.root.log.level="${KAFKA_TOOLS_LOG_LEVEL:-WARN}" -Dlog4j2.configurationFile="$LOG4J_CONF" \
    -cp "$LIBS_DIR/*${1:+:$1}" "${@:2}"
}

format_storage() {
  [[ -f "$DATA_DIR/meta.properties" ]] && return 0
  local cid; cid="$(random_cluster_id)"
  log "formatting $DATA_DIR (cluster id $cid)"
  tool_java "" kafka.tools.StorageTool format --ignore-formatted -t "$cid" -c "$CONF" \
    >"$LOG_DIR/format.out" 2>&1 || { cat "$LOG_DIR/format.out" >&2; die "storage format failed"; }
}

# ---------------------------------------------------------------------------------------------
# readiness check: a tiny AdminClient program, compiled once next to the jar cache.

CHECK_SRC='import java.util.*;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.*;
import org.apache.kafka.common.Node;

/** args: bootstrap timeoutSeconds brokerPid expectedNodeId. Exit 0 ready, 1 timeout, 2 broker died. */
public class KafkaReady {
  public static void main(String[] a) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.parseLong(a[1]));
    long pid = Long.parseLong(a[2]);
    int nodeId = Integer.parseInt(a[3]);
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, a[0]);
    p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
    p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "5000");
    p.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "500");
    p.put(AdminClientConfig.CLIENT_ID_CONFIG, "kafkactl-wait");
    String last = "no answer yet";
    try (Admin admin = Admin.create(p)) {
      while (System.nanoTime() < deadline) {
        if (pid > 0 && !ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
          System.err.println("broker process " + pid + " exited");
          System.exit(2);
        }
        try {
          DescribeClusterResult dc = admin.describeCluster();
          Collection<Node> nodes = dc.nodes().get(5, TimeUnit.SECONDS);
          String clusterId = dc.clusterId().get(5, TimeUnit.SECONDS);
          Node controller = dc.controller().get(5, TimeUnit.SECONDS);
          Set<String> topics = admin.listTopics(new ListTopicsOptions().listInternal(true)).names().get(5, TimeUnit.SECONDS);
          if (nodes.stream().anyMatch(n -> n.id() == nodeId)) {
            System.out.println("ready: cluster " + clusterId + ", brokers " + nodes + ", controller " + controller.id() + ", " + topics.size() + " topics");
            System.exit(0);
          }
          last = "broker " + nodeId + " not in metadata yet: " + nodes;
        } catch (Exception e) {
          last = String.valueOf(e.getCause() != null ? e.getCause() : e);
        }
        Thread.sleep(300);
      }
    }
    System.err.println("timed out; last: " + last);
    System.exit(1);
  }
}'

check_classes() {
  local dir="$CACHE_DIR/check-classes"
  if [[ ! -f "$dir/KafkaReady.class" ]]; then
    (
      flock 9
      [[ -f "$dir/KafkaReady.class" ]] && exit 0
      rm -rf "$dir.tmp.$$" && mkdir -p "$dir.tmp.$$"
      printf '%s\n' "$CHECK_SRC" >"$dir.tmp.$$/KafkaReady.java"
      "$JAVAC" -nowarn -cp "$LIBS_DIR/*" -d "$dir.tmp.$$" "$dir.tmp.$$/KafkaReady.java" >&2 ||
        { rm -rf "$dir.tmp.$$"; die "could not compile the readiness check"; }
      rm -rf "$dir" && mv "$dir.tmp.$$" "$dir"
    ) 9>"$CACHE_DIR/.check.lock"
  fi
  echo "$dir"
}

# ---------------------------------------------------------------------------------------------
# commands

cmd_start() {
  local pid
  if pid="$(broker_pid)"; then log "already running (pid $pid)"; return 0; fi
  rm -f "$PID_FILE"
  command -v "$JAVA" >/dev/null || die "java not found (Java 17+ needed)"
  for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
    port_open "$p" && die "port $KAFKA_HOST:$p is already in use (another broker? set KAFKA_PORT / KAFKA_CONTROLLER_PORT)"
  done
  fetch
  write_config
  format_storage
  log "starting Kafka $(kafka_version) on $KAFKA_HOST:$KAFKA_PORT (controller :$KAFKA_CONTROLLER_PORT), state $STATE_DIR"
  echo "==== start $(date -u +%FT%TZ)" >>"$OUT_FILE"
  # setsid: own session, so the broker outlives this shell and a Ctrl-C in it. The inner
  # shell writes its own pid and then execs java, so the pid file holds the JVM's pid.
  # shellcheck disable=SC2086,SC2016
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$PID_FILE" \
    "$JAVA" $HEAP_OPTS $JVM_OPTS ${KAFKA_OPTS:-} \
    -Dkafka.logs.dir="$LOG_DIR" -Dkafka.log.file=server.log -Dkafka.root.log.level="$LOG_LEVEL" \
    -Dlog4j2.configurationFile="$LOG4J_CONF" \
    -cp "$LIBS_DIR/*" kafka.Kafka "$CONF" \
    </dev/null >>"$OUT_FILE" 2>&1 9>&- &
  local i
  for i in 1 2 3 4 5 6 7 8 9 10; do   # wait for the pid file, and catch instant failures
    sleep 0.2
    if pid="$(broker_pid)"; then break; fi
  done
  sleep 1
  if ! pid="$(broker_pid)"; then
    tail -n 30 "$OUT_FILE" >&2 || true
    tail -n 30 "$SERVER_LOG" >&2 2>/dev/null || true
    die "broker exited right after start (logs: $LOG_DIR)"
  fi
  log "started (pid $pid); logs in $LOG_DIR; run '$0 wait' to wait until it is ready"
}

cmd_wait() {
  local timeout="${1:-$WAIT_TIMEOUT}" pid t0=$SECONDS
  is_uint "$timeout" || die "wait: timeout must be seconds, got '$timeout'"
  pid="$(broker_pid)" || die "not running (start it first)"
  # 1) cheap: until the PLAINTEXT port accepts connections
  until port_open "$KAFKA_PORT"; do
    broker_pid >/dev/null || { tail -n 30 "$SERVER_LOG" >&2 2>/dev/null || true; die "broker process exited while starting (logs: $LOG_DIR)"; }
    (( SECONDS - t0 < timeout )) || die "timed out after ${timeout}s: port $KAFKA_PORT not open"
    sleep 0.3
  done
  # 2) robust: an AdminClient gets cluster metadata that lists this broker
  local dir left rc=0
  dir="$(check_classes)"
  left=$(( timeout - (SECONDS - t0) )); (( left > 5 )) || left=5
  tool_java "$dir" KafkaReady "$KAFKA_HOST:$KAFKA_PORT" "$left" "$pid" 1 || rc=$?
  case "$rc" in
    0) log "ready after $((SECONDS - t0)) s" ;;
    2) tail -n 30 "$SERVER_LOG" >&2 2>/dev/null || true; die "broker process exited while starting (logs: $LOG_DIR)" ;;
    *) die "not ready after ${timeout}s (logs: $LOG_DIR)" ;;
  esac
}

cmd_stop() {
  local pid i
  if ! pid="$(broker_pid)"; then rm -f "$PID_FILE"; log "not running"; return 0; fi
  log "stopping (pid $pid) ..."
  kill -TERM "$pid" 2>/dev/null || true
  for (( i = 0; i < STOP_TIMEOUT * 5; i++ )); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$PID_FILE"; log "stopped"; return 0; }
    sleep 0.2
  done
  log "still running after ${STOP_TIMEOUT}s: SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for (( i = 0; i < 50; i++ )); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$PID_FILE"
  log "killed"
}

cmd_status() {
  local pid
  if pid="$(broker_pid)"; then
    echo "running: pid $pid, $KAFKA_HOST:$KAFKA_PORT (controller :$KAFKA_CONTROLLER_PORT), state $STATE_DIR"
    return 0
  fi
  echo "not running (state $STATE_DIR)"
  return 3
}

cmd_logs() {
  [[ -f "$SERVER_LOG" ]] || die "no log yet: $SERVER_LOG"
  if [[ "${1:-}" == "-f" ]]; then exec tail -n "${KAFKA_LOG_LINES:-200}" -F "$SERVER_LOG"; fi
  tail -n "${KAFKA_LOG_LINES:-200}" "$SERVER_LOG"
}

cmd_reset() {
  cmd_stop
  log "deleting $DATA_DIR, $LOG_DIR and $CONF"
  rm -rf "$DATA_DIR" "$LOG_DIR" "$CONF" "$PID_FILE"
}

cmd_config() {
  cat <<EOF
kafka version    $(kafka_version)
bootstrap        $KAFKA_HOST:$KAFKA_PORT
controller       $KAFKA_HOST:$KAFKA_CONTROLLER_PORT
state dir        $STATE_DIR
data dir         $DATA_DIR
libs dir         $LIBS_DIR
config           $CONF
broker log       $SERVER_LOG
pid file         $PID_FILE
EOF
}

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; }

case "${1:-}" in
  start)  cmd_start ;;
  stop)   cmd_stop ;;
  status) cmd_status ;;
  wait)   cmd_wait "${2:-}" ;;
  logs)   cmd_logs "${2:-}" ;;
  reset)  cmd_reset ;;
  fetch)  fetch; log "jars ready in $LIBS_DIR (Kafka $(kafka_version))" ;;
  config) cmd_config ;;
  -h|--help|help) usage ;;
  *) usage; exit 2 ;;
esac
