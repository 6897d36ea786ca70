#!/usr/bin/env bash
# Load and abuse for api_server, loopback only, every loop bounded (see docs/RELIABILITY.md).
#  1. GET /api/health with wrk for WRK_SECONDS (default 15), 16 connections: latency percentiles.
#  2. SCANS (default 400) POST /api/scan, quick profile, 16 at a time, over 127.0.53.1-4 (one
#     listener each on port 18530), max_concurrent_scans = 4: answers by status, latency, and
#     the peak number of nmap processes (sampled every 20 ms; must never exceed 4).
#  3. SLOW (default 200) connections sending request headers one byte per second for 30 s while
#     /api/health is timed 40 times.
#  File descriptors, threads and RSS of the server before, after 2 and after 3 (no leak: the
#  same counts once the clients are gone).
# Usage: bench/load.sh  (API_SERVER=path to skip the release build)
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in nmap python3 wrk; do
    command -v "$tool" >/dev/null || { echo "error: $tool is required (apt-get install $tool)" >&2; exit 1; }
done
if [[ -z "${API_SERVER:-}" ]]; then
    cargo build --release --locked --bin api_server
    API_SERVER=target/release/api_server
fi
wrk_seconds="${WRK_SECONDS:-15}"
scans="${SCANS:-400}"
slow="${SLOW:-200}"
work="$(mktemp -d)"
pids=()
cleanup() {
    rm -f "$work/sample.json.run"
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

python3 bench/load.py listen "$work/listeners.ready" 18530 127.0.53.1 127.0.53.2 127.0.53.3 127.0.53.4 &
pids+=($!)

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
printf '%s\n' 'log_level = "warn"' "nmap_path = \"$(command -v nmap)\"" 'nmap_timeout = 60' '[api]' \
    "bind = \"127.0.0.1:$port\"" 'max_concurrent_scans = 4' 'queue_timeout = 30' \
    'rate_limit_per_minute = 0' >"$work/config.toml"
"$API_SERVER" --config "$work/config.toml" 2>"$work/server.log" &
server=$!
pids+=($server)
base="http://127.0.0.1:$port"
for _ in $(seq 100); do
    kill -0 "$server" 2>/dev/null || { cat "$work/server.log"; exit 1; }
    [[ -f "$work/listeners.ready" ]] && python3 -c "import urllib.request as u; u.urlopen('$base/api/health')" 2>/dev/null && break
    sleep 0.1
done
stats() { python3 bench/load.py stats "$server"; }

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(nmap --version | head -n 1)"
echo "server before:        $(stats)"
echo
echo "== 1. wrk GET /api/health, 16 connections, ${wrk_seconds}s"
wrk -t2 -c16 -d"${wrk_seconds}s" --latency "$base/api/health" | sed -n '/Latency Distribution/,$p'
sleep 7  # idle tiny_http pool threads exit after 5 s
echo "server after wrk:     $(stats)"
echo
echo "== 2. $scans POST /api/scan (quick, -p 18530), 16 clients, max_concurrent_scans = 4"
touch "$work/sample.json.run"
python3 bench/load.py sample "$server" 3600 "$work/sample.json" &
sampler=$!
python3 bench/load.py scan "$base" "$scans" 16 127.0.53.1 127.0.53.2 127.0.53.3 127.0.53.4 --ports 18530
rm -f "$work/sample.json.run"
wait "$sampler"
echo "sampled: $(cat "$work/sample.json")"
sleep 7  # idle tiny_http pool threads exit after 5 s
echo "server after scans:   $(stats)"
echo
echo "== 3. $slow slow clients (headers at 1 byte/s for 30 s) + 40 /api/health probes"
python3 bench/load.py slow "$base" "$slow" 30 40
sleep 7  # idle tiny_http pool threads exit after 5 s
echo "server after slow:    $(stats)"
if grep -q . "$work/server.log"; then
    echo; echo "server log (warnings and errors, counted):"
    cut -c26-200 "$work/server.log" | sort | uniq -c | sort -rn | head -n 10
fi
