#!/usr/bin/env bash
# The store on PostgreSQL beside SQLite, in the same run (release build), figures in
# docs/BENCHMARKS.md "PostgreSQL beside SQLite":
#  1. `daily_scan import A.xml` (65,536 hosts, 327,680 ports) into a fresh database
#                                                   (goal: PostgreSQL within 2x of SQLite)
#  2. `daily_scan diff 1 2`: the stored delta of A and its 5 %-mutated twin
#  3. GET /api/snapshots/2/delta and GET / (dashboard) from api_server
#                                                   (goal for 2 and 3: within 1.5x of SQLite)
# PostgreSQL is a private cluster (scripts/pg-cluster.sh, durable default settings: fsync on)
# on loopback, started and removed here.
#     and the snapshot's hosts: a page (GET /api/snapshots/2?limit=1000&after=32767) and the
#     whole snapshot streamed (GET /api/snapshots/2); the bodies are checked equal
# Usage: bench/postgres.sh [RUNS]   (needs python3, hyperfine, curl, PostgreSQL server binaries)
#   ONLY=N   run only row N (the databases row 3 reads are imported whatever N is)
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${1:-3}"
a=/tmp/medium.xml
b=/tmp/medium_mut.xml
gen=tests/fixtures/generator/gen_nmap_xml.py
[[ -f "$a" ]] || python3 "$gen" --hosts 65536 --ports-per-host 5 --seed 1 -o "$a"
[[ -f "$b" ]] || python3 "$gen" --hosts 65536 --ports-per-host 5 --seed 1 \
    --mutate 0.05 --truth /tmp/medium_truth.json -o "$b"

cargo build --release --locked --bin daily_scan --bin api_server
bin="$PWD/target/release/daily_scan"
api="$PWD/target/release/api_server"
work="$(mktemp -d /tmp/pg_bench.XXXXXX)"
pg_dir="/tmp/pg_bench_cluster.$$"
port=$((56000 + RANDOM % 1000))
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    bash scripts/pg-cluster.sh stop "$pg_dir" || true
    rm -rf "$work" "$pg_dir"
}
trap cleanup EXIT
url_base="$(bash scripts/pg-cluster.sh start "$pg_dir" "$port")"
url_base="${url_base%postgres}"
export SCANNER_CONFIG=/dev/null
psql="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)/psql"
psql_admin() { "$psql" -q "${url_base}postgres" -c "$1"; }

want() { [[ -z "${ONLY:-}" || "${ONLY}" == "$1" ]]; }
if want 1; then
echo "== 1. import of A.xml into a fresh database (SQLite file vs PostgreSQL database)"
for i in $(seq 1 "$runs"); do
    rm -f "$work"/scans.db*; sync
    /usr/bin/time -f "sqlite   import, run $i: %e s wall, %M KB peak RSS" \
        "$bin" --db "$work/scans.db" import "$a" >/dev/null
    psql_admin 'DROP DATABASE IF EXISTS bench'; psql_admin 'CREATE DATABASE bench'; sync
    /usr/bin/time -f "postgres import, run $i: %e s wall, %M KB peak RSS" \
        "$bin" --db "${url_base}bench" import "$a" >/dev/null
done
fi

echo "== 2. stored delta: diff 1 2"
rm -f "$work"/scans.db*
psql_admin 'DROP DATABASE IF EXISTS bench'; psql_admin 'CREATE DATABASE bench'
"$bin" --db "$work/scans.db" import "$a" "$b" >/dev/null
"$bin" --db "${url_base}bench" import "$a" "$b" >/dev/null
# The steady state autovacuum reaches soon after a large import: planner statistics for the
# bench database (not `postgres`, where psql_admin connects). Without them the certificates
# query of GET / scans every port row (and JIT-compiles the plan): ~0.3 s more.
"$psql" -q "${url_base}bench" -c 'VACUUM ANALYZE' >/dev/null
if want 2; then
hyperfine --runs "$runs" -i \
    -n sqlite "$bin --db $work/scans.db diff 1 2 --format json" \
    -n postgres "$bin --db ${url_base}bench diff 1 2 --format json"
fi

echo "== 3. api_server: GET /api/snapshots/2/delta, GET /, a page of hosts, the whole snapshot"
serve() { # name, database, port
    mkdir -p "$work/$1"
    printf 'database = "%s"\nlog_level = "warn"\n[api]\nbind = "127.0.0.1:%s"\nrate_limit_per_minute = 0\n' "$2" "$3" \
        >"$work/$1/config.toml"
    "$api" --config "$work/$1/config.toml" 2>"$work/$1/log" &
    pids+=("$!")
    for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$3/api/health" && return; sleep 0.1; done
    echo "api_server ($1) did not start" >&2; cat "$work/$1/log" >&2; exit 1
}
p1=$((port + 1)); p2=$((port + 2))
serve sqlite "$work/scans.db" "$p1"
serve postgres "${url_base}bench" "$p2"
hyperfine --runs "$runs" --warmup 1 \
    -n "sqlite delta" "curl -sf -o /dev/null http://127.0.0.1:$p1/api/snapshots/2/delta" \
    -n "postgres delta" "curl -sf -o /dev/null http://127.0.0.1:$p2/api/snapshots/2/delta" \
    -n "sqlite dashboard" "curl -sf -o /dev/null http://127.0.0.1:$p1/" \
    -n "postgres dashboard" "curl -sf -o /dev/null http://127.0.0.1:$p2/" \
    -n "sqlite page" "curl -sf -o /dev/null 'http://127.0.0.1:$p1/api/snapshots/2?limit=1000&after=32767'" \
    -n "postgres page" "curl -sf -o /dev/null 'http://127.0.0.1:$p2/api/snapshots/2?limit=1000&after=32767'" \
    -n "sqlite whole" "curl -sf -o /dev/null http://127.0.0.1:$p1/api/snapshots/2" \
    -n "postgres whole" "curl -sf -o /dev/null http://127.0.0.1:$p2/api/snapshots/2"
for route in /api/snapshots/2/delta '/api/snapshots/2?limit=1000&after=32767' /api/snapshots/2; do
    if cmp -s <(curl -sf "http://127.0.0.1:$p1$route") <(curl -sf "http://127.0.0.1:$p2$route"); then
        echo "same body on both: $route"
    else
        echo "DIFFERENT bodies: $route"
    fi
done
