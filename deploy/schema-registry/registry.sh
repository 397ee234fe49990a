#!/usr/bin/env bash
# A Confluent-compatible schema registry (Apicurio Registry 2.4.2.Final, in-memory storage) for
# tests and local runs, without Docker: built from its jars on Maven Central by Maven
# (deploy/schema-registry/pom.xml) and run on the local Java (17+). Its Confluent API is
# http://<host>:<port>/apis/ccompat/v7. See docs/connectors/avro.md.
#
#   registry.sh fetch                  build the registry once, into $NIMBLE_REGISTRY_HOME
#                                      (default ~/.cache/nimble/apicurio-registry-2.4.2.Final);
#                                      prints that path
#   registry.sh start [--port 8081] [--dir ./.registry-data] [--owner-pid PID] [--host 127.0.0.1]
#                                      fetch if needed, start the registry in the background and
#                                      wait until it serves; with --owner-pid, stop it when
#                                      process PID is gone (tests)
#   registry.sh stop [--dir ./.registry-data]
#                                      SIGTERM the registry, SIGKILL it after 20 s
#
# The data directory holds registry.pid and registry.log (its output, rewritten on every start).
# The schemas live in memory: a restarted registry starts empty.
set -euo pipefail

readonly REGISTRY_VERSION=2.4.2.Final
readonly START_TIMEOUT_SECONDS=120
readonly STOP_TIMEOUT_SECONDS=20

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly script_dir
registry_home=${NIMBLE_REGISTRY_HOME:-$HOME/.cache/nimble/apicurio-registry-$REGISTRY_VERSION}
readonly registry_home
readonly jar=$registry_home/app/nimble-schema-registry-$REGISTRY_VERSION-runner.jar
# Written after Maven succeeded: the digest of the sources it built, so that a change builds again.
readonly marker=$registry_home/.fetched

readonly daemon_name='schema registry' daemon_pattern='*nimble-schema-registry-*'
readonly default_dir=./.registry-data pid_file_name=registry.pid
# What show_log picks out of the daemon's log as its first errors.
readonly log_errors=' (ERROR|FATAL) |Exception: '
# shellcheck source=../lib/daemon.sh
source "$script_dir/../lib/daemon.sh"

usage() {
  sed -n '2,18s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

die() {
  echo "registry.sh: $*" >&2
  exit 1
}

sources_digest() {
  local sum=sha256sum
  command -v sha256sum >/dev/null 2>&1 || sum='shasum -a 256'
  (cd "$script_dir" && cat pom.xml $(find src -type f | sort)) | $sum | cut -d ' ' -f 1
}

fetched() {
  [[ -f $marker && -f $jar && "$(cat "$marker")" == "$(sources_digest)" ]]
}

# fetch [--quiet]: --quiet prints nothing when the registry is already built.
fetch() {
  local quiet=${1:-}
  if fetched; then
    [[ $quiet == --quiet ]] || echo "Apicurio Registry $REGISTRY_VERSION is already fetched: $registry_home/app"
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn (Apache Maven) is not installed"
  mkdir -p "$registry_home"
  # One build at a time; the others wait, then find the marker.
  exec 9>"$registry_home/.lock"
  if command -v flock >/dev/null 2>&1; then flock 9; fi
  if fetched; then
    exec 9>&-
    [[ $quiet == --quiet ]] || echo "Apicurio Registry $REGISTRY_VERSION is already fetched: $registry_home/app"
    return 0
  fi
  echo "Building Apicurio Registry $REGISTRY_VERSION from Maven Central into $registry_home/app ..."
  rm -f "$marker"
  # Maven builds a copy of the project, so that it leaves nothing in the checkout.
  local build=$registry_home/build
  rm -rf "$build"
  mkdir -p "$build"
  cp -r "$script_dir/pom.xml" "$script_dir/src" "$build/"
  if ! mvn -q -B -f "$build/pom.xml" package >"$registry_home/fetch.log" 2>&1; then
    tail -n 50 "$registry_home/fetch.log" >&2
    die "mvn failed (log: $registry_home/fetch.log)"
  fi
  rm -rf "$registry_home/app"
  mkdir -p "$registry_home/app"
  mv "$build/target/nimble-schema-registry-$REGISTRY_VERSION-runner.jar" "$build/target/lib" \
    "$registry_home/app/"
  rm -rf "$build"
  sources_digest >"$marker"
  exec 9>&-
  echo "Fetched Apicurio Registry $REGISTRY_VERSION: $registry_home/app"
}

start() {
  local port=8081 dir=./.registry-data owner_pid= host=127.0.0.1
  while (($# > 0)); do
    case $1 in
      --port) port=${2:?--port needs a value}; shift 2 ;;
      --port=*) port=${1#*=}; shift ;;
      --dir) dir=${2:?--dir needs a value}; shift 2 ;;
      --dir=*) dir=${1#*=}; shift ;;
      --owner-pid) owner_pid=${2:?--owner-pid needs a value}; shift 2 ;;
      --owner-pid=*) owner_pid=${1#*=}; shift ;;
      --host) host=${2:?--host needs a value}; shift 2 ;;
      --host=*) host=${1#*=}; shift ;;
      *) die "start: unknown argument: $1 (see registry.sh help)" ;;
    esac
  done
  [[ $port =~ ^[0-9]+$ ]] && ((port > 0 && port < 65536)) || die "--port: not a port number: $port"
  if [[ -n $owner_pid ]]; then
    [[ $owner_pid =~ ^[0-9]+$ ]] && kill -0 "$owner_pid" 2>/dev/null ||
      die "--owner-pid: no such process: $owner_pid"
  fi
  command -v java >/dev/null 2>&1 || die "java (17 or later) is not installed"
  fetch --quiet
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  local pid_file=$dir/registry.pid log=$dir/registry.log
  if [[ -f $pid_file ]]; then
    local old_pid
    old_pid=$(cat "$pid_file")
    if [[ -n $old_pid ]] && alive "$old_pid"; then
      die "a registry is already running from $dir (pid $old_pid); stop it first: registry.sh stop --dir $dir"
    fi
    rm -f "$pid_file"
  fi
  : >"$log"
  local began=$SECONDS
  # In-memory H2 storage (the default), with a lock timeout of 5 s rather than H2's 1 s, which
  # concurrent registrations on a loaded machine reach (HTTP 500); clients retry those.
  REGISTRY_DATASOURCE_URL='jdbc:h2:mem:registry_db;LOCK_TIMEOUT=5000' nohup java -Xms64m -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    "-Dquarkus.http.port=$port" "-Dquarkus.http.host=$host" \
    -Dquarkus.log.console.format='%d{HH:mm:ss} %-5p [%c{3.}] %s%e%n' \
    -jar "$jar" >>"$log" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$pid_file"
  if [[ -n $owner_pid ]]; then
    nohup bash -c '
      owner=$1 server=$2 timeout=$3
      while kill -0 "$server" 2>/dev/null; do
        if ! kill -0 "$owner" 2>/dev/null; then
          kill -TERM "$server" 2>/dev/null
          for ((i = 0; i < timeout * 5; i++)); do
            kill -0 "$server" 2>/dev/null || exit 0
            sleep 0.2
          done
          kill -KILL "$server" 2>/dev/null
          exit 0
        fi
        sleep 1
      done' registry-watchdog "$owner_pid" "$pid" "$STOP_TIMEOUT_SECONDS" >/dev/null 2>&1 </dev/null &
  fi
  local deadline=$((SECONDS + START_TIMEOUT_SECONDS))
  local url=http://$host:$port/apis/ccompat/v7/subjects
  until grep -q 'Listening on' "$log" && curl -fsS -m 5 -o /dev/null "$url" 2>/dev/null; do
    if ! running "$pid"; then
      show_log "$log" "$log_errors"
      rm -f "$pid_file"
      die "the registry exited during startup (log: $log)"
    fi
    if ((SECONDS >= deadline)); then
      show_log "$log" "$log_errors"
      terminate "$pid"
      rm -f "$pid_file"
      die "the registry did not start within ${START_TIMEOUT_SECONDS} s (log: $log)"
    fi
    sleep 0.2
  done
  echo "Started Apicurio Registry $REGISTRY_VERSION (pid $pid) in $((SECONDS - began)) s"
  echo "Its Confluent-compatible API: http://$host:$port/apis/ccompat/v7 (log: $log)"
}

command=${1:-help}
(($# == 0)) || shift
case $command in
  fetch) (($# == 0)) || die "fetch takes no arguments"; fetch ;;
  start) start "$@" ;;
  stop) stop_daemon "$@" ;;
  help | -h | --help) usage ;;
  *) usage >&2; die "unknown command: $command" ;;
esac
