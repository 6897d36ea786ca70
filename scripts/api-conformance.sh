#!/usr/bin/env bash
# The API against independent clients (issue 14): schemathesis (PyPI, in a virtualenv made under
# target/) runs every operation of /api/openapi.json with `--checks all` against a debug
# api_server on a loopback port, and `promtool check metrics` (Debian `prometheus`) checks
# /metrics and a `daily_scan --metrics-file` file. POST /api/scan only ever reaches loopback:
# allowed_networks is 127.0.0.0/8 and the allowlist refuses everything else (403).
# Needs `cargo build` done (target/debug/api_server, target/debug/daily_scan).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/schemathesis-venv
if [ ! -x "$venv/bin/st" ]; then
  echo "==> installing schemathesis into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q 'schemathesis>=4,<5'
fi
work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$work/config.toml" <<CONF
output_dir = "$work/out"
nmap_timeout = 60
allowed_networks = ["127.0.0.0/8"]
[api]
bind = "127.0.0.1:$port"
rate_limit_per_minute = 0
CONF
mkdir -p "$work/out"
echo "127.0.0.1" > "$work/targets.txt"
# A database for the read routes: one real loopback scan.
SCANNER_CONFIG="$work/config.toml" target/debug/daily_scan -f "$work/targets.txt" \
  --metrics-file "$work/scanner.prom" >/dev/null
echo "==> promtool check metrics (metrics file)"
promtool check metrics < "$work/scanner.prom"
SCANNER_CONFIG="$work/config.toml" target/debug/api_server 2> "$work/server.log" &
server_pid=$!
for _ in $(seq 100); do
  curl -sf -o /dev/null "http://127.0.0.1:$port/api/health" && break
  sleep 0.1
done
echo "==> promtool check metrics (/metrics)"
curl -sf "http://127.0.0.1:$port/metrics" | promtool check metrics
st_args=(--checks all --max-examples "${SCHEMATHESIS_EXAMPLES:-100}" --request-timeout 120
         --generation-deterministic --suppress-health-check all)
echo "==> schemathesis --checks all: every operation but POST /api/scan"
# schemathesis keeps a cache in its working directory: run it from the temporary one.
st="$PWD/$venv/bin/st"
scan_config="$PWD/scripts/schemathesis-scan.toml"
(cd "$work" && "$st" run "http://127.0.0.1:$port/api/openapi.json" "${st_args[@]}" \
  --exclude-path /api/scan)
echo "==> schemathesis --checks all: POST /api/scan (loopback-only allowlist)"
(cd "$work" && "$st" --config-file "$scan_config" run \
  "http://127.0.0.1:$port/api/openapi.json" "${st_args[@]}" --include-path /api/scan)
