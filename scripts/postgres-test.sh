#!/usr/bin/env bash
# A throwaway PostgreSQL server for trying ComputeWPS on PostgreSQL by hand
# (the Go tests start their own with internal/jobs/pgtest, the same way).
#
#   scripts/postgres-test.sh install    install Debian's postgresql if initdb is missing
#   scripts/postgres-test.sh start      create a cluster and a database "wps"; print its URL
#   scripts/postgres-test.sh dsn        print the URL of the running cluster
#   scripts/postgres-test.sh stop       stop the cluster and delete it
#
# The cluster lives in $PGTEST_DIR (default ${TMPDIR:-/tmp}/compute-wps-postgres),
# listens on 127.0.0.1 only, on $PGTEST_PORT or a free port, trusts every local
# connection and runs with fsync off: for tests, never for data you keep.
# PostgreSQL refuses to run as root, so root runs it as the user postgres.
#
#   DATABASE_URL=$(scripts/postgres-test.sh start) bin/compute-wps migrate
set -euo pipefail

dir=${PGTEST_DIR:-${TMPDIR:-/tmp}/compute-wps-postgres}
data=$dir/data

bindir() {
  if [ -n "${PG_BINDIR:-}" ]; then echo "$PG_BINDIR"; return; fi
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return; fi
  done
  if command -v initdb >/dev/null 2>&1; then dirname "$(readlink -f "$(command -v initdb)")"; return; fi
  return 1
}

# as_server runs a command as the user that owns the cluster.
as_server() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  local p
  for p in $(seq 55432 55532); do
    if ! (exec 3<>/dev/tcp/127.0.0.1/"$p") 2>/dev/null; then echo "$p"; return; fi
  done
  echo "postgres-test: no free port in 55432-55532" >&2
  return 1
}

install() {
  if bindir >/dev/null; then return; fi
  echo "postgres-test: installing postgresql" >&2
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends postgresql >&2
  # Debian creates and may start a cluster 15/main on port 5432; we use our own.
  bindir >/dev/null
}

dsn() {
  if [ ! -f "$dir/port" ]; then
    echo "postgres-test: no cluster in $dir; run: $0 start" >&2
    return 1
  fi
  echo "postgres://postgres@127.0.0.1:$(cat "$dir/port")/wps?sslmode=disable"
}

start() {
  local bin port
  if ! bin=$(bindir); then
    echo "postgres-test: PostgreSQL server binaries (initdb, pg_ctl) not found: run scripts/setup.sh test" >&2
    return 1
  fi
  if [ -f "$data/postmaster.pid" ]; then dsn; return; fi
  rm -rf "$dir"
  mkdir -p "$data"
  chmod 711 "$dir"
  chmod 700 "$data"
  [ "$(id -u)" -ne 0 ] || chown postgres: "$data"
  port=${PGTEST_PORT:-$(free_port)}
  as_server "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --no-sync >/dev/null
  as_server "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $data -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null
  echo "$port" >"$dir/port"
  "$bin/psql" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c 'CREATE DATABASE wps' >/dev/null
  dsn
}

stop() {
  local bin
  if [ -f "$data/postmaster.pid" ] && bin=$(bindir); then
    as_server "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  dsn) dsn ;;
  stop) stop ;;
  *)
    echo "usage: $0 install|start|dsn|stop" >&2
    exit 2
    ;;
esac
