#!/usr/bin/env bash
# A private PostgreSQL cluster on loopback, for the tests and for a developer who wants one by
# hand. No system service, no network but 127.0.0.1, everything inside DIR.
#
#   scripts/pg-cluster.sh start DIR PORT   initdb into DIR (as the `postgres` user when run as
#                                          root: initdb refuses root), start it, print its URL
#   scripts/pg-cluster.sh stop DIR         stop it (DIR is left for you to remove)
#   scripts/pg-cluster.sh serve DIR PORT   start, print "ready URL", stop and remove DIR when
#                                          standard input closes (how the tests hold one: the
#                                          cluster goes when the test process goes, even on kill)
#
# DIR must not exist yet and its parent must be traversable by `postgres` (e.g. under /tmp).
# The superuser is `postgres` with the password `scanner-test` over TCP (password checks are
# part of what the tests prove); the URL printed is
#   postgres://postgres:scanner-test@127.0.0.1:PORT/postgres
# Set PG_FAST=1 for test settings (fsync off): never for figures you publish. Set PG_SSL_DIR to a
# directory holding server.crt and server.key to serve TLS (ssl=on) as well.
set -euo pipefail

PASSWORD=scanner-test
pg_bin() {
  if [ -n "${PG_BIN:-}" ]; then echo "$PG_BIN"; return; fi
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$dir" ]; then
    echo "error: PostgreSQL server binaries not found under /usr/lib/postgresql (install Debian's postgresql package)" >&2
    exit 1
  fi
  echo "$dir"
}

# Runs a server binary as `postgres` when we are root.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  local dir=$1 port=$2 bin
  bin=$(pg_bin)
  mkdir -p "$dir"
  chmod 700 "$dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  local pwfile="$dir/.pw"
  printf '%s\n' "$PASSWORD" > "$pwfile"
  [ "$(id -u)" = 0 ] && chown postgres: "$pwfile"
  as_pg "$bin/initdb" -D "$dir/data" -U postgres --pwfile="$pwfile" --auth-local=trust \
    --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2; exit 1; }
  rm -f "$pwfile"
  local opts="-c listen_addresses=127.0.0.1 -p $port -k $dir"
  if [ -n "${PG_FAST:-}" ]; then
    opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  fi
  if [ -n "${PG_SSL_DIR:-}" ]; then
    cp "$PG_SSL_DIR/server.crt" "$PG_SSL_DIR/server.key" "$dir/data/"
    chmod 600 "$dir/data/server.key"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir/data/server.crt" "$dir/data/server.key"
    opts="$opts -c ssl=on"
  fi
  as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 -o "$opts" start >/dev/null || {
    cat "$dir/server.log" >&2; exit 1; }
  echo "postgres://postgres:$PASSWORD@127.0.0.1:$port/postgres"
}

stop() {
  local dir=$1
  as_pg "$(pg_bin)/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}

case "${1:-}" in
  start) start "$2" "$3" ;;
  stop) stop "$2" ;;
  serve)
    dir=$2
    trap 'stop "$dir"; rm -rf "$dir"' EXIT
    trap 'exit 1' INT TERM HUP
    url=$(start "$dir" "$3")
    echo "ready $url"
    cat >/dev/null || true
    ;;
  *) echo "usage: $0 start DIR PORT | stop DIR | serve DIR PORT" >&2; exit 2 ;;
esac
