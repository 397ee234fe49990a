#!/bin/sh
# Entrypoint of the Nimble image (deploy/Dockerfile).
#
#   jobmanager | taskmanager [options]     start a daemon: exec nimble <role> [options]
#   run | sql | list | ... | help | -...   any other nimble command: exec nimble "$@"
#   (nothing)                              nimble --help
#   anything else                          exec it as is (e.g. `docker run -it nimble:latest sh`)
#
# Inside a container the daemons' loopback defaults are useless, so for the two daemons this
# script supplies container defaults: bind every server to 0.0.0.0 and, for a TaskManager,
# advertise the container's hostname (Docker's DNS resolves a container's default hostname,
# its short id, for the other containers of a user-defined network such as compose's default).
# A default is added only for a key the user did not set anywhere: not in the configuration file
# (-c/--config, else $NIMBLE_CONF_DIR/config.yaml), not in NIMBLE_PROPERTIES, not as -D. It is
# appended to NIMBLE_PROPERTIES, which ranks below -D, so whatever the user passes wins.
#
# PID 1 is tini (see the Dockerfile): it forwards SIGTERM to node and reaps zombies. This script
# execs, so it never stands between the two.
set -eu

nl='
'

# Prints the configuration file the command will read.
config_file() {
  file="${NIMBLE_CONF_DIR:+$NIMBLE_CONF_DIR/config.yaml}"
  expect_file=0
  for arg in "$@"; do
    if [ "$expect_file" = 1 ]; then
      file="$arg"
      expect_file=0
      continue
    fi
    case "$arg" in
      -c | --config) expect_file=1 ;;
      --config=*) file="${arg#--config=}" ;;
      -c?*) file="${arg#-c}" ;;
    esac
  done
  printf '%s' "$file"
}

# Succeeds when stdin has a flat "key: value" line for key $1 (Flink's flat YAML form).
has_yaml_key() {
  awk -v key="$1" '
    /^[[:space:]]*#/ { next }
    {
      i = index($0, ":")
      if (i == 0) next
      k = substr($0, 1, i - 1)
      gsub(/^[[:space:]]+|[[:space:]]+$/, "", k)
      gsub(/^["\047]|["\047]$/, "", k)
      if (k == key) { found = 1; exit }
    }
    END { exit found ? 0 : 1 }
  '
}

# Succeeds when the user set key $1 in the command line (-D k=v, -Dk=v), NIMBLE_PROPERTIES or
# the configuration file; the command's arguments follow the key.
user_set() {
  us_key="$1"
  shift
  us_prev=''
  for us_arg in "$@"; do
    case "$us_prev" in -D) case "$us_arg" in "$us_key"=*) return 0 ;; esac ;; esac
    case "$us_arg" in -D"$us_key"=*) return 0 ;; esac
    us_prev="$us_arg"
  done
  if [ -n "${NIMBLE_PROPERTIES:-}" ] && printf '%s\n' "$NIMBLE_PROPERTIES" | has_yaml_key "$us_key"; then
    return 0
  fi
  us_file="$(config_file "$@")"
  [ -n "$us_file" ] && [ -r "$us_file" ] && has_yaml_key "$us_key" <"$us_file"
}

# Appends `key: "value"` to NIMBLE_PROPERTIES unless the user set the key; then the arguments.
# The value is quoted so YAML keeps it a string: a container id such as 123456789e12 would
# otherwise read as a number. (Values here are hostnames and addresses: no quotes inside.)
default_property() {
  key="$1"
  value="$2"
  shift 2
  if ! user_set "$key" "$@"; then
    NIMBLE_PROPERTIES="${NIMBLE_PROPERTIES:+$NIMBLE_PROPERTIES$nl}$key: \"$value\""
  fi
}

container_hostname() {
  if [ -n "${HOSTNAME:-}" ]; then
    printf '%s' "$HOSTNAME"
  else
    hostname 2>/dev/null || cat /etc/hostname
  fi
}

if [ "$#" -eq 0 ]; then
  exec nimble --help
fi

case "$1" in
  jobmanager)
    default_property jobmanager.bind-host 0.0.0.0 "$@"
    default_property rest.bind-address 0.0.0.0 "$@"
    export NIMBLE_PROPERTIES
    exec nimble "$@"
    ;;
  taskmanager)
    default_property taskmanager.bind-host 0.0.0.0 "$@"
    default_property taskmanager.host "$(container_hostname)" "$@"
    export NIMBLE_PROPERTIES
    exec nimble "$@"
    ;;
  run | sql | list | cancel | savepoint | checkpoint | rescale | stop | info | cluster | local | \
    security | init | help | -*)
    exec nimble "$@"
    ;;
  *)
    exec "$@"
    ;;
esac
