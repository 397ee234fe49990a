# Process helpers shared by the scripts that run a JVM daemon for tests and local runs
# (deploy/kafka/kafka.sh, deploy/schema-registry/registry.sh). Source it after setting:
#   daemon_name           how messages name the daemon ("Kafka broker", "schema registry")
#   daemon_pattern        a glob its command line matches (tells it from a reused pid)
#   STOP_TIMEOUT_SECONDS  how long `terminate` waits after SIGTERM before SIGKILL
#   default_dir, pid_file_name  the data directory `stop` uses by default, the pid file in it
# and defining `die MESSAGE`.

# running PID: the process exists and is not a zombie.
running() {
  local stat
  kill -0 "$1" 2>/dev/null || return 1
  stat=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ $stat != Z* ]]
}

# alive PID: running, and the daemon (a pid from a pid file may have been reused since).
alive() {
  local args
  running "$1" || return 1
  args=$(ps -o args= -p "$1" 2>/dev/null) || return 1
  # shellcheck disable=SC2053 # daemon_pattern is a glob on purpose
  [[ $args == $daemon_pattern ]]
}

# terminate PID: SIGTERM, then SIGKILL after STOP_TIMEOUT_SECONDS.
terminate() {
  local pid=$1 deadline=$((SECONDS + STOP_TIMEOUT_SECONDS))
  kill -TERM "$pid" 2>/dev/null || return 0
  while alive "$pid"; do
    if ((SECONDS >= deadline)); then
      echo "The $daemon_name (pid $pid) did not stop within ${STOP_TIMEOUT_SECONDS} s: SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.2
      return 0
    fi
    sleep 0.2
  done
}

# show_log LOG ERROR_REGEX: the log's first errors (a failed start logs pages of shutdown after
# the cause) and its last 50 lines, on stderr.
show_log() {
  {
    echo "--- first errors in $1 ---"
    grep -m 10 -E "$2" "$1" || true
    echo "--- last 50 lines of $1 ---"
    tail -n 50 "$1"
  } >&2
}

# stop_daemon [--dir DIR]: the `stop` command; default_dir and pid_file_name
# name the data directory and the pid file in it.
stop_daemon() {
  local dir=$default_dir
  while (($# > 0)); do
    case $1 in
      --dir) dir=${2:?--dir needs a value}; shift 2 ;;
      --dir=*) dir=${1#*=}; shift ;;
      *) die "stop: unknown argument: $1 (see $(basename "$0") help)" ;;
    esac
  done
  local pid_file=$dir/$pid_file_name pid
  if [[ ! -f $pid_file ]]; then
    echo "No $daemon_name is running from $dir (no $pid_file)"
    return 0
  fi
  pid=$(cat "$pid_file")
  if [[ -z $pid ]] || ! alive "$pid"; then
    rm -f "$pid_file"
    echo "No $daemon_name is running from $dir (pid ${pid:-?} is gone)"
    return 0
  fi
  terminate "$pid"
  rm -f "$pid_file"
  echo "Stopped the $daemon_name (pid $pid, data: $dir)"
}
