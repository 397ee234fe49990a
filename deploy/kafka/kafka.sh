#!/usr/bin/env bash
# A single-node Apache Kafka 3.9.1 broker (KRaft: broker and controller in one JVM) for tests and
# local runs, without Docker: the jars come from Maven Central through Maven (deploy/kafka/pom.xml)
# and run on the local Java (17+). See docs/kafka.md.
#
#   kafka.sh fetch                     download the jars once, into $NIMBLE_KAFKA_HOME/libs
#                                      (default ~/.cache/nimble/kafka-3.9.1); prints that path
#   kafka.sh start [--port 9092] [--controller-port 9093] [--dir ./.kafka-data] [--owner-pid PID]
#                  [--host 127.0.0.1]
#                                      fetch if needed, format the data directory the first time,
#                                      start the broker in the background and wait until it serves;
#                                      with --owner-pid, stop it when process PID is gone (tests);
#                                      --host: the address it listens on and advertises
#   kafka.sh stop [--dir ./.kafka-data]
#                                      SIGTERM the broker, SIGKILL it after 20 s
#
# The data directory holds server.properties, log4j.properties (and tools-log4j.properties),
# kafka.pid, kafka.log (the broker's output, rewritten on every start) and data/ (the topics and
# the metadata log).
set -euo pipefail

readonly KAFKA_VERSION=3.9.1
readonly START_TIMEOUT_SECONDS=60
readonly STOP_TIMEOUT_SECONDS=20
readonly STARTED_LINE='Kafka Server started'

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly script_dir
kafka_home=${NIMBLE_KAFKA_HOME:-$HOME/.cache/nimble/kafka-$KAFKA_VERSION}
readonly kafka_home
readonly libs=$kafka_home/libs
# Written after Maven succeeded: the digest of the pom.xml the jars were fetched with, so that a
# changed pom.xml fetches again.
readonly marker=$kafka_home/.fetched

usage() {
  sed -n '2,19s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

die() {
  echo "kafka.sh: $*" >&2
  exit 1
}

# Milliseconds since the epoch (bash 5's EPOCHREALTIME; whole seconds on older shells).
now_ms() {
  if [[ -n ${EPOCHREALTIME:-} ]]; then
    local t=${EPOCHREALTIME/[.,]/}
    echo $((10#$t / 1000))
  else
    echo $(($(date +%s) * 1000))
  fi
}

pom_digest() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$script_dir/pom.xml" | cut -d ' ' -f 1
  else
    shasum -a 256 "$script_dir/pom.xml" | cut -d ' ' -f 1
  fi
}

fetched() {
  [[ -f $marker && -d $libs && "$(cat "$marker")" == "$(pom_digest)" ]]
}

# fetch [--quiet]: --quiet prints nothing when the jars are already there.
fetch() {
  local quiet=${1:-}
  if fetched; then
    [[ $quiet == --quiet ]] || echo "Kafka $KAFKA_VERSION is already fetched: $libs"
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn (Apache Maven) is not installed"
  mkdir -p "$kafka_home"
  # One fetch at a time (test files start brokers in parallel); the others wait, then find the
  # marker.
  exec 9>"$kafka_home/.lock"
  if command -v flock >/dev/null 2>&1; then flock 9; fi
  if fetched; then
    exec 9>&-
    [[ $quiet == --quiet ]] || echo "Kafka $KAFKA_VERSION is already fetched: $libs"
    return 0
  fi
  echo "Fetching Kafka $KAFKA_VERSION from Maven Central into $libs ..."
  rm -f "$marker"
  # Maven runs on a copy of the pom, so that it leaves nothing in the checkout.
  cp "$script_dir/pom.xml" "$kafka_home/pom.xml"
  local tmp
  tmp=$(mktemp -d "$kafka_home/libs.XXXXXX")
  if ! mvn -q -B -f "$kafka_home/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$tmp" -DincludeScope=runtime >"$kafka_home/fetch.log" 2>&1; then
    tail -n 50 "$kafka_home/fetch.log" >&2
    rm -rf "$tmp"
    die "mvn failed (log: $kafka_home/fetch.log)"
  fi
  rm -rf "$libs"
  mv "$tmp" "$libs"
  pom_digest >"$marker"
  exec 9>&-
  echo "Fetched Kafka $KAFKA_VERSION ($(find "$libs" -name '*.jar' | wc -l | tr -d ' ') jars): $libs"
}

# running PID: the process exists and is not a zombie.
running() {
  local stat
  kill -0 "$1" 2>/dev/null || return 1
  stat=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ $stat != Z* ]]
}

# alive PID: running, and a Kafka broker (a pid from a pid file may have been reused since).
alive() {
  local args
  running "$1" || return 1
  args=$(ps -o args= -p "$1" 2>/dev/null) || return 1
  [[ $args == *kafka.Kafka* ]]
}

# terminate PID: SIGTERM, then SIGKILL after STOP_TIMEOUT_SECONDS.
terminate() {
  local pid=$1 deadline=$((SECONDS + STOP_TIMEOUT_SECONDS))
  kill -TERM "$pid" 2>/dev/null || return 0
  while alive "$pid"; do
    if ((SECONDS >= deadline)); then
      echo "Kafka (pid $pid) did not stop within ${STOP_TIMEOUT_SECONDS} s: SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.2
      return 0
    fi
    sleep 0.2
  done
}

# show_log LOG: its first errors (a failed start logs pages of shutdown after the cause) and its
# last 50 lines, on stderr.
show_log() {
  {
    echo "--- first errors in $1 ---"
    grep -m 10 -E '\] (ERROR|FATAL) |Exception: ' "$1" || true
    echo "--- last 50 lines of $1 ---"
    tail -n 50 "$1"
  } >&2
}

check_port() {
  [[ $2 =~ ^[0-9]+$ ]] && (($2 > 0 && $2 < 65536)) || die "$1: not a port number: $2"
}

start() {
  local port=9092 controller_port=9093 dir=./.kafka-data owner_pid= host=127.0.0.1
  while (($# > 0)); do
    case $1 in
      --port) port=${2:?--port needs a value}; shift 2 ;;
      --port=*) port=${1#*=}; shift ;;
      --controller-port) controller_port=${2:?--controller-port needs a value}; shift 2 ;;
      --controller-port=*) controller_port=${1#*=}; shift ;;
      --dir) dir=${2:?--dir needs a value}; shift 2 ;;
      --dir=*) dir=${1#*=}; shift ;;
      --owner-pid) owner_pid=${2:?--owner-pid needs a value}; shift 2 ;;
      --owner-pid=*) owner_pid=${1#*=}; shift ;;
      --host) host=${2:?--host needs a value}; shift 2 ;;
      --host=*) host=${1#*=}; shift ;;
      *) die "start: unknown argument: $1 (see kafka.sh help)" ;;
    esac
  done
  check_port --port "$port"
  check_port --controller-port "$controller_port"
  [[ $port != "$controller_port" ]] || die "--port and --controller-port must differ"
  if [[ -n $owner_pid ]]; then
    [[ $owner_pid =~ ^[0-9]+$ ]] && kill -0 "$owner_pid" 2>/dev/null ||
      die "--owner-pid: no such process: $owner_pid"
  fi
  command -v java >/dev/null 2>&1 || die "java (17 or later) is not installed"

  local began
  began=$(now_ms)
  fetch --quiet
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  local pid_file=$dir/kafka.pid log=$dir/kafka.log
  if [[ -f $pid_file ]]; then
    local old_pid
    old_pid=$(cat "$pid_file")
    if [[ -n $old_pid ]] && alive "$old_pid"; then
      die "a broker is already running from $dir (pid $old_pid); stop it first: kafka.sh stop --dir $dir"
    fi
    rm -f "$pid_file"
  fi

  cat >"$dir/server.properties" <<EOF
# Written by deploy/kafka/kafka.sh on every start.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$host:$controller_port
listeners=PLAINTEXT://$host:$port,CONTROLLER://$host:$controller_port
advertised.listeners=PLAINTEXT://$host:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
group.initial.rebalance.delay.ms=0
EOF

  # The broker's output goes to kafka.log: INFO, except for the chattiest loggers. The "Kafka
  # Server started" line of kafka.server.KafkaRaftServer is what start waits for.
  cat >"$dir/log4j.properties" <<'EOF'
# Written by deploy/kafka/kafka.sh on every start.
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaRaftServer=INFO
log4j.logger.kafka.request.logger=WARN
log4j.logger.kafka.network.RequestChannel$=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.log=WARN
log4j.logger.org.apache.kafka.storage=WARN
log4j.logger.kafka.cluster.Partition=WARN
log4j.logger.kafka.server.ReplicaFetcherManager=WARN
log4j.logger.kafka.server.ReplicaAlterLogDirsManager=WARN
log4j.logger.org.apache.kafka.common.utils.AppInfoParser=WARN
log4j.logger.org.apache.kafka.common.config.AbstractConfig=WARN
log4j.logger.kafka.server.KafkaConfig=WARN
log4j.logger.org.apache.zookeeper=WARN
EOF

  # The storage tool prints its result on stdout (the cluster id), so it logs to stderr only.
  cat >"$dir/tools-log4j.properties" <<'EOF'
# Written by deploy/kafka/kafka.sh on every start.
log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
EOF

  : >"$log"
  if [[ ! -f $dir/data/meta.properties ]]; then
    local -a tool=(java -Xmx256m "-Dlog4j.configuration=file:$dir/tools-log4j.properties"
      -cp "$libs/*" kafka.tools.StorageTool)
    local cluster_id
    cluster_id=$("${tool[@]}" random-uuid 2>>"$log") ||
      { show_log "$log"; die "kafka.tools.StorageTool random-uuid failed"; }
    [[ $cluster_id =~ ^[A-Za-z0-9_-]{22}$ ]] ||
      die "kafka.tools.StorageTool random-uuid printed no cluster id: $cluster_id"
    "${tool[@]}" format -t "$cluster_id" -c "$dir/server.properties" >>"$log" 2>&1 ||
      { show_log "$log"; die "formatting $dir/data failed"; }
  fi

  local -a java_opts=(
    -Xms256m -Xmx1g -XX:+UseG1GC -Djava.awt.headless=true
    "-Dlog4j.configuration=file:$dir/log4j.properties"
  )

  # No pipe of the caller's is kept open by the broker (a caller waiting for this script's output
  # would wait for the broker), and a hangup does not stop it.
  nohup java "${java_opts[@]}" -cp "$libs/*" kafka.Kafka "$dir/server.properties" \
    >>"$log" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$pid_file"
  if [[ -n $owner_pid ]]; then
    # A watchdog: once the owner is gone (even killed with SIGKILL, so that it could not stop the
    # broker itself), SIGTERM the broker and SIGKILL it after STOP_TIMEOUT_SECONDS. It ends with
    # the broker.
    nohup bash -c '
      owner=$1 broker=$2 timeout=$3
      while kill -0 "$broker" 2>/dev/null; do
        if ! kill -0 "$owner" 2>/dev/null; then
          kill -TERM "$broker" 2>/dev/null
          for ((i = 0; i < timeout * 5; i++)); do
            kill -0 "$broker" 2>/dev/null || exit 0
            sleep 0.2
          done
          kill -KILL "$broker" 2>/dev/null
          exit 0
        fi
        sleep 1
      done' kafka-watchdog "$owner_pid" "$pid" "$STOP_TIMEOUT_SECONDS" >/dev/null 2>&1 </dev/null &
  fi

  local deadline=$((SECONDS + START_TIMEOUT_SECONDS))
  until grep -qF "$STARTED_LINE" "$log"; do
    # running, not alive: the child may not have exec'd java yet.
    if ! running "$pid"; then
      show_log "$log"
      rm -f "$pid_file"
      die "Kafka exited during startup (log: $log)"
    fi
    if ((SECONDS >= deadline)); then
      show_log "$log"
      terminate "$pid"
      rm -f "$pid_file"
      die "Kafka did not start within ${START_TIMEOUT_SECONDS} s (log: $log)"
    fi
    sleep 0.1
  done
  local took=$(($(now_ms) - began))
  printf 'Started Kafka (pid %s) in %d.%01d s\n' "$pid" $((took / 1000)) $((took % 1000 / 100))
  echo "Kafka $KAFKA_VERSION is listening on $host:$port (data: $dir)"
}

stop() {
  local dir=./.kafka-data
  while (($# > 0)); do
    case $1 in
      --dir) dir=${2:?--dir needs a value}; shift 2 ;;
      --dir=*) dir=${1#*=}; shift ;;
      *) die "stop: unknown argument: $1 (see kafka.sh help)" ;;
    esac
  done
  local pid_file=$dir/kafka.pid pid
  if [[ ! -f $pid_file ]]; then
    echo "No Kafka broker is running from $dir (no $pid_file)"
    return 0
  fi
  pid=$(cat "$pid_file")
  if [[ -z $pid ]] || ! alive "$pid"; then
    rm -f "$pid_file"
    echo "No Kafka broker is running from $dir (pid ${pid:-?} is gone)"
    return 0
  fi
  terminate "$pid"
  rm -f "$pid_file"
  echo "Stopped Kafka (pid $pid, data: $dir)"
}

command=${1:-help}
(($# == 0)) || shift
case $command in
  fetch) (($# == 0)) || die "fetch takes no arguments"; fetch ;;
  start) start "$@" ;;
  stop) stop "$@" ;;
  help | -h | --help) usage ;;
  *) usage >&2; die "unknown command: $command" ;;
esac
