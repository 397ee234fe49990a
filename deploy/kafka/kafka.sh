#!/usr/bin/env bash
# A single-node Apache Kafka 3.9.1 broker (KRaft: broker and controller in one JVM) for tests and
# local runs, without Docker: the jars come from Maven Central through Maven (deploy/kafka/pom.xml)
# and run on the local Java (17+). See docs/connectors/kafka.md.
#
#   kafka.sh fetch                     download the jars once, into $NIMBLE_KAFKA_HOME/libs
#                                      (default ~/.cache/nimble/kafka-3.9.1); prints that path
#   kafka.sh start [--port 9092] [--controller-port 9093] [--dir ./.kafka-data] [--owner-pid PID]
#                  [--host 127.0.0.1] [--sasl-ssl-port P] [--ssl-port P] [--user NAME:PASSWORD]
#                                      fetch if needed, format the data directory the first time,
#                                      start the broker in the background and wait until it serves;
#                                      with --owner-pid, stop it when process PID is gone (tests);
#                                      --host: the address it listens on and advertises;
#                                      --sasl-ssl-port: a SASL_SSL listener too (PLAIN,
#                                      SCRAM-SHA-256, SCRAM-SHA-512 for each --user);
#                                      --ssl-port: an SSL listener that requires a client
#                                      certificate; both with a CA and certificates made by
#                                      openssl in DIR/tls (ca.pem, client.pem: PEM)
#   kafka.sh stop [--dir ./.kafka-data]
#                                      SIGTERM the broker, SIGKILL it after 20 s
#   kafka.sh add-scram-user --bootstrap-server HOST:PORT --user NAME:PASSWORD
#                                      adds (or changes) a user's SCRAM-SHA-256 and -512
#                                      credentials on a running broker (through its PLAINTEXT port)
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

readonly daemon_name='Kafka broker' daemon_pattern='*kafka.Kafka*'
readonly default_dir=./.kafka-data pid_file_name=kafka.pid
# What show_log picks out of the daemon's log as its first errors.
readonly log_errors='\] (ERROR|FATAL) |Exception: '
# shellcheck source=../lib/daemon.sh
source "$script_dir/../lib/daemon.sh"

usage() {
  sed -n '2,29s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
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

# make_certificates DIR HOST: a CA, and a broker and a client certificate it signed (for HOST,
# localhost and 127.0.0.1), PEM, unless DIR has them already: ca.pem, broker.pem and client.pem
# (the private key and the certificate: Kafka's ssl.keystore.type=PEM).
make_certificates() {
  local tls=$1 host=$2 name
  [[ -f $tls/ca.pem && -f $tls/broker.pem && -f $tls/client.pem ]] && return 0
  command -v openssl >/dev/null 2>&1 || die "openssl is not installed (needed for the TLS listeners)"
  mkdir -p "$tls"
  local san="DNS:localhost,IP:127.0.0.1"
  if [[ $host != 127.0.0.1 && $host != localhost ]]; then
    if [[ $host =~ ^[0-9.]+$ ]]; then san+=",IP:$host"; else san+=",DNS:$host"; fi
  fi
  if ! (
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=Nimble test CA" \
      -keyout "$tls/ca.key" -out "$tls/ca.pem" || exit 1
    for name in broker client; do
      openssl req -newkey rsa:2048 -nodes -subj "/CN=$name" \
        -keyout "$tls/$name.key" -out "$tls/$name.csr" &&
        printf 'subjectAltName=%s\n' "$san" >"$tls/$name.ext" &&
        openssl x509 -req -in "$tls/$name.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" \
          -CAcreateserial -days 30 -extfile "$tls/$name.ext" -out "$tls/$name.crt" &&
        cat "$tls/$name.key" "$tls/$name.crt" >"$tls/$name.pem" || exit 1
    done
  ) >"$tls/openssl.log" 2>&1; then
    cat "$tls/openssl.log" >&2
    die "openssl failed making certificates in $tls"
  fi
}

check_port() {
  [[ $2 =~ ^[0-9]+$ ]] && (($2 > 0 && $2 < 65536)) || die "$1: not a port number: $2"
}

start() {
  local port=9092 controller_port=9093 dir=./.kafka-data owner_pid= host=127.0.0.1
  local sasl_ssl_port= ssl_port=
  local -a users=()
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
      --sasl-ssl-port) sasl_ssl_port=${2:?--sasl-ssl-port needs a value}; shift 2 ;;
      --sasl-ssl-port=*) sasl_ssl_port=${1#*=}; shift ;;
      --ssl-port) ssl_port=${2:?--ssl-port needs a value}; shift 2 ;;
      --ssl-port=*) ssl_port=${1#*=}; shift ;;
      --user) users+=("${2:?--user needs a value}"); shift 2 ;;
      --user=*) users+=("${1#*=}"); shift ;;
      *) die "start: unknown argument: $1 (see kafka.sh help)" ;;
    esac
  done
  check_port --port "$port"
  check_port --controller-port "$controller_port"
  [[ $port != "$controller_port" ]] || die "--port and --controller-port must differ"
  [[ -z $sasl_ssl_port ]] || check_port --sasl-ssl-port "$sasl_ssl_port"
  [[ -z $ssl_port ]] || check_port --ssl-port "$ssl_port"
  local user
  for user in "${users[@]}"; do
    [[ $user =~ ^[A-Za-z0-9_.-]+:[^\",=[:space:]]+$ ]] ||
      die "--user must be NAME:PASSWORD (no quotes, commas, = or spaces in the password): $user"
  done
  if [[ -n $sasl_ssl_port ]] && ((${#users[@]} == 0)); then
    die "--sasl-ssl-port needs at least one --user NAME:PASSWORD"
  fi
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

  local listeners="PLAINTEXT://$host:$port" advertised="PLAINTEXT://$host:$port"
  local protocols=PLAINTEXT:PLAINTEXT
  if [[ -n $sasl_ssl_port ]]; then
    listeners+=",SASL_SSL://$host:$sasl_ssl_port"
    advertised+=",SASL_SSL://$host:$sasl_ssl_port"
    protocols+=",SASL_SSL:SASL_SSL"
  fi
  if [[ -n $ssl_port ]]; then
    listeners+=",SSL://$host:$ssl_port"
    advertised+=",SSL://$host:$ssl_port"
    protocols+=",SSL:SSL"
  fi
  cat >"$dir/server.properties" <<EOF
# Written by deploy/kafka/kafka.sh on every start.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$host:$controller_port
listeners=$listeners,CONTROLLER://$host:$controller_port
advertised.listeners=$advertised
controller.listener.names=CONTROLLER
listener.security.protocol.map=$protocols,CONTROLLER:PLAINTEXT
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
# Sinks write each element's timestamp (event time, as Flink's KafkaSink does), which may be weeks
# old in a replay or a test: no time-based deletion, or such records would vanish at the next
# retention check (30 s after the start, then every 5 minutes).
log.retention.ms=-1
EOF
  if [[ -n $sasl_ssl_port || -n $ssl_port ]]; then
    make_certificates "$dir/tls" "$host"
    cat >>"$dir/server.properties" <<EOF
ssl.keystore.type=PEM
ssl.keystore.location=$dir/tls/broker.pem
ssl.truststore.type=PEM
ssl.truststore.location=$dir/tls/ca.pem
listener.name.ssl.ssl.client.auth=required
EOF
  fi
  if [[ -n $sasl_ssl_port ]]; then
    local plain_users=''
    for user in "${users[@]}"; do plain_users+=" user_${user%%:*}=\"${user#*:}\""; done
    cat >>"$dir/server.properties" <<EOF
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required$plain_users;
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
EOF
  fi

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
      { show_log "$log" "$log_errors"; die "kafka.tools.StorageTool random-uuid failed"; }
    [[ $cluster_id =~ ^[A-Za-z0-9_-]{22}$ ]] ||
      die "kafka.tools.StorageTool random-uuid printed no cluster id: $cluster_id"
    # SCRAM credentials are part of the metadata log in KRaft: written when formatting.
    local -a scram=()
    for user in "${users[@]}"; do
      scram+=(--add-scram "SCRAM-SHA-256=[name=${user%%:*},password=${user#*:}]")
      scram+=(--add-scram "SCRAM-SHA-512=[name=${user%%:*},password=${user#*:}]")
    done
    "${tool[@]}" format -t "$cluster_id" -c "$dir/server.properties" "${scram[@]}" >>"$log" 2>&1 ||
      { show_log "$log" "$log_errors"; die "formatting $dir/data failed"; }
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
      show_log "$log" "$log_errors"
      rm -f "$pid_file"
      die "Kafka exited during startup (log: $log)"
    fi
    if ((SECONDS >= deadline)); then
      show_log "$log" "$log_errors"
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

add_scram_user() {
  local bootstrap= user=
  while (($# > 0)); do
    case $1 in
      --bootstrap-server) bootstrap=${2:?--bootstrap-server needs a value}; shift 2 ;;
      --user) user=${2:?--user needs a value}; shift 2 ;;
      *) die "add-scram-user: unknown argument: $1 (see kafka.sh help)" ;;
    esac
  done
  [[ -n $bootstrap ]] || die "add-scram-user needs --bootstrap-server HOST:PORT"
  [[ $user =~ ^[A-Za-z0-9_.-]+:[^\",=[:space:]]+$ ]] ||
    die "--user must be NAME:PASSWORD (no quotes, commas, = or spaces in the password): $user"
  fetch --quiet
  local name=${user%%:*} password=${user#*:}
  local mechanism
  # One mechanism per request: the broker refuses to alter a user's credentials twice in one.
  for mechanism in SCRAM-SHA-256 SCRAM-SHA-512; do
    java -Xmx256m -cp "$libs/*" kafka.admin.ConfigCommand --bootstrap-server "$bootstrap" \
      --alter --entity-type users --entity-name "$name" \
      --add-config "$mechanism=[password=$password]" 2>&1 | grep -v -E 'log4j|SLF4J' || true
  done
  # ConfigCommand exits 0 also when the broker refused: check that the credentials are there.
  java -Xmx256m -cp "$libs/*" kafka.admin.ConfigCommand --bootstrap-server "$bootstrap" \
    --describe --entity-type users --entity-name "$name" 2>/dev/null |
    grep -q 'SCRAM-SHA-256.*SCRAM-SHA-512\|SCRAM-SHA-512.*SCRAM-SHA-256' || die "the broker at $bootstrap has no SCRAM credentials for $name"
}

command=${1:-help}
(($# == 0)) || shift
case $command in
  fetch) (($# == 0)) || die "fetch takes no arguments"; fetch ;;
  start) start "$@" ;;
  stop) stop_daemon "$@" ;;
  add-scram-user) add_scram_user "$@" ;;
  help | -h | --help) usage ;;
  *) usage >&2; die "unknown command: $command" ;;
esac
