#!/usr/bin/env bash
# The rows of issue 18 ("fast where users wait"), each timed side by side with its anchor in
# the same run, as users run them (release binaries); prints medians, min-max and ratios.
# Figures are recorded in docs/BENCHMARKS.md, "Side by side with the anchors".
#
#   1. daily_scan parse FILE --format json|jsonl|csv > out   vs  xmllint --stream --noout FILE
#   2. daily_scan diff A.xml B.xml --format json              vs  ndiff A B (--no-scripts copies)
#   3. GET /, /api/snapshots/2/delta, /api/snapshots/2 (pages, and whole: streamed), trends,
#      on a database holding the pair (release api_server; the previous build's beside it)
#   4. POST /api/scan, 10 loopback targets, one port, max_concurrent_scans 2 and 8
#                                                             vs  one nmap over the 10 targets
#   5. alert sync of a 65,536-host run, 234k unexpected ports (cargo bench --bench alerts)
#
# Usage: bench/all.sh [RUNS]      (default 5; needs hyperfine, xmllint, ndiff, /usr/bin/time)
#   OLD=DIR   also time the daily_scan, api_server and alerts bench binaries in DIR (a build of
#             an earlier commit: DIR/daily_scan, DIR/api_server, DIR/alerts) in the same run,
#             for old-vs-new ratios (each build reads a database its own daily_scan imported).
#   ONLY=N    run only row N (1 to 5).
#   NDIFF_RUNS=N  runs of ndiff (default 3: it takes ~20 s a run).
# Input (generated once, ~15 s each, never committed): the 65,536-host pair of bench/batch.sh
# and its --no-scripts twin, in /tmp.
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${1:-5}"
want() { [[ -z "${ONLY:-}" || "${ONLY}" == "$1" ]]; }
ndiff_runs="${NDIFF_RUNS:-3}"
for tool in hyperfine xmllint ndiff python3 curl nmap /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "error: $tool is required" >&2; exit 1; }
done

gen=tests/fixtures/generator/gen_nmap_xml.py
a=/tmp/medium.xml
b=/tmp/medium_mut.xml
a_ns=/tmp/medium_noscripts.xml
b_ns=/tmp/medium_mut_noscripts.xml
common=(--hosts 65536 --ports-per-host 5 --seed 1)
[[ -f "$a" ]] || python3 "$gen" "${common[@]}" -o "$a"
[[ -f "$b" ]] || python3 "$gen" "${common[@]}" --mutate 0.05 --truth /tmp/medium_truth.json -o "$b"
[[ -f "$a_ns" ]] || python3 "$gen" "${common[@]}" --no-scripts -o "$a_ns"
[[ -f "$b_ns" ]] || python3 "$gen" "${common[@]}" --no-scripts --mutate 0.05 -o "$b_ns"

cargo build --release --locked --bin daily_scan --bin api_server
want 5 && cargo bench --locked --bench alerts --no-run 2>/dev/null
bin="$PWD/target/release/daily_scan"
alerts_bench="$(ls -t target/release/deps/alerts-* 2>/dev/null | grep -v '\.d$' | head -n 1 || true)"
old="${OLD:-}"

work="$(mktemp -d /tmp/bench_all.XXXXXX)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
out="$work/out"   # a file, as `> out` is: on the same disk as the inputs' /tmp

echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)," \
    "load average $(cut -d' ' -f1-3 /proc/loadavg) at start, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "anchors: $(xmllint --version 2>&1 | head -n 1); $(ndiff --version 2>&1 | head -n 1)"

# hyperfine NAME RUNS CMD...: median / min / max in seconds into $work/NAME.tsv
time_cmd() {
    local name="$1" n="$2"; shift 2
    hyperfine --style none --warmup 1 --runs "$n" --export-json "$work/$name.json" \
        "$@" >/dev/null 2>&1
    python3 - "$work/$name.json" >"$work/$name.tsv" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print(f"{r['median']:.3f}\t{r['min']:.3f}\t{r['max']:.3f}")
EOF
}
# peak RSS in MB of one run
rss() {
    /usr/bin/time -f '%M' -o "$work/rss" "$@" >/dev/null 2>&1 || true
    tail -n 1 "$work/rss" | awk '{printf "%.0f", $1/1024}'   # after any "exited with" line
}
row() { # label name [rss-command...]
    local label="$1" name="$2"; shift 2
    local mb="-"
    [[ $# -gt 0 ]] && mb="$(rss "$@")"
    IFS=$'\t' read -r med lo hi <"$work/$name.tsv"
    printf '%-52s %7.3f s  (%.3f-%.3f)  %6s MB\n' "$label" "$med" "$lo" "$hi" "$mb"
}
ratio() { # label name-a name-b
    local x y
    x="$(cut -f1 "$work/$2.tsv")"; y="$(cut -f1 "$work/$3.tsv")"
    printf '  %-50s %.3fx\n' "$1" "$(python3 -c "print($x / $y)")"
}

if want 1; then
echo
echo "== 1. parse (median of $runs, min-max, peak RSS of one run); $a"
time_cmd xmllint "$runs" "xmllint --stream --noout $a"
time_cmd parse_json "$runs" "$bin parse $a --format json > $out"
time_cmd parse_jsonl "$runs" "$bin parse $a --format jsonl > $out"
time_cmd parse_csv "$runs" "$bin parse $a --format csv > $out"
row "xmllint --stream --noout (anchor)" xmllint xmllint --stream --noout "$a"
row "daily_scan parse --format json > out" parse_json sh -c "$bin parse $a --format json > $out"
row "daily_scan parse --format jsonl > out" parse_jsonl sh -c "$bin parse $a --format jsonl > $out"
row "daily_scan parse --format csv > out" parse_csv sh -c "$bin parse $a --format csv > $out"
if [[ -n "$old" ]]; then
    time_cmd old_parse_json "$runs" "$old/daily_scan parse $a --format json > $out"
    time_cmd old_parse_csv "$runs" "$old/daily_scan parse $a --format csv > $out"
    row "old daily_scan parse --format json > out" old_parse_json \
        sh -c "$old/daily_scan parse $a --format json > $out"
    row "old daily_scan parse --format csv > out" old_parse_csv \
        sh -c "$old/daily_scan parse $a --format csv > $out"
fi
ratio "parse json / xmllint (goal <= 0.35)" parse_json xmllint
ratio "parse jsonl / xmllint" parse_jsonl xmllint
ratio "parse csv / xmllint" parse_csv xmllint
if [[ -n "$old" ]]; then
    ratio "parse json new / old" parse_json old_parse_json
    ratio "parse csv new / old" parse_csv old_parse_csv
fi

fi

if want 2; then
echo
echo "== 2. diff of two 65,536-host files, --format json (exit 1: changes found)"
time_cmd diff "$runs" -i "$bin diff $a $b --format json > $out"
time_cmd diff_ns "$runs" -i "$bin diff $a_ns $b_ns --format json > $out"
time_cmd ndiff "$ndiff_runs" -i "ndiff $a_ns $b_ns > $out"
row "daily_scan diff A B --format json" diff sh -c "$bin diff $a $b --format json > $out"
row "daily_scan diff A B --format json (no-scripts pair)" diff_ns \
    sh -c "$bin diff $a_ns $b_ns --format json > $out"
row "ndiff A B (no-scripts pair; anchor)" ndiff sh -c "ndiff $a_ns $b_ns > $out"
if [[ -n "$old" ]]; then
    # Old and new alternate run by run: on a shared machine the load moves between blocks.
    for i in $(seq 1 "$runs"); do
        for which in old new; do
            exe="$bin"; [[ "$which" == old ]] && exe="$old/daily_scan"
            /usr/bin/time -f '%e' -o "$work/t" "$exe" diff "$a" "$b" --format json >"$out" 2>/dev/null || true
            tail -n 1 "$work/t" >>"$work/pair_$which"
        done
    done
    python3 - "$work/pair_old" "$work/pair_new" <<'PY'
import statistics, sys
old, new = ([float(x) for x in open(f)] for f in sys.argv[1:])
print("  old/new alternating, wall s: " + ", ".join(f"{o:.2f}/{n:.2f}" for o, n in zip(old, new)))
print(f"  {'diff new / old (medians of alternating runs)':<50} {statistics.median(new) / statistics.median(old):.2f}x"
      f"  (new faster in {sum(n < o for o, n in zip(old, new))} of {len(old)} pairs)")
PY
    "$old/daily_scan" diff "$a" "$b" --format json >"$work/old_diff.json" || true
    "$bin" diff "$a" "$b" --format json >"$work/new_diff.json" || true
    if cmp -s "$work/old_diff.json" "$work/new_diff.json"; then
        echo "  old and new diff output: identical ($(wc -c <"$work/new_diff.json") bytes)"
    else
        echo "  old and new diff output: DIFFERENT"
    fi
fi
ratio "diff (no-scripts pair) / ndiff" diff_ns ndiff

fi

if want 3; then
echo
echo "== 3. read API on a database with the pair (two 65,536-host snapshots), curl on loopback"
# serve NAME API_SERVER DAILY_SCAN: imports the pair with that build's daily_scan (so its
# schema and stored deltas are its own), starts its api_server; sets $base.
serve() {
    local name="$1" server="$2" ds="$3" port
    "$ds" --db "$work/$name.db" import "$a" "$b" >/dev/null
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    {
        echo 'log_level = "warn"'
        echo "database = \"$work/$name.db\""
        echo '[api]'
        echo "bind = \"127.0.0.1:$port\""
        echo 'rate_limit_per_minute = 0'
    } >"$work/$name.toml"
    "$server" --config "$work/$name.toml" 2>"$work/$name.log" &
    pids+=($!)
    server_pid=$!
    base="http://127.0.0.1:$port"
    for _ in $(seq 100); do curl -sf "$base/api/health" >/dev/null && break; sleep 0.1; done
}
# 16 parallel GET /api/snapshots/2 on a fresh server: its peak RSS (VmHWM) after them.
parallel_rss() {
    local curls=()
    for _ in $(seq 16); do curl -sf "$base/api/snapshots/2" -o /dev/null & curls+=($!); done
    wait "${curls[@]}"
    awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$server_pid/status"
}
read_rows() { # NAME
    local n="$1"
    time_cmd "${n}_dash" "$runs" "curl -sf $base/ -o /dev/null"
    time_cmd "${n}_delta" "$runs" "curl -sf $base/api/snapshots/2/delta -o /dev/null"
    time_cmd "${n}_trends" "$runs" "curl -sf '$base/api/stats/trends?days=3660' -o /dev/null"
    time_cmd "${n}_whole" "$runs" "curl -sf $base/api/snapshots/2 -o /dev/null"
    if [[ "$n" == new ]]; then
        time_cmd new_page1 "$runs" "curl -sf '$base/api/snapshots/2?limit=1000' -o /dev/null"
        time_cmd new_pagem "$runs" "curl -sf '$base/api/snapshots/2?limit=1000&after=32767' -o /dev/null"
        time_cmd new_pagel "$runs" "curl -sf '$base/api/snapshots/2?limit=1000&after=65000' -o /dev/null"
    fi
}
size() { curl -sf "$1" | wc -c | awk '{printf "%.0f KB", $1/1024}'; }
serve new ./target/release/api_server "$bin"
new_base="$base"
new_rss="$(parallel_rss)"
read_rows new
echo "  bodies: / $(size "$base/"), delta $(size "$base/api/snapshots/2/delta")," \
    "page of 1000 hosts $(size "$base/api/snapshots/2?limit=1000"), whole $(size "$base/api/snapshots/2")"
row "GET / (dashboard; goal <= 0.150 s)" new_dash
row "GET /api/snapshots/2/delta (goal <= 0.200 s)" new_delta
row "GET /api/stats/trends?days=3660" new_trends
row "GET /api/snapshots/2?limit=1000 (goal <= 0.100 s)" new_page1
row "GET /api/snapshots/2?limit=1000&after=32767" new_pagem
row "GET /api/snapshots/2?limit=1000&after=65000" new_pagel
row "GET /api/snapshots/2 (whole, streamed)" new_whole
echo "  server peak RSS after 16 parallel GET /api/snapshots/2: $new_rss MB"
if [[ -n "$old" && -x "$old/api_server" ]]; then
    serve old "$old/api_server" "$old/daily_scan"
    old_rss="$(parallel_rss)"
    read_rows old
    row "previous build: GET /" old_dash
    row "previous build: GET /api/snapshots/2/delta" old_delta
    row "previous build: GET /api/stats/trends?days=3660" old_trends
    row "previous build: GET /api/snapshots/2 (whole)" old_whole
    echo "  previous build: server peak RSS after 16 parallel GET /api/snapshots/2: $old_rss MB"
    ratio "GET / new / old" new_dash old_dash
    ratio "GET /api/snapshots/2/delta new / old" new_delta old_delta
    ratio "GET /api/stats/trends new / old" new_trends old_trends
    ratio "GET /api/snapshots/2 whole new / old" new_whole old_whole
    # The two databases were imported at different times: compare without the times.
    same='import json, sys
def strip(v):
    if isinstance(v, dict):
        return {k: strip(x) for k, x in v.items() if k not in ("started_at", "finished_at")}
    return [strip(x) for x in v] if isinstance(v, list) else v
a, b = (strip(json.load(open(f))) for f in sys.argv[1:])
print("identical" if a == b else "DIFFERENT")'
    curl -sf "$base/api/snapshots/2/delta" -o "$work/old_delta.json"
    curl -sf "$new_base/api/snapshots/2/delta" -o "$work/new_delta.json"
    echo "  old and new GET /api/snapshots/2/delta (times aside):" \
        "$(python3 -c "$same" "$work/old_delta.json" "$work/new_delta.json")"
fi
fi

if want 4; then
echo
echo "== 4. POST /api/scan, 10 loopback targets, one port (listening), vs one nmap over them"
scan_port=18931
cat >"$work/listeners.py" <<'PY'
import socket, sys, threading
socks = []
for i in range(2, 12):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((f"127.0.0.{i}", int(sys.argv[2]))); s.listen(128); socks.append(s)
open(sys.argv[1], "w").write("ready")
threading.Event().wait()
PY
python3 "$work/listeners.py" "$work/listeners.ready" "$scan_port" &
pids+=($!)
targets=(127.0.0.{2..11})
python3 -c 'import json, sys; print(json.dumps({"targets": sys.argv[2:], "scan_type": "quick", "ports": sys.argv[1]}))' \
    "$scan_port" "${targets[@]}" >"$work/body.json"
cat >"$work/check.py" <<'PY'
import json, sys
reply = json.load(open(sys.argv[1]))
assert reply["total_targets"] == 10, reply
for r in reply["results"]:
    assert r["status"] == "completed", r
    assert [p["port"] for p in r["open_ports"]] == [int(sys.argv[2])], r
PY
cat >"$work/args.py" <<'PY'
import json, sys
a = [p for p in json.load(sys.stdin)["profiles"] if p["name"] == "quick"][0]["nmap_args"]
i = a.index("--top-ports"); a[i:i + 2] = ["-p", sys.argv[1]]
print("\n".join(a))
PY
for cap in 2 8; do
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    {
        echo 'log_level = "warn"'
        echo "nmap_path = \"$(command -v nmap)\""
        echo '[api]'
        echo "bind = \"127.0.0.1:$port\""
        echo 'rate_limit_per_minute = 0'
        echo "max_concurrent_scans = $cap"
    } >"$work/api$cap.toml"
    ./target/release/api_server --config "$work/api$cap.toml" 2>"$work/server$cap.log" &
    pids+=($!)
    base="http://127.0.0.1:$port"
    for _ in $(seq 100); do
        [[ -f "$work/listeners.ready" ]] && curl -sf "$base/api/health" >/dev/null && break
        sleep 0.1
    done
    # The server's own arguments for quick, with the port list the request gives.
    mapfile -t args < <(curl -sf "$base/api/profiles" | python3 "$work/args.py" "$scan_port")
    curl -sf -X POST "$base/api/scan" -H 'Content-Type: application/json' \
        -d @"$work/body.json" -o "$work/reply.json"
    python3 "$work/check.py" "$work/reply.json" "$scan_port"
    time_cmd "api$cap" "$runs" "curl -sf -X POST $base/api/scan -H 'Content-Type: application/json' -d @$work/body.json -o /dev/null"
    time_cmd "nmap$cap" "$runs" "nmap ${args[*]} -oX - ${targets[*]} > /dev/null"
    row "POST /api/scan, max_concurrent_scans $cap" "api$cap"
    row "one nmap over the 10 (anchor)" "nmap$cap"
    ratio "API / one nmap at cap $cap (goal <= 1.15)" "api$cap" "nmap$cap"
done
echo "  nmap arguments: ${args[*]} -oX - <the 10 addresses>"

fi

if want 5; then
echo
echo "== 5. alert sync, 65,536 hosts, ~234k unexpected ports (benches/alerts.rs, 3 runs each)"
for i in $(seq 1 "$runs"); do
    "$alerts_bench" | sed "s/^/  new #$i /"
    [[ -n "$old" && -x "$old/alerts" ]] && "$old/alerts" | sed "s/^/  old #$i /"
done
fi
